package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// ErrTooManyRuns refuses comparison runs past compare.MaxRunsPerFeedback.
var ErrTooManyRuns = fmt.Errorf("a feedback keeps at most %d comparison runs", compare.MaxRunsPerFeedback)

// Compare stores one PENDING comparison run of feedback id per target and
// queues their jobs; the worker runs them (never the caller). The viewer
// of ctx is recorded as who asked, and the privacy policy decides whether
// it may (EDITOR). A feedback keeps at most compare.MaxRunsPerFeedback
// runs: past that, nothing is stored and ErrTooManyRuns is returned. Runs
// whose job could not be queued stay PENDING and are queued again by the
// reconciler (QueuePendingRuns).
func (p *Pipeline) Compare(ctx context.Context, id int, targets []compare.Target) ([]*ent.Analysis, error) {
	var requestedBy *int
	if v := viewer.FromContext(ctx); v != nil && v.UserID > 0 {
		requestedBy = &v.UserID
	}
	type made struct {
		fb   *ent.Feedback
		runs []*ent.Analysis
	}
	m, err := store.InTx(ctx, p.client, func(tx *ent.Tx) (made, error) {
		// The lock orders concurrent requests on one feedback, so the
		// bound holds.
		fb, err := tx.Feedback.Query().Where(feedback.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return made{}, err
		}
		n, err := tx.Analysis.Query().Where(analysis.FeedbackID(id), analysis.Primary(false)).Count(access.SystemContext(ctx))
		if err != nil {
			return made{}, err
		}
		if n+len(targets) > compare.MaxRunsPerFeedback {
			return made{}, fmt.Errorf("%w: it has %d, and %d more were asked", ErrTooManyRuns, n, len(targets))
		}
		builders := make([]*ent.AnalysisCreate, 0, len(targets))
		for _, t := range targets {
			builders = append(builders, tx.Analysis.Create().SetFeedbackID(id).SetProjectID(fb.ProjectID).
				SetProvider(t.Provider).SetModel(t.Model).SetNillableRequestedByID(requestedBy).SetCreatedAt(p.now()))
		}
		runs, err := tx.Analysis.CreateBulk(builders...).Save(ctx)
		return made{fb, runs}, err
	})
	if err != nil {
		return nil, err
	}
	for _, a := range m.runs {
		p.queueRun(ctx, m.fb, a)
	}
	return m.runs, nil
}

// RunJob is the job that runs comparison a of feedback fb.
func RunJob(fb *ent.Feedback, a *ent.Analysis) queue.Job {
	return queue.Job{FeedbackID: fb.ID, Key: fb.JobKey.String(), AnalysisID: a.ID, Priority: queue.Low}
}

// queueRun queues a's job at LOW priority: comparisons never hold up
// analyses. A queue outage leaves it PENDING for the reconciler.
func (p *Pipeline) queueRun(ctx context.Context, fb *ent.Feedback, a *ent.Analysis) {
	job := RunJob(fb, a)
	if err := p.jobs.Enqueue(ctx, job); err != nil && !errors.Is(err, queue.ErrDuplicate) {
		p.logger.WarnContext(ctx, "could not queue a comparison run; it is queued again later",
			"feedback_id", fb.ID, "analysis_id", a.ID, "err", err)
	}
}

// Run is a comparison run and its feedback, as a worker starts it.
type Run struct {
	Analysis *ent.Analysis
	Feedback *ent.Feedback
}

// StartRun loads job's comparison run if it is still PENDING: ErrFinished
// when it is not, ErrGone when it or its feedback was deleted, and
// ErrNotItsJob when the job was made for another feedback row.
func (p *Pipeline) StartRun(ctx context.Context, job queue.Job) (Run, error) {
	a, err := p.client.Analysis.Query().Where(analysis.ID(job.AnalysisID), analysis.FeedbackID(job.FeedbackID)).
		WithFeedback().Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return Run{}, ErrGone
	case err != nil:
		return Run{}, err
	case a.Edges.Feedback.JobKey.String() != job.Key:
		return Run{}, ErrNotItsJob
	case a.Status != analysis.StatusPending:
		return Run{}, ErrFinished
	}
	return Run{Analysis: a, Feedback: a.Edges.Feedback}, nil
}

// RunOutcome is what a comparison run produced: its suggestions as claims,
// or the reason it failed.
type RunOutcome struct {
	Usage
	Latency     time.Duration
	Summary     string
	Suggestions []compare.Claim
	Dropped     int
	// Err, when set, fails the run with this reason for users.
	Err string
}

// FinishRun stores a comparison run's outcome if it is still PENDING (a
// redelivered job that raced another stores nothing, and gets
// ErrFinished).
func (p *Pipeline) FinishRun(ctx context.Context, id int, out RunOutcome) error {
	u := p.client.Analysis.Update().Where(analysis.ID(id), analysis.StatusEQ(analysis.StatusPending)).
		SetCompletedAt(p.now()).
		SetNillableInputTokens(out.InputTokens).SetNillableOutputTokens(out.OutputTokens).
		SetNillableEstimatedCost(out.EstimatedCost)
	if out.Latency > 0 {
		u.SetLatencyMs(int(out.Latency.Milliseconds()))
	}
	if out.Err != "" {
		u.SetStatus(analysis.StatusFailed).SetError(out.Err)
	} else {
		u.SetStatus(analysis.StatusCompleted).SetSummary(out.Summary).
			SetSuggestions(out.Suggestions).SetDroppedSuggestions(out.Dropped)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("store the comparison run: %w", err)
	}
	if n == 0 {
		return ErrFinished
	}
	return nil
}

// QueuePendingRuns queues again the jobs of comparison runs PENDING since
// before olderThan, at most limit of them: runs whose job was lost to a
// queue outage or a dead worker. A job the queue still holds (queued,
// running, waiting) is not queued twice: its ID is the run's. It returns
// how many runs it looked at.
func (p *Pipeline) QueuePendingRuns(ctx context.Context, olderThan time.Time, limit int) (int, error) {
	runs, err := p.client.Analysis.Query().
		Where(analysis.StatusEQ(analysis.StatusPending), analysis.CreatedAtLT(olderThan)).
		WithFeedback().Order(ent.Asc(analysis.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return 0, err
	}
	for _, a := range runs {
		p.queueRun(ctx, a.Edges.Feedback, a)
	}
	return len(runs), nil
}
