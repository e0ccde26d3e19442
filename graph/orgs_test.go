package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/organization"
	"github.com/feedbackloop/feedbackloop/ent/organizationmember"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// userID makes the person behind cred known to the service and returns
// their stored user's ID.
func (e *env) userID(t *testing.T, cred, subject string) int {
	t.Helper()
	e.as(t, cred, `{ viewer { subject } }`, nil, nil)
	return e.client.User.Query().Where(user.Subject(subject)).OnlyIDX(accesstest.System())
}

// An organisation's OWNERs and ADMINs administer each of its projects
// without a role in it; its MEMBERs see only the projects granting them
// one; the access ends with the organisation role.
func TestOrganisationRolesReachTheirProjects(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "org")
	ownerID := e.userID(t, w.owner, "owner-org")
	org := e.client.Organization.Query().Where(organization.PersonalUserID(ownerID)).OnlyX(accesstest.System())
	if pid := e.client.Project.GetX(accesstest.System(), dbID(t, w.own)).OrganizationID; pid != org.ID {
		t.Fatalf("the project went to organisation %d, not its creator's personal one (%d)", pid, org.ID)
	}
	if !e.client.OrganizationMember.Query().Where(organizationmember.OrganizationID(org.ID), organizationmember.UserID(ownerID),
		organizationmember.RoleEQ(viewer.OrgOwner)).ExistX(accesstest.System()) {
		t.Fatal("the creator does not own their personal organisation")
	}
	grant := func(cred, subject string, role viewer.OrgRole) int {
		return e.client.OrganizationMember.Create().SetOrganizationID(org.ID).SetUserID(e.userID(t, cred, subject)).
			SetRole(role).SaveX(accesstest.System()).ID
	}
	orgAdmin, orgMember := bearer(t, "org-admin"), bearer(t, "org-member")
	adminMembership := grant(orgAdmin, "org-admin", viewer.OrgAdmin)
	grant(orgMember, "org-member", viewer.OrgMember)
	// The reader of the world becomes an org MEMBER too: still a VIEWER.
	grant(w.reader, "reader-org", viewer.OrgMember)

	see := `query($p: ID!) { node(id: $p) { id } }`
	visible := func(cred string) bool {
		resp := gqltest.PostAs(t, e.url, cred, see, map[string]any{"p": w.own})
		if len(resp.Errors) > 0 && resp.Errors[0].Extensions["code"] != graph.CodeNotFound {
			t.Fatalf("node: %+v", resp.Errors)
		}
		return len(resp.Errors) == 0
	}
	ownerOnly := `mutation($p: ID!) { updateProject(id: $p, input: {viewersMayComment: false}) { viewersMayComment } }`
	addMember := `mutation($p: ID!) { addProjectMember(input: {projectID: $p, subject: "added-by-org-admin", role: EDITOR}) { id } }`

	if !visible(orgAdmin) {
		t.Fatal("an org ADMIN does not see the organisation's project")
	}
	for _, q := range []string{ownerOnly, addMember} {
		checkOutcome(t, "org ADMIN: "+q, gqltest.PostAs(t, e.url, orgAdmin, q, map[string]any{"p": w.own}), ok)
	}
	if visible(orgMember) {
		t.Fatal("an org MEMBER sees a project that grants them no role")
	}
	var vm struct {
		Viewer struct {
			Memberships []struct {
				Project struct{ ID string }
				Role    string
			}
		}
	}
	e.as(t, orgAdmin, `{ viewer { memberships { project { id } role } } }`, nil, &vm)
	if len(vm.Viewer.Memberships) != 1 || vm.Viewer.Memberships[0].Project.ID != w.own || vm.Viewer.Memberships[0].Role != "OWNER" {
		t.Fatalf("an org ADMIN's memberships: %+v", vm.Viewer.Memberships)
	}
	checkOutcome(t, "org MEMBER updates", gqltest.PostAs(t, e.url, orgMember, ownerOnly, map[string]any{"p": w.own}), graph.CodeNotFound)
	if !visible(w.reader) {
		t.Fatal("a project VIEWER who is an org MEMBER lost the project")
	}
	checkOutcome(t, "org MEMBER with VIEWER updates", gqltest.PostAs(t, e.url, w.reader, ownerOnly, map[string]any{"p": w.own}), graph.CodeForbidden)
	// An org role of another organisation gives nothing here.
	checkOutcome(t, "org ADMIN on a foreign project", gqltest.PostAs(t, e.url, orgAdmin, ownerOnly, map[string]any{"p": w.foreign}), graph.CodeNotFound)

	e.client.OrganizationMember.DeleteOneID(adminMembership).ExecX(accesstest.System())
	if visible(orgAdmin) {
		t.Fatal("a removed org ADMIN still sees the project")
	}
	checkOutcome(t, "removed org ADMIN updates", gqltest.PostAs(t, e.url, orgAdmin, ownerOnly, map[string]any{"p": w.own}), graph.CodeNotFound)
}

// orgManagersOnly: an organisation's OWNER (the world's owner, in their
// personal organisation) and admins; nobody with only a project role.
var orgManagersOnly = map[string]outcome{outsider: graph.CodeNotFound, reader: graph.CodeNotFound, editor: graph.CodeNotFound,
	owner: ok, key: graph.CodeNotFound, admin: ok}

// orgOf returns the global ID of the organisation of the own or foreign
// project of w.
func (e *env) orgOf(t *testing.T, w world, own bool) string {
	t.Helper()
	p, _, _ := pick(w, own)
	return gid.Encode(e.client.Project.GetX(accesstest.System(), dbID(t, p)).OrganizationID)
}

// orgMemberIn adds subject as a MEMBER of the organisation of the own or
// foreign project of w, as the system, and returns the membership's ID.
func (e *env) orgMemberIn(t *testing.T, w world, own bool, subject string) string {
	t.Helper()
	sys := accesstest.System()
	uid := e.client.User.Create().SetSubject(subject).SaveX(sys).ID
	return gid.Encode(e.client.OrganizationMember.Create().SetOrganizationID(dbID(t, e.orgOf(t, w, own))).
		SetUserID(uid).SetRole(viewer.OrgMember).SaveX(sys).ID)
}

// The organisation mutations end to end: a created organisation is owned
// by its creator, holds the projects created in it, and its ADMINs manage
// MEMBERs and ADMINs but not OWNERs; it keeps an OWNER.
func TestOrganisationsAreManagedByTheirOwnersAndAdmins(t *testing.T) {
	e := newSecureEnv(t)
	ada, bob, cy := bearer(t, "org-ada"), bearer(t, "org-bob"), bearer(t, "org-cy")
	var created struct {
		CreateOrganization struct {
			ID, Name, ViewerRole string
			Personal             bool
		}
	}
	e.as(t, ada, `mutation { createOrganization(input: {name: "  Acme "}) { id name viewerRole personal } }`, nil, &created)
	org := created.CreateOrganization
	if org.Name != "Acme" || org.ViewerRole != "OWNER" || org.Personal {
		t.Fatalf("created: %+v", org)
	}
	// Organisations are no Node: node() does not find them, rather than fail.
	checkOutcome(t, "node(organisation)", gqltest.PostAs(t, e.url, ada, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": org.ID}), graph.CodeNotFound)
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, ada, `mutation($o: ID!) { createProject(input: {name: "Rocket"}, organizationID: $o) { id } }`, map[string]any{"o": org.ID}, &p)
	add := `mutation($o: ID!, $s: String!, $r: OrganizationRole!) { addOrganizationMember(input: {organizationID: $o, subject: $s, role: $r}) { id role user { subject } } }`
	var added struct {
		AddOrganizationMember struct {
			ID, Role string
			User     struct{ Subject string }
		}
	}
	e.as(t, ada, add, map[string]any{"o": org.ID, "s": "org-bob", "r": "ADMIN"}, &added)
	bobMember := added.AddOrganizationMember.ID
	if added.AddOrganizationMember.User.Subject != "org-bob" {
		t.Fatalf("added: %+v", added)
	}
	// bob, an ADMIN, adds a MEMBER but may not grant OWNER.
	e.as(t, bob, add, map[string]any{"o": org.ID, "s": "org-cy", "r": "MEMBER"}, &added)
	cyMember := added.AddOrganizationMember.ID
	checkOutcome(t, "ADMIN grants OWNER", gqltest.PostAs(t, e.url, bob, add, map[string]any{"o": org.ID, "s": "org-dee", "r": "OWNER"}), graph.CodeForbidden)
	checkOutcome(t, "MEMBER adds", gqltest.PostAs(t, e.url, cy, add, map[string]any{"o": org.ID, "s": "org-eve", "r": "MEMBER"}), graph.CodeForbidden)
	resp := gqltest.PostAs(t, e.url, ada, add, map[string]any{"o": org.ID, "s": "org-cy", "r": "ADMIN"})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "updateOrganizationMember") {
		t.Fatalf("adding a member twice: %+v", resp.Errors)
	}

	list := `{ organizations { name viewerRole projects { name } members { role user { subject } } } }`
	var orgs struct {
		Organizations []struct {
			Name, ViewerRole string
			Projects         []struct{ Name string }
			Members          []struct{ Role string }
		}
	}
	e.as(t, bob, list, nil, &orgs)
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ViewerRole != "ADMIN" || len(orgs.Organizations[0].Projects) != 1 || len(orgs.Organizations[0].Members) != 3 {
		t.Fatalf("bob's organisations: %+v", orgs)
	}
	e.as(t, cy, list, nil, &orgs)
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ViewerRole != "MEMBER" || len(orgs.Organizations[0].Projects) != 0 {
		t.Fatalf("cy, a MEMBER, sees: %+v", orgs)
	}
	var po struct {
		Node struct{ Organization *struct{ Name string } }
	}
	e.as(t, bob, `query($p: ID!) { node(id: $p) { ... on Project { organization { name } } } }`, map[string]any{"p": p.CreateProject.ID}, &po)
	if po.Node.Organization == nil || po.Node.Organization.Name != "Acme" {
		t.Fatalf("Project.organization: %+v", po)
	}
	// ada's personal organisation came with the first project she made
	// without naming one.
	e.as(t, ada, `mutation { createProject(input: {name: "Mine"}) { id } }`, nil, nil)
	e.as(t, ada, list, nil, &orgs)
	if len(orgs.Organizations) != 2 || orgs.Organizations[1].Name != "Name of org-ada" || len(orgs.Organizations[1].Projects) != 1 {
		t.Fatalf("ada's organisations: %+v", orgs)
	}

	// The last OWNER stays; an ADMIN does not demote an OWNER.
	var adaMember string
	for _, m := range e.client.OrganizationMember.Query().AllX(accesstest.System()) {
		if m.Role == viewer.OrgOwner && m.OrganizationID == dbID(t, org.ID) {
			adaMember = gid.Encode(m.ID)
		}
	}
	upd := `mutation($m: ID!, $r: OrganizationRole!) { updateOrganizationMember(id: $m, input: {role: $r}) { role } }`
	checkOutcome(t, "ADMIN demotes the OWNER", gqltest.PostAs(t, e.url, bob, upd, map[string]any{"m": adaMember, "r": "MEMBER"}), graph.CodeForbidden)
	resp = gqltest.PostAs(t, e.url, ada, `mutation($m: ID!) { removeOrganizationMember(id: $m) }`, map[string]any{"m": adaMember})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "at least one OWNER") {
		t.Fatalf("removing the last OWNER: %+v", resp.Errors)
	}
	e.as(t, bob, upd, map[string]any{"m": cyMember, "r": "ADMIN"}, nil)
	e.as(t, cy, list, nil, &orgs)
	if len(orgs.Organizations[0].Projects) != 1 {
		t.Fatalf("cy, now ADMIN, sees: %+v", orgs)
	}

	// Removing bob ends his live subscription to the organisation's project.
	ws := gqltest.DialAs(t, e.url, gqltest.TransportWS, bob)
	ws.Subscribe("p", `subscription($id: ID!) { projectFeedbackEvents(projectID: $id) { status } }`, map[string]any{"id": p.CreateProject.ID})
	var fb struct{ SubmitFeedback struct{ ID string } }
	e.as(t, ada, `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "hm"}) { id } }`, map[string]any{"p": p.CreateProject.ID}, &fb)
	e.nudgeUntilMessage(t, ws, "p", fb.SubmitFeedback.ID)
	e.as(t, ada, `mutation($m: ID!) { removeOrganizationMember(id: $m) }`, map[string]any{"m": bobMember}, nil)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatal("bob's subscription is still open after his removal from the organisation")
		default:
		}
		if m, ok := ws.Pending(100 * time.Millisecond); ok && m.Kind == "complete" {
			break
		}
	}
}

// A person belongs to at most bounds.MaxOrganizationsPerUser organisations
// and an organisation has at most bounds.MaxOrganizationMembers members.
func TestOrganisationLimits(t *testing.T) {
	e := newSecureEnv(t)
	sys := accesstest.System()
	full, other := bearer(t, "org-full"), bearer(t, "org-other")
	fullID := e.userID(t, full, "org-full")
	orgs := make([]*ent.OrganizationCreate, bounds.MaxOrganizationsPerUser)
	for i := range orgs {
		orgs[i] = e.client.Organization.Create().SetName(fmt.Sprint("o", i))
	}
	members := make([]*ent.OrganizationMemberCreate, 0, len(orgs))
	for _, o := range e.client.Organization.CreateBulk(orgs...).SaveX(sys) {
		members = append(members, e.client.OrganizationMember.Create().SetOrganizationID(o.ID).SetUserID(fullID).SetRole(viewer.OrgMember))
	}
	e.client.OrganizationMember.CreateBulk(members...).ExecX(sys)
	resp := gqltest.PostAs(t, e.url, full, `mutation { createOrganization(input: {name: "one more"}) { id } }`, nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "leave one first") {
		t.Fatalf("an organisation past the limit: %+v", resp.Errors)
	}
	var created struct{ CreateOrganization struct{ ID string } }
	e.as(t, other, `mutation { createOrganization(input: {name: "Other"}) { id } }`, nil, &created)
	add := `mutation($o: ID!, $s: String!) { addOrganizationMember(input: {organizationID: $o, subject: $s, role: MEMBER}) { id } }`
	resp = gqltest.PostAs(t, e.url, other, add, map[string]any{"o": created.CreateOrganization.ID, "s": "org-full"})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || resp.Errors[0].Extensions["field"] != "input.subject" {
		t.Fatalf("adding a person past their limit: %+v", resp.Errors)
	}

	// The other organisation fills up (its OWNER is one member already).
	users := make([]*ent.UserCreate, bounds.MaxOrganizationMembers-1)
	for i := range users {
		users[i] = e.client.User.Create().SetSubject(fmt.Sprint("filler-", i))
	}
	orgID := dbID(t, created.CreateOrganization.ID)
	fill := make([]*ent.OrganizationMemberCreate, 0, len(users))
	for _, u := range e.client.User.CreateBulk(users...).SaveX(sys) {
		fill = append(fill, e.client.OrganizationMember.Create().SetOrganizationID(orgID).SetUserID(u.ID).SetRole(viewer.OrgMember))
	}
	e.client.OrganizationMember.CreateBulk(fill...).ExecX(sys)
	resp = gqltest.PostAs(t, e.url, other, add, map[string]any{"o": created.CreateOrganization.ID, "s": "one-too-many"})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || resp.Errors[0].Extensions["field"] != "input.organizationID" {
		t.Fatalf("a member past the organisation's limit: %+v", resp.Errors)
	}
}
