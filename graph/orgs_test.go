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
	entproject "github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/viewer"
	"github.com/feedbackloop/feedbackloop/webhooks"
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

// orgWebhook creates, as the system, an endpoint of the organisation of
// the own or foreign project of w, and returns its global ID.
func (e *env) orgWebhook(t *testing.T, w world, own bool) string {
	t.Helper()
	secret, _ := webhooks.NewSecret()
	return gid.Encode(e.client.Webhook.Create().SetOrganizationID(dbID(t, e.orgOf(t, w, own))).SetURL("https://hooks.example.com/org").
		SetEvents([]webhooks.EventType{webhooks.AnalysisCompleted}).SetSecret(secret).SaveX(accesstest.System()).ID)
}

// emptyOrgOf creates, as the system, an organisation without projects
// whose OWNER is the OWNER of the organisation of the own or foreign
// project of w, and returns its global ID.
func (e *env) emptyOrgOf(t *testing.T, w world, own bool) string {
	t.Helper()
	sys := accesstest.System()
	of := dbID(t, e.orgOf(t, w, own))
	ownerID := e.client.OrganizationMember.Query().
		Where(organizationmember.OrganizationID(of), organizationmember.RoleEQ(viewer.OrgOwner)).FirstX(sys).UserID
	o := e.client.Organization.Create().SetName("Empty").SaveX(sys)
	e.client.OrganizationMember.Create().SetOrganizationID(o.ID).SetUserID(ownerID).SetRole(viewer.OrgOwner).ExecX(sys)
	return gid.Encode(o.ID)
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
	// An organisation is a Node: its members find it, nobody else does.
	var node struct{ Node struct{ ID, Name string } }
	e.as(t, ada, `query($id: ID!) { node(id: $id) { id ... on Organization { name } } }`, map[string]any{"id": org.ID}, &node)
	if node.Node.ID != org.ID || node.Node.Name != "Acme" {
		t.Fatalf("node(organisation): %+v", node)
	}
	checkOutcome(t, "node(organisation) by an outsider", gqltest.PostAs(t, e.url, cy, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": org.ID}), graph.CodeNotFound)
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

	list := `{ organizations { name viewerRole projects(first: 10) { totalCount } members { role user { subject } } } }`
	var orgs struct {
		Organizations []struct {
			Name, ViewerRole string
			Projects         struct{ TotalCount int }
			Members          []struct{ Role string }
		}
	}
	e.as(t, bob, list, nil, &orgs)
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ViewerRole != "ADMIN" || orgs.Organizations[0].Projects.TotalCount != 1 || len(orgs.Organizations[0].Members) != 3 {
		t.Fatalf("bob's organisations: %+v", orgs)
	}
	e.as(t, cy, list, nil, &orgs)
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ViewerRole != "MEMBER" || orgs.Organizations[0].Projects.TotalCount != 0 {
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
	if len(orgs.Organizations) != 2 || orgs.Organizations[1].Name != "Name of org-ada" || orgs.Organizations[1].Projects.TotalCount != 1 {
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
	if orgs.Organizations[0].Projects.TotalCount != 1 {
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

// Renaming, deleting and the organisation's own webhooks, by organisation
// role: OWNER and ADMIN rename and manage its webhooks, MEMBERs get
// FORBIDDEN naming the role, outsiders NOT_FOUND; only an OWNER deletes,
// and only an organisation without projects, never a personal one. Its
// projects are a bounded, paged connection.
func TestOrganisationRenameDeleteAndWebhooksByRole(t *testing.T) {
	e := newSecureEnv(t)
	ada, bob, cy, dee := bearer(t, "orgr-ada"), bearer(t, "orgr-bob"), bearer(t, "orgr-cy"), bearer(t, "orgr-dee")
	var created struct{ CreateOrganization struct{ ID string } }
	e.as(t, ada, `mutation { createOrganization(input: {name: "Acme"}) { id } }`, nil, &created)
	org := created.CreateOrganization.ID
	add := `mutation($o: ID!, $s: String!, $r: OrganizationRole!) { addOrganizationMember(input: {organizationID: $o, subject: $s, role: $r}) { id } }`
	e.as(t, ada, add, map[string]any{"o": org, "s": "orgr-bob", "r": "ADMIN"}, nil)
	e.as(t, ada, add, map[string]any{"o": org, "s": "orgr-cy", "r": "MEMBER"}, nil)
	vars := map[string]any{"o": org}

	rename := `mutation($o: ID!, $n: String) { updateOrganization(id: $o, input: {name: $n}) { name } }`
	for cred, want := range map[string]outcome{ada: ok, bob: ok, cy: graph.CodeForbidden, dee: graph.CodeNotFound} {
		checkOutcome(t, "rename", gqltest.PostAs(t, e.url, cred, rename, map[string]any{"o": org, "n": " Acme Inc "}), want)
	}
	resp := gqltest.PostAs(t, e.url, cy, rename, map[string]any{"o": org, "n": "x"})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["requiredOrganizationRole"] != "ADMIN" {
		t.Fatalf("a MEMBER renaming: %+v", resp.Errors)
	}
	resp = gqltest.PostAs(t, e.url, ada, rename, map[string]any{"o": org, "n": "   "})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || resp.Errors[0].Extensions["field"] != "input.name" {
		t.Fatalf("an empty name: %+v", resp.Errors)
	}
	var named struct{ Node struct{ Name string } }
	e.as(t, cy, `query($o: ID!) { node(id: $o) { ... on Organization { name } } }`, vars, &named)
	if named.Node.Name != "Acme Inc" {
		t.Fatalf("renamed to %q", named.Node.Name)
	}

	// The organisation's own webhooks: its OWNERs and ADMINs only.
	hook := `mutation($o: ID!) { createWebhook(input: {organizationID: $o, url: "https://hooks.example.com/acme", events: [ANALYSIS_COMPLETED]}) { webhook { id projectID organization { id } } secret } }`
	for cred, want := range map[string]outcome{bob: ok, cy: graph.CodeForbidden, dee: graph.CodeNotFound} {
		checkOutcome(t, "createWebhook(organizationID)", gqltest.PostAs(t, e.url, cred, hook, vars), want)
	}
	var hooks struct {
		Node struct {
			Webhooks []struct {
				ProjectID    *string
				Organization struct{ ID string }
			}
		}
	}
	listHooks := `query($o: ID!) { node(id: $o) { ... on Organization { webhooks { projectID organization { id } } } } }`
	e.as(t, ada, listHooks, vars, &hooks)
	if len(hooks.Node.Webhooks) != 1 || hooks.Node.Webhooks[0].ProjectID != nil || hooks.Node.Webhooks[0].Organization.ID != org {
		t.Fatalf("the OWNER sees the organisation's webhooks: %+v", hooks)
	}
	e.as(t, cy, listHooks, vars, &hooks)
	if len(hooks.Node.Webhooks) != 0 {
		t.Fatalf("a MEMBER sees the organisation's webhooks: %+v", hooks)
	}
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, ada, `mutation($o: ID!) { createProject(input: {name: "Rocket"}, organizationID: $o) { id } }`, vars, &p)
	both := `mutation($o: ID!, $p: ID!) { createWebhook(input: {organizationID: $o, projectID: $p, url: "https://hooks.example.com/x", events: [ANALYSIS_COMPLETED]}) { secret } }`
	for _, v := range []map[string]any{{"o": org, "p": p.CreateProject.ID}} {
		resp := gqltest.PostAs(t, e.url, ada, both, v)
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "exactly one") {
			t.Fatalf("both projectID and organizationID: %+v", resp.Errors)
		}
	}
	resp = gqltest.PostAs(t, e.url, ada, `mutation { createWebhook(input: {url: "https://hooks.example.com/x", events: [ANALYSIS_COMPLETED]}) { secret } }`, nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "exactly one") {
		t.Fatalf("neither projectID nor organizationID: %+v", resp.Errors)
	}

	// Projects page, bounded like every connection.
	e.as(t, ada, `mutation($o: ID!) { createProject(input: {name: "Second"}, organizationID: $o) { id } }`, vars, nil)
	page := `query($o: ID!, $after: Cursor) { node(id: $o) { ... on Organization { projects(first: 1, after: $after) {
		totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } } } }`
	var pg struct {
		Node struct {
			Projects struct {
				TotalCount int
				Edges      []struct{ Node struct{ Name string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
	}
	var names []string
	var after any
	for range 3 {
		e.as(t, bob, page, map[string]any{"o": org, "after": after}, &pg)
		for _, ed := range pg.Node.Projects.Edges {
			names = append(names, ed.Node.Name)
		}
		if !pg.Node.Projects.PageInfo.HasNextPage {
			break
		}
		after = pg.Node.Projects.PageInfo.EndCursor
	}
	if pg.Node.Projects.TotalCount != 2 || strings.Join(names, ",") != "Rocket,Second" {
		t.Fatalf("an ADMIN paging the projects: %v, %+v", names, pg)
	}
	resp = gqltest.PostAs(t, e.url, bob, `query($o: ID!) { node(id: $o) { ... on Organization { projects(first: 101) { totalCount } } } }`, vars)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput {
		t.Fatalf("a page past the limit: %+v", resp.Errors)
	}
	e.as(t, cy, page, map[string]any{"o": org, "after": nil}, &pg)
	if pg.Node.Projects.TotalCount != 0 {
		t.Fatalf("a MEMBER without project roles pages: %+v", pg)
	}

	// Deleting: the OWNER only, once no project is left.
	del := `mutation($o: ID!) { deleteOrganization(id: $o) }`
	for cred, want := range map[string]outcome{bob: graph.CodeForbidden, cy: graph.CodeForbidden, dee: graph.CodeNotFound} {
		checkOutcome(t, "deleteOrganization", gqltest.PostAs(t, e.url, cred, del, vars), want)
	}
	resp = gqltest.PostAs(t, e.url, ada, del, vars)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeConflict || !strings.Contains(resp.Errors[0].Message, "2 project") {
		t.Fatalf("deleting an organisation with projects: %+v", resp.Errors)
	}
	for _, pr := range e.client.Project.Query().Where(entproject.OrganizationID(dbID(t, org))).IDsX(accesstest.System()) {
		e.as(t, ada, `mutation($p: ID!) { deleteProject(id: $p) }`, map[string]any{"p": gid.Encode(pr)}, nil)
	}
	var deleted struct{ DeleteOrganization string }
	e.as(t, ada, del, vars, &deleted)
	if deleted.DeleteOrganization != org {
		t.Fatalf("deleted %q", deleted.DeleteOrganization)
	}
	sys := accesstest.System()
	if e.client.Organization.Query().Where(organization.ID(dbID(t, org))).ExistX(sys) ||
		e.client.OrganizationMember.Query().Where(organizationmember.OrganizationID(dbID(t, org))).ExistX(sys) ||
		e.client.Webhook.Query().Where(webhook.OrganizationID(dbID(t, org))).ExistX(sys) {
		t.Fatal("the organisation, its members or its webhooks outlived it")
	}

	// A personal organisation is never deleted, even empty, even by an admin.
	e.as(t, dee, `mutation { createProject(input: {name: "Mine"}) { id } }`, nil, nil)
	personal := gid.Encode(e.client.Organization.Query().Where(organization.PersonalUserID(e.userID(t, dee, "orgr-dee"))).OnlyIDX(sys))
	for _, pr := range e.client.Project.Query().Where(entproject.OrganizationID(dbID(t, personal))).IDsX(sys) {
		e.as(t, dee, `mutation($p: ID!) { deleteProject(id: $p) }`, map[string]any{"p": gid.Encode(pr)}, nil)
	}
	for _, cred := range []string{dee, "Bearer " + testAdminKey} {
		resp = gqltest.PostAs(t, e.url, cred, del, map[string]any{"o": personal})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeForbidden || !strings.Contains(resp.Errors[0].Message, "personal") {
			t.Fatalf("deleting a personal organisation: %+v", resp.Errors)
		}
	}
}
