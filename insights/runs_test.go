package insights_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/store"
)

// Each model's analyses in the window, primary and comparison runs, are
// counted beside its acceptance: runs by status, the model's answer times
// over both, and the runs' tokens and cost. A model only compared is listed
// too; other projects' runs and runs outside the window do not count.
func TestInsightsComparisonRunsPerModel(t *testing.T) {
	db := openIn(t, "UTC")
	client := store.NewClient(db)
	ctx := accesstest.System()
	p := client.Project.Create().SetName("comparing").SaveX(ctx).ID
	other := client.Project.Create().SetName("other").SaveX(ctx).ID
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	fb := client.Feedback.Create().SetProjectID(p).SetFeedbackText("text").SetCreatedAt(day).SetStatus(feedback.StatusCompleted).
		SetProcessedAt(day.Add(time.Second)).SetProvider("openai").SetModel("gpt-a").SaveX(ctx)
	ofb := client.Feedback.Create().SetProjectID(other).SetFeedbackText("text").SetCreatedAt(day).SaveX(ctx)
	type run struct {
		fb, project int
		created     time.Time
		primary     bool
		model       string
		status      analysis.Status
		ms          *int
		in          *int
		cost        *float64
	}
	for _, r := range []run{
		{fb.ID, p, day, true, "gpt-a", analysis.StatusCompleted, ptr(100), ptr(1000), ptr(0.5)},
		{fb.ID, p, day, false, "gpt-a", analysis.StatusCompleted, ptr(300), ptr(2000), ptr(1.0)},
		{fb.ID, p, day, false, "claude-b", analysis.StatusCompleted, ptr(200), ptr(500), ptr(0.25)},
		{fb.ID, p, day, false, "claude-b", analysis.StatusFailed, nil, nil, nil},
		{fb.ID, p, day, false, "claude-b", analysis.StatusPending, nil, nil, nil},
		{fb.ID, p, day.AddDate(0, 0, 1), false, "claude-b", analysis.StatusCompleted, ptr(9000), ptr(9000), ptr(9.0)}, // outside
		{ofb.ID, other, day, false, "claude-b", analysis.StatusCompleted, ptr(9000), ptr(9000), ptr(9.0)},             // another project
	} {
		client.Analysis.Create().SetFeedbackID(r.fb).SetProjectID(r.project).SetCreatedAt(r.created).SetPrimary(r.primary).
			SetProvider("openai").SetModel(r.model).SetStatus(r.status).SetNillableLatencyMs(r.ms).
			SetNillableInputTokens(r.in).SetNillableEstimatedCost(r.cost).SaveX(ctx)
	}
	until := day.AddDate(0, 0, 1)
	got, err := insights.Compute(context.Background(), db, p, insights.Window{Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	got.SetCurrency("EUR")
	if len(got.Models) != 2 {
		t.Fatalf("%d models, want gpt-a and the only compared claude-b", len(got.Models))
	}
	byModel := map[string]insights.Model{}
	for _, m := range got.Models {
		byModel[*m.Model] = m
	}
	same(t, byModel["gpt-a"].Analyses, insights.Runs{Primary: 1, ComparisonsCompleted: 1,
		Latency:         insights.Durations{Count: 2, P50Ms: ptr(200.0), P95Ms: ptr(290.0)},
		ComparisonSpend: insights.Usage{InputTokens: 2000, EstimatedCost: ptr(1.0), Currency: "EUR"}})
	claude := byModel["claude-b"]
	if claude.Completed != 0 {
		t.Errorf("claude-b completed %d feedback, want 0: it was only compared", claude.Completed)
	}
	same(t, claude.Analyses, insights.Runs{ComparisonsCompleted: 1, ComparisonsFailed: 1, ComparisonsPending: 1,
		Latency:         insights.Durations{Count: 1, P50Ms: ptr(200.0), P95Ms: ptr(200.0)},
		ComparisonSpend: insights.Usage{InputTokens: 500, EstimatedCost: ptr(0.25), Currency: "EUR"}})
}
