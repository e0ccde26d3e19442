package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/event"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/webhooks"
	"github.com/feedbackloop/feedbackloop/webhooks/dispatch"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "dispatch", &dbTemplate) }

// clock is the dispatcher's time, moved by the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is a real HTTP endpoint answering status, keeping what it gets.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	status  int
	headers []http.Header
	bodies  [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.headers, r.bodies = append(r.headers, req.Header.Clone()), append(r.bodies, b)
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setStatus(s int) { r.mu.Lock(); r.status = s; r.mu.Unlock() }
func (r *receiver) count() int      { r.mu.Lock(); defer r.mu.Unlock(); return len(r.bodies) }

type world struct {
	t       *testing.T
	client  *ent.Client
	clock   *clock
	d       *dispatch.Dispatcher
	project int
}

func newWorld(t *testing.T) *world {
	db, _ := dbTemplate.Open(t)
	w := &world{t: t, client: store.NewClient(db), clock: &clock{t: time.Now().UTC()}}
	w.d = dispatch.New(dispatch.Config{Client: w.client, HTTP: webhooks.NewClient(true), Now: w.clock.Now,
		RetryBase: time.Second, RetryMax: time.Minute})
	w.project = w.client.Project.Create().SetName("Roadmap").SaveX(accesstest.System()).ID
	// The first dispatch places the cursor after the newest event.
	w.dispatch()
	return w
}

func (w *world) hook(url string, kind webhooks.Kind, events ...webhooks.EventType) *ent.Webhook {
	secret, _ := webhooks.NewSecret()
	return w.client.Webhook.Create().SetProjectID(w.project).SetURL(url).SetKind(kind).SetEvents(events).
		SetSecret(secret).SaveX(accesstest.System())
}

// record commits events through the real outbox writer.
func (w *world) record(kind string, objectID int, payload any) int {
	w.t.Helper()
	return w.recordIn(w.project, kind, objectID, payload)
}

// recordIn records an event of project.
func (w *world) recordIn(project int, kind string, objectID int, payload any) int {
	w.t.Helper()
	ctx := accesstest.System()
	_, err := store.InTx(ctx, w.client, func(tx *ent.Tx) (struct{}, error) {
		e, err := outbox.New(project, kind, objectID, 1, nil, payload)
		if err != nil {
			return struct{}{}, err
		}
		outbox.Record(tx, e)
		return struct{}{}, nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	id, err := outbox.Latest(ctx, w.client)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) completed(id int) int {
	return w.completedIn(w.project, id)
}

// completedIn records that feedback id of project completed.
func (w *world) completedIn(project, id int) int {
	summary := "Users want dark mode."
	return w.recordIn(project, outbox.KindFeedback, id, outbox.FeedbackPayload{PreviousStatus: "PROCESSING",
		Feedback: &ent.Feedback{ID: id, ProjectID: project, Status: feedback.StatusCompleted, FeedbackText: "dark mode please", Summary: &summary}})
}

func (w *world) dispatch() {
	w.t.Helper()
	if _, err := w.d.DispatchOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) send() int {
	w.t.Helper()
	n, err := w.d.SendDue(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) deliveries(hook int) []*ent.WebhookDelivery {
	return w.client.WebhookDelivery.Query().Where(webhookdelivery.WebhookID(hook)).Order(ent.Asc(webhookdelivery.FieldID)).AllX(accesstest.System())
}

// Each endpoint is sent the events it subscribed to, once, signed so that
// its secret verifies the message; Slack endpoints get Block Kit.
func TestEndpointsGetTheirEventsSigned(t *testing.T) {
	w := newWorld(t)
	analyses, tasks, slack := newReceiver(t, 200), newReceiver(t, 200), newReceiver(t, 200)
	a := w.hook(analyses.URL+"/hooks", webhooks.Standard, webhooks.AnalysisCompleted)
	b := w.hook(tasks.URL, webhooks.Standard, webhooks.TaskCreated)
	c := w.hook(slack.URL, webhooks.Slack, webhooks.AnalysisCompleted, webhooks.AnalysisFailed)
	done := w.completed(4_294_967_300)
	w.record(outbox.KindFeedback, 4_294_967_301, outbox.FeedbackPayload{PreviousStatus: "PENDING",
		Feedback: &ent.Feedback{ID: 4_294_967_301, Status: feedback.StatusProcessing}}) // no endpoint wants it
	w.record(outbox.KindTask, 12_884_901_900, outbox.TaskPayload{Change: outbox.Created, Task: &ent.Task{ID: 12_884_901_900, Title: "Dark mode"}})
	w.dispatch()
	w.dispatch() // again: nothing new, nothing twice
	if n := w.send(); n != 3 {
		t.Fatalf("sent %d deliveries, want 3", n)
	}
	if analyses.count() != 1 || tasks.count() != 1 || slack.count() != 1 {
		t.Fatalf("received %d, %d, %d messages, want one each", analyses.count(), tasks.count(), slack.count())
	}
	h := analyses.headers[0]
	if h.Get("webhook-id") != "msg_"+itoa(done) {
		t.Errorf("webhook-id %q for event %d", h.Get("webhook-id"), done)
	}
	if err := webhooks.Verify(a.Secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"),
		analyses.bodies[0], w.clock.Now(), time.Minute); err != nil {
		t.Fatalf("the signature does not verify with the endpoint's secret: %v", err)
	}
	var body struct {
		Type string
		Data struct {
			ProjectID string
			Feedback  struct{ ID, Status, Summary string }
		}
	}
	if err := json.Unmarshal(analyses.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "analysis.completed" || body.Data.Feedback.Status != "COMPLETED" || body.Data.Feedback.Summary != "Users want dark mode." || body.Data.ProjectID == "" {
		t.Errorf("body %s", analyses.bodies[0])
	}
	if !strings.Contains(string(tasks.bodies[0]), `"type":"task.created"`) {
		t.Errorf("task endpoint got %s", tasks.bodies[0])
	}
	if sl := string(slack.bodies[0]); !strings.Contains(sl, `"blocks":[{"type":"header","text":{"type":"plain_text","text":"Analysis completed"}}`) ||
		!strings.Contains(sl, "Users want dark mode.") || !strings.Contains(sl, "Project *Roadmap*") || slack.headers[0].Get("webhook-signature") != "" {
		t.Errorf("Slack endpoint got %s", sl)
	}
	for _, hook := range []*ent.Webhook{a, b, c} {
		ds := w.deliveries(hook.ID)
		if len(ds) != 1 || ds[0].Status != webhookdelivery.StatusDelivered || ds[0].AttemptCount != 1 ||
			*ds[0].ResponseCode != 200 || len(ds[0].Attempts) != 1 || ds[0].NextAttemptAt != nil {
			t.Errorf("webhook %d deliveries %+v", hook.ID, ds)
		}
	}
	if w.send() != 0 {
		t.Error("delivered messages were sent again")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A failing endpoint is retried with backoff, each attempt recorded; after
// a day its delivery FAILS and the endpoint is disabled, its project told
// (the other endpoints get webhook.disabled); once fixed, a redelivery
// sends the same message (same webhook-id) again.
func TestFailuresAreRetriedForADayThenTheEndpointIsDisabled(t *testing.T) {
	w := newWorld(t)
	broken, watcher := newReceiver(t, 500), newReceiver(t, 200)
	hook := w.hook(broken.URL, webhooks.Standard, webhooks.AnalysisCompleted)
	w.hook(watcher.URL, webhooks.Standard, webhooks.WebhookDisabled)
	w.completed(4_294_967_310)
	w.dispatch()

	if w.send() != 1 {
		t.Fatal("the first attempt was not made")
	}
	if w.send() != 0 {
		t.Fatal("retried at once, without backoff")
	}
	d := w.deliveries(hook.ID)[0]
	if d.Status != webhookdelivery.StatusPending || d.AttemptCount != 1 || *d.ResponseCode != 500 || d.NextAttemptAt == nil ||
		!d.NextAttemptAt.After(w.clock.Now()) || d.Error == nil {
		t.Fatalf("after a failed attempt: %+v", d)
	}
	for i := 2; i <= 4; i++ {
		w.clock.Add(2 * time.Minute) // past the largest backoff (RetryMax)
		if w.send() != 1 {
			t.Fatalf("attempt %d not made", i)
		}
	}
	d = w.deliveries(hook.ID)[0]
	if d.AttemptCount != 4 || len(d.Attempts) != 4 || d.Status != webhookdelivery.StatusPending {
		t.Fatalf("after 4 attempts: %+v", d)
	}
	for _, a := range d.Attempts {
		if a.ResponseCode == nil || *a.ResponseCode != 500 || a.Error == nil {
			t.Errorf("attempt %+v", a)
		}
	}
	if h := w.client.Webhook.GetX(accesstest.System(), hook.ID); !h.Enabled || h.FailingSince == nil {
		t.Fatalf("failing for minutes: %+v", h)
	}

	w.clock.Add(webhooks.RetryFor)
	if w.send() != 1 {
		t.Fatal("the last attempt was not made")
	}
	d = w.deliveries(hook.ID)[0]
	if d.Status != webhookdelivery.StatusFailed || d.NextAttemptAt != nil || d.AttemptCount != 5 {
		t.Fatalf("after a day: %+v", d)
	}
	h := w.client.Webhook.GetX(accesstest.System(), hook.ID)
	if h.Enabled || h.DisabledReason == nil || !strings.Contains(*h.DisabledReason, "enable it again") {
		t.Fatalf("after a day of failures the endpoint is %+v", h)
	}
	told := w.client.Event.Query().Where(event.Kind(dispatch.KindWebhook), event.ProjectID(w.project)).CountX(accesstest.System())
	if told != 1 {
		t.Fatalf("%d webhook events in the outbox, want 1", told)
	}
	w.dispatch()
	w.send()
	if watcher.count() != 1 || !strings.Contains(string(watcher.bodies[0]), `"type":"webhook.disabled"`) ||
		!strings.Contains(string(watcher.bodies[0]), `"host":"127.0.0.1"`) || strings.Contains(string(watcher.bodies[0]), broken.URL) {
		t.Fatalf("the project's other endpoint got %d messages: %q", watcher.count(), watcher.bodies)
	}

	// Fixed, enabled and redelivered: the same message arrives.
	broken.setStatus(200)
	w.client.Webhook.UpdateOneID(hook.ID).SetEnabled(true).ClearDisabledReason().ClearFailingSince().ExecX(accesstest.System())
	now := w.clock.Now()
	w.client.WebhookDelivery.UpdateOneID(d.ID).SetStatus(webhookdelivery.StatusPending).SetNextAttemptAt(now).
		SetRetryUntil(now.Add(webhooks.RetryFor)).ExecX(accesstest.System())
	if w.send() != 1 {
		t.Fatal("the redelivery was not sent")
	}
	d = w.deliveries(hook.ID)[0]
	if d.Status != webhookdelivery.StatusDelivered || d.AttemptCount != 6 || *d.ResponseCode != 200 || d.Error != nil {
		t.Fatalf("after the redelivery: %+v", d)
	}
	if first, last := broken.headers[0].Get("webhook-id"), broken.headers[broken.count()-1].Get("webhook-id"); first != last {
		t.Fatalf("the redelivery's webhook-id %q differs from the first attempt's %q", last, first)
	}
}

// Deliveries to a loopback address are refused unless WEBHOOK_ALLOW_PRIVATE.
func TestPrivateAddressesAreRefusedWhenSending(t *testing.T) {
	w := newWorld(t)
	w.d = dispatch.New(dispatch.Config{Client: w.client, HTTP: webhooks.NewClient(false), Now: w.clock.Now})
	r := newReceiver(t, 200)
	hook := w.hook(strings.Replace(r.URL, "127.0.0.1", "localhost", 1), webhooks.Standard, webhooks.AnalysisCompleted)
	w.completed(4_294_967_320)
	w.dispatch()
	w.send()
	d := w.deliveries(hook.ID)[0]
	if r.count() != 0 || d.Status != webhookdelivery.StatusPending || d.ResponseCode != nil || d.Error == nil ||
		!strings.Contains(*d.Error, "WEBHOOK_ALLOW_PRIVATE") {
		t.Fatalf("a delivery to localhost: received %d, delivery %+v", r.count(), d)
	}
}

// Two workers dispatching and sending at once: every event is delivered
// to the endpoint exactly once (dispatch under the advisory lock and the
// unique (webhook, event) index; sends claimed with SKIP LOCKED).
func TestTwoWorkersDeliverEachEventOnce(t *testing.T) {
	w := newWorld(t)
	r := newReceiver(t, 200)
	w.hook(r.URL, webhooks.Standard, webhooks.AnalysisCompleted)
	const events = 40
	for i := range events {
		w.completed(4_294_967_400 + i)
	}
	other := dispatch.New(dispatch.Config{Client: w.client, HTTP: webhooks.NewClient(true), Now: w.clock.Now})
	var wg sync.WaitGroup
	for _, d := range []*dispatch.Dispatcher{w.d, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := d.DispatchOnce(context.Background()); err != nil {
					t.Error(err)
				}
				if _, err := d.SendDue(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	w.send()
	seen := map[string]int{}
	r.mu.Lock()
	for _, h := range r.headers {
		seen[h.Get("webhook-id")]++
	}
	r.mu.Unlock()
	if len(seen) != events {
		t.Fatalf("%d distinct messages arrived, want %d", len(seen), events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s arrived %d times", id, n)
		}
	}
}

// With WEBHOOK_SECRET_KEY, secrets are stored sealed and the dispatcher
// opens them to sign; without the key it cannot, and the attempt says why.
func TestSealedSecretsSignWithTheirKey(t *testing.T) {
	w := newWorld(t)
	sealer, err := webhooks.NewSealer(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t, 200)
	secret, _ := webhooks.NewSecret()
	stored, _ := sealer.Seal(secret)
	hook := w.client.Webhook.Create().SetProjectID(w.project).SetURL(r.URL).SetEvents([]webhooks.EventType{webhooks.AnalysisCompleted}).
		SetSecret(stored).SaveX(accesstest.System())
	w.completed(4_294_967_500)
	w.dispatch()
	w.send() // no key: cannot sign
	d := w.deliveries(hook.ID)[0]
	if r.count() != 0 || d.Error == nil || !strings.Contains(*d.Error, "WEBHOOK_SECRET_KEY") {
		t.Fatalf("without the key: received %d, delivery %+v", r.count(), d)
	}
	w.d = dispatch.New(dispatch.Config{Client: w.client, HTTP: webhooks.NewClient(true), Now: w.clock.Now, Secrets: sealer})
	w.clock.Add(time.Hour)
	w.send()
	if r.count() != 1 {
		t.Fatal("not sent with the key")
	}
	h := r.headers[0]
	if err := webhooks.Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), r.bodies[0], w.clock.Now(), time.Minute); err != nil {
		t.Fatalf("signed with the sealed form, not the secret: %v", err)
	}
}

// An organisation's endpoint is sent the events of every project of the
// organisation, and none of another organisation's projects.
func TestOrganisationWebhookGetsItsProjectsEvents(t *testing.T) {
	w := newWorld(t)
	sys := accesstest.System()
	org := w.client.Project.GetX(sys, w.project).OrganizationID
	second := w.client.Project.Create().SetName("Second").SetOrganizationID(org).SaveX(sys).ID
	foreign := w.client.Project.Create().SetName("Elsewhere").SaveX(sys)
	if foreign.OrganizationID == org {
		t.Fatal("the foreign project is in the same organisation")
	}
	r := newReceiver(t, http.StatusOK)
	secret, _ := webhooks.NewSecret()
	hook := w.client.Webhook.Create().SetOrganizationID(org).SetURL(r.URL).SetEvents([]webhooks.EventType{webhooks.AnalysisCompleted}).
		SetSecret(secret).SaveX(sys)

	want := []int{w.completedIn(w.project, 1), w.completedIn(second, 2)}
	w.completedIn(foreign.ID, 3)
	w.dispatch()
	if n := w.send(); n != 2 {
		t.Fatalf("sent %d deliveries, want the 2 of the organisation's projects", n)
	}
	var got []int
	for _, d := range w.deliveries(hook.ID) {
		if d.Status != webhookdelivery.StatusDelivered {
			t.Errorf("delivery of event %d: %s", d.EventID, d.Status)
		}
		got = append(got, d.EventID)
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("the organisation's endpoint got events %v, want %v", got, want)
	}
	if r.count() != 2 {
		t.Fatalf("the receiver got %d messages, want 2", r.count())
	}
	from := map[string]bool{}
	for _, b := range r.bodies {
		var m struct{ Data struct{ ProjectID string } }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		from[m.Data.ProjectID] = true
	}
	if !from[gid.Encode(w.project)] || !from[gid.Encode(second)] {
		t.Fatalf("the messages came from projects %v", from)
	}
}

// The first dispatch of a database starts where its first endpoint was
// made: an event written after the endpoint, but before any dispatch ran
// (a worker starting late), is delivered; one from before it is not.
func TestFirstDispatchStartsWhereTheFirstEndpointWasMade(t *testing.T) {
	w := newWorld(t)
	w.client.WebhookCursor.Delete().ExecX(accesstest.System()) // as if no dispatch had run yet
	w.completed(4_294_967_310)                                 // before any endpoint
	time.Sleep(10 * time.Millisecond)
	r := newReceiver(t, 200)
	hook := w.hook(r.URL, webhooks.Standard, webhooks.AnalysisCompleted)
	after := w.completed(4_294_967_311)
	w.dispatch()
	w.dispatch()
	ds := w.deliveries(hook.ID)
	if len(ds) != 1 || ds[0].EventID != after {
		t.Fatalf("deliveries %v, want one, of event %d", ds, after)
	}
}
