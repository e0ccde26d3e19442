package llmstub_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
)

func post(t *testing.T, url, body string) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

func TestWireFormat(t *testing.T) {
	stub := llmstub.New(t, func(r llmstub.Request) llmstub.Reply { return llmstub.Text("echo " + r.Model) })
	stub.Enqueue(
		llmstub.ToolCall("record", `{"a":1}`),
		llmstub.Status(429, "slow down").WithHeader("Retry-After", "7"),
		llmstub.Empty(),
		llmstub.Truncated(`{"a":`),
	)
	body := `{"model":"m","temperature":0.5,"messages":[{"role":"system","content":"be nice"},
		{"role":"user","content":[{"type":"text","text":"hello "},{"type":"text","text":"there"}]},
		{"role":"tool","tool_call_id":"call_1","content":"ok"}],
		"tools":[{"type":"function","function":{"name":"record"}}],"tool_choice":{"type":"function","function":{"name":"record"}}}`

	code, _, out := post(t, stub.URL+"/chat/completions", body)
	choice := out["choices"].([]any)[0].(map[string]any)
	call := choice["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)
	if code != 200 || choice["finish_reason"] != "tool_calls" || call["name"] != "record" || call["arguments"] != `{"a":1}` {
		t.Errorf("tool call: %d %v", code, out)
	}

	code, h, out := post(t, stub.URL+"/chat/completions", body)
	if code != 429 || h.Get("Retry-After") != "7" || out["error"].(map[string]any)["message"] != "slow down" {
		t.Errorf("status: %d %v %v", code, h, out)
	}
	if code, _, out = post(t, stub.URL+"/chat/completions", body); code != 200 || len(out["choices"].([]any)) != 0 {
		t.Errorf("empty: %d %v", code, out)
	}
	if _, _, out = post(t, stub.URL+"/chat/completions", body); out["choices"].([]any)[0].(map[string]any)["finish_reason"] != "length" {
		t.Errorf("truncated: %v", out)
	}
	// The queue is used up: the fallback answers, and sees the request.
	if _, _, out = post(t, stub.URL+"/chat/completions", body); out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"] != "echo m" {
		t.Errorf("fallback: %v", out)
	}

	if code, _, _ := post(t, stub.URL+"/chat/completions", "{not json"); code != 400 {
		t.Errorf("bad body: HTTP %d", code)
	}
	if code, _, out := post(t, stub.URL+"/completions", "{}"); code != 404 || out["error"] == nil {
		t.Errorf("unknown path: HTTP %d %v", code, out)
	}

	if stub.Calls() != 5 {
		t.Errorf("%d calls, want 5 (bad bodies are not requests)", stub.Calls())
	}
	r := stub.Requests()[0]
	if r.Model != "m" || *r.Temperature != 0.5 || len(r.Tools) != 1 || !strings.Contains(string(r.ToolChoice), `"record"`) {
		t.Errorf("decoded %+v", r)
	}
	want := []llmstub.Message{{Role: "system", Content: "be nice"}, {Role: "user", Content: "hello there"}, {Role: "tool", Content: "ok", ToolCallID: "call_1"}}
	for i, m := range want {
		if got := r.Messages[i]; got.Role != m.Role || got.Content != m.Content || got.ToolCallID != m.ToolCallID {
			t.Errorf("message %d = %+v, want %+v", i, got, m)
		}
	}
}

func TestLangchaingoClient(t *testing.T) {
	answer := llmstub.Answer("ok", map[string]any{"type": "general", "task_id": nil, "description": "d"})
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.ToolCall("record_analysis", answer) })
	llm, err := openai.New(openai.WithToken("test"), openai.WithModel("gpt-test"), openai.WithBaseURL(stub.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.GenerateContent(context.Background(),
		[]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}, llms.WithTemperature(0.2))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if c.StopReason != "tool_calls" || len(c.ToolCalls) != 1 || c.ToolCalls[0].FunctionCall.Arguments != answer {
		t.Fatalf("choice %+v", c)
	}
	if r := stub.Requests()[0]; r.Model != "gpt-test" || r.Messages[0].Content != "hi" || *r.Temperature != 0.2 {
		t.Errorf("request %+v", r)
	}
}

func TestDelaysEndWithTheClientOrTheServer(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
	stub.Enqueue(llmstub.Text("late").After(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, stub.URL+"/chat/completions", strings.NewReader(`{"model":"m"}`))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a delayed reply answered before its delay")
	}

	// A hanging request must not keep Close waiting.
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(stub.URL+"/chat/completions", "application/json", strings.NewReader(`{"model":"m"}`))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for stub.Calls() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { stub.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a hanging reply")
	}
	<-done
	stub.Close() // again: no effect
}

func TestAnswer(t *testing.T) {
	if got := llmstub.Answer("s"); got != `{"adjustments":[],"summary":"s"}` {
		t.Errorf("Answer = %s", got)
	}
}

// Limits refuses what would overdraw a bucket, and langchaingo reads the
// usage WithUsage reports.
func TestLimitsAndUsage(t *testing.T) {
	quota := &llmstub.Limits{Requests: 2, Tokens: 250, Period: time.Hour}
	stub := llmstub.New(t, quota.Wrap(func(llmstub.Request) llmstub.Reply { return llmstub.Text("hi").WithUsage(70, 30) }))
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	var codes []int
	for range 3 {
		code, _, _ := post(t, stub.URL+"/chat/completions", body)
		codes = append(codes, code)
	}
	// Two requests fit both buckets; the third fits neither.
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || quota.Answered() != 2 || quota.Refused() != 1 {
		t.Fatalf("codes %v, answered %d, refused %d", codes, quota.Answered(), quota.Refused())
	}

	tokens := &llmstub.Limits{Tokens: 150, Period: time.Hour}
	stub = llmstub.New(t, tokens.Wrap(func(llmstub.Request) llmstub.Reply { return llmstub.Text("hi").WithUsage(70, 30) }))
	llm, err := openai.New(openai.WithToken("x"), openai.WithModel("m"), openai.WithBaseURL(stub.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")})
	if err != nil {
		t.Fatal(err)
	}
	if info := resp.Choices[0].GenerationInfo; info["PromptTokens"] != 70 || info["CompletionTokens"] != 30 {
		t.Fatalf("usage %v", info)
	}
	// 100 of 150 tokens used: the next 100 do not fit.
	if _, err := llm.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")}); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("the second call: %v", err)
	}
}

// langchaingo's OpenAI client gets a vector per text from /v1/embeddings,
// and the stub records what it embedded.
func TestEmbeddingsOverLangchaingo(t *testing.T) {
	s := llmstub.New(t, nil)
	client, err := openai.New(openai.WithBaseURL(s.URL), openai.WithToken("test-key"), openai.WithEmbeddingModel("stub-embed"))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := client.CreateEmbedding(context.Background(), []string{"login is broken", "Login is: BROKEN!", "dark mode"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || len(vs[0]) != 64 || !slices.Equal(vs[0], vs[1]) || slices.Equal(vs[0], vs[2]) {
		t.Fatalf("vectors %v", vs)
	}
	s.Embed(func(string) []float32 { return []float32{1, 0} })
	vs, err = client.CreateEmbedding(context.Background(), []string{"anything"})
	if err != nil || len(vs) != 1 || !slices.Equal(vs[0], []float32{1, 0}) {
		t.Fatalf("with Embed set: %v, %v", vs, err)
	}
	if got := s.Embedded(); len(got) != 4 || got[3] != "anything" || s.Calls() != 0 {
		t.Errorf("embedded %q, %d chat calls", got, s.Calls())
	}
}

func TestStartOutsideATestLogsEveryCallWithItsStatus(t *testing.T) {
	window := &llmstub.Window{Requests: 1, Period: time.Hour}
	stub, err := llmstub.Start("127.0.0.1:0", window.Wrap(func(llmstub.Request) llmstub.Reply { return llmstub.Text("hi") }))
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	if code, _, _ := post(t, stub.URL+"/chat/completions", body); code != 200 {
		t.Errorf("first call answered %d", code)
	}
	if code, _, out := post(t, stub.URL+"/chat/completions", body); code != 429 || out["error"].(map[string]any)["type"] != "rate_limit_error" {
		t.Errorf("second call within the window answered %d %v", code, out)
	}
	post(t, stub.URL+"/chat/completions", `{not json`)
	log := stub.Log()
	if len(log) != 3 {
		t.Fatalf("%d calls logged, want 3: %+v", len(log), log)
	}
	for i, want := range []int{200, 429, 400} {
		if log[i].Status != want || log[i].Start.IsZero() || log[i].End.Before(log[i].Start) {
			t.Errorf("call %d: %+v, want status %d with its start and end", i, log[i], want)
		}
	}
	if window.Refused() != 1 {
		t.Errorf("window refused %d, want 1", window.Refused())
	}
}
