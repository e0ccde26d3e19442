package analysis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// request is a project with two tasks and a feedback about the first.
func request() analysis.Request {
	est := 6.0
	taskID := 11
	return analysis.Request{
		Project: analysis.Project{ID: 1, Name: "Website", Description: "Relaunch in May", Status: "ACTIVE"},
		Tasks: []analysis.Task{
			{ID: 11, Title: "Checkout page", Description: "Pay by card", Status: "IN_PROGRESS", Priority: 2, EstimatedHours: &est},
			{ID: 12, Title: "Blog", Status: "TODO"},
		},
		Feedback: analysis.Feedback{ID: 5, Text: "Checkout is urgent, customers are stuck", UserName: "Ada", TaskID: &taskID},
	}
}

// good is a valid answer for request().
const good = `{"summary":"Fix checkout","adjustments":[{"type":"task_priority","task_id":11,"description":"Raise it","original_value":"2","new_value":"5","reasoning":"stuck"}]}`

// toJSON writes a Result in the answer shape models use.
func toJSON(t *testing.T, r analysis.Result) string {
	t.Helper()
	type adj struct {
		Type          string  `json:"type"`
		TaskID        *int    `json:"task_id"`
		Description   string  `json:"description"`
		OriginalValue *string `json:"original_value"`
		NewValue      *string `json:"new_value"`
		Reasoning     *string `json:"reasoning"`
	}
	out := struct {
		Summary     string `json:"summary"`
		Adjustments []adj  `json:"adjustments"`
	}{Summary: r.Summary, Adjustments: []adj{}}
	for _, a := range r.Adjustments {
		out.Adjustments = append(out.Adjustments, adj{string(a.Type), a.TaskID, a.Description, a.OriginalValue, a.NewValue, a.Reasoning})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

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
func newLLM(t *testing.T, stub *llmstub.Server, rec *recorder, timeout time.Duration, edit ...func(*analysis.LLMConfig)) analysis.Analyzer {
	t.Helper()
	setTimeout := func(c *analysis.LLMConfig) { c.Timeout = timeout }
	return newProviderLLM(t, "openai", "gpt-test", stub.URL, "sk-secret", rec, append([]func(*analysis.LLMConfig){setTimeout}, edit...)...)
}

// newProviderLLM is an analyzer for provider with 3 attempts, backoff from
// 1s to 8s and rec as its Sleep.
func newProviderLLM(t *testing.T, provider, model, baseURL, key string, rec *recorder, edit ...func(*analysis.LLMConfig)) analysis.Analyzer {
	t.Helper()
	cfg := analysis.LLMConfig{
		Provider: provider, Model: model, BaseURL: baseURL, APIKey: key, Timeout: 5 * time.Second,
		MaxAttempts: 3, Temperature: 0.3, Sleep: rec.Sleep, BaseBackoff: time.Second, MaxBackoff: 8 * time.Second,
	}
	for _, e := range edit {
		e(&cfg)
	}
	a, err := analysis.NewLLM(context.Background(), cfg)
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
