package worker

import (
	"context"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// lookup is what looking for an earlier analysis found: one to reuse, or
// the keys a new analysis is stored with so that later feedback may reuse
// it.
type lookup struct {
	key       reuse.Key
	embedding []float32 // nil unless embeddings are on and it was made
	model     string    // the embedding model
	reused    *pipeline.Outcome
}

// stamp marks out, a new analysis, with the keys it is found by later.
func (l lookup) stamp(out *pipeline.Outcome) {
	out.Text, out.State = l.key.Text, l.key.State
	if l.embedding != nil {
		out.Embedding, out.EmbeddingModel = reuse.EncodeVector(l.embedding), l.model
	}
}

// lookUp looks for an earlier analysis fb may reuse instead of asking the
// analyzer (see package reuse), as the settings allow: the same text, then
// a similar one, then (with an embedder) one that means the same. Only
// analyses of the configured analyzer (the first of a fallback chain) are
// reused. A failed lookup is logged and leads to the analyzer: reuse only
// saves a call.
func (w *Worker) lookUp(ctx context.Context, fb *ent.Feedback, req analysis.Request) lookup {
	l := lookup{key: reuse.Key{
		FeedbackID: fb.ID, ProjectID: fb.ProjectID, TaskID: req.Feedback.TaskID,
		Text: reuse.Normalize(req.Feedback.Text), State: analysis.StateFingerprint(req),
		Provider: w.cfg.Analyzer.Provider(), Model: w.cfg.Analyzer.Model(),
	}}
	s := w.cfg.Reuse
	m, err := reuse.Find(ctx, w.cfg.Client, s, l.key)
	if m == nil && err == nil && s.Semantic > 0 && w.cfg.Embedder != nil {
		l.model = w.cfg.EmbeddingModel
		l.embedding, err = w.cfg.Embedder.EmbedQuery(ctx, req.Feedback.Text)
		if err == nil {
			m, err = reuse.FindSemantic(ctx, w.cfg.Client, s.Semantic, l.key, l.embedding, l.model)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			w.logger.WarnContext(ctx, "could not look for an analysis to reuse; asking the model", "err", err)
		}
		return l
	}
	if m != nil {
		l.reused = w.reusedOutcome(ctx, l, m)
	}
	return l
}

// reusedOutcome is m's analysis stored again for the feedback l is about.
func (w *Worker) reusedOutcome(ctx context.Context, l lookup, m *reuse.Match) *pipeline.Outcome {
	src := m.Source
	out := pipeline.Outcome{
		Summary: deref(src.Summary), Provider: deref(src.Provider), Model: deref(src.Model),
		FallbackReason: deref(src.FallbackReason),
		Dropped:        src.DroppedSuggestions, DroppedReasons: src.DroppedReasons,
		ReusedFrom: &m.Original,
	}
	l.stamp(&out)
	for _, a := range src.Edges.Adjustments {
		// The original values are read from the tasks again when stored;
		// the state is the same, so they are the source's.
		out.Adjustments = append(out.Adjustments, pipeline.Suggestion{
			Type: a.AdjustmentType, TaskID: a.TaskID, Description: a.Description,
			ClaimedOriginalValue: a.ClaimedOriginalValue, NewValue: a.NewValue, Reasoning: a.Reasoning, Confidence: a.Confidence,
		})
	}
	w.logger.InfoContext(ctx, "reusing an earlier analysis instead of asking the model",
		"kind", m.Kind, "reused_from", m.Original, "source", src.ID, "similarity", m.Score)
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.AnalysisReused(m.Kind)
	}
	return &out
}
