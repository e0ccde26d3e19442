package worker_test

import (
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
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
		select {
		case ev := <-e.sub.C():
			if ev.Status == "COMPLETED" {
				delete(pending, ev.FeedbackID)
			}
		case <-time.After(time.Minute):
			b.Fatalf("%d feedbacks did not complete", len(pending))
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
