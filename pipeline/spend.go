package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/spend"
)

// MonthSpend is what a project's analyses stored in the UTC calendar month
// holding now are estimated to have cost: the sum of their estimated costs
// (analyses without a price count nothing), comparison runs included, in
// the price table's currency.
// The worker's budget gate and the API's report both read it, so both see
// the same figure. It reads through ent with ctx's privacy.
func (p *Pipeline) MonthSpend(ctx context.Context, projectID int, now time.Time) (float64, error) {
	return MonthSpend(ctx, p.client, projectID, now)
}

// MonthSpend is Pipeline.MonthSpend on any client (the API's may read from
// a replica).
func MonthSpend(ctx context.Context, client *ent.Client, projectID int, now time.Time) (float64, error) {
	start, next := spend.Month(now)
	var rows []struct {
		Sum sql.NullFloat64 `json:"sum"`
	}
	// The predicates match the partial index on (project_id, processed_at).
	err := client.Feedback.Query().
		Where(feedback.ProjectID(projectID), feedback.EstimatedCostNotNil(),
			feedback.ProcessedAtGTE(start), feedback.ProcessedAtLT(next)).
		Aggregate(ent.As(ent.Sum(feedback.FieldEstimatedCost), "sum")).
		Scan(ctx, &rows)
	if err != nil {
		return 0, fmt.Errorf("read the project's model spend this month: %w", err)
	}
	var total float64
	if len(rows) > 0 {
		total = rows[0].Sum.Float64
	}
	// Comparison runs cost too; a primary analysis's cost is the
	// feedback's, counted above.
	rows = rows[:0]
	err = client.Analysis.Query().
		Where(analysis.ProjectID(projectID), analysis.Primary(false), analysis.EstimatedCostNotNil(),
			analysis.CompletedAtGTE(start), analysis.CompletedAtLT(next)).
		Aggregate(ent.As(ent.Sum(analysis.FieldEstimatedCost), "sum")).
		Scan(ctx, &rows)
	if err != nil {
		return 0, fmt.Errorf("read the project's comparison spend this month: %w", err)
	}
	if len(rows) > 0 {
		total += rows[0].Sum.Float64
	}
	return total, nil
}

// Usage is what an analysis's model calls used: tokens as the provider
// reported them (nil: not reported) and their estimated cost by the price
// table (nil: unknown).
type Usage struct {
	InputTokens, OutputTokens *int
	EstimatedCost             *float64
}

// addTo adds u to the feedback's: its columns hold what all of its analyses
// used, a failed one's and then its retry's (NULL counts as 0 once there
// is something to add; nothing to add leaves it as it is).
func (u Usage) addTo(update *ent.FeedbackUpdateOne) {
	if u.InputTokens != nil {
		update.AddInputTokens(*u.InputTokens)
	}
	if u.OutputTokens != nil {
		update.AddOutputTokens(*u.OutputTokens)
	}
	if u.EstimatedCost != nil {
		update.AddEstimatedCost(*u.EstimatedCost)
	}
}
