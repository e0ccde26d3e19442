package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
)

const (
	// Answered from the event's snapshot: subscribers of it share one
	// execution.
	boardSubscription = `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status version feedback { id status feedbackText } } }`
	// Reaches beyond the snapshot (the feedback's project): runs on its own.
	deepSubscription = `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status feedback { id project { name } } } }`
)

// dataOf returns the data of a result message, failing on anything else.
func dataOf(t *testing.T, m gqltest.Msg) string {
	t.Helper()
	var body struct {
		Data   json.RawMessage
		Errors []gqltest.Error
	}
	if m.Kind != "data" || json.Unmarshal(m.Payload, &body) != nil || len(body.Errors) > 0 {
		t.Fatalf("want a result, got %s %s %s", m.Kind, m.ID, m.Payload)
	}
	return string(body.Data)
}

// Subscribers sending the same document and variables share one execution
// per event, and get exactly what each would have got on its own; one whose
// selection reaches beyond the snapshot runs on its own.
func TestSubscribersOfOneDocumentShareOneExecution(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Board")
	vars := map[string]any{"p": p.ID}
	a := gqltest.Dial(t, e.url, gqltest.TransportWS)
	b := gqltest.Dial(t, e.url, gqltest.LegacyWS)
	deep := gqltest.Dial(t, e.url, gqltest.TransportWS)
	a.Subscribe("a", boardSubscription, vars)
	b.Subscribe("b", boardSubscription, vars)
	deep.Subscribe("d", deepSubscription, vars)
	testutil.WaitFor(t, "three subscriptions", func() bool { return e.server.Subscriptions() == 3 })
	// Open is not yet positioned: an event committed before a stream has
	// fixed its position is not its to deliver.
	testutil.WaitFor(t, "two streams positioned", func() bool { return e.server.StreamsPositioned() == 2 })
	metrics := e.scrape()
	for _, want := range []string{
		`feedbackloop_subscriptions{mode="shared",operation="projectFeedbackEvents"} 2`,
		`feedbackloop_subscriptions{mode="own",operation="projectFeedbackEvents"} 1`,
		"feedbackloop_shared_subscription_executions 1",
		"feedbackloop_active_subscriptions 3",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := e.bus.Subscribers(); n != 2 {
		t.Errorf("%d bus subscriptions, want 2: one for the shared execution, one for the own", n)
	}

	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "shared once"})
	want := fmt.Sprintf(`{"projectFeedbackEvents":{"status":"PENDING","version":1,"feedback":{"id":"%s","status":"PENDING","feedbackText":"shared once"}}}`, fb.ID)
	for _, c := range []struct {
		ws *gqltest.WS
		id string
	}{{a, "a"}, {b, "b"}} {
		m := c.ws.Next()
		if got := dataOf(t, m); m.ID != c.id || got != want {
			t.Errorf("%s: got %s %s, want %s", c.ws.Proto, m.ID, got, want)
		}
	}
	if got := dataOf(t, deep.Next()); got != fmt.Sprintf(`{"projectFeedbackEvents":{"status":"PENDING","feedback":{"id":"%s","project":{"name":"Board"}}}}`, fb.ID) {
		t.Errorf("own execution: %s", got)
	}

	// A member leaving does not end the execution for the others; the last
	// one does.
	b.Unsubscribe("b")
	b.ExpectComplete("b")
	e.client.Feedback.UpdateOneID(dbID(t, fb.ID)).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
	if _, err := e.pipeline.Retry(accesstest.System(), dbID(t, fb.ID)); err != nil {
		t.Fatal(err)
	}
	if got := dataOf(t, a.Next()); !strings.Contains(got, `"status":"PENDING","version":2`) {
		t.Errorf("after another member left: %s", got)
	}
	if m, ok := b.Pending(200 * time.Millisecond); ok {
		t.Errorf("a completed subscription got %s %s", m.Kind, m.Payload)
	}
	a.Unsubscribe("a")
	a.ExpectComplete("a")
	testutil.WaitFor(t, "the shared execution to end", func() bool {
		return strings.Contains(e.scrape(), "feedbackloop_shared_subscription_executions 0") && e.bus.Subscribers() == 1
	})
}

// Each member of a shared subscription is admitted with its own access,
// and a membership change re-checks only the person it concerns: once,
// however many subscriptions they have.
func TestSharedSubscriptionsCheckEachSubscribersAccess(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "sh")
	vars := map[string]any{"p": w.own}

	// An outsider sending the same document is refused as it would be
	// alone, and joins nothing.
	out := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.outsider)
	out.Subscribe("x", boardSubscription, vars)
	if m := out.Next(); m.Kind != "data" || !strings.Contains(string(m.Payload), "NOT_FOUND") {
		t.Fatalf("outsider: %s %s", m.Kind, m.Payload)
	}

	// The reader watches on three connections (one subscription runs on
	// its own), the editor on two.
	var readers, editors []*gqltest.WS
	for i := 0; i < 3; i++ {
		c := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
		q := boardSubscription
		if i == 2 {
			q = deepSubscription
		}
		c.Subscribe("r", q, vars)
		readers = append(readers, c)
	}
	for i := 0; i < 2; i++ {
		c := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.editor)
		c.Subscribe("e", boardSubscription, vars)
		editors = append(editors, c)
	}
	testutil.WaitFor(t, "five subscriptions", func() bool { return e.server.Subscriptions() == 5 })
	e.nudgeUntilAll(t, w.ownFeedback, append(append([]*gqltest.WS{}, readers...), editors...)...)

	// The reader is removed as removeProjectMember does, but through a
	// client whose statements are not counted: what is counted is the
	// re-check.
	before := e.queries.Load()
	removeMember(t, e, dbID(t, w.readerMember))
	for _, c := range readers {
		if m := c.Next(); m.Kind != "complete" || m.ID != "r" {
			t.Fatalf("removed reader: got %s %s %s, want its subscription completed", m.Kind, m.ID, m.Payload)
		}
	}
	if n := e.queries.Load() - before; n != 1 {
		t.Errorf("re-checking access after one removal took %d statements, want 1 (the removed person's membership, once)", n)
	}
	testutil.WaitFor(t, "the reader's subscriptions to end", func() bool { return e.server.Subscriptions() == 2 })
	// The editor's subscriptions go on.
	fb := dbID(t, w.ownFeedback)
	e.client.Feedback.UpdateOneID(fb).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
	if _, err := e.pipeline.Retry(accesstest.System(), fb); err != nil {
		t.Fatal(err)
	}
	for _, c := range editors {
		if m := c.Next(); m.Kind != "data" || m.ID != "e" {
			t.Fatalf("editor after the removal: %s %s %s", m.Kind, m.ID, m.Payload)
		}
	}
}

// nudgeUntilAll fails and retries feedback fb until every connection has
// received an event (each subscription is live), then drains what the
// nudges sent.
func (e *env) nudgeUntilAll(t *testing.T, fb string, conns ...*gqltest.WS) {
	t.Helper()
	got := make([]bool, len(conns))
	deadline := time.Now().Add(testutil.WaitTimeout)
	for missing := len(conns); missing > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers never saw an event", missing)
		}
		e.client.Feedback.UpdateOneID(dbID(t, fb)).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
		if _, err := e.pipeline.Retry(accesstest.System(), dbID(t, fb)); err != nil {
			t.Fatal(err)
		}
		missing = 0
		for i, c := range conns {
			if m, ok := c.Pending(200 * time.Millisecond); ok && m.Kind == "data" {
				got[i] = true
			}
			if !got[i] {
				missing++
			}
		}
	}
	for _, c := range conns {
		for {
			if _, ok := c.Pending(100 * time.Millisecond); !ok {
				break
			}
		}
	}
}

// removeMember deletes a membership and records its access event in one
// transaction, as removeProjectMember does, on a client of its own.
func removeMember(t *testing.T, e *env, id int) {
	t.Helper()
	ctx := accesstest.System()
	client := store.NewClient(e.db)
	_, err := store.InTx(ctx, client, func(tx *ent.Tx) (struct{}, error) {
		m, err := tx.ProjectMember.Get(ctx, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := tx.ProjectMember.DeleteOne(m).Exec(ctx); err != nil {
			return struct{}{}, err
		}
		ev, err := outbox.New(m.ProjectID, outbox.KindAccess, m.ID, 1, nil, outbox.AccessPayload{UserID: m.UserID})
		if err != nil {
			return struct{}{}, err
		}
		outbox.Record(tx, ev)
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A member removed while subscribing, before the subscription's stream is in
// place (for a shared one: after its admission, before it joined), gets no
// event: access is checked once the stream's position is fixed, so a
// removal can fall neither before the check nor after it unseen.
func TestAMemberRemovedWhileSubscribingGetsNoEvent(t *testing.T) {
	for _, c := range []struct{ name, query, wantEnd string }{
		{"shared", boardSubscription, "complete"}, // as when removed a moment later
		{"own", deepSubscription, "NOT_FOUND"},    // as when removed a moment earlier
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newSecureEnv(t)
			w := e.newWorld(t, "rw"+c.name)
			vars := map[string]any{"p": w.own}
			// The editor's subscription runs first: a shared one is the
			// execution the reader joins.
			editor := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.editor)
			editor.Subscribe("e", c.query, vars)
			testutil.WaitFor(t, "the editor's subscription", func() bool { return e.server.Subscriptions() == 1 })
			e.nudgeUntilAll(t, w.ownFeedback, editor)

			admitted, proceed := make(chan struct{}), make(chan struct{})
			graph.SetAdmittedHook(e.server, func() {
				admitted <- struct{}{}
				<-proceed
			})
			reader := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
			reader.Subscribe("r", c.query, vars)
			select {
			case <-admitted:
			case <-time.After(testutil.WaitTimeout):
				t.Fatal("the reader's subscription was never admitted")
			}
			graph.SetAdmittedHook(e.server, nil)
			removeMember(t, e, dbID(t, w.readerMember))
			// An event after the removal reached the editor: every stream
			// running has seen the removal.
			e.nudgeUntilAll(t, w.ownFeedback, editor)
			close(proceed)

			e.nudgeUntilAll(t, w.ownFeedback, editor)
			m := reader.Next()
			var refusal gqltest.Response
			_ = json.Unmarshal(m.Payload, &refusal)
			switch {
			case c.wantEnd == "complete" && m.Kind == "complete" && m.ID == "r":
			case c.wantEnd == "NOT_FOUND" && m.Kind == "data" && string(refusal.Data) == "null" &&
				len(refusal.Errors) == 1 && refusal.Errors[0].Extensions["code"] == "NOT_FOUND":
			default: // an event, even one whose project is hidden by now
				t.Fatalf("the removed reader got %s %s %s, want %s", m.Kind, m.ID, m.Payload, c.wantEnd)
			}
			testutil.WaitFor(t, "the reader's subscription to end", func() bool { return e.server.Subscriptions() == 1 })
		})
	}
}

// Joining a shared subscription that is already running, with no membership
// change meanwhile, costs one statement: the admission's. The second check
// (TestAMemberRemovedWhileSubscribingGetsNoEvent) is only needed when the
// group handled a membership event while the joiner was being admitted.
func TestJoiningARunningSharedSubscriptionCostsOneStatement(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "join")
	vars := map[string]any{"p": w.own}
	editor := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.editor)
	editor.Subscribe("e", boardSubscription, vars)
	testutil.WaitFor(t, "the editor's subscription", func() bool { return e.server.Subscriptions() == 1 })
	e.nudgeUntilAll(t, w.ownFeedback, editor) // the execution's stream is in place

	reader := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	before := e.queries.Load()
	reader.Subscribe("r", boardSubscription, vars)
	testutil.WaitFor(t, "the reader's subscription", func() bool { return e.server.Subscriptions() == 2 })
	if n := e.queries.Load() - before; n != 1 {
		t.Errorf("joining took %d statements, want 1 (the reader's access to the project)", n)
	}
	if n := e.bus.Subscribers(); n != 1 {
		t.Errorf("%d bus subscriptions, want 1: the reader joins the running execution", n)
	}
	e.nudgeUntilAll(t, w.ownFeedback, editor, reader)
}

// A subscription is shared only when all it selects is read from the
// event's snapshot; one that reaches further (an edge, a resolver), resumes
// from a cursor or starts with a state read from the database runs on its
// own.
func TestOnlySelectionsOfTheSnapshotAreShared(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Kinds")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "for a cursor"})
	latest, err := outbox.Latest(accesstest.System(), e.client)
	if err != nil {
		t.Fatal(err)
	}
	shared := []string{
		boardSubscription,
		`subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { __typename at cursor previousStatus by { subject name } feedback { ...F } } }
		 fragment F on Feedback { summary droppedReasons updatedAt }`,
		`subscription($p: ID!) { projectEvents(projectID: $p) { __typename ... on TaskEvent { change task { title status } } ... on AdjustmentEvent { status adjustment { description } } } }`,
		`subscription($p: ID!) { projectEvents(projectID: $p) { ... on CommentEvent { change version comment { body editedAt } by { subject } }
		 ... on VoteEvent { score adjustment { score } } } }`,
	}
	own := []string{
		deepSubscription,
		`subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { feedback { adjustments { id } } } }`,
		`subscription($p: ID!) { projectEvents(projectID: $p) { ... on AdjustmentEvent { adjustment { decidedBy { name } } } } }`,
		// The caller's own vote, and users the snapshot does not hold.
		`subscription($p: ID!) { projectEvents(projectID: $p) { ... on VoteEvent { adjustment { viewerVote } } } }`,
		`subscription($p: ID!) { projectEvents(projectID: $p) { ... on CommentEvent { comment { mentions { subject } } } } }`,
		`subscription($p: ID!, $c: String) { projectFeedbackEvents(projectID: $p, after: $c) { status } }`,
		`subscription($f: ID!) { feedbackStatusChanged(id: $f) { status } }`,
	}
	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	vars := map[string]any{"p": p.ID, "c": outbox.Cursor(latest), "f": fb.ID}
	for i, q := range append(append([]string{}, shared...), own...) {
		c.Subscribe(fmt.Sprint(i), q, vars)
	}
	testutil.WaitFor(t, "the subscriptions", func() bool { return e.server.Subscriptions() == len(shared)+len(own) })
	metrics := e.scrape()
	for _, want := range []string{
		fmt.Sprintf(`feedbackloop_subscriptions{mode="shared",operation="projectFeedbackEvents"} %d`, 2),
		fmt.Sprintf(`feedbackloop_subscriptions{mode="shared",operation="projectEvents"} %d`, 2),
		fmt.Sprintf(`feedbackloop_subscriptions{mode="own",operation="projectFeedbackEvents"} %d`, 3),
		fmt.Sprintf(`feedbackloop_subscriptions{mode="own",operation="projectEvents"} %d`, 3),
		fmt.Sprintf(`feedbackloop_subscriptions{mode="own",operation="feedbackStatusChanged"} %d`, 1),
		"feedbackloop_shared_subscription_executions 4",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Members joining and leaving while events flow leave nothing behind: no
// execution without members, no bus subscription, no open subscription.
func TestSharedSubscriptionsSurviveChurn(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Churn")
	id := dbID(t, e.submit(map[string]any{"projectID": p.ID, "feedbackText": "churn"}).ID)
	stop := make(chan struct{})
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		for {
			select {
			case <-stop:
				return
			default:
				// Not announce: t.Fatal belongs to the test's goroutine.
				ctx := accesstest.System()
				if err := e.client.Feedback.UpdateOneID(id).SetStatus(feedback.StatusFailed).Exec(ctx); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.pipeline.Retry(ctx, id); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	conns := make([]*gqltest.WS, 10)
	for i := range conns {
		conns[i] = gqltest.Dial(t, e.url, gqltest.TransportWS)
	}
	for round := 0; round < 5; round++ {
		for i, c := range conns {
			c.Subscribe(fmt.Sprint("s", round, "-", i), boardSubscription, map[string]any{"p": p.ID})
		}
		time.Sleep(20 * time.Millisecond)
		for i, c := range conns {
			c.Unsubscribe(fmt.Sprint("s", round, "-", i))
		}
	}
	close(stop)
	<-announced
	testutil.WaitFor(t, "everything to end", func() bool {
		return e.server.Subscriptions() == 0 && e.bus.Subscribers() == 0 &&
			strings.Contains(e.scrape(), "feedbackloop_shared_subscription_executions 0")
	})
}
