package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

type feedbackOut struct {
	ID           string  `json:"id"`
	Status       string  `json:"status"`
	Version      int     `json:"version"`
	FeedbackText string  `json:"feedbackText"`
	UserName     *string `json:"userName"`
	ProjectID    string  `json:"projectID"`
	TaskID       *string `json:"taskID"`
	Attempts     int     `json:"attempts"`
	Error        *string `json:"error"`
}

const submitMutation = `mutation($in: SubmitFeedbackInput!) {
  submitFeedback(input: $in) { id status version feedbackText userName projectID taskID attempts error }
}`

func (e *env) submit(in map[string]any) feedbackOut {
	e.t.Helper()
	var out struct{ SubmitFeedback feedbackOut }
	e.mustDo(submitMutation, map[string]any{"in": in}, &out)
	return out.SubmitFeedback
}

func dbID(t testing.TB, id string) int {
	t.Helper()
	n, err := gid.Decode(id)
	if err != nil {
		t.Fatalf("decode %q: %v", id, err)
	}
	return n
}

func TestSubmitFeedbackStoresPendingAndQueuesAJob(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Launch")
	tk := e.createTask(p.ID, "Landing page", 2)

	fb := e.submit(map[string]any{"projectID": p.ID, "taskID": tk.ID, "userName": "  Ada ", "feedbackText": "  The page loads slowly  "})
	if fb.Status != "PENDING" || fb.Version != 1 || fb.Attempts != 0 {
		t.Errorf("submitted feedback = %+v, want PENDING version 1", fb)
	}
	if fb.FeedbackText != "The page loads slowly" || fb.UserName == nil || *fb.UserName != "Ada" {
		t.Errorf("text and user name are not trimmed: %+v", fb)
	}
	if fb.ProjectID != p.ID || fb.TaskID == nil || *fb.TaskID != tk.ID {
		t.Errorf("feedback links %s/%v, want %s/%s", fb.ProjectID, fb.TaskID, p.ID, tk.ID)
	}

	stored, err := e.client.Feedback.Get(accesstest.System(), dbID(t, fb.ID))
	if err != nil {
		t.Fatal(err)
	}
	state, err := e.jobs.State(context.Background(), pipeline.JobFor(stored))
	if err != nil {
		t.Fatalf("no job for the submitted feedback: %v", err)
	}
	if state.DeadLettered() {
		t.Fatalf("job state %+v", state)
	}
	depth, err := e.jobs.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if depth.Pending != 1 {
		t.Errorf("queue depth %+v, want one pending job", depth)
	}
}

func TestSubmitFeedbackValidation(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Mine")
	other := e.createProject("Other")
	foreign := e.createTask(other.ID, "Not mine", 0)

	cases := []struct {
		name, code, field, message string
		in                         map[string]any
	}{
		{"unknown project", "NOT_FOUND", "input.projectID", "no Project has this ID",
			map[string]any{"projectID": gid.Encode(2<<32 + 999999), "feedbackText": "x"}},
		{"task ID as project ID", "NOT_FOUND", "input.projectID", "",
			map[string]any{"projectID": foreign.ID, "feedbackText": "x"}},
		{"task of another project", "BAD_USER_INPUT", "input.taskID", "must be a task of the project",
			map[string]any{"projectID": p.ID, "taskID": foreign.ID, "feedbackText": "x"}},
		{"blank text", "BAD_USER_INPUT", "input.feedbackText", "1 to 10000 characters",
			map[string]any{"projectID": p.ID, "feedbackText": "   "}},
		{"text too long", "BAD_USER_INPUT", "input.feedbackText", "1 to 10000 characters",
			map[string]any{"projectID": p.ID, "feedbackText": strings.Repeat("é", 10001)}},
		{"user name too long", "BAD_USER_INPUT", "input.userName", "255",
			map[string]any{"projectID": p.ID, "feedbackText": "ok", "userName": strings.Repeat("u", 256)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.mustFail(submitMutation, map[string]any{"in": c.in}, c.code)
			if got.Extensions["field"] != c.field {
				t.Errorf("field = %v, want %s (%+v)", got.Extensions["field"], c.field, got)
			}
			if !strings.Contains(got.Message, c.message) {
				t.Errorf("message %q does not say %q", got.Message, c.message)
			}
		})
	}
	n, err := e.client.Feedback.Query().Count(accesstest.System())
	if err != nil || n != 0 {
		t.Fatalf("rejected feedback was stored: %d rows, %v", n, err)
	}
	// 10,000 characters (not bytes) is allowed.
	e.submit(map[string]any{"projectID": p.ID, "feedbackText": strings.Repeat("é", 10000)})
}

// failFeedback drives feedback to FAILED as a worker would.
func (e *env) failFeedback(id int, reason string) {
	e.t.Helper()
	ctx := accesstest.System()
	if _, err := e.pipeline.Claim(ctx, id, "test-worker", time.Minute); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.pipeline.Fail(ctx, id, "test-worker", reason); err != nil {
		e.t.Fatal(err)
	}
}

// completeCheckout completes claimed feedback id as a worker would, with
// two suggestions: the task's priority to 5 ("Make checkout urgent"), and
// a general one ("Tell the customer").
func (e *env) completeCheckout(id int, taskID string) {
	e.t.Helper()
	task, newValue := dbID(e.t, taskID), "5"
	_, err := e.pipeline.Complete(accesstest.System(), id, "w", pipeline.Outcome{
		Summary: "Raise the checkout's priority", Provider: "test", Model: "m",
		Adjustments: []pipeline.Suggestion{
			{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &task, Description: "Make checkout urgent", NewValue: &newValue},
			{Type: adjustment.AdjustmentTypeGeneral, Description: "Tell the customer"},
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestRetryFeedback(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Retry")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "please retry me"})
	const retry = `mutation($id: ID!) { retryFeedback(id: $id) { id status version error attempts } }`

	got := e.mustFail(retry, map[string]any{"id": fb.ID}, "BAD_USER_INPUT")
	if !strings.Contains(got.Message, "only failed analyses can be retried") || got.Extensions["field"] != "id" {
		t.Errorf("retry of PENDING feedback: %+v", got)
	}
	e.mustFail(retry, map[string]any{"id": p.ID}, "NOT_FOUND")

	e.failFeedback(dbID(t, fb.ID), "the model did not answer")
	var out struct{ RetryFeedback feedbackOut }
	e.mustDo(retry, map[string]any{"id": fb.ID}, &out)
	r := out.RetryFeedback
	if r.Status != "PENDING" || r.Error != nil || r.Version != 4 {
		t.Errorf("retried feedback = %+v, want PENDING without error at version 4", r)
	}
	stored, err := e.client.Feedback.Get(accesstest.System(), dbID(t, fb.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.jobs.State(context.Background(), pipeline.JobFor(stored)); err != nil {
		t.Fatalf("retry queued no new job: %v", err)
	}
}

const feedbackSubscription = `subscription($id: ID!) {
  feedbackStatusChanged(id: $id) {
    status previousStatus version at error
    feedback { id status summary adjustments { adjustmentType description newValue task { id } } }
  }
}`

type statusEvent struct {
	Status         string  `json:"status"`
	PreviousStatus *string `json:"previousStatus"`
	Version        int     `json:"version"`
	At             string  `json:"at"`
	Error          *string `json:"error"`
	Feedback       struct {
		ID          string  `json:"id"`
		Status      string  `json:"status"`
		Summary     *string `json:"summary"`
		Adjustments []struct {
			AdjustmentType string  `json:"adjustmentType"`
			Description    string  `json:"description"`
			NewValue       *string `json:"newValue"`
			Task           *struct{ ID string }
		} `json:"adjustments"`
	} `json:"feedback"`
}

func nextStatus(t *testing.T, c *gqltest.WS, field string) statusEvent {
	t.Helper()
	var out map[string]statusEvent
	c.NextData(&out)
	ev, ok := out[field]
	if !ok {
		t.Fatalf("data without %s: %+v", field, out)
	}
	return ev
}

func TestFeedbackStatusChangedOverBothProtocols(t *testing.T) {
	for _, proto := range []string{gqltest.TransportWS, gqltest.LegacyWS} {
		t.Run(proto, func(t *testing.T) {
			e := newEnv(t)
			ctx := accesstest.System()
			p := e.createProject("Live")
			tk := e.createTask(p.ID, "Checkout", 1)
			fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "checkout is urgent"})
			id := dbID(t, fb.ID)

			c := gqltest.Dial(t, e.url, proto)
			c.Subscribe("1", feedbackSubscription, map[string]any{"id": fb.ID})
			first := nextStatus(t, c, "feedbackStatusChanged")
			if first.Status != "PENDING" || first.PreviousStatus != nil || first.Version != 1 || first.Feedback.ID != fb.ID {
				t.Fatalf("first event = %+v, want the stored PENDING state", first)
			}

			if _, err := e.pipeline.Claim(ctx, id, "w", time.Minute); err != nil {
				t.Fatal(err)
			}
			ev := nextStatus(t, c, "feedbackStatusChanged")
			if ev.Status != "PROCESSING" || ev.PreviousStatus == nil || *ev.PreviousStatus != "PENDING" || ev.Version != 2 {
				t.Fatalf("second event = %+v, want PROCESSING after PENDING, version 2", ev)
			}

			e.completeCheckout(id, tk.ID)
			done := nextStatus(t, c, "feedbackStatusChanged")
			if done.Status != "COMPLETED" || *done.PreviousStatus != "PROCESSING" || done.Version != 3 {
				t.Fatalf("third event = %+v", done)
			}
			adj := done.Feedback.Adjustments
			if len(adj) != 2 || adj[0].AdjustmentType != "TASK_PRIORITY" || adj[0].Task == nil || adj[0].Task.ID != tk.ID ||
				*adj[0].NewValue != "5" || adj[1].AdjustmentType != "GENERAL" || adj[1].Task != nil {
				t.Fatalf("adjustments in the COMPLETED event = %+v", adj)
			}
			if done.Feedback.Summary == nil || *done.Feedback.Summary != "Raise the checkout's priority" {
				t.Fatalf("summary = %v", done.Feedback.Summary)
			}
			c.ExpectComplete("1")
		})
	}
}

// An event's feedback comes from its snapshot, which no query eager-loaded:
// suggestions filtered by a where argument are read for it, filtered, and
// the unfiltered field still answers from the snapshot.
func TestFilteredSuggestionsInAnEvent(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("Filtered live")
	tk := e.createTask(p.ID, "Checkout", 1)
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "checkout is urgent"})
	id := dbID(t, fb.ID)
	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	c.Subscribe("1", `subscription($id: ID!) { feedbackStatusChanged(id: $id) { status feedback {
		general: adjustments(where: {adjustmentType: GENERAL}) { description }
		all: adjustments { description } } } }`, map[string]any{"id": fb.ID})
	if _, err := e.pipeline.Claim(ctx, id, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	e.completeCheckout(id, tk.ID)
	type suggestions []struct{ Description string }
	for {
		var out struct {
			FeedbackStatusChanged struct {
				Status   string
				Feedback struct{ General, All suggestions }
			}
		}
		c.NextData(&out)
		ev := out.FeedbackStatusChanged
		if ev.Status != "COMPLETED" {
			continue
		}
		if len(ev.Feedback.General) != 1 || ev.Feedback.General[0].Description != "Tell the customer" ||
			len(ev.Feedback.All) != 2 || ev.Feedback.All[0].Description != "Make checkout urgent" {
			t.Fatalf("the COMPLETED event's suggestions: general %+v, all %+v", ev.Feedback.General, ev.Feedback.All)
		}
		return
	}
}

func TestLateSubscriberGetsTheTerminalStateAndCompletion(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Late")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "too late"})
	e.failFeedback(dbID(t, fb.ID), "the model did not answer within 60s (3 attempts)")

	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	c.Subscribe("late", feedbackSubscription, map[string]any{"id": fb.ID})
	ev := nextStatus(t, c, "feedbackStatusChanged")
	if ev.Status != "FAILED" || ev.Version != 3 || ev.Error == nil || !strings.Contains(*ev.Error, "60s") {
		t.Fatalf("late subscriber got %+v", ev)
	}
	c.ExpectComplete("late")
}

func TestProjectFeedbackEventsOnlyCarryThatProject(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("Watched")
	other := e.createProject("Unwatched")

	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	c.Subscribe("p", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status previousStatus version feedback { id } } }`,
		map[string]any{"p": p.ID})
	// The subscription is registered before the server answers anything
	// else on this connection; a query on a second connection is not
	// ordered with it, so wait until the bus has the subscriber.
	testutil.WaitFor(t, "the project subscription", func() bool { return e.bus.Subscribers() == 1 })

	e.submit(map[string]any{"projectID": other.ID, "feedbackText": "elsewhere"})
	mine := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "here"})
	if _, err := e.pipeline.Claim(ctx, dbID(t, mine.ID), "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PENDING", "PROCESSING"} {
		ev := nextStatus(t, c, "projectFeedbackEvents")
		if ev.Status != want || ev.Feedback.ID != mine.ID {
			t.Fatalf("got %+v, want %s of %s", ev, want, mine.ID)
		}
	}
	c.Unsubscribe("p")
	testutil.WaitFor(t, "the unsubscription", func() bool { return e.bus.Subscribers() == 0 })
}

func TestSubscriptionsRejectUnknownIDs(t *testing.T) {
	e := newEnv(t)
	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	// An execution error arrives as a result with errors, then completion.
	for sub, q := range map[string]string{
		"missing feedback": `subscription { feedbackStatusChanged(id: "` + gid.Encode(1<<32+424242) + `") { version } }`,
		"malformed ID":     `subscription { projectFeedbackEvents(projectID: "not-an-id") { version } }`,
		"wrong type of ID": `subscription { feedbackStatusChanged(id: "` + gid.Encode(2<<32+1) + `") { version } }`,
	} {
		c.Subscribe(sub, q, nil)
		m := c.Next()
		var body struct{ Errors []gqltest.Error }
		if err := json.Unmarshal(m.Payload, &body); err != nil || m.ID != sub || len(body.Errors) != 1 ||
			body.Errors[0].Extensions["code"] != "NOT_FOUND" {
			t.Fatalf("%s: got %s %s %s", sub, m.Kind, m.ID, m.Payload)
		}
		c.ExpectComplete(sub)
	}
	if e.bus.Subscribers() != 0 {
		t.Fatalf("failed subscriptions left %d bus subscribers", e.bus.Subscribers())
	}
}

// Events published while a Bus is disconnected are lost to it; after it
// re-subscribes, subscribers replay what they missed from the outbox:
// every change, in order, once.
func TestSubscriberCatchesUpAfterTheBusReconnects(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("Resync")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "catch up"})
	id := dbID(t, fb.ID)

	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	c.Subscribe("1", feedbackSubscription, map[string]any{"id": fb.ID})
	if ev := nextStatus(t, c, "feedbackStatusChanged"); ev.Status != "PENDING" {
		t.Fatalf("first event %+v", ev)
	}

	// With the relay stopped, two changes commit and wait in the outbox.
	if err := e.relay.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pipeline.Claim(ctx, id, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pipeline.Fail(ctx, id, "w", "provider unavailable"); err != nil {
		t.Fatal(err)
	}
	if m, ok := c.Pending(200 * time.Millisecond); ok {
		t.Fatalf("an event arrived without the relay: %+v", m)
	}

	// The bus loses its connection and re-subscribes: the subscription
	// replays the outbox after the last event it saw.
	if n := testredis.KillClients(t, e.busName); n == 0 {
		t.Fatal("found no bus connection to kill")
	}
	ev := nextStatus(t, c, "feedbackStatusChanged")
	if ev.Status != "PROCESSING" || ev.Version != 2 || ev.PreviousStatus == nil || *ev.PreviousStatus != "PENDING" {
		t.Fatalf("after the reconnection got %+v, want the missed PROCESSING", ev)
	}
	ev = nextStatus(t, c, "feedbackStatusChanged")
	if ev.Status != "FAILED" || ev.Version != 3 || ev.PreviousStatus == nil || *ev.PreviousStatus != "PROCESSING" || ev.Error == nil || *ev.Error != "provider unavailable" {
		t.Fatalf("then got %+v, want the missed FAILED", ev)
	}
	c.ExpectComplete("1")
}

func TestClosingSubscriptionsSendsGoingAway(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Shutdown")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "still running"})
	clients := []*gqltest.WS{gqltest.Dial(t, e.url, gqltest.TransportWS), gqltest.Dial(t, e.url, gqltest.LegacyWS)}
	for _, c := range clients {
		c.Subscribe("1", feedbackSubscription, map[string]any{"id": fb.ID})
		nextStatus(t, c, "feedbackStatusChanged")
	}
	if err := e.server.CloseSubscriptions(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		ce := c.WaitClosed()
		if ce == nil || ce.Code != websocket.CloseGoingAway {
			t.Errorf("%s: closed with %v, want %d (going away)", c.Proto, ce, websocket.CloseGoingAway)
		}
	}
	// New connections are refused while shutting down.
	d := websocket.Dialer{Subprotocols: []string{gqltest.TransportWS}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/query", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.WriteJSON(map[string]any{"type": "connection_init"})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var reply struct{ Type string }
	err = conn.ReadJSON(&reply)
	var ce *websocket.CloseError
	if reply.Type == "connection_ack" || !errors.As(err, &ce) {
		t.Fatalf("a connection was accepted during shutdown: %+v %v", reply, err)
	}
}
