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
		if n, err := w.Reconcile(ctx); err != nil && ctx.Err() == nil {
			w.logger.WarnContext(ctx, "reconcile pass failed; will try again", "err", err)
		} else if n > 0 {
			w.logger.InfoContext(ctx, "reconciler queued stranded feedback", "count", n)
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
// (its worker died). Job IDs derive from the feedback's state, so a job that
// still exists is not queued twice. Feedback whose job was dead-lettered is
// marked FAILED. It returns how many jobs it queued.
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
		return 0, err
	}
	queued := 0
	for _, fb := range stranded {
		job := pipeline.JobFor(fb)
		err := w.cfg.Queue.Enqueue(ctx, job)
		switch {
		case err == nil:
			queued++
			w.logger.InfoContext(ctx, "queued stranded feedback", "feedback_id", fb.ID, "status", fb.Status, "job_id", job.ID())
		case errors.Is(err, queue.ErrDuplicate):
			if err := w.abandonIfDeadLettered(ctx, job); err != nil {
				return queued, err
			}
		default:
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
