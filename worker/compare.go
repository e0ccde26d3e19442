package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// runComparison runs one comparison run (compareAnalyses, or sampled by
// COMPARE_SAMPLE_RATE): the feedback analysed again by the run's provider
// and model, its outcome stored on the run's Analysis row, the feedback
// itself left alone. The run's analyzer keeps the provider's limits and
// the project's budget as the primary analysis does (Config.Comparers).
func (w *Worker) runComparison(ctx context.Context, job queue.Job) (string, error) {
	ctx = logctx.With(ctx, "job_id", job.ID(), "feedback_id", job.FeedbackID, "analysis_id", job.AnalysisID)
	run, err := w.cfg.Pipeline.StartRun(ctx, job)
	switch {
	case errors.Is(err, pipeline.ErrGone):
		return outcomeSkipped, nil // deleted with its feedback: nothing to do
	case errors.Is(err, pipeline.ErrNotItsJob):
		w.logger.WarnContext(ctx, "job refused", "reason", err.Error())
		return outcomeRetried, err
	case errors.Is(err, pipeline.ErrFinished):
		return outcomeSkipped, nil
	case err != nil:
		return outcomeRetried, fmt.Errorf("load the comparison run: %w", err)
	}
	a := run.Analysis
	target := compare.Target{Provider: a.Provider, Model: a.Model}
	analyzer, ok := w.cfg.Comparers[target.Key()]
	if !ok {
		return w.finishRun(ctx, a.ID, pipeline.RunOutcome{
			Err: fmt.Sprintf("%s is not configured on the worker (LLM_PROVIDER, LLM_FALLBACK, COMPARE_PROVIDERS)", target.Key())})
	}
	req, err := w.request(ctx, run.Feedback)
	if err != nil {
		return outcomeRetried, err
	}
	req.Priority = int(queue.Low)
	req.MayWaitLater = queue.CanRunLater(ctx) && time.Since(a.CreatedAt) < waitLaterFor
	start := time.Now()
	res, err := analyzer.Analyze(ctx, req)
	latency := time.Since(start)
	if ctx.Err() != nil {
		return outcomeRetried, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	if wait := (*analysis.WaitError)(nil); errors.As(err, &wait) {
		w.logger.InfoContext(ctx, "comparison run waits; the job gives its slot back", "for", wait.After.String(), "reason", wait.Err)
		return outcomeWaiting, queue.Later(wait.After, wait)
	}
	if err != nil {
		out := pipeline.RunOutcome{Err: userReason(err), Latency: latency}
		var spent *analysis.SpentError
		if errors.As(err, &spent) {
			out.Usage = priced(spent.Provider, spent.Model, spent.Usage, w.cfg.Prices)
		}
		w.logger.WarnContext(ctx, "comparison run failed", "err", err)
		return w.finishRun(ctx, a.ID, out)
	}
	out := pipeline.RunOutcome{Summary: res.Summary, Latency: latency, Dropped: res.DroppedSuggestions,
		Usage: priced(res.Provider, res.Model, res.Usage, w.cfg.Prices), Suggestions: []compare.Claim{}}
	for _, s := range res.Adjustments {
		out.Suggestions = append(out.Suggestions, compare.Claim{Type: string(s.Type), TaskID: s.TaskID,
			Description: s.Description, OriginalValue: s.OriginalValue, NewValue: s.NewValue, Reasoning: s.Reasoning})
	}
	return w.finishRun(ctx, a.ID, out)
}

func (w *Worker) finishRun(ctx context.Context, id int, out pipeline.RunOutcome) (string, error) {
	err := w.cfg.Pipeline.FinishRun(ctx, id, out)
	switch {
	case errors.Is(err, pipeline.ErrFinished):
		return outcomeSkipped, nil
	case err != nil:
		return outcomeRetried, err
	case out.Err != "":
		return outcomeFailed, nil
	}
	w.logger.InfoContext(ctx, "comparison run completed", "suggestions", len(out.Suggestions), "latency", out.Latency.String())
	return outcomeCompleted, nil
}

// sample queues comparison runs of fb, just completed, against
// COMPARE_PROVIDERS when COMPARE_SAMPLE_RATE picks it; the primary's own
// model is not compared with itself.
func (w *Worker) sample(ctx context.Context, fb *ent.Feedback, provider, model string) {
	s := w.cfg.Compare
	if !compare.Sampled(s.SampleRate, fb.ID, fb.JobKey.String()) {
		return
	}
	var targets []compare.Target
	for _, t := range s.Sampled {
		if t != (compare.Target{Provider: provider, Model: model}) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return
	}
	runs, err := w.cfg.Pipeline.Compare(ctx, fb.ID, targets)
	if err != nil {
		w.logger.WarnContext(ctx, "could not queue the sampled comparison runs", "err", err)
		return
	}
	w.logger.InfoContext(ctx, "feedback sampled for comparison", "runs", len(runs))
}
