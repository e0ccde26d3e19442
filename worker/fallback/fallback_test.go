package fallback

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

const attempts = 2

// openAI is langchaingo's real OpenAI client against stub, with 2 attempts
// and no waiting between them.
func openAI(t *testing.T, stub *llmstub.Server, model string) analysis.Analyzer {
	t.Helper()
	a, err := llm.New(context.Background(), llm.Config{
		Provider: "openai", Model: model, BaseURL: stub.URL, APIKey: "sk-test", Timeout: 5 * time.Second,
		MaxAttempts: attempts, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// switchable answers 500 until good is set, then a valid analysis.
func switchable(t *testing.T) (*llmstub.Server, *atomic.Bool) {
	good := &atomic.Bool{}
	return llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		if good.Load() {
			return llmstub.ToolCall("record_analysis", analysistest.Good)
		}
		return llmstub.Status(500, "upstream exploded")
	}), good
}

func chain(t *testing.T, cfg Config) *Chain {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFailingPrimaryFallsBackAndSaysWhy(t *testing.T) {
	stub, _ := switchable(t)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()}})
	res, err := c.Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatalf("the fallback should have answered: %v", err)
	}
	if res.Provider != "builtin" || res.Model != rules.New().Model() {
		t.Errorf("answered by %s/%s, want the built-in rules", res.Provider, res.Model)
	}
	if !strings.Contains(res.FallbackReason, "openai failed") || !strings.Contains(res.FallbackReason, "HTTP 500") {
		t.Errorf("FallbackReason = %q, want openai's failure", res.FallbackReason)
	}
	if got := stub.Calls(); got != attempts {
		t.Errorf("primary called %d times, want its %d attempts", got, attempts)
	}
}

func TestAnsweringPrimaryHasNoReason(t *testing.T) {
	stub, good := switchable(t)
	good.Store(true)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()}})
	res, err := c.Analyze(context.Background(), analysistest.Request())
	if err != nil || res.Provider != "openai" || res.Model != "gpt-test" || res.FallbackReason != "" {
		t.Fatalf("got %s/%s reason %q, err %v; want openai/gpt-test without a reason", res.Provider, res.Model, res.FallbackReason, err)
	}
}

func TestSecondModelProviderAnswers(t *testing.T) {
	down, _ := switchable(t)
	up, good := switchable(t)
	good.Store(true)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, down, "primary"), openAI(t, up, "secondary"), rules.New()}})
	res, err := c.Analyze(context.Background(), analysistest.Request())
	if err != nil || res.Model != "secondary" || res.FallbackReason == "" {
		t.Fatalf("got %s/%s reason %q, err %v; want the secondary model with a reason", res.Provider, res.Model, res.FallbackReason, err)
	}
}

func TestBreakerStopsCallingAFailingProvider(t *testing.T) {
	stub, _ := switchable(t)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()},
		Failures: 2, OpenTimeout: time.Hour})
	for range 2 {
		if _, err := c.Analyze(context.Background(), analysistest.Request()); err != nil {
			t.Fatal(err)
		}
	}
	if got := stub.Calls(); got != 2*attempts {
		t.Fatalf("primary called %d times in 2 analyses, want %d", got, 2*attempts)
	}
	res, err := c.Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	if got := stub.Calls(); got != 2*attempts {
		t.Errorf("primary called again (%d calls) although its breaker is open", got)
	}
	if res.Provider != "builtin" || !strings.Contains(res.FallbackReason, "not called for now") {
		t.Errorf("got %s with reason %q, want builtin because openai's breaker is open", res.Provider, res.FallbackReason)
	}
}

func TestOpenBreakerProbesAgain(t *testing.T) {
	stub, good := switchable(t)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()},
		Failures: 1, OpenTimeout: 10 * time.Millisecond})
	if res, err := c.Analyze(context.Background(), analysistest.Request()); err != nil || res.Provider != "builtin" {
		t.Fatalf("got %s, err %v", res.Provider, err)
	}
	primary := c.links[0].breaker
	if primary.State() == gobreaker.StateClosed {
		t.Fatal("the breaker stayed closed after the failure")
	}
	good.Store(true)
	// Wait for the breaker's own clock, not a guess of ours: half-open
	// is when it lets a probe through.
	for primary.State() != gobreaker.StateHalfOpen {
		time.Sleep(time.Millisecond)
	}
	res, err := c.Analyze(context.Background(), analysistest.Request())
	if err != nil || res.Provider != "openai" || res.FallbackReason != "" {
		t.Fatalf("the probe should have reached openai again: got %s reason %q, err %v", res.Provider, res.FallbackReason, err)
	}
	if primary.State() != gobreaker.StateClosed {
		t.Errorf("breaker %s after a good probe, want closed", primary.State())
	}
}

func TestRejectedRequestDoesNotFallBack(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(400, "unknown model") })
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()}, Failures: 1})
	for range 2 {
		_, err := c.Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Fatalf("err = %v, want the provider's rejection", err)
		}
	}
	if got := stub.Calls(); got != 2 {
		t.Errorf("primary called %d times, want 2: a rejection must not open its breaker", got)
	}
}

func TestEveryProviderFailing(t *testing.T) {
	a, _ := switchable(t)
	b, _ := switchable(t)
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, a, "one"), openAI(t, b, "two")}})
	_, err := c.Analyze(context.Background(), analysistest.Request())
	if err == nil || !strings.Contains(err.Error(), "no model provider could answer") || !analysis.Unavailable(err) {
		t.Fatalf("err = %v, want every provider's failure", err)
	}
}

// A primary that asks the job to wait (a Retry-After longer than it sits
// out) is not failing, nor answering: the wait is the outcome, the
// fallback is not asked, and a probe of a half-open breaker that is told
// to wait leaves it half-open, neither closed as if the provider were back
// nor open again.
func TestWaitIsNeitherAFallbackNorABreakerVerdict(t *testing.T) {
	var waits atomic.Bool
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		if waits.Load() {
			return llmstub.Status(429, "slow down").WithHeader("Retry-After", "60")
		}
		return llmstub.Status(500, "upstream exploded")
	})
	c := chain(t, Config{Analyzers: []analysis.Analyzer{openAI(t, stub, "gpt-test"), rules.New()}, Failures: 1, OpenTimeout: 50 * time.Millisecond})
	req := analysistest.Request()
	req.MayWaitLater = true
	if _, err := c.Analyze(context.Background(), req); err != nil { // the fallback answers; the breaker opens
		t.Fatal(err)
	}
	breaker := c.links[0].breaker
	testutil.WaitFor(t, "the breaker to let a probe through", func() bool { return breaker.State() == gobreaker.StateHalfOpen })
	waits.Store(true)
	_, err := c.Analyze(context.Background(), req)
	var wait *analysis.WaitError
	if !errors.As(err, &wait) {
		t.Fatalf("Analyze = %v; want the primary's wait, not the fallback's answer", err)
	}
	if state := breaker.State(); state != gobreaker.StateHalfOpen {
		t.Fatalf("after a probe told to wait the breaker is %v; want half-open still", state)
	}
}
