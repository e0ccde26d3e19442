package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/store"
)

const createTaskOp = `mutation($p: ID!) { createTask(input: {projectID: $p, title: "over the socket"}) { id } }`

// runOver runs a query or mutation over ws and returns its one result.
func runOver(t *testing.T, ws *gqltest.WS, id, query string, vars map[string]any) gqltest.Response {
	t.Helper()
	ws.Subscribe(id, query, vars)
	m := nextFor(t, ws, id)
	var out gqltest.Response
	if m.Kind == "error" {
		_ = json.Unmarshal(m.Payload, &out.Errors)
		return out
	}
	if err := json.Unmarshal(m.Payload, &out); err != nil {
		t.Fatalf("%s %s", m.Kind, m.Payload)
	}
	ws.ExpectComplete(id)
	return out
}

// keyID is the ID of the owner's API key named name.
func (e *env) keyID(t *testing.T, owner, name string) string {
	t.Helper()
	var keys struct {
		APIKeys struct {
			Edges []struct{ Node struct{ ID, Name string } }
		} `json:"apiKeys"`
	}
	e.as(t, owner, `{ apiKeys(first: 100) { edges { node { id name } } } }`, nil, &keys)
	for _, edge := range keys.APIKeys.Edges {
		if edge.Node.Name == name {
			return edge.Node.ID
		}
	}
	t.Fatalf("no key %q", name)
	return ""
}

func wantClosed(t *testing.T, ws *gqltest.WS, code int, text string) {
	t.Helper()
	closed := ws.WaitClosed()
	if closed == nil || closed.Code != code || !strings.Contains(closed.Text, text) {
		t.Fatalf("closed with %v, want %d saying %q", closed, code, text)
	}
}

// Probe: after revokeApiKey, HTTP calls with the key got 401, yet a socket
// opened with it ran createTask and createProject. Its sockets now close
// with 4403, on every instance; a socket of another credential stays.
func TestRevokedKeysSocketsCloseOnEveryInstance(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "rev")
	other := e.instance(t)
	onA := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.key)
	onB := gqltest.DialAs(t, other, gqltest.TransportWS, w.key)
	bystander := gqltest.DialAs(t, other, gqltest.TransportWS, w.owner)
	if r := runOver(t, onB, "1", createTaskOp, map[string]any{"p": w.own}); len(r.Errors) > 0 {
		t.Fatalf("before the revocation: %+v", r.Errors)
	}
	e.as(t, w.owner, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": e.keyID(t, w.owner, "ci")}, nil)
	wantClosed(t, onA, 4403, "was revoked")
	wantClosed(t, onB, 4403, "was revoked")
	if r := runOver(t, bystander, "1", `{ viewer { subject } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the owner's socket: %+v", r.Errors)
	}
	if ce := gqltest.DialRefused(t, other, gqltest.TransportWS, w.key); ce.Code != 4403 || !strings.Contains(ce.Text, "was revoked") {
		t.Fatalf("reconnecting with the revoked key: %d %q", ce.Code, ce.Text)
	}
}

// Every operation started on a socket is authorised with the credential's
// current state, even on an instance that hears no event: the first
// operation after the revocation closes the socket.
func TestEveryOperationOnASocketIsAuthorisedAnew(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "deaf")
	deaf := e.instanceOn(t, e.eventsChannel+"-elsewhere")
	ws := gqltest.DialAs(t, deaf, gqltest.TransportWS, w.key)
	if r := runOver(t, ws, "1", createTaskOp, map[string]any{"p": w.own}); len(r.Errors) > 0 {
		t.Fatalf("before the revocation: %+v", r.Errors)
	}
	e.as(t, w.owner, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": e.keyID(t, w.owner, "ci")}, nil)
	ws.Subscribe("2", createTaskOp, map[string]any{"p": w.own})
	wantClosed(t, ws, 4403, "was revoked")
	if n := e.countTasks(t, w.own); n != 2 { // the world's task and the first one
		t.Errorf("%d tasks in the project, want 2", n)
	}
}

// Probe: a project-scoped EDITOR key whose owner was demoted to VIEWER, or
// removed, could still create tasks over its open socket. The socket closes
// with 4403 when the owner loses the role (on every instance); a new one
// gets the new role, and closes too when the owner leaves.
func TestKeySocketsCloseWhenTheOwnerLosesTheRole(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "demote")
	other := e.instance(t)
	var k struct{ CreateApiKey struct{ Secret string } }
	e.as(t, w.editor, `mutation($p: ID!) { createApiKey(input: {name: "bot", projectID: $p, role: EDITOR}) { secret } }`, map[string]any{"p": w.own}, &k)
	editorKey := "Bearer " + k.CreateApiKey.Secret
	ws := gqltest.DialAs(t, other, gqltest.TransportWS, editorKey)
	if r := runOver(t, ws, "1", createTaskOp, map[string]any{"p": w.own}); len(r.Errors) > 0 {
		t.Fatalf("as EDITOR: %+v", r.Errors)
	}
	e.as(t, w.owner, `mutation($m: ID!) { updateProjectMember(id: $m, input: {role: VIEWER}) { role } }`, map[string]any{"m": w.editorMember}, nil)
	wantClosed(t, ws, 4403, "role on its project is now VIEWER, not EDITOR")

	ws = gqltest.DialAs(t, other, gqltest.TransportWS, editorKey)
	if r := runOver(t, ws, "1", createTaskOp, map[string]any{"p": w.own}); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeForbidden {
		t.Fatalf("as VIEWER: %+v", r.Errors)
	}
	e.as(t, w.owner, `mutation($m: ID!) { removeProjectMember(id: $m) }`, map[string]any{"m": w.editorMember}, nil)
	wantClosed(t, ws, 4403, "its owner is not a member of its project any more")
}

func (e *env) countTasks(t *testing.T, project string) int {
	t.Helper()
	var out struct {
		Node struct{ Tasks struct{ TotalCount int } }
	}
	e.as(t, "Bearer "+testAdminKey, `query($p: ID!) { node(id: $p) { ... on Project { tasks(first: 0) { totalCount } } } }`, map[string]any{"p": project}, &out)
	return out.Node.Tasks.TotalCount
}

// Probe: a subscription paid its complexity once, however many events it
// received: 30 nested subscriptions (208 points) pushed 17 MB for 64 points
// of mutations. Each event now costs a point per 10 KB delivered; a
// subscriber over its budget is closed with 4429 and resumes later from its
// last cursor.
func TestSubscriptionEventsSpendTheBudget(t *testing.T) {
	// 200 points, 10 back a second.
	prefix := "rl-" + testredis.Namespace(t)
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.RateLimit = ratelimit.New(testredis.Client(t), ratelimit.Config{Points: 200, Window: 20 * time.Second, Prefix: prefix, Logger: c.Logger})
	})
	w := e.newWorld(t, "pay")
	// Each event selects the task's 10,000-character description 30 times:
	// 300 KB, 30 points.
	var sel strings.Builder
	for i := range 30 {
		fmt.Fprintf(&sel, "d%d: task { description } ", i)
	}
	sub := `subscription($p: ID!, $after: String) { projectEvents(projectID: $p, after: $after) { ... on TaskEvent { cursor ` + sel.String() + ` } } }`
	taskID := dbID(t, w.ownTask)
	change := func(i int) {
		sys := accesstest.System()
		if _, err := store.InTx(sys, e.client, func(tx *ent.Tx) (*ent.Task, error) {
			return tx.Task.UpdateOneID(taskID).SetDescription(fmt.Sprintf("%05d", i) + strings.Repeat("d", 9_995)).AddVersion(1).Save(sys)
		}); err != nil {
			t.Fatal(err)
		}
	}
	type taskEvent struct {
		Data struct {
			ProjectEvents struct {
				Cursor string
				D0     struct{ Description string }
			}
		}
	}
	ws := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	ws.Subscribe("1", sub, map[string]any{"p": w.own})
	testutil.WaitFor(t, "the subscription", func() bool { return e.bus.Subscribers() >= 1 })
	for i := range 15 {
		change(i)
	}
	var got []taskEvent
	for {
		m, ok := ws.Pending(10 * time.Second)
		if !ok {
			t.Fatalf("after %d events the subscriber is still open", len(got))
		}
		if m.Kind != "data" {
			continue
		}
		var ev taskEvent
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(got) == 15 {
			t.Fatal("all 15 events (450 points) were delivered on a budget of 200")
		}
		if ws.Closed() != nil {
			break
		}
	}
	closed := ws.WaitClosed()
	if closed.Code != 4429 || !strings.Contains(closed.Text, "resume from your last cursor in") {
		t.Fatalf("closed with %v after %d events", closed, len(got))
	}
	// Later, it resumes after the last event it got: the next one comes.
	time.Sleep(4 * time.Second)
	last := got[len(got)-1].Data.ProjectEvents
	ws = gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	ws.Subscribe("2", sub, map[string]any{"p": w.own, "after": last.Cursor})
	m := nextFor(t, ws, "2")
	var next taskEvent
	if err := json.Unmarshal(m.Payload, &next); err != nil || m.Kind != "data" {
		t.Fatalf("resuming: %s %s", m.Kind, m.Payload)
	}
	if want := fmt.Sprintf("%05d", len(got)); !strings.HasPrefix(next.Data.ProjectEvents.D0.Description, want) {
		t.Fatalf("resumed at change %.5s, want %s", next.Data.ProjectEvents.D0.Description, want)
	}
}
