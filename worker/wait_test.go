package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// A job told to wait (a Retry-After longer than the analyzer sits out)
// gives its worker slot back: with one slot, feedback submitted after it is
// analysed during the wait. The waiting job then runs again and completes,
// once and not before the Retry-After: the reconciler does not queue it a
// second time meanwhile.
func TestWaitingJobGivesItsSlotBack(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.llm.Enqueue(llmstub.Status(429, "slow down").WithHeader("Retry-After", "5"))
	e.startWorker(workerOpts{concurrency: 1})
	first := e.submit("The login screen keeps crashing", nil)
	testutil.WaitForWithin(t, 10*time.Second, "the first call, answered 429", func() bool { return e.llm.Calls() >= 1 })
	refused := time.Now()
	second := e.submit("Push notifications arrive twice", nil)

	var a, b = first, second
	testutil.WaitForWithin(t, 30*time.Second, "both analyses", func() bool {
		a, b = e.reload(first.ID), e.reload(second.ID)
		return a.Status == feedback.StatusCompleted && b.Status == feedback.StatusCompleted
	})
	if !b.ProcessedAt.Before(*a.ProcessedAt) {
		t.Fatalf("the later feedback completed at %v, after the waiting one (%v): the wait held the only slot", b.ProcessedAt, a.ProcessedAt)
	}
	if waited := a.ProcessedAt.Sub(refused); waited < 5*time.Second {
		t.Fatalf("the waiting feedback completed %v after the 429, before its Retry-After of 5s", waited)
	}
	if a.Attempts != 2 || e.llm.Calls() != 3 {
		t.Fatalf("the waiting feedback took %d runs and the model %d calls; want 2 and 3 (one 429, two answers)", a.Attempts, e.llm.Calls())
	}
	if got := e.statuses(first.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events %v", got)
	}
}

// A job that finds the provider paused (another worker got a 429) waits
// without holding its slot, and the wait is no attempt: with one attempt
// allowed, it still makes its call once the pause is over.
func TestWaitingForAPauseIsNoAttempt(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	llmlimit.New(e.redis(), e.limits()).Pause(context.Background(), "openai", 4*time.Second)
	e.startWorker(workerOpts{shared: true, maxAttempts: 1})
	fb := e.submit("The login screen keeps crashing", nil)
	if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events %v", got)
	}
	if done := e.reload(fb.ID); done.Attempts != 1 || e.llm.Calls() != 1 {
		t.Fatalf("%d attempts and %d model calls; want the one call, the wait not counted", done.Attempts, e.llm.Calls())
	}
}

// A waiting job whose lease ran out before it came back (a long queue) is
// not queued a second time by the reconciler: the queue still holds it.
func TestReconcilerLeavesAWaitingJobAlone(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.llm.Enqueue(llmstub.Status(429, "slow down").WithHeader("Retry-After", "4"))
	e.startWorker(workerOpts{})
	fb := e.submit("The login screen keeps crashing", nil)
	testutil.WaitForWithin(t, 10*time.Second, "the first call, answered 429", func() bool { return e.llm.Calls() >= 1 })
	refused := time.Now()
	testutil.WaitForWithin(t, 10*time.Second, "the job to wait", func() bool {
		cur := e.reload(fb.ID)
		return cur.LeasedUntil != nil && time.Until(*cur.LeasedUntil) > 4*time.Second
	})
	// The lease runs out while the job waits.
	e.client.Feedback.UpdateOneID(fb.ID).SetLeasedUntil(time.Now()).ExecX(accesstest.System())
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	// A second job would have answered at once, before the Retry-After.
	if done := e.reload(fb.ID); done.ProcessedAt.Sub(refused) < 4*time.Second || e.llm.Calls() != 2 {
		t.Fatalf("completed %v after the 429 with %d model calls; want the waiting job's answer after its Retry-After of 4s, 2 calls",
			done.ProcessedAt.Sub(refused), e.llm.Calls())
	}
}
