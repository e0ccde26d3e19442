package worker_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

// stubPrices prices the stub's model at 2 per million input tokens and 8
// per million output tokens.
var stubPrices = spend.Prices{{Provider: "openai", Model: "stub-model"}: {Input: 2, Output: 8}}

// The tokens of every call of an analysis (the first answer and its repair)
// are stored with the feedback, with their cost by the price table.
func TestAnalysisStoresItsTokensAndCost(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(30_000, 2_000) })
	e.llm.Enqueue(llmstub.Text("Sure! Raise the login screen's priority.").WithUsage(20_000, 500))
	e.startWorker(workerOpts{prices: stubPrices})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	done := e.reload(fb.ID)
	if e.llm.Calls() != 2 {
		t.Fatalf("%d model calls, want the answer and its repair", e.llm.Calls())
	}
	if done.InputTokens == nil || *done.InputTokens != 50_000 || done.OutputTokens == nil || *done.OutputTokens != 2_500 {
		t.Fatalf("tokens %v/%v, want 50000/2500", done.InputTokens, done.OutputTokens)
	}
	// 50,000 × 2/1M + 2,500 × 8/1M = 0.1 + 0.02
	if done.EstimatedCost == nil || *done.EstimatedCost < 0.119999 || *done.EstimatedCost > 0.120001 {
		t.Fatalf("estimated cost %v, want 0.12", done.EstimatedCost)
	}
}

// A model without a price keeps its tokens and has no cost; the built-in
// rules use no tokens and cost nothing.
func TestUnpricedModelStoresTokensWithoutACost(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(1_000, 100) })
	e.startWorker(workerOpts{prices: spend.Prices{{Provider: "openai", Model: "another-model"}: {Input: 1, Output: 1}}})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	e.statuses(fb.ID)
	done := e.reload(fb.ID)
	if done.InputTokens == nil || *done.InputTokens != 1_000 || done.OutputTokens == nil || *done.OutputTokens != 100 || done.EstimatedCost != nil {
		t.Fatalf("tokens %v/%v cost %v, want 1000/100 and no cost", done.InputTokens, done.OutputTokens, done.EstimatedCost)
	}
}

// Past its monthly budget, a project's analyses call no model: the built-in
// rules answer and say why. Another project, and the next month, call the
// model again.
func TestProjectOverItsBudgetIsAnalysedByTheBuiltinRules(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(1_000_000, 10_000) })
	var ahead atomic.Int64 // how far the gate's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	// The first analysis costs 2 + 0.08: past the budget of 2.
	e.startWorker(workerOpts{prices: stubPrices, budget: spend.Budget{Monthly: 2, Currency: "USD"}, withFallback: true, now: now})

	first := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	e.statuses(first.ID)
	if done := e.reload(first.ID); *done.Provider != "openai" || done.EstimatedCost == nil || *done.EstimatedCost < 2 {
		t.Fatalf("first analysis by %s costing %v, want the model's, past the budget", *done.Provider, done.EstimatedCost)
	}

	second := e.submit("The login screen is urgent", &e.taskIDs[0])
	if got := e.statuses(second.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	done := e.reload(second.ID)
	if *done.Provider != "builtin" || *done.Model != rules.New().Model() || e.llm.Calls() != 1 {
		t.Fatalf("second analysis by %s/%s after %d model calls, want the built-in rules and no call", *done.Provider, *done.Model, e.llm.Calls())
	}
	_, next := spend.Month(now())
	for _, want := range []string{"budget", "is used up", "projectInsights.budget", "LLM_PROJECT_MONTHLY_BUDGET", "resets on " + next.Format("2006-01-02")} {
		if done.FallbackReason == nil || !strings.Contains(*done.FallbackReason, want) {
			t.Errorf("fallback reason %v lacks %q", done.FallbackReason, want)
		}
	}
	if strings.Contains(*done.FallbackReason, "USD") {
		t.Errorf("fallback reason %q shows the amounts to every member; they are the owners'", *done.FallbackReason)
	}
	if done.InputTokens == nil || *done.InputTokens != 0 || done.EstimatedCost == nil || *done.EstimatedCost != 0 {
		t.Errorf("the built-in rules' tokens %v cost %v, want 0 and 0", done.InputTokens, done.EstimatedCost)
	}

	// Another project has its own budget.
	other := e.client.Project.Create().SetName("Website").SaveX(accesstest.System())
	fb, err := e.pipeline.Submit(accesstest.System(), pipeline.Submission{ProjectID: other.ID, Text: "The checkout is slow"})
	if err != nil {
		t.Fatal(err)
	}
	waitFinished(t, e, fb.ID)
	if p := e.reload(fb.ID).Provider; *p != "openai" || e.llm.Calls() != 2 {
		t.Errorf("another project's analysis by %s (%d model calls), want the model's", *p, e.llm.Calls())
	}

	// Next month, the budget is whole again.
	ahead.Store(int64(next.Sub(time.Now()) + time.Hour))
	third := e.submit("The push notifications are late", &e.taskIDs[1])
	e.statuses(third.ID)
	if p := e.reload(third.ID).Provider; *p != "openai" || e.llm.Calls() != 3 {
		t.Errorf("next month's analysis by %s (%d model calls), want the model's", *p, e.llm.Calls())
	}
}

// Without the built-in rules to fall back to, a project past its budget
// has its feedback FAILED with a reason that says what to do.
func TestProjectOverItsBudgetFailsClearlyWithoutAFallback(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(1_000_000, 10_000) })
	e.startWorker(workerOpts{prices: stubPrices, budget: spend.Budget{Monthly: 1.5, Currency: "EUR"}})
	first := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	e.statuses(first.ID)

	second := e.submit("The login screen is urgent", &e.taskIDs[0])
	if got := e.statuses(second.ID); got[len(got)-1] != "FAILED" {
		t.Fatalf("events %v, want FAILED", got)
	}
	done := e.reload(second.ID)
	_, next := spend.Month(time.Now())
	for _, want := range []string{"no model was called", "is used up", "LLM_PROJECT_MONTHLY_BUDGET",
		"resets on " + next.Format("2006-01-02"), "LLM_FALLBACK"} {
		if done.Error == nil || !strings.Contains(*done.Error, want) {
			t.Errorf("error %v lacks %q", done.Error, want)
		}
	}
	if e.llm.Calls() != 1 || done.Provider != nil {
		t.Errorf("%d model calls, provider %v: want no call for the second feedback", e.llm.Calls(), done.Provider)
	}
}

// waitFinished waits for feedback id, of any project, to finish.
func waitFinished(t *testing.T, e *env, id int) {
	t.Helper()
	testutil.WaitFor(t, "the feedback to finish", func() bool {
		s := e.reload(id).Status
		return s == feedback.StatusCompleted || s == feedback.StatusFailed
	})
}

// An analysis that fails after its calls used tokens (an answer invalid
// twice) stores them and their cost, so they count toward the budget; a
// retry's are added to them.
func TestFailedAnalysisKeepsItsSpendAndARetryAddsToIt(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).WithUsage(3_000, 30) })
	e.llm.Enqueue(llmstub.Text("no").WithUsage(1_000, 10), llmstub.Text("still no").WithUsage(2_000, 20))
	e.startWorker(workerOpts{prices: stubPrices})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	if got := e.statuses(fb.ID); got[len(got)-1] != "FAILED" {
		t.Fatalf("events %v, want FAILED", got)
	}
	failed := e.reload(fb.ID)
	// 3,000 × 2/1M + 30 × 8/1M
	if failed.InputTokens == nil || *failed.InputTokens != 3_000 || *failed.OutputTokens != 30 ||
		failed.EstimatedCost == nil || !near(*failed.EstimatedCost, 0.00624) || failed.Provider != nil {
		t.Fatalf("failed analysis: tokens %v/%v cost %v provider %v", failed.InputTokens, failed.OutputTokens, failed.EstimatedCost, failed.Provider)
	}

	if _, err := e.pipeline.Retry(accesstest.System(), fb.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v, want the retry to complete", got)
	}
	done := e.reload(fb.ID)
	if *done.InputTokens != 6_000 || *done.OutputTokens != 60 || !near(*done.EstimatedCost, 0.01248) {
		t.Fatalf("after the retry: tokens %v/%v cost %v, want both analyses'", *done.InputTokens, *done.OutputTokens, *done.EstimatedCost)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
