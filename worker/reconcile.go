package worker

import (
	"context"
	"errors"
	"time"

	"github.com/feedbackloop/feedbackloop/access"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
)

// reconcileBatch bounds the work of one pass; the next pass takes the rest.
const reconcileBatch = 500

func (w *Worker) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.ReconcileEvery)
	defer t.Stop()
	for {
		// Reconcile logs its failures itself, with the feedback concerned.
		if n, _ := w.Reconcile(ctx); n > 0 {
			w.logger.InfoContext(ctx, "reconciler queued stranded feedback", "count", n)
		}
		// Comparison runs whose job was lost: queued again (a job the
		// queue holds is not queued twice).
		if _, err := w.cfg.Pipeline.QueuePendingRuns(access.SystemContext(ctx), time.Now().Add(-w.cfg.PendingGrace), reconcileBatch); err != nil && ctx.Err() == nil {
			w.logger.WarnContext(ctx, "could not queue pending comparison runs; the next pass tries again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile queues the job of every feedback that should be moving but may
// have no job: PENDING for longer than PendingGrace (the queue was down at
// submission, or Redis lost its data) and PROCESSING with an expired lease
// (its worker died). Job IDs derive from the feedback row's job key and its
// state, so a job that still exists is not queued twice, and no other
// row's job can pass for it. Feedback whose job was dead-lettered is
// marked FAILED. It returns how many jobs it queued. It logs its failures
// (WARN, with the feedback concerned); one ends the pass, since the rest
// would most likely fail alike, and the next pass tries again.
func (w *Worker) Reconcile(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	now := time.Now()
	stranded, err := w.cfg.Client.Feedback.Query().
		Where(feedback.Or(
			feedback.And(feedback.StatusEQ(feedback.StatusPending), feedback.UpdatedAtLT(now.Add(-w.cfg.PendingGrace))),
			feedback.And(feedback.StatusEQ(feedback.StatusProcessing), feedback.Or(
				feedback.LeasedUntilIsNil(), feedback.LeasedUntilLT(now))),
		)).
		Order(ent.Asc(feedback.FieldUpdatedAt)).
		Limit(reconcileBatch).
		All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.logger.WarnContext(ctx, "reconcile pass failed; the next pass tries again", "err", err)
		}
		return 0, err
	}
	queued := 0
	for _, fb := range stranded {
		if fb.Status == feedback.StatusProcessing && fb.LeaseOwner != nil {
			// A job waiting its turn (see Worker.waitLater) may come back
			// after its lease: while it waits in the queue, it is not lost.
			// (A running one past its lease lost its worker: queued anew.)
			held, err := w.cfg.Queue.Waiting(ctx, *fb.LeaseOwner)
			if err != nil {
				if ctx.Err() == nil {
					w.logger.WarnContext(ctx, "could not look for the job of stranded feedback; the next reconcile pass tries again",
						"feedback_id", fb.ID, "job_id", *fb.LeaseOwner, "err", err)
				}
				return queued, err
			}
			if held {
				continue
			}
		}
		// Stranded jobs are old news: LOW, behind fresh submissions.
		job := pipeline.JobFor(fb)
		job.Priority = queue.Low
		err := w.cfg.Queue.Enqueue(ctx, job)
		if errors.Is(err, queue.ErrDuplicate) {
			err = w.abandonIfDeadLettered(ctx, job)
		} else if err == nil {
			queued++
			w.logger.InfoContext(ctx, "queued stranded feedback", "feedback_id", fb.ID, "status", fb.Status, "job_id", job.ID())
		}
		if err != nil {
			if ctx.Err() == nil {
				w.logger.WarnContext(ctx, "could not queue stranded feedback; the next reconcile pass tries again",
					"feedback_id", fb.ID, "status", fb.Status, "job_id", job.ID(), "err", err)
			}
			return queued, err
		}
	}
	return queued, nil
}

func (w *Worker) abandonIfDeadLettered(ctx context.Context, job queue.Job) error {
	state, err := w.cfg.Queue.State(ctx, job)
	if errors.Is(err, queue.ErrNotFound) {
		return nil // finished meanwhile
	}
	if err != nil || !state.DeadLettered() {
		return err
	}
	w.deadLettered(ctx, job, errors.New(state.LastErr))
	return nil
}
