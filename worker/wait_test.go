package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/ent/feedback"
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
