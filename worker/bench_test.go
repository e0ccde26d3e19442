package worker_test

import (
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
)

// BenchmarkSubmitToCompleted measures one feedback's way from submission to
// the COMPLETED event with an instant model: queue, claim, prompt, model
// call over HTTP, validation, the result transaction and three events.
func BenchmarkSubmitToCompleted(b *testing.B) {
	var e *env
	e = newEnv(b, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fb := e.submit("benchmark feedback", nil)
		if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
			b.Fatalf("events %v", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/feedback")
}

// BenchmarkThroughput submits b.N feedbacks at once and reports how many
// jobs per second one worker (concurrency 2) completes.
func BenchmarkThroughput(b *testing.B) {
	var e *env
	e = newEnv(b, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{})
	b.ResetTimer()
	start := time.Now()
	pending := map[int]bool{}
	for i := 0; i < b.N; i++ {
		pending[e.submit("throughput feedback", nil).ID] = true
	}
	for len(pending) > 0 {
		ev := e.events.Next()
		if ev.Kind == outbox.KindFeedback && outboxtest.Feedback(b, ev).Feedback.Status == feedback.StatusCompleted {
			delete(pending, ev.ObjectID)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
