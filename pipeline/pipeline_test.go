package pipeline_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/store"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "pipeline", &dbTemplate) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	t      *testing.T
	client *ent.Client
	jobs   *queue.Client
	queue  string // the jobs' queue name
	events *outboxtest.Tail
	p      *pipeline.Pipeline
	clock  *clock
	pid    int
	tid    int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	rdb := testredis.Client(t)
	ns := testredis.Namespace(t)
	jobs := queue.NewClient(rdb, queue.Options{Name: "q-" + ns})
	t.Cleanup(func() { jobs.Close() })
	clk := &clock{now: time.Now()}
	e := &env{
		t: t, client: client, jobs: jobs, queue: "q-" + ns, clock: clk,
		p: pipeline.New(pipeline.Config{Client: client, Jobs: jobs, Now: clk.Now}),
	}
	ctx := accesstest.System()
	e.pid = client.Project.Create().SetName("P").SaveX(ctx).ID
	e.tid = client.Task.Create().SetProjectID(e.pid).SetTitle("T").SaveX(ctx).ID
	e.events = outboxtest.NewTail(t, client, e.pid)
	return e
}

// next returns the next status event the pipeline wrote to the outbox.
func (e *env) next() (outbox.Event, outbox.FeedbackPayload) {
	e.t.Helper()
	ev := e.events.Next()
	return ev, outboxtest.Feedback(e.t, ev)
}

func (e *env) expect(status, previous string, version int) {
	e.t.Helper()
	ev, p := e.next()
	if string(p.Feedback.Status) != status || p.PreviousStatus != previous || ev.Version != version || p.Feedback.Version != version || ev.ProjectID != e.pid {
		e.t.Fatalf("event = %+v %s, want %s (from %q) v%d", ev, ev.Payload, status, previous, version)
	}
}

func (e *env) submit() *ent.Feedback {
	e.t.Helper()
	fb, err := e.p.Submit(accesstest.System(), pipeline.Submission{ProjectID: e.pid, TaskID: &e.tid, Text: "too slow"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.expect("PENDING", "", 1)
	return fb
}

func TestSubmitStoresAnnouncesAndQueues(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	name := "ada"
	fb, err := e.p.Submit(ctx, pipeline.Submission{ProjectID: e.pid, TaskID: &e.tid, UserName: &name, Text: "  needs a dark mode  "})
	if err != nil {
		t.Fatal(err)
	}
	if fb.Status != feedback.StatusPending || fb.Version != 1 || fb.Attempts != 0 || fb.FeedbackText != "needs a dark mode" {
		t.Errorf("stored %+v", fb)
	}
	ev, p := e.next()
	if ev.ObjectID != fb.ID || p.Feedback.Status != feedback.StatusPending || ev.Version != 1 || p.PreviousStatus != "" || ev.At.IsZero() ||
		p.Feedback.FeedbackText != "needs a dark mode" {
		t.Errorf("event %+v %s", ev, ev.Payload)
	}
	st, err := e.jobs.State(ctx, pipeline.JobFor(fb))
	if err != nil || st.Name != "pending" {
		t.Errorf("job state %+v, %v", st, err)
	}
}

func TestSubmitValidation(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	otherProject := e.client.Project.Create().SetName("Other").SaveX(ctx).ID
	foreignTask := e.client.Task.Create().SetProjectID(otherProject).SetTitle("X").SaveX(ctx).ID
	missing := e.tid + 1000
	for _, tc := range []struct {
		name string
		s    pipeline.Submission
		want error
	}{
		{"missing project", pipeline.Submission{ProjectID: e.pid + 1000, Text: "x"}, pipeline.ErrProjectNotFound},
		{"missing task", pipeline.Submission{ProjectID: e.pid, TaskID: &missing, Text: "x"}, pipeline.ErrTaskNotFound},
		{"task of another project", pipeline.Submission{ProjectID: e.pid, TaskID: &foreignTask, Text: "x"}, pipeline.ErrTaskNotInProject},
	} {
		if _, err := e.p.Submit(ctx, tc.s); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	_, err := e.p.Submit(ctx, pipeline.Submission{ProjectID: e.pid, Text: "   "})
	var verr *ent.ValidationError
	if !errors.As(err, &verr) || verr.Name != "feedback_text" {
		t.Errorf("blank text: err = %v", err)
	}
	if n := e.client.Feedback.Query().CountX(ctx); n != 0 {
		t.Errorf("rejected submissions stored %d rows", n)
	}
}

func TestSubmitSurvivesAQueueOutage(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { dead.Close() })
	p := pipeline.New(pipeline.Config{Client: client, Jobs: queue.NewClient(dead, queue.Options{})})
	ctx := accesstest.System()
	pid := client.Project.Create().SetName("P").SaveX(ctx).ID
	fb, err := p.Submit(ctx, pipeline.Submission{ProjectID: pid, Text: "hello"})
	if err != nil {
		t.Fatalf("Submit with Redis down = %v; the feedback must still be accepted", err)
	}
	if got := client.Feedback.GetX(ctx, fb.ID); got.Status != feedback.StatusPending {
		t.Errorf("status %s", got.Status)
	}
}

func TestClaimLeasesAndTakeovers(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	const lease = 30 * time.Second

	got, err := e.p.Claim(ctx, fb.ID, "job-a", lease)
	if err != nil || got.Status != feedback.StatusProcessing || got.Version != 2 || got.Attempts != 1 {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	e.expect("PROCESSING", "PENDING", 2)

	if _, err := e.p.Claim(ctx, fb.ID, "job-b", lease); !errors.Is(err, pipeline.ErrLeased) {
		t.Fatalf("claim by another job while leased = %v, want ErrLeased", err)
	}
	// A redelivery of the same job takes its own lease back.
	got, err = e.p.Claim(ctx, fb.ID, "job-a", lease)
	if err != nil || got.Version != 2 || got.Attempts != 2 {
		t.Fatalf("reclaim by owner = %+v, %v", got, err)
	}
	if err := e.p.ExtendLease(ctx, fb.ID, "job-a", lease); err != nil {
		t.Fatal(err)
	}
	// Once the lease has run out, another job takes over; the status does not
	// change, so no event and no new version.
	e.clock.Add(lease + time.Second)
	got, err = e.p.Claim(ctx, fb.ID, "job-b", lease)
	if err != nil || got.Version != 2 || got.Attempts != 3 || *got.LeaseOwner != "job-b" {
		t.Fatalf("takeover = %+v, %v", got, err)
	}
	if err := e.p.ExtendLease(ctx, fb.ID, "job-a", lease); !errors.Is(err, pipeline.ErrLeaseLost) {
		t.Fatalf("old owner's heartbeat = %v, want ErrLeaseLost", err)
	}
	if _, err := e.p.Complete(ctx, fb.ID, "job-a", pipeline.Outcome{Summary: "late"}); !errors.Is(err, pipeline.ErrLeaseLost) {
		t.Fatalf("old owner's Complete = %v, want ErrLeaseLost", err)
	}
	// Release ends the lease at once.
	if err := e.p.Release(ctx, fb.ID, "job-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Claim(ctx, fb.ID, "job-c", lease); err != nil {
		t.Fatalf("claim after release = %v", err)
	}

	e.client.Feedback.DeleteOneID(fb.ID).ExecX(ctx)
	if _, err := e.p.Claim(ctx, fb.ID, "job-d", lease); !errors.Is(err, pipeline.ErrGone) {
		t.Fatalf("claim of deleted feedback = %v, want ErrGone", err)
	}
}

func TestCompleteStoresOnceAndInOrder(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	e.expect("PROCESSING", "PENDING", 2)
	nv := "5"
	out := pipeline.Outcome{
		Summary: "Raise the priority", Provider: "openai", Model: "gpt-test",
		Adjustments: []pipeline.Suggestion{
			{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &e.tid, Description: "first", NewValue: &nv},
			{Type: adjustment.AdjustmentTypeNewTask, Description: "second"},
			{Type: adjustment.AdjustmentTypeGeneral, Description: "third"},
		},
	}
	done, err := e.p.Complete(ctx, fb.ID, "job-a", out)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != feedback.StatusCompleted || done.Version != 3 || *done.Summary != "Raise the priority" ||
		*done.Provider != "openai" || *done.Model != "gpt-test" || done.ProcessedAt == nil || done.LeaseOwner != nil {
		t.Errorf("completed %+v", done)
	}
	e.expect("COMPLETED", "PROCESSING", 3)

	// A duplicate delivery of the job cannot store the result again.
	if _, err := e.p.Complete(ctx, fb.ID, "job-a", out); !errors.Is(err, pipeline.ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); !errors.Is(err, pipeline.ErrFinished) {
		t.Errorf("claim after completion = %v, want ErrFinished", err)
	}
	adjs := e.client.Adjustment.Query().Where(adjustment.FeedbackID(fb.ID)).Order(ent.Asc(adjustment.FieldPosition)).AllX(ctx)
	if len(adjs) != 3 || adjs[0].Description != "first" || adjs[2].Description != "third" || *adjs[0].TaskID != e.tid || *adjs[0].NewValue != "5" {
		t.Errorf("adjustments = %+v", adjs)
	}
}

func TestFailRetryAndAbandon(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	if _, err := e.p.Retry(ctx, fb.ID); !errors.Is(err, pipeline.ErrNotFailed) {
		t.Fatalf("retry of PENDING = %v, want ErrNotFailed", err)
	}
	e.p.Claim(ctx, fb.ID, "job-a", time.Minute)
	e.expect("PROCESSING", "PENDING", 2)
	failed, err := e.p.Fail(ctx, fb.ID, "job-a", "the model provider failed after 3 attempts")
	if err != nil || failed.Status != feedback.StatusFailed || *failed.Error != "the model provider failed after 3 attempts" || failed.ProcessedAt == nil {
		t.Fatalf("fail = %+v, %v", failed, err)
	}
	ev, p := e.next()
	if p.Feedback.Status != feedback.StatusFailed || p.Feedback.Error == nil || *p.Feedback.Error != "the model provider failed after 3 attempts" || ev.Version != 3 {
		t.Fatalf("event %+v", ev)
	}

	retried, err := e.p.Retry(ctx, fb.ID)
	if err != nil || retried.Status != feedback.StatusPending || retried.Error != nil || retried.ProcessedAt != nil || retried.Version != 4 {
		t.Fatalf("retry = %+v, %v", retried, err)
	}
	e.expect("PENDING", "FAILED", 4)
	// The retry gets a job of its own, distinct from the first one.
	if st, err := e.jobs.State(ctx, pipeline.JobFor(retried)); err != nil || st.Name != "pending" || pipeline.JobFor(retried).ID() == pipeline.JobFor(fb).ID() {
		t.Fatalf("retry job %s: %+v, %v", pipeline.JobFor(retried).ID(), st, err)
	}

	abandoned, err := e.p.Abandon(ctx, pipeline.JobFor(fb), "gave up")
	if err != nil || abandoned.Status != feedback.StatusFailed || abandoned.Version != 5 {
		t.Fatalf("abandon = %+v, %v", abandoned, err)
	}
	e.expect("FAILED", "PENDING", 5)
	if _, err := e.p.Abandon(ctx, pipeline.JobFor(fb), "again"); !errors.Is(err, pipeline.ErrFinished) {
		t.Errorf("abandon of FAILED = %v, want ErrFinished", err)
	}
	if _, err := e.p.Retry(ctx, fb.ID+1000); !ent.IsNotFound(err) {
		t.Errorf("retry of missing feedback = %v, want not found", err)
	}
}

// A suggestion's original value is read from its task when the analysis is
// stored; the analyzer's claim is kept only where it differs. Suggestions to
// change a task deleted meanwhile are dropped and counted; advice about one
// loses the link.
func TestCompleteStoresWhatTheTasksHold(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	e.client.Task.UpdateOneID(e.tid).SetPriority(5).SetDescription("  as written  ").ExecX(ctx)
	gone := e.client.Task.Create().SetProjectID(e.pid).SetTitle("Gone").SaveX(ctx).ID
	fb := e.submit()
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	e.client.Task.DeleteOneID(gone).ExecX(ctx) // while the model thought
	s := func(v string) *string { return &v }
	out := pipeline.Outcome{Summary: "s", Dropped: 1, DroppedReasons: []string{"adjustments[9] must be an object"},
		Adjustments: []pipeline.Suggestion{
			{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &e.tid, Description: "misread", ClaimedOriginalValue: s("0"), NewValue: s("2")},
			{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &e.tid, Description: "read right", ClaimedOriginalValue: s(" 5 "), NewValue: s("3")},
			{Type: adjustment.AdjustmentTypeTaskDescription, TaskID: &e.tid, Description: "no claim", NewValue: s("better")},
			{Type: adjustment.AdjustmentTypeRemoveTask, TaskID: &e.tid, Description: "remove", ClaimedOriginalValue: s("Other")},
			{Type: adjustment.AdjustmentTypeTaskStatus, TaskID: &gone, Description: "of a deleted task", ClaimedOriginalValue: s("TODO"), NewValue: s("DONE")},
			{Type: adjustment.AdjustmentTypeGeneral, TaskID: &gone, Description: "advice on a deleted task", ClaimedOriginalValue: s("none")},
			{Type: adjustment.AdjustmentTypeNewTask, Description: "new", ClaimedOriginalValue: s("nothing yet"), NewValue: s("Dark mode")},
		},
	}
	done, err := e.p.Complete(ctx, fb.ID, "job-a", out)
	if err != nil {
		t.Fatalf("Complete = %v", err)
	}
	show := func(v *string) string {
		if v == nil {
			return "nil"
		}
		return *v
	}
	var got []string
	for _, a := range e.client.Adjustment.Query().Where(adjustment.FeedbackID(fb.ID)).Order(ent.Asc(adjustment.FieldPosition)).AllX(ctx) {
		task := "-"
		if a.TaskID != nil {
			task = "task"
		}
		got = append(got, a.Description+" "+task+" "+show(a.OriginalValue)+" "+show(a.ClaimedOriginalValue))
	}
	want := []string{
		"misread task 5 0",
		"read right task 5 nil",
		"no claim task   as written   nil",
		"remove task T Other",
		"advice on a deleted task - nil nil",
		"new - nil nothing yet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored (description, task, original, claimed):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if done.DroppedSuggestions != 2 || len(done.DroppedReasons) != 2 ||
		done.DroppedReasons[1] != fmt.Sprintf("task_status for task %d: the task was deleted before the analysis was stored", gone) {
		t.Errorf("dropped %d %q; want the answer's one and the deleted task's", done.DroppedSuggestions, done.DroppedReasons)
	}
}

// The analyzer's confidence is stored with its suggestion; none stays null.
func TestCompleteStoresConfidence(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	sure := 0.85
	out := pipeline.Outcome{Summary: "s", Adjustments: []pipeline.Suggestion{
		{Type: adjustment.AdjustmentTypeGeneral, Description: "sure", Confidence: &sure},
		{Type: adjustment.AdjustmentTypeGeneral, Description: "unsaid"},
	}}
	if _, err := e.p.Complete(ctx, fb.ID, "job-a", out); err != nil {
		t.Fatal(err)
	}
	got := e.client.Adjustment.Query().Where(adjustment.FeedbackID(fb.ID)).Order(ent.Asc(adjustment.FieldPosition)).AllX(ctx)
	if len(got) != 2 || got[0].Confidence == nil || *got[0].Confidence != 0.85 || got[1].Confidence != nil {
		t.Errorf("stored %+v", got)
	}
}

// A suggestion repeating one the team rejected for the same task (same kind,
// same value compared normalised; a new task by its title) within the
// rejection memory is dropped with a reason; an applied one, one rejected
// before the memory, or another value or task is kept.
func TestCompleteDropsRepeatsOfRejections(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := pipeline.New(pipeline.Config{Client: e.client, Jobs: e.jobs, Now: e.clock.Now, RejectionMemory: 48 * time.Hour})
	other := e.client.Task.Create().SetProjectID(e.pid).SetTitle("Other").SaveX(ctx).ID
	earlier := e.client.Feedback.Create().SetProjectID(e.pid).SetFeedbackText("earlier").SaveX(ctx).ID
	now := e.clock.Now()
	decided := func(typ adjustment.AdjustmentType, task *int, value string, status adjustment.Status, at time.Time) {
		n := e.client.Adjustment.Query().CountX(ctx)
		e.client.Adjustment.Create().SetFeedbackID(earlier).SetPosition(n).SetAdjustmentType(typ).SetNillableTaskID(task).
			SetDescription("d").SetNewValue(value).SetStatus(status).SetDecidedAt(at).ExecX(ctx)
	}
	decided(adjustment.AdjustmentTypeTaskPriority, &e.tid, "4", adjustment.StatusRejected, now.Add(-time.Hour))
	decided(adjustment.AdjustmentTypeTaskEstimate, &e.tid, "8", adjustment.StatusRejected, now.Add(-72*time.Hour))
	decided(adjustment.AdjustmentTypeNewTask, nil, "Dark mode", adjustment.StatusRejected, now.Add(-time.Hour))
	decided(adjustment.AdjustmentTypeTaskStatus, &e.tid, "DONE", adjustment.StatusApplied, now.Add(-time.Hour))
	decided(adjustment.AdjustmentTypeTaskPriority, &other, "3", adjustment.StatusRejected, now.Add(-time.Hour))

	fb := e.submit()
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	s := func(v string) *string { return &v }
	out := pipeline.Outcome{Summary: "s", Adjustments: []pipeline.Suggestion{
		{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &e.tid, Description: "again 4", NewValue: s("4")},
		{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &e.tid, Description: "now 5", NewValue: s("5")},
		{Type: adjustment.AdjustmentTypeTaskEstimate, TaskID: &e.tid, Description: "rejected long ago", NewValue: s("8")},
		{Type: adjustment.AdjustmentTypeNewTask, Description: "dark mode again", NewValue: s(" dark  MODE ")},
		{Type: adjustment.AdjustmentTypeTaskStatus, TaskID: &e.tid, Description: "applied before", NewValue: s("DONE")},
		{Type: adjustment.AdjustmentTypeTaskPriority, TaskID: &other, Description: "other again", NewValue: s(" 3 ")},
		{Type: adjustment.AdjustmentTypeGeneral, Description: "advice"},
	}}
	done, err := p.Complete(ctx, fb.ID, "job-a", out)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, a := range e.client.Adjustment.Query().Where(adjustment.FeedbackID(fb.ID)).Order(ent.Asc(adjustment.FieldPosition)).AllX(ctx) {
		kept = append(kept, a.Description)
	}
	if want := "now 5|rejected long ago|applied before|advice"; strings.Join(kept, "|") != want {
		t.Errorf("kept %q, want %s", kept, want)
	}
	day := now.UTC().Add(-time.Hour).Format(time.DateOnly)
	want := []string{
		fmt.Sprintf("task_priority for task %d: repeats a suggestion the team rejected on %s, within the rejection memory (2 days)", e.tid, day),
		fmt.Sprintf("new_task: repeats a suggestion the team rejected on %s, within the rejection memory (2 days)", day),
		fmt.Sprintf("task_priority for task %d: repeats a suggestion the team rejected on %s, within the rejection memory (2 days)", other, day),
	}
	if done.DroppedSuggestions != 3 || strings.Join(done.DroppedReasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("dropped %d:\n%s\nwant:\n%s", done.DroppedSuggestions, strings.Join(done.DroppedReasons, "\n"), strings.Join(want, "\n"))
	}
}

// The reasons stay within their bound when store-time drops are added to a
// full list: the last one sums up the rest.
func TestCompleteKeepsDroppedReasonsBounded(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	gone := e.client.Task.Create().SetProjectID(e.pid).SetTitle("Gone").SaveX(ctx).ID
	fb := e.submit()
	if _, err := e.p.Claim(ctx, fb.ID, "job-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	e.client.Task.DeleteOneID(gone).ExecX(ctx)
	reasons := make([]string, bounds.MaxDroppedReasons)
	for i := range reasons {
		reasons[i] = fmt.Sprintf("reason %d", i)
	}
	out := pipeline.Outcome{Summary: "s", Dropped: len(reasons), DroppedReasons: reasons}
	for range 2 {
		out.Adjustments = append(out.Adjustments, pipeline.Suggestion{Type: adjustment.AdjustmentTypeRemoveTask, TaskID: &gone, Description: "remove"})
	}
	done, err := e.p.Complete(ctx, fb.ID, "job-a", out)
	if err != nil {
		t.Fatal(err)
	}
	n := len(done.DroppedReasons)
	if done.DroppedSuggestions != 12 || n != bounds.MaxDroppedReasons || done.DroppedReasons[n-2] != "reason 8" || done.DroppedReasons[n-1] != "and 3 more" {
		t.Errorf("dropped %d %q", done.DroppedSuggestions, done.DroppedReasons)
	}
	if reasons[9] != "reason 9" {
		t.Errorf("the caller's reasons were changed: %q", reasons)
	}
}

// A job made for another row with this feedback ID (its key differs, or,
// queued before keys, it has none) neither claims nor abandons the
// feedback; the feedback's own job does.
func TestJobsOfAnotherRowAreRefused(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	own := pipeline.JobFor(fb)
	if own.Key == "" || own.Key != fb.JobKey.String() {
		t.Fatalf("job %+v carries no key of feedback %s", own, fb.JobKey)
	}
	other := own
	other.Key = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	keyless := own
	keyless.Key = ""
	for _, j := range []queue.Job{other, keyless} {
		if _, err := e.p.ClaimJob(ctx, j, time.Minute); !errors.Is(err, pipeline.ErrNotItsJob) {
			t.Errorf("claim by job %s = %v, want ErrNotItsJob", j.ID(), err)
		}
		if _, err := e.p.Abandon(ctx, j, "gave up"); !errors.Is(err, pipeline.ErrNotItsJob) {
			t.Errorf("abandon by job %s = %v, want ErrNotItsJob", j.ID(), err)
		}
	}
	if got := e.client.Feedback.GetX(ctx, fb.ID); got.Status != feedback.StatusPending || got.Attempts != 0 || got.Version != 1 {
		t.Fatalf("after the refusals: %s, attempts %d, version %d", got.Status, got.Attempts, got.Version)
	}
	claimed, err := e.p.ClaimJob(ctx, own, time.Minute)
	if err != nil || claimed.LeaseOwner == nil || *claimed.LeaseOwner != own.ID() {
		t.Fatalf("claim by its own job = %+v, %v", claimed, err)
	}
}

// A job that gave up before it could claim its feedback (the database was
// down through all its runs) leaves the attempt count as it was, so a retry's
// job has its ID: the retry replaces the dead letter with a live job rather
// than finding it and failing the feedback again.
func TestRetryReplacesAJobThatGaveUpBeforeClaiming(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	fb := e.submit()
	job := pipeline.JobFor(fb)
	if err := asynq.NewInspectorFromRedisClient(testredis.Client(t)).ArchiveTask(e.queue, job.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Abandon(ctx, job, "gave up"); err != nil {
		t.Fatal(err)
	}
	retried, err := e.p.Retry(ctx, fb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again := pipeline.JobFor(retried); again.ID() != job.ID() {
		t.Fatalf("the retry's job is %s, not %s: the case this test is about needs the same ID", again.ID(), job.ID())
	}
	if st, err := e.jobs.State(ctx, job); err != nil || st.Name != "pending" {
		t.Fatalf("the retry's job: %+v, %v; want it pending", st, err)
	}
}
