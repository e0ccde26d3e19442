package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/viewer"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

var (
	testSecret   = []byte("a-test-secret-of-at-least-thirty-two-bytes")
	testAdminKey = "admin-key-for-tests-0123456789"
)

// newSecureEnv is an API with credentials configured: HS256 tokens signed
// with testSecret, and testAdminKey as ADMIN_API_KEY.
func newSecureEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.Compare = compare.Settings{Targets: []compare.Target{{Provider: "builtin", Model: "rules-v1"}}}
	})
}

// bearer returns the Authorization value of a fresh token for subject.
func bearer(t testing.TB, subject string) string {
	t.Helper()
	tok, err := hs256.Mint(testSecret, subject, "Name of "+subject, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// as runs a request that must succeed for cred and decodes its data.
func (e *env) as(t testing.TB, cred, query string, vars map[string]any, out any) {
	t.Helper()
	gqltest.MustPostAs(t, e.url, cred, query, vars, out)
}

// world is what one actor of the matrix meets: a project it may be a member
// of (own) and one it is not (foreign), each with a task and failed
// feedback, and a project-scoped EDITOR key on the own project.
type world struct {
	owner, editor, reader, outsider, stranger string // credentials
	key                                       string // the EDITOR key on own
	own, foreign                              string // project IDs
	ownTask, foreignTask                      string
	ownFeedback, foreignFeedback              string
	readerMember, editorMember                string // the reader's and the editor's membership IDs
	ownHook, foreignHook                      string // a webhook of each project
	ownDelivery, foreignDelivery              string // a delivery of each webhook
}

func (e *env) newWorld(t *testing.T, tag string) world {
	t.Helper()
	w := world{
		owner: bearer(t, "owner-"+tag), editor: bearer(t, "editor-"+tag), reader: bearer(t, "reader-"+tag),
		outsider: bearer(t, "outsider-"+tag), stranger: bearer(t, "stranger-"+tag),
	}
	create := func(cred, name string) (project, task, fb string) {
		var p struct{ CreateProject struct{ ID string } }
		e.as(t, cred, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`, map[string]any{"n": name}, &p)
		var tk struct{ CreateTask struct{ ID string } }
		e.as(t, cred, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "T"}) { id } }`, map[string]any{"p": p.CreateProject.ID}, &tk)
		var f struct{ SubmitFeedback struct{ ID string } }
		e.as(t, cred, `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "hm"}) { id } }`, map[string]any{"p": p.CreateProject.ID}, &f)
		// Failed, so that retryFeedback applies.
		e.client.Feedback.UpdateOneID(dbID(t, f.SubmitFeedback.ID)).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
		return p.CreateProject.ID, tk.CreateTask.ID, f.SubmitFeedback.ID
	}
	w.own, w.ownTask, w.ownFeedback = create(w.owner, "own-"+tag)
	w.foreign, w.foreignTask, w.foreignFeedback = create(w.stranger, "foreign-"+tag)
	w.ownHook, w.ownDelivery = e.newWebhook(t, w.owner, w.own)
	w.foreignHook, w.foreignDelivery = e.newWebhook(t, w.stranger, w.foreign)
	add := `mutation($p: ID!, $s: String!, $r: Role!) { addProjectMember(input: {projectID: $p, subject: $s, role: $r}) { id } }`
	var m struct{ AddProjectMember struct{ ID string } }
	e.as(t, w.owner, add, map[string]any{"p": w.own, "s": "editor-" + tag, "r": "EDITOR"}, &m)
	w.editorMember = m.AddProjectMember.ID
	e.as(t, w.owner, add, map[string]any{"p": w.own, "s": "reader-" + tag, "r": "VIEWER"}, &m)
	w.readerMember = m.AddProjectMember.ID
	var k struct{ CreateApiKey struct{ Secret string } }
	e.as(t, w.owner, `mutation($p: ID!) { createApiKey(input: {name: "ci", projectID: $p, role: EDITOR}) { secret } }`, map[string]any{"p": w.own}, &k)
	w.key = "Bearer " + k.CreateApiKey.Secret
	return w
}

// outcome is what an actor gets: "ok" or an error code.
type outcome = string

const ok outcome = "ok"

// An operation of the matrix, run against a project and its objects.
type matrixOp struct {
	name  string
	query string
	vars  func(w world, own bool) map[string]any
	// setup, when set, replaces vars: it may create what the operation
	// acts on, as actor or as someone else.
	setup func(e *env, t *testing.T, w world, actor string, own bool) map[string]any
	// want per actor on the actor's own project; on the foreign project
	// every actor but the admin gets NOT_FOUND.
	want map[string]outcome
}

func pick(w world, own bool) (project, task, fb string) {
	if own {
		return w.own, w.ownTask, w.ownFeedback
	}
	return w.foreign, w.foreignTask, w.foreignFeedback
}

const (
	none     = "none"
	outsider = "outsider"
	reader   = "VIEWER"
	editor   = "EDITOR"
	owner    = "OWNER"
	key      = "project key"
	admin    = "admin"
)

var actors = []string{none, outsider, reader, editor, owner, key, admin}

func (w world) credential(actor string) string {
	switch actor {
	case outsider:
		return w.outsider
	case reader:
		return w.reader
	case editor:
		return w.editor
	case owner:
		return w.owner
	case key:
		return w.key
	case admin:
		return "Bearer " + testAdminKey
	}
	return ""
}

// roles gives the outcome for each actor from the least role that may act.
func roles(least string) map[string]outcome {
	order := []string{reader, editor, owner}
	out := map[string]outcome{outsider: graph.CodeNotFound, admin: ok, key: graph.CodeForbidden}
	for i, r := range order {
		if i >= slices.Index(order, least) {
			out[r] = ok
		} else {
			out[r] = graph.CodeForbidden
		}
	}
	if slices.Index(order, least) <= slices.Index(order, editor) {
		out[key] = ok // the key is an EDITOR
	}
	return out
}

var mutationMatrix = []matrixOp{
	{
		name:  "updateProject",
		query: `mutation($p: ID!) { updateProject(id: $p, input: {description: "changed"}) { id } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(editor),
	},
	{
		name:  "createTask",
		query: `mutation($p: ID!) { createTask(input: {projectID: $p, title: "new"}) { id } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(editor),
	},
	{
		name:  "updateTask",
		query: `mutation($t: ID!) { updateTask(id: $t, input: {priority: 4}) { id } }`,
		vars:  func(w world, own bool) map[string]any { _, tk, _ := pick(w, own); return map[string]any{"t": tk} },
		want:  roles(editor),
	},
	{
		name:  "submitFeedback",
		query: `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "more"}) { id submittedBy { subject } } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(reader),
	},
	{
		name:  "retryFeedback",
		query: `mutation($f: ID!) { retryFeedback(id: $f) { id status } }`,
		vars:  func(w world, own bool) map[string]any { _, _, fb := pick(w, own); return map[string]any{"f": fb} },
		want:  roles(editor),
	},
	{
		name:  "compareAnalyses",
		query: `mutation($f: ID!) { compareAnalyses(feedbackID: $f, providers: ["builtin"]) { id primary status provider model } }`,
		vars:  func(w world, own bool) map[string]any { _, _, fb := pick(w, own); return map[string]any{"f": fb} },
		want:  roles(editor),
	},
	{
		// Read like their feedback: every member, through Feedback.analyses
		// and node.
		name:  "Feedback.analyses and Analysis.suggestions",
		query: `query($f: ID!) { node(id: $f) { ... on Feedback { analyses { id primary suggestions { type task { id } } } } } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			_, tk, fb := pick(w, own)
			e.analysisOn(t, fb, tk)
			return map[string]any{"f": fb}
		},
		want: roles(reader),
	},
	{
		name:  "Analysis by node",
		query: `query($a: ID!) { node(id: $a) { ... on Analysis { id feedback { id } } } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			_, tk, fb := pick(w, own)
			return map[string]any{"a": e.analysisOn(t, fb, tk)}
		},
		want: roles(reader),
	},
	{
		name:  "addProjectMember",
		query: `mutation($p: ID!, $s: String!) { addProjectMember(input: {projectID: $p, subject: $s, role: VIEWER}) { id } }`,
		vars: func(w world, own bool) map[string]any {
			p, _, _ := pick(w, own)
			return map[string]any{"p": p, "s": fmt.Sprintf("new-%s-%v", p, time.Now().UnixNano())}
		},
		want: roles(owner),
	},
	{
		name:  "updateProject (viewersMayComment)",
		query: `mutation($p: ID!) { updateProject(id: $p, input: {viewersMayComment: true}) { viewersMayComment } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	{
		name:  "addComment (on feedback)",
		query: `mutation($t: ID!) { addComment(input: {targetID: $t, body: "a remark"}) { id author { id } } }`,
		vars:  func(w world, own bool) map[string]any { _, _, fb := pick(w, own); return map[string]any{"t": fb} },
		want:  roles(reader),
	},
	{
		name:  "addComment (on a suggestion)",
		query: `mutation($t: ID!) { addComment(input: {targetID: $t, body: "a remark"}) { id adjustment { id } } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			_, _, fb := pick(w, own)
			return map[string]any{"t": e.suggestionOn(t, fb)}
		},
		want: roles(reader),
	},
	{
		name:  "editComment (one's own)",
		query: `mutation($id: ID!) { editComment(id: $id, body: "edited") { editedAt } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			_, _, fb := pick(w, own)
			author := w.stranger
			switch {
			case own && (actor == none || actor == outsider):
				author = w.owner // someone's comment the actor may not reach
			case own:
				author = w.credential(actor)
			}
			return map[string]any{"id": e.addComment(t, author, fb, "to edit").ID}
		},
		want: map[string]outcome{outsider: graph.CodeNotFound, reader: ok, editor: ok, owner: ok, key: ok, admin: ok},
	},
	{
		name:  "voteAdjustment",
		query: `mutation($id: ID!) { voteAdjustment(id: $id, value: UP) { score viewerVote } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			_, _, fb := pick(w, own)
			return map[string]any{"id": e.suggestionOn(t, fb)}
		},
		want: roles(reader),
	},
	{
		name:  "createApiKey (project-scoped)",
		query: `mutation($p: ID!) { createApiKey(input: {name: "k", projectID: $p}) { secret } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  map[string]outcome{outsider: graph.CodeNotFound, reader: ok, editor: ok, owner: ok, key: graph.CodeForbidden, admin: ok},
	},
	{
		name:  "createWebhook",
		query: `mutation($p: ID!) { createWebhook(input: {projectID: $p, url: "https://hooks.example.com/in", events: [TASK_CREATED]}) { webhook { id } secret } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	{
		name:  "updateWebhook",
		query: `mutation($h: ID!) { updateWebhook(id: $h, input: {events: [TASK_CREATED, TASK_DELETED]}) { id } }`,
		vars:  func(w world, own bool) map[string]any { return map[string]any{"h": pickHook(w, own)} },
		want:  roles(owner),
	},
	{
		name:  "redeliverWebhook",
		query: `mutation($d: ID!) { redeliverWebhook(deliveryID: $d) { id status } }`,
		vars: func(w world, own bool) map[string]any {
			if own {
				return map[string]any{"d": w.ownDelivery}
			}
			return map[string]any{"d": w.foreignDelivery}
		},
		want: roles(owner),
	},
	{
		name:  "createAutoApplyRule",
		query: `mutation($p: ID!) { createAutoApplyRule(input: {projectID: $p, rule: {kinds: [TASK_PRIORITY], minConfidence: 0.8}}) { id kinds author { id } } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	{
		name:  "updateAutoApplyRule",
		query: `mutation($r: ID!) { updateAutoApplyRule(id: $r, input: {kinds: [TASK_ESTIMATE], minConfidence: 0.9}) { id kinds minConfidence } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"r": e.newAutoApplyRule(t, w, own)}
		},
		want: roles(owner),
	},
	{
		name:  "autoApplyDryRun",
		query: `query($p: ID!) { autoApplyDryRun(projectID: $p, days: 7) { suggestions wouldApply byRule } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	{
		name:  "deleteAutoApplyRule",
		query: `mutation($r: ID!) { deleteAutoApplyRule(id: $r) }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"r": e.newAutoApplyRule(t, w, own)}
		},
		want: roles(owner),
	},
	{
		// One's own digest: any member, with their own credentials; an
		// admin who is no member has none to set.
		name:  "setDigest",
		query: `mutation($p: ID!) { setDigest(projectID: $p, frequency: DAILY, email: "m@example.com") { frequency sending member { id } } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  map[string]outcome{outsider: graph.CodeNotFound, reader: ok, editor: ok, owner: ok, key: graph.CodeForbidden, admin: graph.CodeBadUserInput},
	},
	{
		name:  "linkGitHubRepository",
		query: `mutation($p: ID!) { linkGitHubRepository(input: {projectID: $p, owner: "octo-org", repo: "web", token: "ghp_matrixToken"}) { repository { owner repo } webhookSecret } }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	// Destructive operations last: they change the world.
	{
		name:  "unlinkGitHubRepository",
		query: `mutation($p: ID!) { unlinkGitHubRepository(projectID: $p) }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
	{
		// A VIEWER's comment: its author or an OWNER deletes it.
		name:  "deleteComment (a VIEWER's)",
		query: `mutation($id: ID!) { deleteComment(id: $id) }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			_, _, fb := pick(w, own)
			author := w.stranger
			if own {
				author = w.reader
			}
			return map[string]any{"id": e.addComment(t, author, fb, "to delete").ID}
		},
		want: map[string]outcome{outsider: graph.CodeNotFound, reader: ok, editor: graph.CodeForbidden, owner: ok, key: graph.CodeForbidden, admin: ok},
	},
	{
		name:  "deleteWebhook",
		query: `mutation($h: ID!) { deleteWebhook(id: $h) }`,
		vars:  func(w world, own bool) map[string]any { return map[string]any{"h": pickHook(w, own)} },
		want:  roles(owner),
	},
	{
		name:  "deleteTask",
		query: `mutation($t: ID!) { deleteTask(id: $t) }`,
		vars:  func(w world, own bool) map[string]any { _, tk, _ := pick(w, own); return map[string]any{"t": tk} },
		want:  roles(editor),
	},
	{
		name:  "removeProjectMember",
		query: `mutation($m: ID!) { removeProjectMember(id: $m) }`,
		vars: func(w world, own bool) map[string]any {
			if !own {
				return nil // the foreign project has no member the actor could name
			}
			return map[string]any{"m": w.readerMember}
		},
		want: roles(owner),
	},
	// Organisations: "own" is the owner's personal organisation (holding the
	// own project), "foreign" the stranger's. Only the organisation's OWNER
	// (or ADMIN) manages it; project roles give nothing there.
	{
		name:  "createProject (in an organisation)",
		query: `mutation($o: ID!) { createProject(input: {name: "in org"}, organizationID: $o) { id } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			if actor == key {
				return nil // a project-scoped key creates no project anywhere: FORBIDDEN, not the NOT_FOUND the matrix expects of foreign rows
			}
			return map[string]any{"o": e.orgOf(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "addOrganizationMember",
		query: `mutation($o: ID!, $s: String!) { addOrganizationMember(input: {organizationID: $o, subject: $s, role: MEMBER}) { id } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			return map[string]any{"o": e.orgOf(t, w, own), "s": fmt.Sprintf("org-added-%s-%v", actor, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "updateOrganizationMember",
		query: `mutation($m: ID!) { updateOrganizationMember(id: $m, input: {role: ADMIN}) { role } }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			return map[string]any{"m": e.orgMemberIn(t, w, own, fmt.Sprintf("org-upd-%s-%v", actor, own))}
		},
		want: orgManagersOnly,
	},
	{
		name:  "removeOrganizationMember",
		query: `mutation($m: ID!) { removeOrganizationMember(id: $m) }`,
		setup: func(e *env, t *testing.T, w world, actor string, own bool) map[string]any {
			return map[string]any{"m": e.orgMemberIn(t, w, own, fmt.Sprintf("org-rm-%s-%v", actor, own))}
		},
		want: orgManagersOnly,
	},
	{
		name:  "updateOrganization",
		query: `mutation($o: ID!) { updateOrganization(id: $o, input: {name: "Renamed"}) { id name } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"o": e.orgOf(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "createWebhook (an organisation's)",
		query: `mutation($o: ID!) { createWebhook(input: {organizationID: $o, url: "https://hooks.example.com/org", events: [ANALYSIS_COMPLETED]}) { webhook { id organization { id } } secret } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"o": e.orgOf(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "updateWebhook (an organisation's)",
		query: `mutation($h: ID!) { updateWebhook(id: $h, input: {enabled: false}) { enabled } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"h": e.orgWebhook(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "redeliverWebhook (an organisation's)",
		query: `mutation($d: ID!) { redeliverWebhook(deliveryID: $d) { status } }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			d := e.client.WebhookDelivery.Create().SetWebhookID(dbID(t, e.orgWebhook(t, w, own))).SetEventID(1).
				SetEventType(webhooks.AnalysisCompleted).SetMessageID("msg_org").SetBody([]byte(`{}`)).
				SetStatus(webhookdelivery.StatusFailed).SetRetryUntil(time.Now()).SaveX(accesstest.System())
			return map[string]any{"d": gid.Encode(d.ID)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "deleteWebhook (an organisation's)",
		query: `mutation($h: ID!) { deleteWebhook(id: $h) }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"h": e.orgWebhook(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		// An empty organisation of the own project's (or the foreign
		// one's) owner: only its OWNER deletes it.
		name:  "deleteOrganization",
		query: `mutation($o: ID!) { deleteOrganization(id: $o) }`,
		setup: func(e *env, t *testing.T, w world, _ string, own bool) map[string]any {
			return map[string]any{"o": e.emptyOrgOf(t, w, own)}
		},
		want: orgManagersOnly,
	},
	{
		name:  "createOrganization",
		query: `mutation { createOrganization(input: {name: "Acme"}) { id viewerRole } }`,
		setup: func(_ *env, _ *testing.T, _ world, _ string, own bool) map[string]any {
			if !own {
				return nil // it names no project
			}
			return map[string]any{}
		},
		want: map[string]outcome{outsider: ok, reader: ok, editor: ok, owner: ok, key: graph.CodeForbidden, admin: ok},
	},
	{
		name:  "deleteProject",
		query: `mutation($p: ID!) { deleteProject(id: $p) }`,
		vars:  func(w world, own bool) map[string]any { p, _, _ := pick(w, own); return map[string]any{"p": p} },
		want:  roles(owner),
	},
}

// newAutoApplyRule stores an auto-apply rule on the own or the foreign
// project, set by its OWNER; stored directly, since the matrix makes more
// than the API lets a project have.
func (e *env) newAutoApplyRule(t *testing.T, w world, own bool) string {
	t.Helper()
	p, _, _ := pick(w, own)
	sys := accesstest.System()
	author := e.client.ProjectMember.Query().
		Where(projectmember.ProjectID(dbID(t, p)), projectmember.RoleEQ(viewer.Owner)).FirstX(sys)
	rule := e.client.AutoApplyRule.Create().SetProjectID(dbID(t, p)).SetAuthorID(author.UserID).
		SetKinds([]string{"TASK_STATUS"}).SetMinConfidence(1).SaveX(sys)
	return gid.Encode(rule.ID)
}

func pickHook(w world, own bool) string {
	if own {
		return w.ownHook
	}
	return w.foreignHook
}

// newWebhook creates a webhook on project as cred (its OWNER) and, as the
// worker would, a delivery of it.
func (e *env) newWebhook(t *testing.T, cred, project string) (hook, delivery string) {
	t.Helper()
	var out struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	e.as(t, cred, `mutation($p: ID!) { createWebhook(input: {projectID: $p, url: "https://hooks.example.com/in", events: [ANALYSIS_COMPLETED]}) { webhook { id } } }`,
		map[string]any{"p": project}, &out)
	d := e.client.WebhookDelivery.Create().SetWebhookID(dbID(t, out.CreateWebhook.Webhook.ID)).SetEventID(1).
		SetEventType(webhooks.AnalysisCompleted).SetMessageID("msg_1").SetBody([]byte(`{}`)).
		SetStatus(webhookdelivery.StatusFailed).SetRetryUntil(time.Now()).SaveX(accesstest.System())
	return out.CreateWebhook.Webhook.ID, gid.Encode(d.ID)
}

// Every role × every mutation × own and foreign project. A viewer that may
// see the project but lacks the role gets FORBIDDEN naming the role; one
// that may not see it gets NOT_FOUND, exactly like a missing object; no
// credentials get UNAUTHENTICATED (HTTP 401).
func TestAuthorizationMatrixForMutations(t *testing.T) {
	e := newSecureEnv(t)
	for _, actor := range actors {
		t.Run(actor, func(t *testing.T) {
			w := e.newWorld(t, strings.ReplaceAll(actor, " ", "-"))
			cred := w.credential(actor)
			for _, op := range mutationMatrix {
				for _, own := range []bool{true, false} {
					var vars map[string]any
					if op.setup != nil {
						vars = op.setup(e, t, w, actor, own)
					} else {
						vars = op.vars(w, own)
					}
					if vars == nil {
						continue
					}
					want := op.want[actor]
					switch {
					case actor == none:
						want = graph.CodeUnauthenticated
					case !own && actor != admin:
						want = graph.CodeNotFound
					}
					resp := gqltest.PostAs(t, e.url, cred, op.query, vars)
					checkOutcome(t, fmt.Sprintf("%s on the %s project", op.name, map[bool]string{true: "own", false: "foreign"}[own]), resp, want)
				}
			}
		})
	}
}

// suggestionOn stores a suggestion (advice) on feedback fb, as an analysis
// would, and returns its ID.
func (e *env) suggestionOn(t *testing.T, fb string) string {
	t.Helper()
	ctx := accesstest.System()
	n := e.client.Adjustment.Query().Where(adjustment.FeedbackID(dbID(t, fb))).CountX(ctx)
	a := e.client.Adjustment.Create().SetFeedbackID(dbID(t, fb)).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).
		SetDescription("advice").SetPosition(n).SaveX(ctx)
	return gid.Encode(a.ID)
}

// analysisOn stores a comparison run of feedback fb, completed with one
// claim about task tk, and returns its ID.
func (e *env) analysisOn(t *testing.T, fb, tk string) string {
	t.Helper()
	ctx := accesstest.System()
	f := e.client.Feedback.GetX(ctx, dbID(t, fb))
	task := dbID(t, tk)
	a := e.client.Analysis.Create().SetFeedbackID(f.ID).SetProjectID(f.ProjectID).SetProvider("builtin").SetModel("rules-v1").
		SetStatus(analysis.StatusCompleted).SetSuggestions([]compare.Claim{{Type: "TASK_PRIORITY", TaskID: &task, Description: "raise it"}}).
		SaveX(ctx)
	return gid.Encode(a.ID)
}

func checkOutcome(t *testing.T, what string, resp gqlResponse, want outcome) {
	t.Helper()
	if want == ok {
		if len(resp.Errors) > 0 {
			t.Errorf("%s: want success, got %+v", what, resp.Errors)
		}
		return
	}
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != want {
		t.Errorf("%s: want one %s error, got %+v (data %s)", what, want, resp.Errors, resp.Data)
		return
	}
	got := resp.Errors[0]
	switch want {
	case graph.CodeForbidden:
		if got.Extensions["requiredRole"] == nil && got.Extensions["requiredOrganizationRole"] == nil && !strings.Contains(got.Message, "API key") {
			t.Errorf("%s: FORBIDDEN without the role needed: %+v", what, got)
		}
	case graph.CodeUnauthenticated:
		if resp.Status != 401 {
			t.Errorf("%s: UNAUTHENTICATED with HTTP %d, want 401", what, resp.Status)
		}
	case graph.CodeNotFound:
		if strings.Contains(got.Message, "role") || strings.Contains(got.Message, "permission") || got.Extensions["requiredRole"] != nil {
			t.Errorf("%s: NOT_FOUND says too much: %+v", what, got)
		}
	}
}

// Every role reads exactly what its memberships allow, through every query
// path: root connections, nested connections, totalCount, node and nodes.
func TestAuthorizationMatrixForQueries(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "q")
	canSeeOwn := map[string]bool{outsider: false, reader: true, editor: true, owner: true, key: true, admin: true}
	ownComment := e.addComment(t, w.reader, w.ownFeedback, "note").ID
	foreignComment := e.addComment(t, w.stranger, w.foreignFeedback, "note").ID
	ownSuggestion, foreignSuggestion := e.suggestionOn(t, w.ownFeedback), e.suggestionOn(t, w.foreignFeedback)
	for _, actor := range actors {
		t.Run(actor, func(t *testing.T) {
			cred := w.credential(actor)
			if actor == none {
				resp := gqltest.PostAs(t, e.url, cred, `{ projects(first: 10) { totalCount } }`, nil)
				checkOutcome(t, "projects", resp, graph.CodeUnauthenticated)
				return
			}
			// Root connections and their counts: admins see everything.
			var got struct {
				Projects  conn `json:"projects"`
				Tasks     conn `json:"tasks"`
				Feedbacks conn `json:"feedbacks"`
			}
			e.as(t, cred, `{
				projects(first: 100) { totalCount edges { node { id tasks(first: 10) { totalCount edges { node { id } } } feedbacks(first: 10) { totalCount } } } }
				tasks(first: 100) { totalCount edges { node { id } } }
				feedbacks(first: 100) { totalCount edges { node { id } } }
			}`, nil, &got)
			wantProjects := []string{}
			wantTasks := []string{}
			if canSeeOwn[actor] {
				wantProjects = append(wantProjects, w.own)
				wantTasks = append(wantTasks, w.ownTask)
			}
			if actor == admin {
				wantProjects = append(wantProjects, w.foreign)
				wantTasks = append(wantTasks, w.foreignTask)
			}
			checkIDs(t, "projects", got.Projects, wantProjects)
			checkIDs(t, "tasks", got.Tasks, wantTasks)
			if got.Feedbacks.TotalCount != len(wantProjects) {
				t.Errorf("feedbacks totalCount %d, want %d", got.Feedbacks.TotalCount, len(wantProjects))
			}
			for _, edge := range got.Projects.Edges {
				if edge.Node.Tasks.TotalCount != 1 || len(edge.Node.Tasks.Edges) != 1 {
					t.Errorf("nested tasks of %s: %+v", edge.Node.ID, edge.Node.Tasks)
				}
			}

			// node and nodes: a foreign ID reads exactly like a missing one.
			for _, id := range []string{w.own, w.ownTask, w.ownFeedback, ownComment, ownSuggestion, w.foreign, w.foreignTask, w.foreignFeedback, foreignComment, foreignSuggestion} {
				visible := actor == admin || (canSeeOwn[actor] && slices.Contains([]string{w.own, w.ownTask, w.ownFeedback, ownComment, ownSuggestion}, id))
				resp := gqltest.PostAs(t, e.url, cred, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				if visible {
					checkOutcome(t, "node "+id, resp, ok)
				} else {
					checkOutcome(t, "node "+id, resp, graph.CodeNotFound)
				}
			}
			// A thread's count and a suggestion's score and the caller's
			// vote read as the node does.
			if canSeeOwn[actor] {
				var thread struct {
					Node struct {
						Comments struct{ TotalCount int }
					}
				}
				e.as(t, cred, `query($id: ID!) { node(id: $id) { ... on Feedback { comments(first: 5) { totalCount } } } }`, map[string]any{"id": w.ownFeedback}, &thread)
				if thread.Node.Comments.TotalCount != 1 {
					t.Errorf("own thread: %d comments, want 1", thread.Node.Comments.TotalCount)
				}
				e.as(t, cred, `query($id: ID!) { node(id: $id) { ... on Adjustment { score viewerVote } } }`, map[string]any{"id": ownSuggestion}, nil)
			}
			missing := gqltest.PostAs(t, e.url, cred, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid.Encode(8589934592 + 999999)})
			foreign := gqltest.PostAs(t, e.url, cred, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": w.foreign})
			if actor != admin && (len(missing.Errors) != 1 || len(foreign.Errors) != 1 || missing.Errors[0].Message != foreign.Errors[0].Message) {
				t.Errorf("a foreign ID reads differently from a missing one: %+v vs %+v", foreign.Errors, missing.Errors)
			}
			resp := gqltest.PostAs(t, e.url, cred, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{w.own, w.foreign}})
			wantErrs := 0
			if actor != admin {
				wantErrs++
				if !canSeeOwn[actor] {
					wantErrs++
				}
			}
			if len(resp.Errors) != wantErrs {
				t.Errorf("nodes: %d errors, want %d: %+v", len(resp.Errors), wantErrs, resp.Errors)
			}
			for _, err := range resp.Errors {
				if err.Extensions["code"] != graph.CodeNotFound {
					t.Errorf("nodes: %+v", err)
				}
			}
			// The charts' queries need read access to the project, any role.
			for _, p := range []string{w.own, w.foreign} {
				want := outcome(graph.CodeNotFound)
				if actor == admin || (canSeeOwn[actor] && p == w.own) {
					want = ok
				}
				resp := gqltest.PostAs(t, e.url, cred, `query($p: ID!) { projectVelocity(projectID: $p, weeks: 2) { completed weeks { isoWeek completed } } }`, map[string]any{"p": p})
				checkOutcome(t, "projectVelocity "+p, resp, want)
				resp = gqltest.PostAs(t, e.url, cred, `query($p: ID!) { projectInsights(projectID: $p) { feedbackPerDay { date pending processing } } }`, map[string]any{"p": p})
				checkOutcome(t, "projectInsights "+p, resp, want)
			}
		})
	}
}

type conn struct {
	TotalCount int `json:"totalCount"`
	Edges      []struct {
		Node struct {
			ID        string `json:"id"`
			Tasks     conn   `json:"tasks"`
			Feedbacks conn   `json:"feedbacks"`
		} `json:"node"`
	} `json:"edges"`
}

func checkIDs(t *testing.T, what string, c conn, want []string) {
	t.Helper()
	var got []string
	for _, e := range c.Edges {
		got = append(got, e.Node.ID)
	}
	// Admins also see other tests' worlds; check want is there and, for
	// members, nothing else.
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("%s: %s missing from %v", what, id, got)
		}
	}
	if c.TotalCount < len(want) || (len(want) < 2 && (len(got) != len(want) || c.TotalCount != len(want))) {
		t.Errorf("%s: got %v (totalCount %d), want %v", what, got, c.TotalCount, want)
	}
}

// Subscriptions follow the same rules: a project or feedback the viewer may
// not see is NOT_FOUND, and without credentials the connection is refused
// with 4403.
func TestAuthorizationMatrixForSubscriptions(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "s")
	canSeeOwn := map[string]bool{outsider: false, reader: true, editor: true, owner: true, key: true, admin: true}
	subs := []struct{ name, query, varName string }{
		{"projectFeedbackEvents", `subscription($id: ID!) { projectFeedbackEvents(projectID: $id) { status } }`, "project"},
		{"feedbackStatusChanged", `subscription($id: ID!) { feedbackStatusChanged(id: $id) { status } }`, "feedback"},
		// The board's stream, comments and votes included.
		{"projectEvents", `subscription($id: ID!) { projectEvents(projectID: $id) { __typename } }`, "project"},
	}
	for _, actor := range actors {
		t.Run(actor, func(t *testing.T) {
			if actor == none {
				if ce := gqltest.DialRefused(t, e.url, gqltest.TransportWS, ""); ce.Code != 4403 {
					t.Fatalf("close %d %q, want 4403", ce.Code, ce.Text)
				}
				return
			}
			ws := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.credential(actor))
			n := 0
			for _, s := range subs {
				for _, own := range []bool{true, false} {
					p, _, fb := pick(w, own)
					id := p
					if s.varName == "feedback" {
						id = fb
					}
					n++
					opID := fmt.Sprint(n)
					ws.Subscribe(opID, s.query, map[string]any{"id": id})
					visible := actor == admin || (own && canSeeOwn[actor])
					var m gqltest.Msg
					if s.varName == "project" && visible {
						// It sends nothing until something happens: make
						// something happen until the subscriber, which
						// may not be listening yet, sees it.
						m = e.nudgeUntilMessage(t, ws, opID, fb)
					} else {
						m = nextFor(t, ws, opID)
					}
					failed := strings.Contains(string(m.Payload), `"errors"`) || m.Kind == "error"
					switch {
					case visible && (m.Kind != "data" || failed):
						t.Errorf("%s own=%v: want data, got %s %s", s.name, own, m.Kind, m.Payload)
					case !visible && (!failed || !strings.Contains(string(m.Payload), graph.CodeNotFound)):
						t.Errorf("%s own=%v: want NOT_FOUND, got %s %s", s.name, own, m.Kind, m.Payload)
					}
					ws.Unsubscribe(opID)
				}
			}
		})
	}
}

// nudgeUntilMessage fails and retries feedback fb until operation id of
// ws receives a message.
func (e *env) nudgeUntilMessage(t *testing.T, ws *gqltest.WS, id, fb string) gqltest.Msg {
	t.Helper()
	deadline := time.Now().Add(testutil.WaitTimeout)
	for time.Now().Before(deadline) {
		e.client.Feedback.UpdateOneID(dbID(t, fb)).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
		if _, err := e.pipeline.Retry(accesstest.System(), dbID(t, fb)); err != nil {
			t.Fatal(err)
		}
		for {
			m, ok := ws.Pending(200 * time.Millisecond)
			if !ok {
				break
			}
			if m.ID == id {
				return m
			}
		}
	}
	t.Fatal("the subscriber never saw an event")
	return gqltest.Msg{}
}

// nextFor returns the next message of operation id, skipping the ends of
// earlier operations.
func nextFor(t *testing.T, ws *gqltest.WS, id string) gqltest.Msg {
	t.Helper()
	for {
		if m := ws.Next(); m.ID == id {
			return m
		}
	}
}

// A token that expires while its websocket is open ends the connection
// with 4403 at its expiry, so the client reconnects with a fresh one.
func TestWebsocketClosesWhenTheTokenExpires(t *testing.T) {
	e := newSecureEnv(t)
	tok, err := hs256.Mint(testSecret, "brief", "", 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, "Bearer "+tok, `mutation { createProject(input: {name: "P"}) { id } }`, nil, &p)
	ws := gqltest.DialAs(t, e.url, gqltest.TransportWS, "Bearer "+tok)
	ws.Subscribe("1", `subscription($id: ID!) { projectFeedbackEvents(projectID: $id) { status } }`, map[string]any{"id": p.CreateProject.ID})
	closed := ws.WaitClosed()
	if closed == nil || closed.Code != 4403 || !strings.Contains(closed.Text, "expired") {
		t.Fatalf("closed with %v, want 4403 saying the credential expired", closed)
	}
	// And a fresh connection with the expired token is refused the same way.
	if ce := gqltest.DialRefused(t, e.url, gqltest.TransportWS, "Bearer "+tok); ce.Code != 4403 || !strings.Contains(ce.Text, "expired") {
		t.Fatalf("reconnect with the expired token: %d %q", ce.Code, ce.Text)
	}
}

// Removing a member ends their live subscriptions to the project.
func TestRemovedMembersSubscriptionsEnd(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "rm")
	ws := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	ws.Subscribe("p", `subscription($id: ID!) { projectFeedbackEvents(projectID: $id) { status } }`, map[string]any{"id": w.own})
	e.nudgeUntilMessage(t, ws, "p", w.ownFeedback) // the project subscription is live; the feedback PENDING
	ws.Subscribe("f", `subscription($id: ID!) { feedbackStatusChanged(id: $id) { status } }`, map[string]any{"id": w.ownFeedback})
	if m := nextFor(t, ws, "f"); m.Kind != "data" || !strings.Contains(string(m.Payload), "PENDING") {
		t.Fatalf("feedbackStatusChanged: %s %s", m.Kind, m.Payload)
	}
	e.as(t, w.owner, `mutation($m: ID!) { removeProjectMember(id: $m) }`, map[string]any{"m": w.readerMember}, nil)
	ended := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for len(ended) < 2 {
		select {
		case <-deadline:
			t.Fatalf("subscriptions still open after removal: ended %v", ended)
		default:
		}
		if m, ok := ws.Pending(100 * time.Millisecond); ok && m.Kind == "complete" {
			ended[m.ID] = true
		}
	}
	// The connection itself stays usable, and the project is now NOT_FOUND.
	ws.Subscribe("again", `subscription($id: ID!) { projectFeedbackEvents(projectID: $id) { status } }`, map[string]any{"id": w.own})
	if m := nextFor(t, ws, "again"); !strings.Contains(string(m.Payload), graph.CodeNotFound) {
		t.Fatalf("resubscribing: %s %s", m.Kind, m.Payload)
	}
}

// A refused credential gets HTTP 401, one UNAUTHENTICATED error saying
// what was wrong, and a WWW-Authenticate challenge.
func TestRefusedCredentialsGet401(t *testing.T) {
	e := newSecureEnv(t)
	expired, _ := hs256.Mint(testSecret, "late", "", -time.Minute)
	cases := map[string]struct{ authorization, says string }{
		"missing":   {"", "needs credentials"},
		"malformed": {"Token abc", "Bearer"},
		"expired":   {"Bearer " + expired, "expired"},
		"revoked":   {"", "revoked"},
		"unknown":   {"Bearer fl_neverIssuedneverIssuedneverIssued0000", "no such key"},
	}
	var k struct{ CreateApiKey struct{ Secret string } }
	e.as(t, bearer(t, "keyholder"), `mutation { createApiKey(input: {name: "k"}) { secret apiKey { id } } }`, nil, &k)
	var keys struct {
		APIKeys struct {
			Edges []struct{ Node struct{ ID string } }
		} `json:"apiKeys"`
	}
	e.as(t, bearer(t, "keyholder"), `{ apiKeys(first: 5) { edges { node { id } } } }`, nil, &keys)
	e.as(t, bearer(t, "keyholder"), `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": keys.APIKeys.Edges[0].Node.ID}, nil)
	c := cases["revoked"]
	c.authorization = "Bearer " + k.CreateApiKey.Secret
	cases["revoked"] = c
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := gqltest.PostAs(t, e.url, c.authorization, `{ viewer { id } }`, nil)
			if resp.Status != 401 || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeUnauthenticated ||
				!strings.Contains(resp.Errors[0].Message, c.says) || strings.Contains(strings.ToLower(resp.Errors[0].Message), "internal") {
				t.Fatalf("%d %+v", resp.Status, resp.Errors)
			}
		})
	}
}

// viewer says who is calling and with which roles.
func TestViewerQuery(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "v")
	var got struct {
		Viewer struct {
			Subject, Kind string
			IsAdmin       bool
			APIKey        *struct{ Prefix string } `json:"apiKey"`
			Memberships   []struct {
				Project struct{ ID string }
				Role    string
			}
		}
	}
	q := `{ viewer { subject kind isAdmin apiKey { prefix } memberships { project { id } role } } }`
	e.as(t, w.editor, q, nil, &got)
	if got.Viewer.Subject != "editor-v" || got.Viewer.Kind != "USER" || got.Viewer.IsAdmin || got.Viewer.APIKey != nil ||
		len(got.Viewer.Memberships) != 1 || got.Viewer.Memberships[0].Project.ID != w.own || got.Viewer.Memberships[0].Role != "EDITOR" {
		t.Fatalf("editor: %+v", got.Viewer)
	}
	e.as(t, w.key, q, nil, &got)
	if got.Viewer.Kind != "API_KEY" || got.Viewer.APIKey == nil || !strings.HasPrefix(w.key, "Bearer "+got.Viewer.APIKey.Prefix) ||
		len(got.Viewer.Memberships) != 1 || got.Viewer.Memberships[0].Role != "EDITOR" {
		t.Fatalf("key: %+v", got.Viewer)
	}
	e.as(t, "Bearer "+testAdminKey, q, nil, &got)
	if !got.Viewer.IsAdmin || got.Viewer.Kind != "API_KEY" {
		t.Fatalf("admin: %+v", got.Viewer)
	}
}

// A project keeps at least one OWNER.
func TestTheLastOwnerStays(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "lo")
	var members struct {
		Node struct{ Members []struct{ ID, Role string } }
	}
	e.as(t, w.owner, `query($id: ID!) { node(id: $id) { ... on Project { members { id role } } } }`, map[string]any{"id": w.own}, &members)
	var ownerMember string
	for _, m := range members.Node.Members {
		if m.Role == "OWNER" {
			ownerMember = m.ID
		}
	}
	for _, q := range []string{
		`mutation($m: ID!) { removeProjectMember(id: $m) }`,
		`mutation($m: ID!) { updateProjectMember(id: $m, input: {role: EDITOR}) { id } }`,
	} {
		resp := gqltest.PostAs(t, e.url, w.owner, q, map[string]any{"m": ownerMember})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "at least one OWNER") {
			t.Fatalf("%s: %+v", q, resp.Errors)
		}
	}
	// With a second owner, the first may step down.
	var added struct{ AddProjectMember struct{ ID string } }
	e.as(t, w.owner, `mutation($p: ID!) { addProjectMember(input: {projectID: $p, subject: "co-owner", role: OWNER}) { id } }`, map[string]any{"p": w.own}, &added)
	e.as(t, w.owner, `mutation($m: ID!) { updateProjectMember(id: $m, input: {role: EDITOR}) { role } }`, map[string]any{"m": ownerMember}, nil)
	// Adding an existing member again is a clear input error.
	resp := gqltest.PostAs(t, e.url, bearer(t, "co-owner"), `mutation($p: ID!) { addProjectMember(input: {projectID: $p, subject: "co-owner", role: VIEWER}) { id } }`, map[string]any{"p": w.own})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput {
		t.Fatalf("duplicate member: %+v", resp.Errors)
	}
}
