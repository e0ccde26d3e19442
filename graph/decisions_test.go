package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

// completed analyses feedback on task tk of project p as a worker would,
// with a priority suggestion for the task and a piece of advice, and returns
// the suggestions' IDs.
func (e *env) completed(t *testing.T, cred, p, tk string) (fbID string, priority, advice string) {
	t.Helper()
	var f struct{ SubmitFeedback struct{ ID string } }
	e.as(t, cred, `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "checkout is urgent"}) { id } }`, map[string]any{"p": p}, &f)
	id := dbID(t, f.SubmitFeedback.ID)
	ctx := accesstest.System()
	if _, err := e.pipeline.Claim(ctx, id, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	taskID, original, newValue := dbID(t, tk), "0", "5"
	if _, err := e.pipeline.Complete(ctx, id, "w", pipeline.Outcome{Summary: "s", Provider: "test", Model: "m",
		Adjustments: []pipeline.Suggestion{
			{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &taskID, Description: "Make it urgent", ClaimedOriginalValue: &original, NewValue: &newValue},
			{Type: adjustment.AdjustmentTypeGeneral, Description: "Tell the customer"},
		}}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Node struct{ Adjustments []struct{ ID string } }
	}
	e.as(t, cred, `query($id: ID!) { node(id: $id) { ... on Feedback { adjustments { id } } } }`, map[string]any{"id": f.SubmitFeedback.ID}, &got)
	return f.SubmitFeedback.ID, got.Node.Adjustments[0].ID, got.Node.Adjustments[1].ID
}

// Who may decide: EDITOR and OWNER; a VIEWER gets FORBIDDEN naming the
// role, an outsider NOT_FOUND, nobody without credentials gets in.
func TestDecisionsRoleMatrix(t *testing.T) {
	e := newSecureEnv(t)
	ops := []struct {
		name, query string
		vars        func(priority, advice string) map[string]any
	}{
		{"applyAdjustment", `mutation($id: ID!) { applyAdjustment(id: $id) { adjustment { status } task { priority } } }`,
			func(p, _ string) map[string]any { return map[string]any{"id": p} }},
		{"applyAdjustments", `mutation($ids: [ID!]!) { applyAdjustments(ids: $ids) { adjustment { status } } }`,
			func(p, a string) map[string]any { return map[string]any{"ids": []string{p, a}} }},
		{"rejectAdjustment", `mutation($id: ID!) { rejectAdjustment(id: $id, reason: "no") { adjustment { status reason } } }`,
			func(_, a string) map[string]any { return map[string]any{"id": a} }},
	}
	want := map[string]outcome{none: graph.CodeUnauthenticated, outsider: graph.CodeNotFound, reader: graph.CodeForbidden,
		editor: ok, owner: ok, key: ok, admin: ok}
	for _, actor := range actors {
		t.Run(actor, func(t *testing.T) {
			for _, op := range ops {
				w := e.newWorld(t, strings.ReplaceAll(actor+"-"+op.name, " ", "-"))
				_, priority, advice := e.completed(t, w.owner, w.own, w.ownTask)
				resp := gqltest.PostAs(t, e.url, w.credential(actor), op.query, op.vars(priority, advice))
				checkOutcome(t, op.name, resp, want[actor])
			}
		})
	}
}

// The GraphQL face of a decision: the payload, a CONFLICT naming the
// current value, force, decisions taken twice, and batches naming the
// failing ID.
func TestDecisionsOverGraphQL(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "d")
	fb, priority, advice := e.completed(t, w.owner, w.own, w.ownTask)

	// The task moved since the analysis: CONFLICT, then force.
	e.as(t, w.editor, `mutation($t: ID!) { updateTask(id: $t, input: {priority: 3}) { version } }`, map[string]any{"t": w.ownTask}, nil)
	apply := `mutation($id: ID!, $force: Boolean) { applyAdjustment(id: $id, force: $force) {
		adjustment { status decidedBy { subject } decidedAt } task { priority version } } }`
	resp := gqltest.PostAs(t, e.url, w.editor, apply, map[string]any{"id": priority})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeConflict || resp.Errors[0].Extensions["currentValue"] != "3" ||
		resp.Errors[0].Extensions["expectedValue"] != "0" || resp.Errors[0].Extensions["field"] != "id" || !strings.Contains(resp.Errors[0].Message, "force") {
		t.Fatalf("want CONFLICT naming 3: %+v", resp.Errors)
	}
	var applied struct {
		ApplyAdjustment struct {
			Adjustment struct {
				Status    string
				DecidedBy struct{ Subject string }
				DecidedAt *string
			}
			Task struct{ Priority, Version int }
		}
	}
	e.as(t, w.editor, apply, map[string]any{"id": priority, "force": true}, &applied)
	a := applied.ApplyAdjustment
	if a.Adjustment.Status != "APPLIED" || a.Adjustment.DecidedBy.Subject != "editor-d" || a.Adjustment.DecidedAt == nil ||
		a.Task.Priority != 5 || a.Task.Version != 3 { // created 1, changed by hand 2, applied 3
		t.Fatalf("payload %+v", a)
	}
	// Deciding twice is an input error.
	resp = gqltest.PostAs(t, e.url, w.editor, apply, map[string]any{"id": priority})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "already decided") {
		t.Fatalf("applying twice: %+v", resp.Errors)
	}
	// A batch names the failing one.
	resp = gqltest.PostAs(t, e.url, w.editor, `mutation($ids: [ID!]!) { applyAdjustments(ids: $ids) { adjustment { id } } }`,
		map[string]any{"ids": []string{advice, priority}})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["field"] != "ids[1]" {
		t.Fatalf("batch: %+v", resp.Errors)
	}
	var still struct{ Node struct{ Status string } }
	e.as(t, w.editor, `query($id: ID!) { node(id: $id) { ... on Adjustment { status } } }`, map[string]any{"id": advice}, &still)
	if still.Node.Status != "PROPOSED" {
		t.Fatalf("a failed batch decided %s", still.Node.Status)
	}
	// Filters: on the feedback and on the project.
	var filtered struct {
		Node struct {
			Proposed []struct{ ID string } `json:"proposed"`
			Applied  []struct{ ID string } `json:"applied"`
		}
	}
	e.as(t, w.reader, `query($id: ID!) { node(id: $id) { ... on Feedback {
		proposed: adjustments(where: {status: PROPOSED}) { id }
		applied: adjustments(where: {status: APPLIED}) { id } } } }`, map[string]any{"id": fb}, &filtered)
	if len(filtered.Node.Proposed) != 1 || filtered.Node.Proposed[0].ID != advice || len(filtered.Node.Applied) != 1 || filtered.Node.Applied[0].ID != priority {
		t.Fatalf("feedback filters: %+v", filtered)
	}
	var onProject struct {
		Node struct {
			Adjustments struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
	}
	e.as(t, w.reader, `query($id: ID!) { node(id: $id) { ... on Project { adjustments(first: 10, where: {status: PROPOSED}) { totalCount edges { node { id } } } } } }`,
		map[string]any{"id": w.own}, &onProject)
	if onProject.Node.Adjustments.TotalCount != 1 || onProject.Node.Adjustments.Edges[0].Node.ID != advice {
		t.Fatalf("project filter: %+v", onProject)
	}
	// Revert, then the removed-task snapshot of a REMOVE_TASK is readable.
	var reverted struct {
		RevertAdjustment struct {
			Adjustment struct{ Status string }
			Task       struct{ Priority int }
		}
	}
	e.as(t, w.editor, `mutation($id: ID!) { revertAdjustment(id: $id) { adjustment { status } task { priority } } }`, map[string]any{"id": priority}, &reverted)
	if reverted.RevertAdjustment.Adjustment.Status != "PROPOSED" || reverted.RevertAdjustment.Task.Priority != 3 {
		t.Fatalf("revert: %+v", reverted)
	}
	// Every decision answers with one shape: a rejection too carries its
	// task, as it is.
	var rejected struct {
		RejectAdjustment struct {
			Adjustment struct{ Status, Reason string }
			Task       *struct{ ID string }
		}
	}
	other := e.newWorld(t, "d-reject")
	_, second, _ := e.completed(t, other.owner, other.own, other.ownTask)
	e.as(t, other.editor, `mutation($id: ID!) { rejectAdjustment(id: $id, reason: "later") { adjustment { status reason } task { id } } }`,
		map[string]any{"id": second}, &rejected)
	if r := rejected.RejectAdjustment; r.Adjustment.Status != "REJECTED" || r.Adjustment.Reason != "later" || r.Task == nil || r.Task.ID != other.ownTask {
		t.Fatalf("rejection payload %+v", r)
	}
}

// projectEvents: a board sees task changes, decisions and status changes
// in commit order; a client that drops off resumes with its last cursor
// and gets exactly what it missed, then the live stream.
func TestProjectEventsResumeWithoutGapsOrDuplicates(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "ev")
	const sub = `subscription($p: ID!, $after: String) { projectEvents(projectID: $p, after: $after) {
		__typename
		... on TaskEvent { change version task { id priority } by { subject } cursor }
		... on AdjustmentEvent { decision: status adjustment { id } by { subject } cursor }
		... on FeedbackStatusEvent { status version feedback { id } cursor }
	} }`
	type event struct {
		Typename string `json:"__typename"`
		Change   string
		Status   string
		Decision string
		Version  int
		Task     *struct {
			ID       string
			Priority int
		}
		By     *struct{ Subject string }
		Cursor string
	}
	next := func(c *gqltest.WS, id string) event {
		t.Helper()
		m := nextFor(t, c, id)
		var body struct {
			Data struct{ ProjectEvents event }
		}
		if err := json.Unmarshal(m.Payload, &body); err != nil || m.Kind != "data" {
			t.Fatalf("%s %s", m.Kind, m.Payload)
		}
		return body.Data.ProjectEvents
	}
	c := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	c.Subscribe("1", sub, map[string]any{"p": w.own})
	testutil.WaitFor(t, "the subscription", func() bool {
		if m, ok := c.Pending(0); ok {
			t.Fatalf("unexpected %s %s", m.Kind, m.Payload)
		}
		return e.bus.Subscribers() >= 1
	})

	e.as(t, w.editor, `mutation($t: ID!) { updateTask(id: $t, input: {priority: 2}) { id } }`, map[string]any{"t": w.ownTask}, nil)
	first := next(c, "1")
	if first.Typename != "TaskEvent" || first.Change != "UPDATED" || first.Task.Priority != 2 || first.By.Subject != "editor-ev" || first.Cursor == "" {
		t.Fatalf("first event %+v", first)
	}
	c.Unsubscribe("1")

	// Offline: a status change, a new task and a decision happen.
	_, priority, _ := e.completed(t, w.owner, w.own, w.ownTask) // PENDING, PROCESSING, COMPLETED
	e.as(t, w.editor, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "Docs"}) { id } }`, map[string]any{"p": w.own}, nil)
	e.as(t, w.editor, `mutation($id: ID!) { applyAdjustment(id: $id, force: true) { task { id } } }`, map[string]any{"id": priority}, nil)

	c.Subscribe("2", sub, map[string]any{"p": w.own, "after": first.Cursor})
	var got []string
	cursors := map[string]bool{first.Cursor: true}
	for range 6 {
		ev := next(c, "2")
		if cursors[ev.Cursor] {
			t.Fatalf("event %s delivered twice", ev.Cursor)
		}
		cursors[ev.Cursor] = true
		got = append(got, ev.Typename+":"+ev.Change+ev.Status+ev.Decision)
	}
	want := []string{"FeedbackStatusEvent:PENDING", "FeedbackStatusEvent:PROCESSING", "FeedbackStatusEvent:COMPLETED",
		"TaskEvent:CREATED", "TaskEvent:UPDATED", "AdjustmentEvent:APPLIED"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("replayed %v, want %v then the live stream", got, want)
	}
	// Then live again.
	e.as(t, w.editor, `mutation($t: ID!) { deleteTask(id: $t) }`, map[string]any{"t": w.ownTask}, nil)
	if ev := next(c, "2"); ev.Typename != "TaskEvent" || ev.Change != "DELETED" || ev.Task.ID != w.ownTask {
		t.Fatalf("live after the replay: %+v", ev)
	}
	// A cursor that was never issued, and one older than what is kept.
	c.Subscribe("3", sub, map[string]any{"p": w.own, "after": "garbage"})
	if m := nextFor(t, c, "3"); !strings.Contains(string(m.Payload), graph.CodeBadUserInput) {
		t.Fatalf("garbage cursor: %s", m.Payload)
	}
	e.client.Event.Delete().ExecX(accesstest.System()) // as pruning would
	c.Subscribe("4", sub, map[string]any{"p": w.own, "after": first.Cursor})
	if m := nextFor(t, c, "4"); !strings.Contains(string(m.Payload), "older than") {
		t.Fatalf("expired cursor: %s", m.Payload)
	}
}

// A time that does not parse is a clear input error naming the argument,
// not an internal one.
func TestMalformedTimesAreInputErrors(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Times")
	for _, bad := range []any{"yesterday", "2026-13-45T99:00:00Z", 12345} {
		resp := e.do(`query($p: ID!, $since: Time) { projectInsights(projectID: $p, since: $since) { feedbackCount } }`,
			map[string]any{"p": p.ID, "since": bad})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "not a Time") {
			t.Fatalf("since = %v: %+v", bad, resp.Errors)
		}
	}
	resp := e.do(`{ projects(first: 1, where: {createdAtGT: "soon"}) { totalCount } }`, nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput {
		t.Fatalf("a literal bad time in a filter: %+v", resp.Errors)
	}
}
