package worker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// decisions loads project's recent decisions on suggestions into req: the
// latest few (analysis.MaxDecisions), and the count of each kind's
// decisions within the pipeline's rejection memory.
func (w *Worker) decisions(ctx context.Context, projectID int, req *analysis.Request) error {
	latest, err := w.cfg.Client.Adjustment.Query().
		Where(adjustment.HasFeedbackWith(feedback.ProjectID(projectID)),
			adjustment.StatusIn(adjustment.StatusApplied, adjustment.StatusRejected), adjustment.DecidedAtNotNil()).
		Order(ent.Desc(adjustment.FieldDecidedAt), ent.Desc(adjustment.FieldID)).
		Limit(analysis.MaxDecisions).
		All(ctx)
	if err != nil {
		return fmt.Errorf("load the project's recent decisions: %w", err)
	}
	for _, a := range latest {
		req.Decisions = append(req.Decisions, analysis.Decision{Type: a.AdjustmentType, TaskID: a.TaskID, NewValue: a.NewValue,
			Rejected: a.Status == adjustment.StatusRejected, Reason: a.Reason})
	}
	var rows []struct {
		Type   adjustment.AdjustmentType `json:"adjustment_type"`
		Status adjustment.Status         `json:"status"`
		Count  int                       `json:"count"`
	}
	err = w.cfg.Client.Adjustment.Query().
		Where(adjustment.HasFeedbackWith(feedback.ProjectID(projectID)),
			adjustment.StatusIn(adjustment.StatusApplied, adjustment.StatusRejected),
			adjustment.DecidedAtGTE(time.Now().Add(-w.cfg.Pipeline.RejectionMemory()))).
		GroupBy(adjustment.FieldAdjustmentType, adjustment.FieldStatus).
		Aggregate(ent.Count()).
		Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("count the project's recent decisions: %w", err)
	}
	byType := map[adjustment.AdjustmentType]int{}
	for _, r := range rows {
		i, ok := byType[r.Type]
		if !ok {
			i = len(req.Record)
			byType[r.Type] = i
			req.Record = append(req.Record, analysis.KindRecord{Type: r.Type})
		}
		if r.Status == adjustment.StatusRejected {
			req.Record[i].Rejected += r.Count
		} else {
			req.Record[i].Applied += r.Count
		}
	}
	// The database returns the groups in no particular order.
	slices.SortFunc(req.Record, func(a, b analysis.KindRecord) int { return strings.Compare(string(a.Type), string(b.Type)) })
	return nil
}
