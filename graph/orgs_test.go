package graph_test

import (
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
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
