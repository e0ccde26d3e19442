package llm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// An analysis's usage is every call's that reported one: the first answer,
// the repair, not the failed attempt in between (it reported none).
func TestLLMUsageSumsEveryCall(t *testing.T) {
	stub := llmstub.New(t, nil)
	stub.Enqueue(
		llmstub.Text("Sure! Focus on checkout.").WithUsage(1200, 40),
		llmstub.Status(http.StatusBadGateway, "upstream"),
		llmstub.ToolCall("record_analysis", analysistest.Good).WithUsage(1500, 300),
	)
	res, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	if stub.Calls() != 3 {
		t.Fatalf("%d calls", stub.Calls())
	}
	if res.Usage == nil || *res.Usage != (analysis.Usage{InputTokens: 2700, OutputTokens: 340}) {
		t.Fatalf("usage %+v", res.Usage)
	}

	stub.Enqueue(llmstub.ToolCall("record_analysis", analysistest.Good).WithUsage(10, 5))
	res, err = newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), analysistest.Request())
	if err != nil || res.Usage == nil || *res.Usage != (analysis.Usage{InputTokens: 10, OutputTokens: 5}) {
		t.Fatalf("one call: %+v %v", res.Usage, err)
	}
}

// The built-in price table prices every provider's default model.
func TestDefaultPricesCoverTheDefaultModels(t *testing.T) {
	prices := llm.DefaultPrices()
	for _, p := range llm.Providers {
		if !prices.Has(p.Name, p.DefaultModel) {
			t.Errorf("%s:%s has no built-in price", p.Name, p.DefaultModel)
		}
	}
	c := prices.Cost("openai", "gpt-4o-mini", 1_000_000, 500_000)
	if c == nil || *c != 0.15+0.30 {
		t.Errorf("gpt-4o-mini, 1M in and 0.5M out: %v", c)
	}
	if c := prices.Cost("openai", "gpt-unknown", 10, 10); c != nil {
		t.Errorf("an unknown model costs %v, want unknown", *c)
	}
	if c := prices.Cost(spend.Builtin, "rules-v1", 0, 0); c == nil || *c != 0 {
		t.Errorf("the built-in rules cost %v", c)
	}
}
