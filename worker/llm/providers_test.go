package llm_test

// Integration tests that drive langchaingo's real Anthropic and Ollama
// clients (and, built with -tags googleai, Google AI's:
// providers_googleai_test.go) through llm.New against httptest servers
// speaking each provider's wire format (non-streaming requests).

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
)

// wireStub is an HTTP server that records every request and answers with
// scripted replies, in order. A request beyond the script gets 418, which
// the analyzer does not retry, so a test sees it as a failure at once.
type wireStub struct {
	URL string
	srv *httptest.Server

	mu      sync.Mutex
	replies []wireReply
	reqs    []wireRequest
}

type wireRequest struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

type wireReply struct {
	status int
	header http.Header
	body   string
}

func newWireStub(t *testing.T, replies ...wireReply) *wireStub {
	t.Helper()
	s := &wireStub{replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

func (s *wireStub) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, wireRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	reply := wireReply{status: http.StatusTeapot, body: `{"error":"wireStub: no reply scripted"}`}
	if len(s.replies) > 0 {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	for k, v := range reply.header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(reply.status)
	_, _ = io.WriteString(w, reply.body)
}

func (s *wireStub) requests() []wireRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wireRequest(nil), s.reqs...)
}

// decode unmarshals the body of the i-th request into v.
func (s *wireStub) decode(t *testing.T, i int, v any) wireRequest {
	t.Helper()
	reqs := s.requests()
	if i >= len(reqs) {
		t.Fatalf("request %d of %d", i, len(reqs))
	}
	if err := json.Unmarshal(reqs[i].Body, v); err != nil {
		t.Fatalf("request %d body %s: %v", i, reqs[i].Body, err)
	}
	return reqs[i]
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// providerAnswer is a valid answer for analysistest.Request() with three adjustments:
// one for each of the project's tasks and one naming a task of no project.
func providerAnswer() string {
	return llmstub.Answer("Checkout first, the blog can wait",
		map[string]any{"type": "task_priority", "task_id": 11, "description": "Raise checkout", "original_value": "2", "new_value": "5", "reasoning": "customers are stuck"},
		map[string]any{"type": "task_status", "task_id": 12, "description": "Pause the blog", "original_value": "TODO", "new_value": "blocked", "reasoning": nil},
		map[string]any{"type": "task_priority", "task_id": 99, "description": "Raise payments", "original_value": nil, "new_value": "4", "reasoning": nil},
	)
}

// checkProviderResult checks a Result made from providerAnswer.
func checkProviderResult(t *testing.T, res analysis.Result, provider, model string) {
	t.Helper()
	if res.Provider != provider || res.Model != model || res.Summary != "Checkout first, the blog can wait" || len(res.Adjustments) != 3 {
		t.Fatalf("%+v", res)
	}
	a, b, c := res.Adjustments[0], res.Adjustments[1], res.Adjustments[2]
	if a.Type != adjustment.AdjustmentTypeTaskPriority || a.TaskID == nil || *a.TaskID != 11 || a.NewValue == nil || *a.NewValue != "5" ||
		a.Reasoning == nil || *a.Reasoning != "customers are stuck" || a.Description != "Raise checkout" {
		t.Errorf("adjustment 0: %+v", a)
	}
	if b.Type != adjustment.AdjustmentTypeTaskStatus || b.TaskID == nil || *b.TaskID != 12 || b.NewValue == nil || *b.NewValue != "BLOCKED" || b.Reasoning != nil {
		t.Errorf("adjustment 1: %+v", b)
	}
	// Task 99 is not in the project: the advice is kept, the link is not.
	if c.Type != adjustment.AdjustmentTypeGeneral || c.TaskID != nil || !strings.HasPrefix(c.Description, "Raise payments") || !strings.Contains(c.Description, "task 99") {
		t.Errorf("adjustment 2: %+v", c)
	}
}

// checkRecovers runs an analyzer made by newAnalyzer against replies: failed
// calls that must be retried, then a providerAnswer. It returns the stub.
func checkRecovers(t *testing.T, provider, model string, newAnalyzer func(*testing.T, *wireStub, *recorder) analysis.Analyzer, replies ...wireReply) *wireStub {
	t.Helper()
	stub := newWireStub(t, replies...)
	rec := &recorder{}
	res, err := newAnalyzer(t, stub, rec).Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	checkProviderResult(t, res, provider, model)
	if n := len(stub.requests()); n != len(replies) {
		t.Fatalf("%d requests, want %d", n, len(replies))
	}
	checkBackoffs(t, rec.got(), len(replies)-1)
	return stub
}

// checkBackoffs checks sleeps of a jittered exponential backoff from 1s.
func checkBackoffs(t *testing.T, sleeps []time.Duration, n int) {
	t.Helper()
	if len(sleeps) != n {
		t.Fatalf("sleeps %v, want %d", sleeps, n)
	}
	for i, d := range sleeps {
		if hi := time.Second << i; d < hi/2 || d > hi {
			t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, hi/2, hi)
		}
	}
}

// checkRepairPrompt checks the last message of a repair request.
func checkRepairPrompt(t *testing.T, msg, problem string) {
	t.Helper()
	if !strings.HasPrefix(msg, "Your answer could not be used:") || !strings.Contains(msg, problem) {
		t.Errorf("repair request %q does not list %q", msg, problem)
	}
}

// checkUserPrompt checks that the user prompt describes analysistest.Request().
func checkUserPrompt(t *testing.T, prompt string) {
	t.Helper()
	for _, want := range []string{`{"project":{"name":"Website"`, `{"id":11,"title":"Checkout page"`, `{"id":12,"title":"Blog"`, `"user_name":"Ada","task_id":11}`, "Checkout is urgent, customers are stuck"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("user prompt lacks %q:\n%s", want, prompt)
		}
	}
}

const systemPromptStart = "You are a project-planning assistant."

// ---- Anthropic: POST {base}/messages, x-api-key, tool_use blocks ----

const (
	anthropicKey   = "sk-ant-test-secret"
	anthropicModel = "claude-test"
)

type anthropicRequest struct {
	Model       string   `json:"model"`
	System      string   `json:"system"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
	Stream      bool     `json:"stream"`
	Messages    []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		InputSchema map[string]any `json:"input_schema"`
	} `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
}

// anthropicText is the text of a message's content: a string or blocks.
func anthropicText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var blocks []struct{ Type, Text string }
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("content %s: %v", raw, err)
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Type != "text" {
			t.Errorf("content block of type %q in %s", bl.Type, raw)
		}
		b.WriteString(bl.Text)
	}
	return b.String()
}

func anthropicMessage(t *testing.T, stopReason string, blocks ...map[string]any) wireReply {
	return wireReply{status: http.StatusOK, body: mustJSON(t, map[string]any{
		"id": "msg_stub", "type": "message", "role": "assistant", "model": anthropicModel,
		"content": blocks, "stop_reason": stopReason, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": 10, "output_tokens": 20},
	})}
}

func anthropicToolUse(input string) map[string]any {
	return map[string]any{"type": "tool_use", "id": "toolu_stub", "name": "record_analysis", "input": json.RawMessage(input)}
}

func anthropicTextBlock(text string) map[string]any {
	return map[string]any{"type": "text", "text": text}
}

func anthropicError(t *testing.T, status int, typ, message string) wireReply {
	return wireReply{status: status, body: mustJSON(t, map[string]any{
		"type": "error", "error": map[string]any{"type": typ, "message": message},
	})}
}

func newAnthropic(t *testing.T, stub *wireStub, rec *recorder) analysis.Analyzer {
	t.Helper()
	return newProviderLLM(t, "anthropic", anthropicModel, stub.URL+"/v1", anthropicKey, rec)
}

func TestAnthropicToolUse(t *testing.T) {
	t.Parallel()
	stub := newWireStub(t, anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
	rec := &recorder{}
	res, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	checkProviderResult(t, res, "anthropic", anthropicModel)
	if len(stub.requests()) != 1 || len(rec.got()) != 0 {
		t.Fatalf("%d requests, sleeps %v", len(stub.requests()), rec.got())
	}

	// What Anthropic received.
	var body anthropicRequest
	req := stub.decode(t, 0, &body)
	if req.Method != http.MethodPost || req.Path != "/v1/messages" {
		t.Errorf("%s %s, want POST /v1/messages", req.Method, req.Path)
	}
	if got := req.Header.Get("X-Api-Key"); got != anthropicKey {
		t.Errorf("x-api-key %q", got)
	}
	if req.Header.Get("Anthropic-Version") == "" || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", req.Header)
	}
	if strings.Contains(req.Path+req.RawQuery, anthropicKey) || req.Header.Get("Authorization") != "" {
		t.Error("the key travels outside x-api-key")
	}
	if body.Model != anthropicModel || body.MaxTokens != 4096 || body.Temperature == nil || *body.Temperature != 0.3 || body.Stream {
		t.Errorf("model %q max_tokens %d temperature %v stream %v", body.Model, body.MaxTokens, body.Temperature, body.Stream)
	}
	if !strings.HasPrefix(body.System, systemPromptStart) || !strings.Contains(body.System, "record_analysis") {
		t.Errorf("system %q", body.System)
	}
	if len(body.Messages) != 1 || body.Messages[0].Role != "user" {
		t.Fatalf("messages %+v", body.Messages)
	}
	checkUserPrompt(t, anthropicText(t, body.Messages[0].Content))
	if strings.Contains(anthropicText(t, body.Messages[0].Content), systemPromptStart) {
		t.Error("the system prompt was sent as a user message")
	}

	if len(body.Tools) != 1 {
		t.Fatalf("tools %+v", body.Tools)
	}
	tool := body.Tools[0]
	required, _ := tool.InputSchema["required"].([]any)
	props, _ := tool.InputSchema["properties"].(map[string]any)
	if tool.Name != "record_analysis" || tool.Description == "" || tool.InputSchema["type"] != "object" ||
		len(required) != 2 || required[0] != "summary" || required[1] != "adjustments" || props["adjustments"] == nil {
		t.Errorf("tool %+v", tool)
	}
	// langchaingo v0.1.14 does not send tool_choice; should it ever, it
	// must force record_analysis.
	if len(body.ToolChoice) > 0 && !strings.Contains(string(body.ToolChoice), "record_analysis") {
		t.Errorf("tool_choice %s", body.ToolChoice)
	}
}

// Every shape of answer Claude gives is read: text (plain or fenced)
// instead of the tool call, or a sentence or a thinking block before it
// (langchaingo's client makes one choice per content block).
func TestAnthropicAnswerShapes(t *testing.T) {
	t.Parallel()
	thinking := map[string]any{"type": "thinking", "thinking": "The checkout matters most.", "signature": "sig"}
	for name, blocks := range map[string][]map[string]any{
		"plain text":              {anthropicTextBlock(providerAnswer())},
		"fenced text":             {anthropicTextBlock("```json\n" + providerAnswer() + "\n```")},
		"a sentence, then a tool": {anthropicTextBlock("I'll record the analysis now."), anthropicToolUse(providerAnswer())},
		"thinking, then a tool":   {thinking, anthropicToolUse(providerAnswer())},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stub := newWireStub(t, anthropicMessage(t, "end_turn", blocks...))
			res, err := newAnthropic(t, stub, &recorder{}).Analyze(context.Background(), analysistest.Request())
			if err != nil {
				t.Fatal(err)
			}
			checkProviderResult(t, res, "anthropic", anthropicModel)
			if n := len(stub.requests()); n != 1 {
				t.Errorf("%d requests, want 1: the answer was missed", n)
			}
		})
	}
}

// ANTHROPIC_BASE_URL may be written as Anthropic's SDKs take it, without
// /v1; requests still go to /v1/messages.
func TestAnthropicBaseURLWithoutV1(t *testing.T) {
	t.Parallel()
	stub := newWireStub(t, anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
	a := newProviderLLM(t, "anthropic", anthropicModel, stub.URL+"/", anthropicKey, &recorder{})
	if _, err := a.Analyze(context.Background(), analysistest.Request()); err != nil {
		t.Fatal(err)
	}
	if reqs := stub.requests(); len(reqs) != 1 || reqs[0].Path != "/v1/messages" {
		t.Fatalf("requests %+v, want one to /v1/messages", reqs)
	}
}

func TestAnthropicRetries(t *testing.T) {
	t.Parallel()
	t.Run("529 and 500, then an answer", func(t *testing.T) {
		t.Parallel()
		stub := checkRecovers(t, "anthropic", anthropicModel, newAnthropic,
			anthropicError(t, 529, "overloaded_error", "Overloaded"),
			anthropicError(t, http.StatusInternalServerError, "api_error", "Internal server error"),
			anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
		// Every attempt is the same request.
		for i, r := range stub.requests()[1:] {
			if string(r.Body) != string(stub.requests()[0].Body) || r.Header.Get("X-Api-Key") != anthropicKey {
				t.Errorf("attempt %d differs", i+2)
			}
		}
	})
	t.Run("529 until the last attempt", func(t *testing.T) {
		t.Parallel()
		overloaded := anthropicError(t, 529, "overloaded_error", "Overloaded")
		stub := newWireStub(t, overloaded, overloaded, overloaded)
		rec := &recorder{}
		_, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model call failed after 3 attempts: the provider returned HTTP 529") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
		checkBackoffs(t, rec.got(), 2)
	})
	t.Run("429 honours retry-after", func(t *testing.T) {
		t.Parallel()
		limited := anthropicError(t, http.StatusTooManyRequests, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
		limited.header = http.Header{"Retry-After": {"5"}}
		stub := newWireStub(t, limited, anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
		rec := &recorder{}
		if _, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request()); err != nil {
			t.Fatal(err)
		}
		if sleeps := rec.got(); len(sleeps) != 1 || sleeps[0] != 5*time.Second || len(stub.requests()) != 2 {
			t.Fatalf("%d requests, sleeps %v, want one of 5s", len(stub.requests()), sleeps)
		}
	})
	t.Run("no content blocks", func(t *testing.T) {
		t.Parallel()
		stub := newWireStub(t, anthropicMessage(t, "end_turn"), anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
		rec := &recorder{}
		res, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request())
		if err != nil {
			t.Fatal(err)
		}
		checkProviderResult(t, res, "anthropic", anthropicModel)
		if len(stub.requests()) != 2 {
			t.Fatalf("%d requests, want 2", len(stub.requests()))
		}
		checkBackoffs(t, rec.got(), 1)
	})
}

func TestAnthropicPermanentErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code      int
		typ, hint string
	}{
		{http.StatusUnauthorized, "authentication_error", "check ANTHROPIC_API_KEY"},
		{http.StatusForbidden, "permission_error", "check ANTHROPIC_API_KEY"},
		{http.StatusNotFound, "not_found_error", "check LLM_MODEL and the provider's base URL"},
		{http.StatusBadRequest, "invalid_request_error", "retrying will not help"},
	} {
		t.Run(status(c.code), func(t *testing.T) {
			t.Parallel()
			// The provider echoes the key: it must not reach the error.
			stub := newWireStub(t, anthropicError(t, c.code, c.typ, "invalid x-api-key "+anthropicKey))
			rec := &recorder{}
			_, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request())
			if err == nil || !strings.HasPrefix(err.Error(), "the model provider rejected the request (HTTP "+status(c.code)+")") ||
				!strings.Contains(err.Error(), c.hint) {
				t.Fatalf("error %v", err)
			}
			if strings.Contains(err.Error(), anthropicKey) {
				t.Errorf("the API key leaked into the error: %v", err)
			}
			if !strings.Contains(err.Error(), "invalid x-api-key [redacted]") {
				t.Errorf("the error lost the provider's message: %v", err)
			}
			if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
				t.Errorf("%d requests, sleeps %v: retried", n, rec.got())
			}
		})
	}
}

func TestAnthropicRepair(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		first  wireReply
		sentAs string // the previous answer, as the repair request repeats it
		told   string
	}{
		{"invalid tool input", anthropicMessage(t, "tool_use", anthropicToolUse(`{"summary":"s","adjustments":[{"type":"rewrite","description":"d"}]}`)),
			`"type":"rewrite"`, "adjustments[0].type must be one of"},
		{"cut off at max_tokens", anthropicMessage(t, "max_tokens", anthropicToolUse(`{"summary":"Fix"}`)),
			`{"summary":"Fix"}`, "cut off at the model's output limit"},
		{"prose", anthropicMessage(t, "end_turn", anthropicTextBlock("Sure! Focus on checkout.")),
			"Sure! Focus on checkout.", "not the expected JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			stub := newWireStub(t, c.first, anthropicMessage(t, "tool_use", anthropicToolUse(providerAnswer())))
			rec := &recorder{}
			res, err := newAnthropic(t, stub, rec).Analyze(context.Background(), analysistest.Request())
			if err != nil {
				t.Fatal(err)
			}
			checkProviderResult(t, res, "anthropic", anthropicModel)
			if n := len(stub.requests()); n != 2 || len(rec.got()) != 0 {
				t.Fatalf("%d requests, sleeps %v", n, rec.got())
			}
			var first, second anthropicRequest
			stub.decode(t, 0, &first)
			stub.decode(t, 1, &second)
			if len(second.Messages) != 3 || second.Messages[0].Role != "user" || second.Messages[1].Role != "assistant" || second.Messages[2].Role != "user" {
				t.Fatalf("repair conversation %+v", second.Messages)
			}
			if second.System != first.System || string(second.Messages[0].Content) != string(first.Messages[0].Content) {
				t.Error("the repair request changed the prompts")
			}
			if prev := anthropicText(t, second.Messages[1].Content); !strings.Contains(prev, c.sentAs) {
				t.Errorf("the repair request repeats %q, want %q", prev, c.sentAs)
			}
			checkRepairPrompt(t, anthropicText(t, second.Messages[2].Content), c.told)
			if len(second.Tools) != 1 || second.Tools[0].Name != "record_analysis" || second.MaxTokens != 4096 {
				t.Errorf("the repair request lost the tool or max_tokens: %d tools, max_tokens %d", len(second.Tools), second.MaxTokens)
			}
		})
	}
	t.Run("invalid twice", func(t *testing.T) {
		t.Parallel()
		stub := newWireStub(t,
			anthropicMessage(t, "end_turn", anthropicTextBlock("no")),
			anthropicMessage(t, "tool_use", anthropicToolUse(`{"summary":"","adjustments":[{"type":"task_priority","task_id":11,"description":"d","new_value":"9"}]}`)))
		_, err := newAnthropic(t, stub, &recorder{}).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model's answer was invalid twice: summary is required; adjustments[0].new_value for task_priority must be a whole number from 0 to 5") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

// ---- Ollama: POST {base}/api/chat, format "json", NDJSON answers ----

const ollamaModel = "llama-test"

type ollamaRequest struct {
	Model    string `json:"model"`
	Format   string `json:"format"`
	Stream   *bool  `json:"stream"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Options map[string]any `json:"options"`
}

// ollamaChat answers like Ollama with "stream": false.
func ollamaChat(t *testing.T, content string) wireReply {
	return wireReply{status: http.StatusOK, body: mustJSON(t, map[string]any{
		"model": ollamaModel, "created_at": "2025-01-01T00:00:00Z",
		"message": map[string]any{"role": "assistant", "content": content},
		"done":    true, "done_reason": "stop", "total_duration": 1000, "eval_count": 20, "prompt_eval_count": 10,
	}) + "\n"}
}

// ollamaStream answers like Ollama streaming: one NDJSON line per chunk,
// then a last line with done true. Ollama streams unless told
// "stream": false.
func ollamaStream(t *testing.T, chunks ...string) wireReply {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(mustJSON(t, map[string]any{"model": ollamaModel, "created_at": "2025-01-01T00:00:00Z",
			"message": map[string]any{"role": "assistant", "content": c}, "done": false}) + "\n")
	}
	b.WriteString(mustJSON(t, map[string]any{"model": ollamaModel, "created_at": "2025-01-01T00:00:00Z",
		"message": map[string]any{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}) + "\n")
	return wireReply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/x-ndjson"}}, body: b.String()}
}

func ollamaError(t *testing.T, status int, message string) wireReply {
	return wireReply{status: status, body: mustJSON(t, map[string]any{"error": message})}
}

func newOllama(t *testing.T, stub *wireStub, rec *recorder) analysis.Analyzer {
	t.Helper()
	return newProviderLLM(t, "ollama", ollamaModel, stub.URL, "", rec)
}

func TestOllamaJSONAnswer(t *testing.T) {
	t.Parallel()
	answer := providerAnswer()
	third := len(answer) / 3
	for name, reply := range map[string]wireReply{
		"one object":    ollamaChat(t, answer),
		"streamed":      ollamaStream(t, answer[:third], answer[third:2*third], answer[2*third:]),
		"fenced answer": ollamaChat(t, "```json\n"+answer+"\n```"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stub := newWireStub(t, reply)
			rec := &recorder{}
			res, err := newOllama(t, stub, rec).Analyze(context.Background(), analysistest.Request())
			if err != nil {
				t.Fatal(err)
			}
			checkProviderResult(t, res, "ollama", ollamaModel)
			if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
				t.Fatalf("%d requests, sleeps %v", n, rec.got())
			}

			var body ollamaRequest
			req := stub.decode(t, 0, &body)
			if req.Method != http.MethodPost || req.Path != "/api/chat" {
				t.Errorf("%s %s, want POST /api/chat", req.Method, req.Path)
			}
			if body.Model != ollamaModel || body.Format != "json" || (body.Stream != nil && *body.Stream) {
				t.Errorf("model %q format %q stream %v", body.Model, body.Format, body.Stream)
			}
			if temp, ok := body.Options["temperature"].(float64); !ok || temp != 0.3 {
				t.Errorf("options %v, want temperature 0.3", body.Options)
			}
			if len(body.Messages) != 2 || body.Messages[0].Role != "system" || body.Messages[1].Role != "user" {
				t.Fatalf("messages %+v", body.Messages)
			}
			// Ollama gets no tool: the system prompt must describe the JSON.
			if sys := body.Messages[0].Content; !strings.HasPrefix(sys, systemPromptStart) || !strings.Contains(sys, `{"summary": string, "adjustments": [`) {
				t.Errorf("system %q", sys)
			}
			checkUserPrompt(t, body.Messages[1].Content)
		})
	}
}

func TestOllamaRepair(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, first, told string
	}{
		{"invalid answer", `{"summary":"s","adjustments":[{"type":"rewrite","task_id":11,"description":"d"}]}`, "adjustments[0].type must be one of"},
		{"missing task_id", `{"summary":"s","adjustments":[{"type":"task_status","description":"d","new_value":"DONE"}]}`, "adjustments[0].task_id is required for task_status"},
		{"not JSON", "Sure! Focus on checkout.", "not the expected JSON object"},
		{"empty", "", "the answer is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			stub := newWireStub(t, ollamaChat(t, c.first), ollamaChat(t, providerAnswer()))
			rec := &recorder{}
			res, err := newOllama(t, stub, rec).Analyze(context.Background(), analysistest.Request())
			if err != nil {
				t.Fatal(err)
			}
			checkProviderResult(t, res, "ollama", ollamaModel)
			if n := len(stub.requests()); n != 2 || len(rec.got()) != 0 {
				t.Fatalf("%d requests, sleeps %v", n, rec.got())
			}
			var first, second ollamaRequest
			stub.decode(t, 0, &first)
			stub.decode(t, 1, &second)
			msgs := second.Messages
			if len(msgs) != 4 || msgs[0].Role != "system" || msgs[1].Role != "user" || msgs[2].Role != "assistant" || msgs[3].Role != "user" {
				t.Fatalf("repair conversation %+v", msgs)
			}
			if msgs[0].Content != first.Messages[0].Content || msgs[1].Content != first.Messages[1].Content {
				t.Error("the repair request changed the prompts")
			}
			want := c.first
			if want == "" {
				want = "(empty answer)"
			}
			if msgs[2].Content != want {
				t.Errorf("the repair request repeats %q, want %q", msgs[2].Content, want)
			}
			checkRepairPrompt(t, msgs[3].Content, c.told)
			if second.Format != "json" || second.Model != ollamaModel {
				t.Errorf("repair request format %q model %q", second.Format, second.Model)
			}
		})
	}
	t.Run("invalid twice", func(t *testing.T) {
		t.Parallel()
		stub := newWireStub(t, ollamaChat(t, "no"), ollamaChat(t, `{"summary":"","adjustments":[]}`))
		_, err := newOllama(t, stub, &recorder{}).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model's answer was invalid twice: summary is required") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

func TestOllamaErrors(t *testing.T) {
	t.Parallel()
	t.Run("model not found is not retried", func(t *testing.T) {
		t.Parallel()
		stub := newWireStub(t, ollamaError(t, http.StatusNotFound, `model "llama-test" not found, try pulling it first`))
		rec := &recorder{}
		_, err := newOllama(t, stub, rec).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model provider rejected the request (HTTP 404)") ||
			!strings.Contains(err.Error(), "not found, try pulling it first") || !strings.Contains(err.Error(), "check LLM_MODEL") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
			t.Errorf("%d requests, sleeps %v: retried", n, rec.got())
		}
	})
	t.Run("busy, then an answer", func(t *testing.T) {
		t.Parallel()
		checkRecovers(t, "ollama", ollamaModel, newOllama,
			ollamaError(t, http.StatusServiceUnavailable, "server busy, please try again.  maximum pending requests exceeded"),
			wireReply{status: http.StatusBadGateway, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>502 Bad Gateway</html>"},
			ollamaChat(t, providerAnswer()))
	})
	// langchaingo's Ollama client returns neither an error nor content for
	// an HTTP error with an empty body (a proxy's, say): the status decides.
	t.Run("empty-bodied 503s are retried", func(t *testing.T) {
		t.Parallel()
		empty := wireReply{status: http.StatusServiceUnavailable}
		checkRecovers(t, "ollama", ollamaModel, newOllama, empty, empty, ollamaChat(t, providerAnswer()))
	})
	t.Run("an empty-bodied 401 is not retried", func(t *testing.T) {
		t.Parallel()
		stub := newWireStub(t, wireReply{status: http.StatusUnauthorized})
		rec := &recorder{}
		_, err := newOllama(t, stub, rec).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model provider rejected the request (HTTP 401)") ||
			!strings.Contains(err.Error(), "check the provider's credentials") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
			t.Errorf("%d requests, sleeps %v: retried", n, rec.got())
		}
	})
	t.Run("busy until the last attempt", func(t *testing.T) {
		t.Parallel()
		busy := ollamaError(t, http.StatusServiceUnavailable, "server busy")
		stub := newWireStub(t, busy, busy, busy)
		_, err := newOllama(t, stub, &recorder{}).Analyze(context.Background(), analysistest.Request())
		if err == nil || !strings.HasPrefix(err.Error(), "the model call failed after 3 attempts: the provider returned HTTP 503") {
			t.Fatalf("error %v", err)
		}
		if n := len(stub.requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
}
