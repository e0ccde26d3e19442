// Package budget is an Analyzer that keeps a project's model calls within
// its monthly budget (LLM_PROJECT_MONTHLY_BUDGET): before an analysis it
// reads what the project's analyses cost this UTC calendar month, and once
// that has reached the budget no model is called for the project until the
// month ends. Its analyses then go to the built-in rules when LLM_FALLBACK
// names them (the result's fallback reason says why), or fail with a reason
// that names the spend, the budget, the setting and when it resets.
//
// The check is made once, before the analysis: analyses already running
// when the budget is reached finish, so the spend may pass the budget by
// what they cost.
package budget

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// Spender reads a project's spend in the month holding now (the pipeline's
// MonthSpend).
type Spender interface {
	MonthSpend(ctx context.Context, projectID int, now time.Time) (float64, error)
}

// Config configures the gate.
type Config struct {
	// Models is what analyses use while the project is within its budget:
	// the model providers, with their fallbacks.
	Models analysis.Analyzer
	// Builtin answers instead once the budget is used up; nil when
	// LLM_FALLBACK does not name builtin, and the analysis then fails.
	Builtin analysis.Analyzer
	Budget  spend.Budget
	Spend   Spender
	Now     func() time.Time // optional; tests move the clock
	Logger  *slog.Logger     // optional
}

// Gate is the budget-keeping Analyzer.
type Gate struct{ cfg Config }

// New returns the gate of cfg.
func New(cfg Config) *Gate {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gate{cfg: cfg}
}

// Provider and Model name the models: what the gate is meant to use.
func (g *Gate) Provider() string { return g.cfg.Models.Provider() }
func (g *Gate) Model() string    { return g.cfg.Models.Model() }

// ExceededError is an analysis refused because its project's budget is used
// up and no built-in fallback is configured.
type ExceededError struct {
	Reason string // Exceeded's text: the spend, the budget, when it resets
}

func (e *ExceededError) Error() string {
	return "no model was called: " + e.Reason +
		". Retry the feedback then (retryFeedback), raise LLM_PROJECT_MONTHLY_BUDGET, or add builtin to LLM_FALLBACK so that analyses go on with the built-in rules meanwhile"
}

// Analyze runs the analysis with the models while the project is within
// its budget, else with the built-in rules or not at all.
func (g *Gate) Analyze(ctx context.Context, req analysis.Request) (analysis.Result, error) {
	if g.cfg.Budget.Monthly <= 0 {
		return g.cfg.Models.Analyze(ctx, req)
	}
	now := g.cfg.Now()
	spent, err := g.cfg.Spend.MonthSpend(ctx, req.Project.ID, now)
	if err != nil {
		if ctx.Err() != nil {
			return analysis.Result{}, fmt.Errorf("the analysis was interrupted: %w", ctx.Err())
		}
		// The database is what stores the result too: an outage fails
		// more than this check. Failing the feedback for a check that
		// could not be made would lose it; the budget is kept again as
		// soon as the spend can be read.
		g.cfg.Logger.WarnContext(ctx, "could not read the project's model spend; analysing without the budget check", "project_id", req.Project.ID, "err", err)
		return g.cfg.Models.Analyze(ctx, req)
	}
	if !g.cfg.Budget.Exceeded(spent) {
		return g.cfg.Models.Analyze(ctx, req)
	}
	reason := Exceeded(now)
	if g.cfg.Builtin == nil {
		g.cfg.Logger.WarnContext(ctx, "project over its model budget: analysis refused", "project_id", req.Project.ID, "spent", spent, "budget", g.cfg.Budget.Monthly)
		return analysis.Result{}, &ExceededError{Reason: reason}
	}
	res, err := g.cfg.Builtin.Analyze(ctx, req)
	if err != nil {
		return analysis.Result{}, err
	}
	res.FallbackReason = reason
	g.cfg.Logger.InfoContext(ctx, "project over its model budget: analysed by the built-in rules", "project_id", req.Project.ID, "spent", spent, "budget", g.cfg.Budget.Monthly)
	return res, nil
}

// Exceeded says that a project's budget is used up this month (the one
// holding now), and when it resets. Every member reads it (it is the
// feedback's error or fallback reason); the amounts are for owners, in
// projectInsights.budget.
func Exceeded(now time.Time) string {
	start, next := spend.Month(now)
	return fmt.Sprintf("the project's model budget for %s is used up (LLM_PROJECT_MONTHLY_BUDGET; owners see the spend in projectInsights.budget); it resets on %s 00:00 UTC",
		start.Format("January 2006"), next.Format("2006-01-02"))
}
