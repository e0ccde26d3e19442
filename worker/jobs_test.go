package worker_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
)

// useQueue points e's submissions and workers at the queue opts on the
// Redis server that open connects to.
func (e *env) useQueue(opts queue.Options, open func() *redis.Client, logger *slog.Logger) {
	e.t.Helper()
	e.qopts, e.redis = opts, open
	e.jobs = queue.NewClient(open(), opts)
	e.t.Cleanup(func() { e.jobs.Close() })
	e.pipeline = pipeline.New(pipeline.Config{Client: e.client, Jobs: e.jobs, Logger: logger})
}

// claims follows the events of feedback ids to their ends and returns them
// by ID as "STATUS" lines, a PROCESSING one with the job that claimed it.
func (e *env) claims(ids ...int) map[int]string {
	e.t.Helper()
	got := map[int][]string{}
	for open := len(ids); open > 0; {
		ev := e.events.Next()
		if ev.Kind != outbox.KindFeedback || !slices.Contains(ids, ev.ObjectID) {
			continue
		}
		fb := outboxtest.Feedback(e.t, ev).Feedback
		line := string(fb.Status)
		if fb.Status == feedback.StatusProcessing && fb.LeaseOwner != nil {
			line += " by " + *fb.LeaseOwner
		}
		got[fb.ID] = append(got[fb.ID], line)
		if fb.Status == feedback.StatusCompleted || fb.Status == feedback.StatusFailed {
			open--
		}
	}
	out := map[int]string{}
	for id, lines := range got {
		out[id] = strings.Join(lines, ", ")
	}
	return out
}

// seedOldJob puts a job on e's queue as a version without job keys named
// it, in state archived (a failure kept for inspection) or pending.
func (e *env) seedOldJob(feedbackID int, archived bool) string {
	e.t.Helper()
	id := fmt.Sprintf("feedback-%d-0", feedbackID)
	rdb := e.redis()
	if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(
		asynq.NewTask("feedback:analyze", fmt.Appendf(nil, `{"feedbackId":%d,"attempt":0}`, feedbackID)),
		asynq.Queue(e.qopts.Name), asynq.TaskID(id), asynq.MaxRetry(1)); err != nil {
		e.t.Fatal(err)
	}
	if archived {
		if err := asynq.NewInspectorFromRedisClient(rdb).ArchiveTask(e.qopts.Name, id); err != nil {
			e.t.Fatal(err)
		}
	}
	return id
}

// Issue 22, finding 6, replayed: jobs kept in Redis under the IDs the next
// feedback's jobs would have had before job keys (an archived failure and a
// pending job of another database's rows, as after a restore from a backup)
// neither keep the new feedback's jobs off the queue nor run in their
// place. Each feedback is claimed by its own job and COMPLETED.
func TestOldJobsCannotShadowNewFeedback(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	ctx := accesstest.System()
	// The next feedback IDs, from a row made and deleted for the purpose.
	probe := e.submit("probe", nil)
	e.client.Feedback.DeleteOneID(probe.ID).ExecX(ctx)
	archived := e.seedOldJob(probe.ID+1, true)
	pending := e.seedOldJob(probe.ID+2, false)

	first, second := e.submit("first", nil), e.submit("second", nil)
	if first.ID != probe.ID+1 || second.ID != probe.ID+2 {
		t.Fatalf("feedback %d and %d, want %d and %d: the scenario needs the seeded IDs", first.ID, second.ID, probe.ID+1, probe.ID+2)
	}
	// Long grace: the reconciler must not be what rescues them.
	e.startWorker(workerOpts{concurrency: 1, pendingGrace: time.Hour})
	got := e.claims(first.ID, second.ID)
	for _, fb := range []*ent.Feedback{first, second} {
		if job := pipeline.JobFor(fb).ID(); got[fb.ID] != "PENDING, PROCESSING by "+job+", COMPLETED" {
			t.Errorf("feedback %d: %s; want it claimed by its own job %s and COMPLETED", fb.ID, got[fb.ID], job)
		}
	}
	testutil.WaitFor(t, "the old pending job "+pending+" to be refused until it is dead-lettered", func() bool {
		st, err := e.jobs.State(ctx, queue.Job{FeedbackID: second.ID})
		return err == nil && st.DeadLettered() && strings.Contains(st.LastErr, "another feedback")
	})
	if st, err := e.jobs.State(ctx, queue.Job{FeedbackID: first.ID}); err != nil || !st.DeadLettered() {
		t.Errorf("the old archived job %s: %+v, %v; want it left alone", archived, st, err)
	}
}

// Two deployments share one Redis and, against the advice, one queue name;
// their databases hand out the same feedback IDs. Each feedback gets a job
// of its own and is processed by its own deployment, although either
// deployment's worker may take the other's jobs first (it refuses them, and
// the queue retries them).
func TestTwoDeploymentsOnOneQueueProcessTheirOwnFeedback(t *testing.T) {
	var a, b *env
	a = newEnv(t, func(r llmstub.Request) llmstub.Reply { return a.goodAnswer(r) })
	b = newEnv(t, func(r llmstub.Request) llmstub.Reply { return b.goodAnswer(r) })
	shared := queue.Options{Name: "q-" + testredis.Namespace(t), MaxRetry: 30}
	a.useQueue(shared, a.redis, nil)
	b.useQueue(shared, b.redis, nil)

	fa, fb := a.submit("on A", nil), b.submit("on B", nil)
	if fa.ID != fb.ID {
		t.Fatalf("feedback IDs %d and %d: the scenario needs one ID in both databases", fa.ID, fb.ID)
	}
	// Long grace: the reconciler must not be what rescues them.
	a.startWorker(workerOpts{pendingGrace: time.Hour})
	b.startWorker(workerOpts{pendingGrace: time.Hour})
	for _, d := range []struct {
		name string
		e    *env
		job  string
	}{{"A", a, pipeline.JobFor(fa).ID()}, {"B", b, pipeline.JobFor(fb).ID()}} {
		if got := d.e.claims(fa.ID)[fa.ID]; got != "PENDING, PROCESSING by "+d.job+", COMPLETED" {
			t.Errorf("deployment %s: %s; want its feedback claimed by its own job %s and COMPLETED", d.name, got, d.job)
		}
		if n := d.e.llm.Calls(); n != 1 {
			t.Errorf("deployment %s made %d model calls, want 1", d.name, n)
		}
	}
}

// A job that cannot be queued (Redis down at submission) is logged with its
// feedback, by the submission and by every reconcile pass that fails, and
// queued once Redis is back; the feedback is then processed.
func TestFeedbackWhoseJobCouldNotBeQueuedIsLoggedAndQueuedLater(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	srv := testredis.Start(t)
	open := func() *redis.Client {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { rdb.Close() })
		return rdb
	}
	apiLogs, workerLogs := &testutil.Buffer{}, &testutil.Buffer{}
	e.useQueue(queue.Options{Name: "q-" + e.ns}, open, slog.New(slog.NewJSONHandler(apiLogs, nil)))
	e.startWorker(workerOpts{logger: slog.New(slog.NewJSONHandler(workerLogs, nil))})

	srv.Stop(t)
	fb := e.submit("submitted while the queue is down", nil)
	warned := func(logs *testutil.Buffer, msg string) bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "WARN" && rec["msg"] == msg &&
				rec["feedback_id"] == float64(fb.ID) && rec["err"] != nil {
				return true
			}
		}
		return false
	}
	if !warned(apiLogs, "could not queue feedback; it is queued as soon as the queue is back") {
		t.Errorf("the submission did not log its failure to queue with the feedback:\n%s", apiLogs)
	}
	testutil.WaitFor(t, "the reconciler to log the feedback it could not queue", func() bool {
		return warned(workerLogs, "could not queue stranded feedback; the next reconcile pass tries again")
	})
	if got := e.reload(fb.ID).Status; got != feedback.StatusPending {
		t.Fatalf("status %s while the queue is down", got)
	}

	srv.Restart(t)
	if got := strings.Join(e.statuses(fb.ID), ","); got != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events %s", got)
	}
}

// A feedback whose job (under its keyed ID) was dead-lettered without
// marking it FAILED, because the database was down at that moment, ends
// FAILED with a reason: the reconciler finds the dead letter.
func TestReconcilerFailsFeedbackWhoseJobWasDeadLettered(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	fb := e.submit("its job gave up", nil)
	if err := asynq.NewInspectorFromRedisClient(e.redis()).ArchiveTask(e.qopts.Name, pipeline.JobFor(fb).ID()); err != nil {
		t.Fatal(err)
	}
	e.startWorker(workerOpts{})
	if got := strings.Join(e.statuses(fb.ID), ","); got != "PENDING,FAILED" {
		t.Fatalf("events %s", got)
	}
	if done := e.reload(fb.ID); done.Error == nil || !strings.Contains(*done.Error, "retryFeedback") {
		t.Fatalf("error %v, want the reason and what to do", done.Error)
	}
	if e.llm.Calls() != 0 {
		t.Errorf("%d model calls for a dead-lettered job", e.llm.Calls())
	}
}
