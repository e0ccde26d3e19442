package llm_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// recorder is an injected Sleep that records instead of waiting.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

// newLLM is an OpenAI analyzer talking to stub (see newProviderLLM).
func newLLM(t *testing.T, stub *llmstub.Server, rec *recorder, timeout time.Duration, edit ...func(*llm.Config)) analysis.Analyzer {
	t.Helper()
	setTimeout := func(c *llm.Config) { c.Timeout = timeout }
	return newProviderLLM(t, "openai", "gpt-test", stub.URL, "sk-secret", rec, append([]func(*llm.Config){setTimeout}, edit...)...)
}

// newProviderLLM is an analyzer for provider with 3 attempts, backoff from
// 1s to 8s and rec as its Sleep.
func newProviderLLM(t *testing.T, provider, model, baseURL, key string, rec *recorder, edit ...func(*llm.Config)) analysis.Analyzer {
	t.Helper()
	cfg := llm.Config{
		Provider: provider, Model: model, BaseURL: baseURL, APIKey: key, Timeout: 5 * time.Second,
		MaxAttempts: 3, Temperature: 0.3, Sleep: rec.Sleep, BaseBackoff: time.Second, MaxBackoff: 8 * time.Second,
	}
	for _, e := range edit {
		e(&cfg)
	}
	a, err := llm.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Provider() != provider || a.Model() != model {
		t.Fatalf("analyzer says %s/%s", a.Provider(), a.Model())
	}
	return a
}

// status names an HTTP status code in test names and messages.
func status(code int) string { return strconv.Itoa(code) }
