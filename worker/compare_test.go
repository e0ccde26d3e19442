package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	entanalysis "github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/budget"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// other is the second model of the comparison tests: another stub server,
// another model, answering with another suggestion.
var other = compare.Target{Provider: "openai", Model: "other-model"}

// comparePrices prices both models: the primary at 2/8 and the other at
// 10/20 per million tokens.
var comparePrices = spend.Prices{
	{Provider: "openai", Model: "stub-model"}:  {Input: 2, Output: 8},
	{Provider: "openai", Model: "other-model"}: {Input: 10, Output: 20},
}

// otherModel starts the second stub and the analyzer that calls it through
// langchaingo's real client; with a budget, behind the gate as server.go
// puts comparers.
func otherModel(t *testing.T, e *env, b spend.Budget) (*llmstub.Server, map[string]analysis.Analyzer) {
	t.Helper()
	stub := llmstub.New(t, func(r llmstub.Request) llmstub.Reply {
		return toolAnswer("Notifications first",
			map[string]any{"type": "task_priority", "task_id": e.taskIDs[1], "description": "Raise the notifications' priority",
				"original_value": "2", "new_value": "5", "reasoning": "late pushes"},
		).WithUsage(10_000, 1_000)
	})
	var a analysis.Analyzer
	a, err := llm.New(accesstest.System(), llm.Config{
		Provider: other.Provider, Model: other.Model, BaseURL: stub.URL, APIKey: "test-key",
		Timeout: 5 * time.Second, MaxAttempts: 2, Temperature: 0.2, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Monthly > 0 {
		a = budget.New(budget.Config{Models: a, Budget: b, Spend: e.pipeline})
	}
	return stub, map[string]analysis.Analyzer{other.Key(): a}
}

func (e *env) analyses(feedbackID int) []*ent.Analysis {
	e.t.Helper()
	list, err := e.client.Analysis.Query().Where(entanalysis.FeedbackID(feedbackID)).
		Order(ent.Asc(entanalysis.FieldID)).All(accesstest.System())
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) waitRun(id int) *ent.Analysis {
	e.t.Helper()
	var a *ent.Analysis
	testutil.WaitFor(e.t, "the comparison run to finish", func() bool {
		a = e.client.Analysis.GetX(accesstest.System(), id)
		return a.Status != entanalysis.StatusPending
	})
	return a
}

// A completed analysis is recorded as the feedback's primary Analysis; a
// comparison run asks the other model, in the worker, and stores its
// answer, latency, tokens and cost on a run of its own, leaving the
// feedback, its adjustments and the primary model alone.
func TestComparisonRunIsStoredNextToThePrimaryAnalysis(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(30_000, 2_000) })
	stub, comparers := otherModel(t, e, spend.Budget{})
	e.startWorker(workerOpts{prices: comparePrices, comparers: comparers})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	e.statuses(fb.ID)
	done := e.reload(fb.ID)

	list := e.analyses(fb.ID)
	if len(list) != 1 {
		t.Fatalf("%d analyses, want the primary one", len(list))
	}
	primary := list[0]
	if !primary.Primary || primary.Provider != "openai" || primary.Model != "stub-model" || primary.Status != entanalysis.StatusCompleted ||
		primary.LatencyMs == nil || primary.InputTokens == nil || *primary.InputTokens != 30_000 ||
		primary.EstimatedCost == nil || *primary.EstimatedCost != *done.EstimatedCost || len(primary.Suggestions) != 2 {
		t.Fatalf("primary analysis %+v", primary)
	}

	runs, err := e.pipeline.Compare(accesstest.System(), fb.ID, []compare.Target{other})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Primary || runs[0].Status != entanalysis.StatusPending {
		t.Fatalf("runs %+v, want one PENDING comparison", runs)
	}
	run := e.waitRun(runs[0].ID)
	if run.Status != entanalysis.StatusCompleted || run.Summary == nil || *run.Summary != "Notifications first" || run.LatencyMs == nil {
		t.Fatalf("run %+v", run)
	}
	if len(run.Suggestions) != 1 || run.Suggestions[0].Type != "TASK_PRIORITY" || *run.Suggestions[0].TaskID != e.taskIDs[1] ||
		*run.Suggestions[0].NewValue != "5" {
		t.Fatalf("run's claims %+v", run.Suggestions)
	}
	// 10,000 × 10/1M + 1,000 × 20/1M = 0.1 + 0.02
	if run.InputTokens == nil || *run.InputTokens != 10_000 || run.EstimatedCost == nil || *run.EstimatedCost < 0.119999 || *run.EstimatedCost > 0.120001 {
		t.Fatalf("run's tokens %v cost %v, want 10000 and 0.12", run.InputTokens, run.EstimatedCost)
	}
	if stub.Calls() != 1 || e.llm.Calls() != 1 {
		t.Errorf("%d calls of the other model, %d of the primary; want 1 and 1", stub.Calls(), e.llm.Calls())
	}
	after := e.reload(fb.ID)
	if after.Version != done.Version || len(after.Edges.Adjustments) != 2 || *after.Summary != *done.Summary {
		t.Errorf("the feedback changed: version %d→%d, %d adjustments", done.Version, after.Version, len(after.Edges.Adjustments))
	}
	for _, a := range after.Edges.Adjustments {
		if a.Status != adjustment.StatusProposed || (a.TaskID != nil && *a.TaskID == e.taskIDs[1]) {
			t.Errorf("adjustment %+v: a comparison's claim became a suggestion", a)
		}
	}
	// The run's cost counts toward the project's month.
	spent, err := e.pipeline.MonthSpend(accesstest.System(), e.projectID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := *done.EstimatedCost + *run.EstimatedCost; spent < want-1e-9 || spent > want+1e-9 {
		t.Errorf("month spend %v, want the feedback's and the run's: %v", spent, want)
	}
}

// COMPARE_SAMPLE_RATE=1 compares every feedback against COMPARE_PROVIDERS
// once its analysis completes, without anyone asking.
func TestSampledFeedbackIsComparedAutomatically(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	stub, comparers := otherModel(t, e, spend.Budget{})
	e.startWorker(workerOpts{comparers: comparers, compare: compare.Settings{
		SampleRate: 1, Sampled: []compare.Target{{Provider: "openai", Model: "stub-model"}, other}}})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	e.statuses(fb.ID)
	var list []*ent.Analysis
	testutil.WaitFor(t, "the sampled comparison run", func() bool {
		list = e.analyses(fb.ID)
		return len(list) == 2 && list[1].Status != entanalysis.StatusPending
	})
	// The primary's own model is not compared with itself.
	if !list[0].Primary || list[1].Primary || list[1].Model != other.Model || list[1].Status != entanalysis.StatusCompleted || list[1].RequestedByID != nil {
		t.Fatalf("analyses %+v / %+v", list[0], list[1])
	}
	if stub.Calls() != 1 {
		t.Errorf("%d calls of the other model, want 1", stub.Calls())
	}
}

// A project past its monthly budget gets no comparison runs: the run fails
// saying why, and the model is not called.
func TestComparisonRunKeepsTheProjectsBudget(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(1_000_000, 0) })
	stub, comparers := otherModel(t, e, spend.Budget{Monthly: 1, Currency: "USD"})
	e.startWorker(workerOpts{prices: comparePrices, comparers: comparers})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0]) // costs 2: past the budget
	e.statuses(fb.ID)
	runs, err := e.pipeline.Compare(accesstest.System(), fb.ID, []compare.Target{other})
	if err != nil {
		t.Fatal(err)
	}
	run := e.waitRun(runs[0].ID)
	if run.Status != entanalysis.StatusFailed || run.Error == nil || !strings.Contains(*run.Error, "budget") || stub.Calls() != 0 {
		t.Fatalf("run %s (%v) after %d calls, want FAILED over the budget without a call", run.Status, run.Error, stub.Calls())
	}
}
