package worker

import (
	"context"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// reuseKey is what fb's analysis of req is stored and looked up by: only
// analyses of the configured analyzer (the first of a fallback chain) are
// reused.
func (w *Worker) reuseKey(fb *ent.Feedback, req analysis.Request) reuse.Key {
	return reuse.Key{
		FeedbackID: fb.ID, ProjectID: fb.ProjectID, TaskID: req.Feedback.TaskID,
		Text: reuse.Normalize(req.Feedback.Text), State: analysis.StateFingerprint(req),
		Provider: w.cfg.Analyzer.Provider(), Model: w.cfg.Analyzer.Model(),
	}
}

// reused returns the outcome of an earlier analysis key may reuse (see
// package reuse), or nil when there is none or reuse is off: the model is
// asked then. A failed lookup is logged and asks the model too; reuse only
// saves a call.
func (w *Worker) reused(ctx context.Context, key reuse.Key) *pipeline.Outcome {
	s := w.cfg.Reuse
	if !s.Exact && s.Near <= 0 {
		return nil
	}
	m, err := reuse.Find(ctx, w.cfg.Client, s, key)
	if err != nil {
		if ctx.Err() == nil {
			w.logger.WarnContext(ctx, "could not look for an analysis to reuse; asking the model", "err", err)
		}
		return nil
	}
	if m == nil {
		return nil
	}
	src := m.Source
	out := pipeline.Outcome{
		Summary: deref(src.Summary), Provider: deref(src.Provider), Model: deref(src.Model),
		FallbackReason: deref(src.FallbackReason),
		Dropped:        src.DroppedSuggestions, DroppedReasons: src.DroppedReasons,
		Text: key.Text, State: key.State, ReusedFrom: &m.Original,
	}
	for _, a := range src.Edges.Adjustments {
		// The original values are read from the tasks again when stored;
		// the state is the same, so they are the source's.
		out.Adjustments = append(out.Adjustments, pipeline.Suggestion{
			Type: a.AdjustmentType, TaskID: a.TaskID, Description: a.Description,
			ClaimedOriginalValue: a.ClaimedOriginalValue, NewValue: a.NewValue, Reasoning: a.Reasoning,
		})
	}
	w.logger.InfoContext(ctx, "reusing an earlier analysis instead of asking the model",
		"kind", m.Kind, "reused_from", m.Original, "source", src.ID, "similarity", m.Score)
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.AnalysisReused(m.Kind)
	}
	return &out
}
