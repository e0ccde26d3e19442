package graph

import (
	"context"
	"fmt"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/reuse"
)

// similar lists the feedback of fb's project nearest to it by text or
// meaning. They
// are read with the caller's context, so privacy applies as for every
// other read of feedback.
func (r *Resolver) similar(ctx context.Context, fb *ent.Feedback, first int, by model.Similarity) ([]*model.SimilarFeedback, error) {
	if first < 0 || first > reuse.MaxSimilar {
		return nil, &InputError{Field: "first", Problem: fmt.Sprintf("must be from 0 to %d (got %d)", reuse.MaxSimilar, first)}
	}
	find := reuse.Similar
	if by == model.SimilarityMeaning {
		find = reuse.SimilarInMeaning
	}
	near, err := find(ctx, r.client, fb, first)
	if err != nil {
		return nil, err
	}
	out := make([]*model.SimilarFeedback, len(near))
	for i, n := range near {
		out[i] = &model.SimilarFeedback{Feedback: n.Feedback, Score: n.Score}
	}
	return out, nil
}
