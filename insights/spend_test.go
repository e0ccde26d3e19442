package insights_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/store"
)

// Tokens and costs add up per provider and model and overall, over the
// window's feedback of the project only; analyses with tokens and no cost
// are counted apart, rows stored before tokens were (none) add nothing,
// and failed analyses count overall.
func TestInsightsSpendPerModel(t *testing.T) {
	db := openIn(t, "UTC")
	client := store.NewClient(db)
	ctx := accesstest.System()
	p := client.Project.Create().SetName("spending").SaveX(ctx).ID
	other := client.Project.Create().SetName("other").SaveX(ctx).ID
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	type fb struct {
		project         int
		created         time.Time
		status          feedback.Status
		provider, model string
		in, out         *int
		cost            *float64
	}
	for _, f := range []fb{
		{p, day, feedback.StatusCompleted, "openai", "gpt-a", ptr(1000), ptr(100), ptr(0.5)},
		{p, day, feedback.StatusCompleted, "openai", "gpt-a", ptr(3000), ptr(300), ptr(1.25)},
		{p, day, feedback.StatusCompleted, "openai", "gpt-a", nil, nil, nil}, // stored before tokens were
		{p, day, feedback.StatusCompleted, "anthropic", "claude-b", ptr(500), ptr(50), nil},
		{p, day, feedback.StatusCompleted, "builtin", "rules-v1", ptr(0), ptr(0), ptr(0.0)},
		{p, day.AddDate(0, 0, 1), feedback.StatusCompleted, "openai", "gpt-a", ptr(7000), ptr(700), ptr(4.0)}, // outside the window
		{other, day, feedback.StatusCompleted, "openai", "gpt-a", ptr(90000), ptr(9000), ptr(50.0)},
	} {
		client.Feedback.Create().SetProjectID(f.project).SetFeedbackText("text").SetCreatedAt(f.created).SetStatus(f.status).
			SetProcessedAt(f.created.Add(time.Second)).SetProvider(f.provider).SetModel(f.model).
			SetNillableInputTokens(f.in).SetNillableOutputTokens(f.out).SetNillableEstimatedCost(f.cost).SaveX(ctx)
	}
	// A FAILED analysis records no model: its tokens count overall only.
	client.Feedback.Create().SetProjectID(p).SetFeedbackText("text").SetCreatedAt(day).SetStatus(feedback.StatusFailed).
		SetProcessedAt(day.Add(time.Second)).SetInputTokens(200).SetOutputTokens(20).SetEstimatedCost(0.25).SaveX(ctx)
	until := day.AddDate(0, 0, 1)
	got, err := insights.Compute(context.Background(), db, p, insights.Window{Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	got.SetCurrency("EUR")
	same(t, got.Spend, insights.Usage{InputTokens: 4700, OutputTokens: 470, EstimatedCost: ptr(2.0), UnpricedAnalyses: 1, Currency: "EUR"})
	want := map[string]insights.Usage{
		"openai/gpt-a":       {InputTokens: 4000, OutputTokens: 400, EstimatedCost: ptr(1.75), Currency: "EUR"},
		"anthropic/claude-b": {InputTokens: 500, OutputTokens: 50, UnpricedAnalyses: 1, Currency: "EUR"},
		"builtin/rules-v1":   {EstimatedCost: ptr(0.0), Currency: "EUR"},
	}
	if len(got.Models) != len(want) {
		t.Fatalf("%d models, want %d", len(got.Models), len(want))
	}
	for _, m := range got.Models {
		name := *m.Provider + "/" + *m.Model
		same(t, m.Spend, want[name])
	}
}
