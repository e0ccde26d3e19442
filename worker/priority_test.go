package worker_test

import (
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/worker"
)

// The reconciler queues stranded feedback at LOW; a PENDING feedback whose
// job still waits at the priority it was submitted with (no worker took it
// yet) must not get a second job at LOW (asynq's IDs are unique per queue
// only).
func TestReconcilerDoesNotQueueAJobWaitingAtAnotherPriority(t *testing.T) {
	e := newEnv(t, nil)
	ctx := accesstest.System()
	fb, err := e.pipeline.Submit(ctx, pipeline.Submission{ProjectID: e.projectID, Text: "urgent", Priority: queue.High})
	if err != nil {
		t.Fatal(err)
	}
	// Not started: no consumer takes the job, so it waits at HIGH.
	w := worker.New(worker.Config{Client: e.client, Pipeline: e.pipeline, Queue: e.jobs, PendingGrace: time.Nanosecond})
	time.Sleep(time.Millisecond) // past the grace
	n, err := w.Reconcile(ctx)
	if err != nil || n != 0 {
		t.Fatalf("Reconcile queued %d, %v; want 0: feedback %d's job waits at HIGH", n, err, fb.ID)
	}
	if d, err := e.jobs.Depth(ctx); err != nil || d.Pending != 1 {
		t.Fatalf("Depth = %+v, %v; want the one HIGH job", d, err)
	}
}
