package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/spend"
)

const spendQuery = `query($p: ID!, $f: ID!) {
	projectInsights(projectID: $p) {
		spend { inputTokens outputTokens estimatedCost currency unpricedAnalyses }
		models { provider model completed spend { inputTokens outputTokens estimatedCost currency unpricedAnalyses } }
		budget { currency monthlyBudget spentThisMonth remaining exceeded periodStart resetsAt }
	}
	node(id: $f) { ... on Feedback { inputTokens outputTokens estimatedCost } }
}`

// projectInsights reports tokens and costs per model to whoever may read
// the project, and the month's spend against the budget to its OWNERs only:
// the others get the rest of the report, a null budget and FORBIDDEN.
func TestProjectBudgetIsForOwners(t *testing.T) {
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.Budget = spend.Budget{Monthly: 5, Currency: "EUR"}
	})
	w := e.newWorld(t, "b")
	ctx := accesstest.System()
	project := dbID(t, w.own)
	now := time.Now().UTC()
	start, next := spend.Month(now)
	analysed := func(at time.Time, provider, model string, in, out int, cost *float64) int {
		return e.client.Feedback.Create().SetProjectID(project).SetFeedbackText("analysed").SetCreatedAt(at.Add(-time.Second)).
			SetStatus(feedback.StatusCompleted).SetProcessedAt(at).SetProvider(provider).SetModel(model).
			SetInputTokens(in).SetOutputTokens(out).SetNillableEstimatedCost(cost).SaveX(ctx).ID
	}
	f := analysed(now, "openai", "gpt-a", 1_000_000, 125_000, ptr(2.0))
	analysed(now, "openai", "gpt-a", 500_000, 62_500, ptr(1.5))
	analysed(now, "ollama", "unpriced", 4_000, 400, nil)
	analysed(start.Add(-time.Hour), "openai", "gpt-a", 9_000_000, 1_000_000, ptr(20.0)) // last month

	type usage struct {
		InputTokens, OutputTokens int
		EstimatedCost             *float64
		Currency                  string
		UnpricedAnalyses          int
	}
	var got struct {
		ProjectInsights struct {
			Spend  usage
			Models []struct {
				Provider, Model string
				Completed       int
				Spend           usage
			}
			Budget *struct {
				Currency                 string
				MonthlyBudget, Remaining *float64
				SpentThisMonth           float64
				Exceeded                 bool
				PeriodStart, ResetsAt    time.Time
			}
		}
		Node struct {
			InputTokens, OutputTokens *int
			EstimatedCost             *float64
		}
	}
	vars := map[string]any{"p": w.own, "f": gid.Encode(f)}
	for _, actor := range []string{owner, admin, editor, reader, key} {
		resp := gqltest.PostAs(t, e.url, w.credential(actor), spendQuery, vars)
		got.ProjectInsights.Budget = nil
		if err := json.Unmarshal(resp.Data, &got); err != nil {
			t.Fatalf("%s: %v (%s)", actor, err, resp.Data)
		}
		rep := got.ProjectInsights
		if rep.Spend != (usage{InputTokens: 10_504_000, OutputTokens: 1_187_900, EstimatedCost: rep.Spend.EstimatedCost, Currency: "EUR", UnpricedAnalyses: 1}) ||
			rep.Spend.EstimatedCost == nil || *rep.Spend.EstimatedCost != 23.5 {
			t.Errorf("%s: spend %+v", actor, rep.Spend)
		}
		if len(rep.Models) != 2 || rep.Models[0].Model != "gpt-a" || rep.Models[0].Spend.InputTokens != 10_500_000 || *rep.Models[0].Spend.EstimatedCost != 23.5 ||
			rep.Models[1].Model != "unpriced" || rep.Models[1].Spend.EstimatedCost != nil || rep.Models[1].Spend.UnpricedAnalyses != 1 || rep.Models[1].Spend.Currency != "EUR" {
			t.Errorf("%s: models %+v", actor, rep.Models)
		}
		if n := got.Node; n.InputTokens == nil || *n.InputTokens != 1_000_000 || *n.OutputTokens != 125_000 || *n.EstimatedCost != 2 {
			t.Errorf("%s: feedback tokens %v/%v cost %v", actor, n.InputTokens, n.OutputTokens, n.EstimatedCost)
		}
		what := fmt.Sprintf("%s's budget", actor)
		if actor == owner || actor == admin {
			checkOutcome(t, what, resp, ok)
			b := rep.Budget
			if b == nil || b.Currency != "EUR" || *b.MonthlyBudget != 5 || b.SpentThisMonth != 3.5 || *b.Remaining != 1.5 || b.Exceeded ||
				!b.PeriodStart.Equal(start) || !b.ResetsAt.Equal(next) {
				t.Errorf("%s: %+v", what, b)
			}
			continue
		}
		checkOutcome(t, what, resp, graph.CodeForbidden)
		if rep.Budget != nil {
			t.Errorf("%s: shown to a non-owner: %+v", what, rep.Budget)
		}
	}

	// Past the budget: exceeded, nothing remaining.
	analysed(now, "openai", "gpt-a", 1, 1, ptr(1.5))
	gqltest.MustPostAs(t, e.url, w.owner, spendQuery, vars, &got)
	if b := got.ProjectInsights.Budget; b == nil || b.SpentThisMonth != 5 || *b.Remaining != 0 || !b.Exceeded {
		t.Errorf("at the budget: %+v", b)
	}
}

func ptr[T any](v T) *T { return &v }
