package worker_test

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/worker"
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

// BenchmarkPickUp measures how long submitted feedback waits for an idle
// worker, as a worker process runs by default: from the call to Submit to
// the PROCESSING event (the time the claim wrote it). Each feedback is
// submitted after a pause of up to 50 ms, so that pick-ups do not line up
// with the queue's polls.
func BenchmarkPickUp(b *testing.B) {
	var e *env
	e = newEnv(b, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{concurrency: queue.DefaultConcurrency, poll: queue.DefaultPollInterval})
	time.Sleep(200 * time.Millisecond)
	var waits []time.Duration
	for i := 0; b.Loop(); i++ {
		time.Sleep(time.Duration(i*7919%50) * time.Millisecond)
		submitted := time.Now()
		fb := e.submit("pick-up feedback", nil)
		var picked time.Duration
		for done := false; !done; {
			ev := e.events.Next()
			if ev.Kind != outbox.KindFeedback || ev.ObjectID != fb.ID {
				continue
			}
			switch outboxtest.Feedback(b, ev).Feedback.Status {
			case feedback.StatusProcessing:
				if picked == 0 {
					picked = ev.At.Sub(submitted)
				}
			case feedback.StatusCompleted, feedback.StatusFailed:
				done = true
			}
		}
		waits = append(waits, picked)
	}
	slices.Sort(waits)
	b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(waits[len(waits)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkThroughput reports how many jobs per second one worker
// process, as a process runs by default (WORKER_CONCURRENCY 4), completes
// with an instant model, and the process's CPU per job (the worker's, the
// model stub's). The b.N feedbacks are submitted before the worker starts,
// so that the rate of submission does not bound the measure; completion is
// read from the database.
func BenchmarkThroughput(b *testing.B) {
	var e *env
	e = newEnv(b, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	for i := 0; i < b.N; i++ {
		e.submit("throughput feedback", nil)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	// The reconciler as in production: with the tests' 300ms grace it
	// would look up the job of every feedback still waiting.
	e.startWorker(workerOpts{concurrency: queue.DefaultConcurrency, poll: queue.DefaultPollInterval,
		reconcileEvery: worker.DefaultReconcileEvery, pendingGrace: worker.DefaultPendingGrace})
	testutil.WaitForWithin(b, 5*time.Minute, "every feedback finished", func() bool {
		return e.client.Feedback.Query().Where(feedback.StatusIn(feedback.StatusCompleted, feedback.StatusFailed)).
			CountX(accesstest.System()) == b.N
	})
	elapsed, used := time.Since(start), cpuTime()-cpu
	b.StopTimer()
	if n := e.client.Feedback.Query().Where(feedback.StatusEQ(feedback.StatusCompleted)).CountX(accesstest.System()); n != b.N {
		b.Fatalf("%d of %d feedbacks completed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/job")
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
