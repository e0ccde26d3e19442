package graph

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

// compareAnalyses queues comparison runs of a feedback (see the schema).
// The arguments are checked before anything is read; the privacy policy
// then lets EDITORs through.
func (r *Resolver) compareAnalyses(ctx context.Context, feedbackID int, providers []string) ([]*ent.Analysis, error) {
	switch {
	case len(providers) == 0:
		return nil, &InputError{Field: "providers", Problem: "must name at least one provider or provider:model"}
	case len(providers) > compare.MaxProvidersPerRequest:
		return nil, &InputError{Field: "providers", Problem: fmt.Sprintf("may name at most %d models, got %d", compare.MaxProvidersPerRequest, len(providers))}
	}
	for i, p := range providers {
		if len(p) > compare.MaxNameLength {
			return nil, &InputError{Field: fmt.Sprintf("providers[%d]", i), Problem: fmt.Sprintf("is longer than %d bytes", compare.MaxNameLength)}
		}
	}
	targets, err := r.compare.Resolve(providers)
	var unknown *compare.UnknownError
	if errors.As(err, &unknown) {
		return nil, &InputError{Field: "providers", Problem: unknown.Error()}
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.client.Feedback.Get(ctx, feedbackID); ent.IsNotFound(err) {
		return nil, &NotFoundError{Field: "feedbackID", Type: "Feedback"}
	} else if err != nil {
		return nil, err
	}
	runs, err := r.pipeline.Compare(ctx, feedbackID, targets)
	if errors.Is(err, pipeline.ErrTooManyRuns) {
		return nil, &InputError{Field: "providers", Problem: err.Error()}
	}
	return runs, err
}

// analyses lists a feedback's analyses: the primary first, then the
// comparison runs, oldest first.
func (r *Resolver) analyses(ctx context.Context, fb *ent.Feedback) ([]*ent.Analysis, error) {
	list, err := fb.Edges.AnalysesOrErr()
	if ent.IsNotLoaded(err) {
		list, err = fb.QueryAnalyses().All(ctx)
	}
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b *ent.Analysis) int {
		if a.Primary != b.Primary {
			if a.Primary {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if sorted == nil {
		sorted = []*ent.Analysis{}
	}
	return sorted, nil
}

// analysisSuggestions decodes an analysis's claims, with the tasks they
// name that the viewer may see and that still exist, in one query. A
// claim of a kind the API does not know (stored by a later version) is left
// out.
func (r *Resolver) analysisSuggestions(ctx context.Context, a *ent.Analysis) ([]*model.AnalysisSuggestion, error) {
	var ids []int
	for _, c := range a.Suggestions {
		if c.TaskID != nil {
			ids = append(ids, *c.TaskID)
		}
	}
	tasks := map[int]*ent.Task{}
	if len(ids) > 0 {
		found, err := r.client.Task.Query().Where(task.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range found {
			tasks[t.ID] = t
		}
	}
	out := make([]*model.AnalysisSuggestion, 0, len(a.Suggestions))
	for _, c := range a.Suggestions {
		kind := adjustment.AdjustmentType(c.Type)
		if adjustment.AdjustmentTypeValidator(kind) != nil {
			continue
		}
		s := &model.AnalysisSuggestion{Type: kind, Description: c.Description,
			OriginalValue: c.OriginalValue, NewValue: c.NewValue, Reasoning: c.Reasoning}
		if c.TaskID != nil {
			s.Task = tasks[*c.TaskID]
		}
		out = append(out, s)
	}
	return out, nil
}
