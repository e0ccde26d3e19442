package analysis_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

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

func TestParseAnswer(t *testing.T) {
	valid := `{"summary":"Fix checkout","adjustments":[{"type":"task_priority","task_id":11,"description":"Raise it","original_value":"2","new_value":"5","reasoning":"stuck"}]}`
	cases := []struct {
		name, raw string
		problems  []string // substrings; nil means valid
		check     func(t *testing.T, r analysis.Result)
	}{
		{"valid", valid, nil, func(t *testing.T, r analysis.Result) {
			a := r.Adjustments[0]
			if r.Summary != "Fix checkout" || a.Type != analysis.TaskPriority || *a.TaskID != 11 || *a.NewValue != "5" {
				t.Errorf("%+v", r)
			}
		}},
		{"fenced", "```json\n" + valid + "\n```", nil, nil},
		{"number as value", `{"summary":"s","adjustments":[{"type":"task_priority","task_id":11,"description":"d","new_value":4}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				if *r.Adjustments[0].NewValue != "4" {
					t.Errorf("new value %q", *r.Adjustments[0].NewValue)
				}
			}},
		{"no adjustments", `{"summary":"nothing to change","adjustments":[]}`, nil, nil},
		{"unknown task becomes general", `{"summary":"s","adjustments":[{"type":"task_status","task_id":999,"description":"d","new_value":"DONE"}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				a := r.Adjustments[0]
				if a.Type != analysis.General || a.TaskID != nil || !strings.Contains(*a.Reasoning, "999") {
					t.Errorf("%+v", a)
				}
			}},
		{"new task drops task id", `{"summary":"s","adjustments":[{"type":"new_task","task_id":11,"description":"d","new_value":"Refunds"}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				if r.Adjustments[0].TaskID != nil {
					t.Error("new_task kept a task ID")
				}
			}},
		{"empty", "  ", []string{"empty"}, nil},
		{"null", "null", []string{"summary is required", "adjustments is required"}, nil},
		{"not JSON", "Sure! Focus on checkout.", []string{"not the expected JSON object"}, nil},
		{"array", `[1,2]`, []string{"expected an object"}, nil},
		{"cut off", `{"summary":"s","adjustments":[{"type":`, []string{"ends early"}, nil},
		{"trailing text", valid + " hope this helps", []string{"text after the JSON"}, nil},
		{"wrong types", `{"summary":42,"adjustments":"none"}`, []string{"summary must be a string"}, nil},
		{"wrong value type", `{"summary":"s","adjustments":[{"type":"general","description":"d","new_value":{"a":1}}]}`, []string{"must be a string"}, nil},
		{"unknown type", `{"summary":"s","adjustments":[{"type":"rewrite","description":"d"}]}`, []string{`adjustments[0].type must be one of task_priority`}, nil},
		{"missing fields", `{"summary":" ","adjustments":[{"task_id":11}]}`, []string{"summary is required", "adjustments[0].type is required", "adjustments[0].description is required"}, nil},
		{"task type without task", `{"summary":"s","adjustments":[{"type":"remove_task","description":"d"}]}`, []string{"task_id is required for remove_task"}, nil},
		{"priority out of range", `{"summary":"s","adjustments":[{"type":"task_priority","task_id":11,"description":"d","new_value":"9"}]}`, []string{"whole number from 0 to 5"}, nil},
		{"bad status", `{"summary":"s","adjustments":[{"type":"task_status","task_id":11,"description":"d","new_value":"LATER"}]}`, []string{"TODO, IN_PROGRESS, BLOCKED, DONE"}, nil},
		{"bad estimate", `{"summary":"s","adjustments":[{"type":"task_estimate","task_id":11,"description":"d","new_value":"-3"}]}`, []string{"number of hours"}, nil},
		{"too long", `{"summary":"s","adjustments":[{"type":"general","description":"` + strings.Repeat("x", 2001) + `"}]}`, []string{"at most 2000 characters"}, nil},
		{"too many", `{"summary":"s","adjustments":[` + strings.TrimSuffix(strings.Repeat(`{"type":"general","description":"d"},`, 21), ",") + `]}`, []string{"at most 20 items"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := analysis.ParseAnswer(c.raw, request())
			if c.problems == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.check != nil {
					c.check(t, res)
				}
				return
			}
			var invalid *analysis.InvalidAnswerError
			if !errors.As(err, &invalid) {
				t.Fatalf("got %v, want an InvalidAnswerError", err)
			}
			for _, p := range c.problems {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
		})
	}
}

// FuzzParseAnswer: no input panics, and whatever is accepted keeps the
// promises the worker relies on.
func FuzzParseAnswer(f *testing.F) {
	f.Add(`{"summary":"s","adjustments":[{"type":"task_priority","task_id":11,"description":"d","new_value":"3"}]}`)
	f.Add("```json\n{}\n```")
	f.Add(`{"summary":"s","adjustments":[{"type":"general","task_id":-1,"description":"d","reasoning":1e400}]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		req := request()
		res, err := analysis.ParseAnswer(raw, req)
		if err != nil {
			return
		}
		if strings.TrimSpace(res.Summary) == "" || len(res.Adjustments) > analysis.MaxAdjustments {
			t.Fatalf("accepted %q as %+v", raw, res)
		}
		for _, a := range res.Adjustments {
			if a.Description == "" {
				t.Fatalf("accepted an empty description: %q", raw)
			}
			if a.TaskID != nil && *a.TaskID != 11 && *a.TaskID != 12 {
				t.Fatalf("linked a foreign task %d: %q", *a.TaskID, raw)
			}
			switch a.Type {
			case analysis.TaskPriority, analysis.TaskDescription, analysis.TaskStatus, analysis.NewTask,
				analysis.RemoveTask, analysis.TaskEstimate, analysis.General:
			default:
				t.Fatalf("accepted type %q", a.Type)
			}
		}
	})
}

func TestBuiltinIsDeterministicAndValid(t *testing.T) {
	a := analysis.NewBuiltin()
	if a.Provider() != "builtin" || a.Model() != "rules-v1" {
		t.Fatalf("%s/%s", a.Provider(), a.Model())
	}
	req := request()
	res, err := a.Analyze(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.Analyze(context.Background(), req)
	if len(res.Adjustments) != len(again.Adjustments) || res.Summary != again.Summary {
		t.Fatal("the built-in planner is not deterministic")
	}
	if !strings.HasPrefix(res.Summary, "Rule-based analysis (built-in planner, not an LLM)") {
		t.Errorf("summary %q", res.Summary)
	}
	var types []string
	for _, adj := range res.Adjustments {
		types = append(types, string(adj.Type))
	}
	if got := strings.Join(types, ","); got != "task_priority,task_status" {
		t.Errorf("types %s, want task_priority,task_status for urgent+stuck", got)
	}
	if *res.Adjustments[0].NewValue != "4" || *res.Adjustments[0].TaskID != 11 {
		t.Errorf("priority suggestion %+v", res.Adjustments[0])
	}
	// Its output passes the validation model answers get.
	for _, text := range []string{"Checkout is urgent", "the blog is unclear and slow", "please add dark mode", "we no longer need the blog, remove it", "nice work"} {
		req.Feedback = analysis.Feedback{Text: text}
		res, err := a.Analyze(context.Background(), req)
		if err != nil || len(res.Adjustments) == 0 {
			t.Fatalf("%q: %v %+v", text, err, res)
		}
		if _, err := analysis.ParseAnswer(toJSON(t, res), req); err != nil {
			t.Errorf("%q: builtin output fails validation: %v", text, err)
		}
	}
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

func newLLM(t *testing.T, stub *llmstub.Server, rec *recorder, timeout time.Duration) analysis.Analyzer {
	t.Helper()
	a, err := analysis.NewLLM(context.Background(), analysis.LLMConfig{
		Provider: "openai", Model: "gpt-test", BaseURL: stub.URL, APIKey: "sk-secret", Timeout: timeout,
		MaxAttempts: 3, Temperature: 0.3, Sleep: rec.Sleep, BaseBackoff: time.Second, MaxBackoff: 8 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const good = `{"summary":"Fix checkout","adjustments":[{"type":"task_priority","task_id":11,"description":"Raise it","original_value":"2","new_value":"5","reasoning":"stuck"}]}`

func TestLLMRequestShape(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.ToolCall("record_analysis", good) })
	res, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "openai" || res.Model != "gpt-test" || len(res.Adjustments) != 1 {
		t.Fatalf("%+v", res)
	}
	req := stub.Requests()[0]
	if req.Model != "gpt-test" || req.Temperature == nil || *req.Temperature != 0.3 {
		t.Errorf("model %s temperature %v", req.Model, req.Temperature)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.Contains(req.Messages[0].Content, "project-planning assistant") {
		t.Fatalf("messages %+v", req.Messages)
	}
	user := req.Messages[1].Content
	for _, want := range []string{"Website", "Relaunch in May", `id 11: "Checkout page", status IN_PROGRESS, priority 2, estimate 6h`,
		`id 12: "Blog", status TODO, priority 0, estimate none`, "Feedback from Ada about task id 11", "customers are stuck"} {
		if !strings.Contains(user, want) {
			t.Errorf("user message lacks %q:\n%s", want, user)
		}
	}
	if len(req.Tools) != 1 || !strings.Contains(string(req.Tools[0]), `"record_analysis"`) || !strings.Contains(string(req.ToolChoice), `"record_analysis"`) {
		t.Errorf("tools %s, tool choice %s", req.Tools, req.ToolChoice)
	}
}

func TestLLMRepairsOnceWithTheProblems(t *testing.T) {
	stub := llmstub.New(t, nil)
	stub.Enqueue(llmstub.Truncated(`{"summary":"Fix`), llmstub.ToolCall("record_analysis", good))
	if _, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	reqs := stub.Requests()
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if len(reqs) != 2 || last.Role != "user" || !strings.Contains(last.Content, "cut off") {
		t.Fatalf("repair request %+v", last)
	}
}

func TestLLMRetries(t *testing.T) {
	t.Run("5xx until the last attempt", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(503, "overloaded") })
		rec := &recorder{}
		_, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), request())
		if err == nil || !strings.Contains(err.Error(), "failed after 3 attempts") || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("error %v", err)
		}
		if stub.Calls() != 3 || len(rec.sleeps) != 2 {
			t.Fatalf("%d calls, sleeps %v", stub.Calls(), rec.sleeps)
		}
		// Exponential with jitter: the n-th wait is in [d/2, d], d = 1s·2^n.
		for i, d := range rec.sleeps {
			hi := time.Second << i
			if d < hi/2 || d > hi {
				t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, hi/2, hi)
			}
		}
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		stub.Enqueue(llmstub.Status(429, "slow down").WithHeader("Retry-After", "7"), llmstub.Status(429, "slow down"), llmstub.ToolCall("record_analysis", good))
		rec := &recorder{}
		if _, err := newLLM(t, stub, rec, 5*time.Second).Analyze(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
		if len(rec.sleeps) != 2 || rec.sleeps[0] != 7*time.Second || rec.sleeps[1] > 2*time.Second {
			t.Fatalf("sleeps %v, want 7s then a backoff of at most 2s", rec.sleeps)
		}
	})
	for _, code := range []int{400, 401} {
		t.Run("no retry on "+http(code), func(t *testing.T) {
			stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(code, "nope sk-secret") })
			_, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), request())
			if err == nil || !strings.Contains(err.Error(), "rejected the request (HTTP "+http(code)+")") || stub.Calls() != 1 {
				t.Fatalf("%d calls, error %v", stub.Calls(), err)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Fatal("the API key leaked")
			}
			if code == 401 && !strings.Contains(err.Error(), "check OPENAI_API_KEY") {
				t.Errorf("no hint: %v", err)
			}
		})
	}
	t.Run("empty answers", func(t *testing.T) {
		stub := llmstub.New(t, nil)
		stub.Enqueue(llmstub.Empty(), llmstub.ToolCall("record_analysis", good))
		if _, err := newLLM(t, stub, &recorder{}, 5*time.Second).Analyze(context.Background(), request()); err != nil || stub.Calls() != 2 {
			t.Fatalf("%d calls, %v", stub.Calls(), err)
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
		_, err := newLLM(t, stub, &recorder{}, 100*time.Millisecond).Analyze(context.Background(), request())
		if err == nil || !strings.Contains(err.Error(), "did not answer within 100ms (3 attempts)") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("cancelled by the caller", func(t *testing.T) {
		stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := newLLM(t, stub, &recorder{}, time.Minute).Analyze(ctx, request())
		if !errors.Is(err, context.Canceled) || stub.Calls() != 1 {
			t.Fatalf("%d calls, error %v", stub.Calls(), err)
		}
	})
}

func TestNewLLMConfigurationErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  analysis.LLMConfig
		says string
	}{
		{analysis.LLMConfig{Provider: "openai", Model: "m"}, "OPENAI_API_KEY"},
		{analysis.LLMConfig{Provider: "anthropic", Model: "m"}, "ANTHROPIC_API_KEY"},
		{analysis.LLMConfig{Provider: "googleai", Model: "m"}, "GOOGLE_API_KEY"},
		{analysis.LLMConfig{Provider: "skynet", Model: "m"}, "LLM_PROVIDER"},
		{analysis.LLMConfig{Provider: "openai"}, "LLM_MODEL"},
	} {
		if _, err := analysis.NewLLM(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want a mention of %s", c.cfg, err, c.says)
		}
	}
}
