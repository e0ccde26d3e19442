package budget_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/budget"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

type spender func(projectID int, now time.Time) (float64, error)

func (f spender) MonthSpend(_ context.Context, projectID int, now time.Time) (float64, error) {
	return f(projectID, now)
}

// models stands for the model providers: it counts the analyses it is
// asked for and answers as the built-in rules would.
type models struct {
	analysis.Analyzer
	calls int
}

func (m *models) Analyze(ctx context.Context, req analysis.Request) (analysis.Result, error) {
	m.calls++
	return m.Analyzer.Analyze(ctx, req)
}

// The gate asks for the spend of the request's project in the month of its
// clock, and lets the models answer while it is below the budget; a spend
// that cannot be read does not fail the analysis.
func TestGateReadsTheProjectsMonth(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var asked []int
	spent, readErr := 9.99, error(nil)
	m := &models{Analyzer: rules.New()}
	g := budget.New(budget.Config{Models: m, Budget: spend.Budget{Monthly: 10, Currency: "USD"}, Now: func() time.Time { return at },
		Spend: spender(func(p int, now time.Time) (float64, error) {
			if !now.Equal(at) {
				t.Errorf("asked for the month of %v", now)
			}
			asked = append(asked, p)
			return spent, readErr
		})})
	req := analysistest.Request()
	if _, err := g.Analyze(context.Background(), req); err != nil || m.calls != 1 {
		t.Fatalf("below the budget: %v after %d model analyses", err, m.calls)
	}
	readErr = errors.New("connection refused")
	if _, err := g.Analyze(context.Background(), req); err != nil || m.calls != 2 {
		t.Fatalf("spend unreadable: %v after %d model analyses", err, m.calls)
	}
	readErr, spent = nil, 10
	_, err := g.Analyze(context.Background(), req)
	var exceeded *budget.ExceededError
	if !errors.As(err, &exceeded) || m.calls != 2 || analysis.Unavailable(err) {
		t.Fatalf("at the budget: %v after %d model analyses", err, m.calls)
	}
	if len(asked) != 3 || asked[0] != req.Project.ID {
		t.Errorf("asked for projects %v, want %d thrice", asked, req.Project.ID)
	}
	want := "the project's model budget for December 2026 is used up (LLM_PROJECT_MONTHLY_BUDGET; owners see the spend in projectInsights.budget); it resets on 2027-01-01 00:00 UTC"
	if exceeded.Reason != want {
		t.Errorf("reason %q\nwant   %q", exceeded.Reason, want)
	}
}

// Without a budget the spend is not even read.
func TestGateWithoutABudget(t *testing.T) {
	m := &models{Analyzer: rules.New()}
	g := budget.New(budget.Config{Models: m, Spend: spender(func(int, time.Time) (float64, error) {
		t.Error("spend read without a budget")
		return 0, nil
	})})
	if _, err := g.Analyze(context.Background(), analysistest.Request()); err != nil || m.calls != 1 {
		t.Fatalf("%v after %d model analyses", err, m.calls)
	}
}
