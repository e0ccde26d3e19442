package llm_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

func TestLLMToolCallHappyPath(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.ToolCall("record_analysis", analysistest.Good) })
	var mu sync.Mutex
	var calls []error
	a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) {
		c.OnCall = func(provider, model string, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			if provider == "openai" && model == "gpt-test" {
				calls = append(calls, err)
			}
		}
	})
	if a.Provider() != "openai" || a.Model() != "gpt-test" {
		t.Fatalf("%s/%s", a.Provider(), a.Model())
	}
	res, err := a.Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "openai" || res.Model != "gpt-test" || res.Summary != "Fix checkout" || len(res.Adjustments) != 1 || *res.Adjustments[0].TaskID != 11 {
		t.Fatalf("%+v", res)
	}
	if len(calls) != 1 || calls[0] != nil {
		t.Errorf("OnCall saw %v", calls)
	}

	// What the provider received.
	req := stub.Requests()[0]
	if req.Model != "gpt-test" || req.Temperature == nil || *req.Temperature != 0.3 {
		t.Errorf("model %s temperature %v", req.Model, req.Temperature)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" ||
		!strings.Contains(req.Messages[0].Content, "project-planning assistant") {
		t.Fatalf("messages %+v", req.Messages)
	}
	for _, want := range []string{`"name":"Website"`, `{"id":11,"title":"Checkout page"`, `"user_name":"Ada","task_id":11}`, "customers are stuck"} {
		if !strings.Contains(req.Messages[1].Content, want) {
			t.Errorf("user message lacks %q", want)
		}
	}
	var tool struct {
		Type     string
		Function struct {
			Name       string
			Strict     bool
			Parameters struct {
				Required []string
			}
		}
	}
	var choice struct {
		Type     string
		Function struct{ Name string }
	}
	if len(req.Tools) != 1 {
		t.Fatalf("tools %s", req.Tools)
	}
	if err := json.Unmarshal(req.Tools[0], &tool); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(req.ToolChoice, &choice); err != nil {
		t.Fatalf("tool_choice %s: %v", req.ToolChoice, err)
	}
	if tool.Type != "function" || tool.Function.Name != "record_analysis" || !tool.Function.Strict ||
		strings.Join(tool.Function.Parameters.Required, ",") != "summary,adjustments" {
		t.Errorf("tool %s", req.Tools[0])
	}
	if choice.Type != "function" || choice.Function.Name != "record_analysis" {
		t.Errorf("tool_choice %s, want record_analysis forced", req.ToolChoice)
	}
}

// The configured budget bounds what the model is sent.
func TestLLMPromptBudget(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.ToolCall("record_analysis", analysistest.Good) })
	req := analysistest.Request()
	for i := range 200 {
		req.Tasks = append(req.Tasks, analysis.Task{ID: 100 + i, Title: "Filler", Description: strings.Repeat("x", 5000), Status: "TODO"})
	}
	for _, budget := range []int{0, analysis.MinPromptChars} {
		a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) { c.MaxPromptChars = budget })
		if _, err := a.Analyze(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		msgs := stub.Requests()[stub.Calls()-1].Messages
		n := utf8.RuneCountInString(msgs[0].Content) + utf8.RuneCountInString(msgs[1].Content)
		if limit := cmp.Or(budget, analysis.DefaultMaxPromptChars); n > limit || n < limit*9/10 {
			t.Errorf("budget %d: sent %d characters", budget, n)
		}
		if !strings.Contains(msgs[1].Content, `"tasks":[{"id":11,`) || !strings.Contains(msgs[1].Content, `"tasks_left_out":`) {
			t.Errorf("budget %d: the feedback's task is not first, or nothing says what was left out", budget)
		}
	}
}

func TestLLMTextAnswerInsteadOfToolCall(t *testing.T) {
	stub := llmstub.New(t, nil)
	stub.Enqueue(llmstub.Text("```json\n" + analysistest.Good + "\n```"))
	if res, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), analysistest.Request()); err != nil || len(res.Adjustments) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestLLMRepair(t *testing.T) {
	cases := []struct {
		name  string
		first llmstub.Reply
		told  string // in the repair request
	}{
		{"invalid answer", llmstub.ToolCall("record_analysis", `{"summary":"s","adjustments":[{"type":"rewrite","description":"d"}]}`), "adjustments[0].type must be one of"},
		{"not JSON", llmstub.Text("Sure! Focus on checkout."), "not the expected JSON object"},
		{"truncated", llmstub.Truncated(`{"summary":"Fix`), "cut off"},
		{"empty", llmstub.Text(""), "the answer is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stub := llmstub.New(t, nil)
			stub.Enqueue(c.first, llmstub.ToolCall("record_analysis", analysistest.Good))
			rec := &recorder{}
			res, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), analysistest.Request())
			if err != nil || len(res.Adjustments) != 1 {
				t.Fatalf("%+v %v", res, err)
			}
			reqs := stub.Requests()
			if len(reqs) != 2 || len(rec.got()) != 0 {
				t.Fatalf("%d calls, sleeps %v", len(reqs), rec.got())
			}
			msgs := reqs[1].Messages
			if len(msgs) != 4 || msgs[2].Role != "assistant" || msgs[3].Role != "user" || msgs[0].Content != reqs[0].Messages[0].Content {
				t.Fatalf("repair conversation %+v", msgs)
			}
			if !strings.Contains(msgs[3].Content, c.told) {
				t.Errorf("repair request %q does not say %q", msgs[3].Content, c.told)
			}
			if len(reqs[1].Tools) != 1 || len(reqs[1].ToolChoice) == 0 {
				t.Error("the repair request lost the tool")
			}
		})
	}
}

func TestLLMInvalidTwice(t *testing.T) {
	stub := llmstub.New(t, nil)
	stub.Enqueue(llmstub.Text("no"), llmstub.ToolCall("record_analysis", `{"summary":" ","adjustments":[{"type":"rewrite","description":"d"}]}`))
	_, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), analysistest.Request())
	if err == nil || !strings.HasPrefix(err.Error(), "the model's answer was invalid twice: summary is required; adjustments[0].type must be one of task_priority") {
		t.Fatalf("error %v", err)
	}
	if stub.Calls() != 2 {
		t.Errorf("%d calls, want 2", stub.Calls())
	}
}

// A second invalid answer with a summary or a valid suggestion is kept, minus
// its invalid suggestions.
func TestLLMSalvagesTheRepairedAnswer(t *testing.T) {
	stub := llmstub.New(t, nil)
	stub.Enqueue(llmstub.Text("no"), llmstub.ToolCall("record_analysis", `{"summary":"Checkout first","adjustments":[
		{"type":"rewrite","task_id":11,"description":"d"},
		{"type":"task_priority","task_id":11,"description":"Raise it","new_value":"5"},
		{"type":"task_estimate","task_id":12,"description":"d","new_value":"a while"},
		{"type":"task_status","task_id":null,"description":"Unblock it","new_value":"TODO"}]}`))
	res, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != "Checkout first" || res.Provider != "openai" || len(res.Adjustments) != 2 || res.DroppedSuggestions != 2 || len(res.DroppedReasons) != 2 {
		t.Fatalf("%+v", res)
	}
	if a := res.Adjustments[0]; a.Type != adjustment.AdjustmentTypeTaskPriority || *a.TaskID != 11 {
		t.Errorf("%+v", a)
	}
	if a := res.Adjustments[1]; a.Type != adjustment.AdjustmentTypeGeneral || a.TaskID != nil || !strings.HasPrefix(a.Description, "Unblock it") {
		t.Errorf("%+v", a)
	}
	if !strings.HasPrefix(res.DroppedReasons[0], "adjustments[0].type must be one of") || !strings.HasPrefix(res.DroppedReasons[1], "adjustments[2].new_value for task_estimate") {
		t.Errorf("reasons %q", res.DroppedReasons)
	}
	if stub.Calls() != 2 {
		t.Errorf("%d calls, want 2", stub.Calls())
	}
}

func TestLLMRetries(t *testing.T) {
	t.Run("500 until the last attempt", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "upstream exploded") })
		rec := &recorder{}
		var failures []string
		var mu sync.Mutex
		_, err := newLLM(t, stub, rec, 5*time.Second, func(c *llm.Config) {
			c.OnCall = func(_, _ string, _ time.Duration, err error) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, err.Error())
			}
		}).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model call failed after 3 attempts: the provider returned HTTP 500") {
			t.Fatalf("error %v", err)
		}
		sleeps := rec.got()
		if stub.Calls() != 3 || len(sleeps) != 2 || len(failures) != 3 {
			t.Fatalf("%d calls, sleeps %v, OnCall %v", stub.Calls(), sleeps, failures)
		}
		// Exponential with jitter: wait n is in [d/2, d], d = 1s·2^n.
		for i, d := range sleeps {
			hi := time.Second << i
			if d < hi/2 || d > hi {
				t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, hi/2, hi)
			}
		}
	})
	t.Run("backoff is capped", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(502, "bad gateway") })
		rec := &recorder{}
		_, err := newLLM(t, stub, rec, 5*time.Second, func(c *llm.Config) { c.MaxAttempts = 6 }).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.Contains(err.Error(), "after 6 attempts") {
			t.Fatalf("error %v", err)
		}
		for _, d := range rec.got() {
			if d > 8*time.Second {
				t.Errorf("sleep %v beyond MaxBackoff", d)
			}
		}
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		stub.Enqueue(llmstub.Status(429, "slow down").WithHeader("Retry-After", "7"), llmstub.Status(429, "slow down"), llmstub.ToolCall("record_analysis", analysistest.Good))
		rec := &recorder{}
		if _, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), analysistest.Request()); err != nil {
			t.Fatal(err)
		}
		if sleeps := rec.got(); len(sleeps) != 2 || sleeps[0] != 7*time.Second || sleeps[1] > 2*time.Second {
			t.Fatalf("sleeps %v, want 7s then a backoff of at most 2s", sleeps)
		}
	})
	for _, c := range []struct {
		code int
		hint string
	}{{400, "retrying will not help"}, {401, "check OPENAI_API_KEY"}, {403, "check OPENAI_API_KEY"}, {404, "check LLM_MODEL"}, {422, "retrying will not help"}} {
		t.Run("no retry on "+status(c.code), func(t *testing.T) {
			stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(c.code, "nope, key sk-secret") })
			rec := &recorder{}
			_, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), analysistest.Request())
			if err == nil || !strings.HasPrefix(err.Error(), "the model provider rejected the request (HTTP "+status(c.code)+")") ||
				!strings.Contains(err.Error(), c.hint) || stub.Calls() != 1 || len(rec.got()) != 0 {
				t.Fatalf("%d calls, error %v", stub.Calls(), err)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Fatal("the API key leaked into the error")
			}
		})
	}
	t.Run("empty choices", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		stub.Enqueue(llmstub.Empty(), llmstub.ToolCall("record_analysis", analysistest.Good))
		rec := &recorder{}
		if _, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), analysistest.Request()); err != nil || stub.Calls() != 2 || len(rec.got()) != 1 {
			t.Fatalf("%d calls, sleeps %v, %v", stub.Calls(), rec.got(), err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		url := stub.URL
		stub.Close()
		a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) { c.BaseURL = url })
		_, err := a.Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.Contains(err.Error(), "after 3 attempts: could not reach the model provider") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
		_, err := newLLM(t, stub, &recorder{}, 200*time.Millisecond).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model did not answer within 200ms (3 attempts)") || stub.Calls() != 3 {
			t.Fatalf("%d calls, error %v", stub.Calls(), err)
		}
	})
	t.Run("a slow answer then a analysistest.Good one", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		stub.Enqueue(llmstub.ToolCall("record_analysis", analysistest.Good).After(time.Minute), llmstub.ToolCall("record_analysis", analysistest.Good))
		if _, err := newLLM(t, stub, &recorder{}, 200*time.Millisecond).Analyze(context.Background(), analysistest.Request()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cancelled by the caller", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		rec := &recorder{}
		start := time.Now()
		_, err := newLLM(t, stub, rec, time.Minute).Analyze(ctx, analysistest.Request())
		if !errors.Is(err, context.Canceled) || stub.Calls() != 1 || len(rec.got()) != 0 {
			t.Fatalf("%d calls, sleeps %v, error %v", stub.Calls(), rec.got(), err)
		}
		if time.Since(start) > 30*time.Second {
			t.Error("did not return promptly")
		}
	})
	t.Run("cancelled while waiting to retry", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(503, "busy") })
		ctx, cancel := context.WithCancel(context.Background())
		a := newLLM(t, stub, &recorder{}, time.Minute, func(c *llm.Config) {
			c.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
		})
		_, err := a.Analyze(ctx, analysistest.Request())
		if !errors.Is(err, context.Canceled) || stub.Calls() != 1 {
			t.Fatalf("%d calls, error %v", stub.Calls(), err)
		}
	})
}

func TestNewConfigurationErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  llm.Config
		says string
	}{
		{llm.Config{Provider: "openai", Model: "m"}, "OPENAI_API_KEY"},
		{llm.Config{Provider: "openai", Model: "m", BaseURL: "https://api.openai.com/v1"}, "OPENAI_API_KEY"},
		{llm.Config{Provider: "anthropic", Model: "m"}, "ANTHROPIC_API_KEY"},
		{llm.Config{Provider: "googleai", Model: "m"}, "GOOGLE_API_KEY"},
		{llm.Config{Provider: "skynet", Model: "m"}, "LLM_PROVIDER"},
		{llm.Config{Provider: "", Model: "m"}, "LLM_PROVIDER"},
		{llm.Config{Provider: "openai", APIKey: "k"}, "LLM_MODEL"},
		// langchaingo's Ollama client would exit the process on these.
		{llm.Config{Provider: "ollama", Model: "m", BaseURL: "127.0.0.1:11434"}, "OLLAMA_URL=\"127.0.0.1:11434\" is not an http(s) URL"},
		{llm.Config{Provider: "ollama", Model: "m", BaseURL: "http://[::1"}, "OLLAMA_URL"},
		{llm.Config{Provider: "openai", Model: "m", BaseURL: "localhost:8000/v1"}, "OPENAI_BASE_URL"},
		{llm.Config{Provider: "anthropic", Model: "m", APIKey: "k", BaseURL: "ftp://example.com"}, "ANTHROPIC_BASE_URL"},
		{llm.Config{Provider: "ollama", Model: "m", MaxPromptChars: 1000}, "LLM_MAX_PROMPT_CHARS must be at least 20000, got 1000"},
		{llm.Config{Provider: "ollama", Model: "m", MaxPromptChars: -1}, "LLM_MAX_PROMPT_CHARS"},
	} {
		if _, err := llm.New(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want a mention of %s", c.cfg, err, c.says)
		}
	}
	// Valid configurations need no network.
	for _, cfg := range []llm.Config{
		{Provider: "openai", Model: "m", BaseURL: "http://127.0.0.1:1/v1"}, // a local server needs no key
		{Provider: "anthropic", Model: "m", APIKey: "k"},
		{Provider: "ollama", Model: "m", BaseURL: "http://127.0.0.1:11434"},
	} {
		a, err := llm.New(context.Background(), cfg)
		if err != nil || a.Provider() != cfg.Provider {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
