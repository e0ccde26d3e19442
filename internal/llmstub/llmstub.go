// Package llmstub is a test server speaking OpenAI's chat completions wire
// format (POST /v1/chat/completions, non-streaming), so tests drive
// langchaingo's real OpenAI client over real HTTP with scripted answers.
package llmstub

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Request is a decoded chat completion request.
type Request struct {
	Model       string
	Messages    []Message
	Tools       []json.RawMessage
	ToolChoice  json.RawMessage
	Temperature *float64
	Raw         []byte
}

// Message is one message of a request; Content joins text parts.
type Message struct {
	Role       string
	Content    string
	ToolCallID string
	ToolCalls  []json.RawMessage
}

// Reply is what the server answers to one request.
type Reply struct {
	status int
	body   any
	header http.Header
	delay  time.Duration
	hang   bool
}

// ToolCall answers with a call of the named function with these arguments
// (a JSON string, valid or not).
func ToolCall(name, arguments string) Reply {
	return completion(map[string]any{
		"role": "assistant", "content": nil,
		"tool_calls": []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": name, "arguments": arguments}}},
	}, "tool_calls")
}

// Text answers with plain text content.
func Text(content string) Reply {
	return completion(map[string]any{"role": "assistant", "content": content}, "stop")
}

// Truncated is a tool call cut off by the token limit (finish_reason length).
func Truncated(arguments string) Reply {
	r := ToolCall("record_analysis", arguments)
	r.body.(map[string]any)["choices"].([]any)[0].(map[string]any)["finish_reason"] = "length"
	return r
}

// Status answers with an HTTP error in OpenAI's error format.
func Status(code int, message string) Reply {
	typ := "server_error"
	switch {
	case code == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case code == http.StatusUnauthorized:
		typ = "authentication_error"
	case code >= 400 && code < 500:
		typ = "invalid_request_error"
	}
	return Reply{status: code, body: map[string]any{"error": map[string]any{
		"message": message, "type": typ, "code": nil}}}
}

// Answer marshals an analysis answer in the shape the analyzer asks of
// models, for ToolCall or Text. Adjustments are written as given; nil or no
// adjustments give an empty array. It panics if a value cannot be marshalled.
func Answer(summary string, adjustments ...map[string]any) string {
	if adjustments == nil {
		adjustments = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"summary": summary, "adjustments": adjustments})
	if err != nil {
		panic("llmstub.Answer: " + err.Error())
	}
	return string(b)
}

// Empty answers 200 with no choices.
func Empty() Reply {
	return Reply{status: http.StatusOK, body: map[string]any{"id": "x", "object": "chat.completion", "choices": []any{}}}
}

// Hang never answers: the request ends when the client gives up or the
// server closes.
func Hang() Reply { return Reply{hang: true} }

// WithHeader adds a response header, such as Retry-After.
func (r Reply) WithHeader(key, value string) Reply {
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(key, value)
	r.header = h
	return r
}

// WithUsage sets the token usage the reply reports (a completion's
// default is 1 prompt and 1 completion token).
func (r Reply) WithUsage(prompt, completion int) Reply {
	body, ok := r.body.(map[string]any)
	if !ok || body["choices"] == nil {
		return r
	}
	c := make(map[string]any, len(body))
	for k, v := range body {
		c[k] = v
	}
	c["usage"] = map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
	r.body = c
	return r
}

// tokens is the total usage the reply reports (0 for errors).
func (r Reply) tokens() int {
	body, _ := r.body.(map[string]any)
	usage, _ := body["usage"].(map[string]any)
	n, _ := usage["total_tokens"].(int)
	return n
}

// After delays the reply by d (or until the client gives up).
func (r Reply) After(d time.Duration) Reply {
	r.delay = d
	return r
}

func completion(message map[string]any, finish string) Reply {
	return Reply{status: http.StatusOK, body: map[string]any{
		"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": "stub",
		"choices": []any{map[string]any{"index": 0, "message": message, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	}}
}

// Responder chooses the reply to a request when none is queued. It may be
// called from several goroutines at once.
type Responder func(Request) Reply

// Server is a running stub.
type Server struct {
	// URL is the base URL ending in /v1, as OPENAI_BASE_URL expects.
	URL string

	srv       *httptest.Server
	fallback  Responder
	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	queue    []Reply
	requests []Request
	embedded []string
	embed    func(text string) []float32
	calls    []Call
}

// Call is one chat completion request as the stub saw it: when it
// arrived, when its answer was written (or the client gave up) and the
// HTTP status answered (0 when none was: the client went away, or the
// server closed).
type Call struct {
	Start, End time.Time
	Status     int
}

// New starts a stub that answers with queued replies first, then with
// fallback. It is closed when tb ends.
func New(tb testing.TB, fallback Responder) *Server {
	tb.Helper()
	s := newServer(fallback)
	s.srv = httptest.NewServer(s.handler())
	s.URL = s.srv.URL + "/v1"
	tb.Cleanup(s.Close)
	return s
}

// Start starts a stub outside a test, listening on addr (host:port; port
// 0 picks a free one), for tools such as bench/benchctl. The caller
// closes it.
func Start(addr string, fallback Responder) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := newServer(fallback)
	s.srv = httptest.NewUnstartedServer(s.handler())
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL + "/v1"
	return s, nil
}

func newServer(fallback Responder) *Server {
	return &Server{fallback: fallback, closing: make(chan struct{})}
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.complete)
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, Status(http.StatusNotFound, "unknown path "+r.URL.Path))
	})
	return mux
}

// Close stops the server, ending hanging and delayed replies first so that
// it does not wait for them. Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Enqueue adds replies answered, in order, before the fallback.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Log returns every chat completion request answered or abandoned so
// far, in the order they ended.
func (s *Server) Log() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Calls is the number of requests received so far.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Embed sets how POST /v1/embeddings turns each input text into a vector
// (by default Words: a bag of words hashed into 64 dimensions, so texts
// sharing words are near).
func (s *Server) Embed(f func(text string) []float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embed = f
}

// Embedded returns the texts embedded so far, in arrival order: one
// request may embed several.
func (s *Server) Embedded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.embedded...)
}

// Words is the default embedding: each word of text (split at anything
// but letters and digits, lower-cased) adds 1 to one of 64 dimensions
// chosen by its hash.
func Words(text string) []float32 {
	v := make([]float32, 64)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(w))
		v[h.Sum32()%64]++
	}
	return v
}

// embeddings answers OpenAI's embeddings request: {"input": [texts] or
// text, "model": ...}.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input json.RawMessage `json:"input"`
		Model string          `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, Status(http.StatusBadRequest, "invalid request body: "+err.Error()))
		return
	}
	var texts []string
	if err := json.Unmarshal(req.Input, &texts); err != nil {
		var one string
		if err := json.Unmarshal(req.Input, &one); err != nil {
			writeJSON(w, Status(http.StatusBadRequest, "input must be a string or a list of strings"))
			return
		}
		texts = []string{one}
	}
	s.mu.Lock()
	s.embedded = append(s.embedded, texts...)
	embed := s.embed
	s.mu.Unlock()
	if embed == nil {
		embed = Words
	}
	data := make([]any, len(texts))
	for i, t := range texts {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": embed(t)}
	}
	writeJSON(w, Reply{status: http.StatusOK, body: map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": len(texts), "total_tokens": len(texts)},
	}})
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	call := Call{Start: time.Now()}
	defer func() {
		call.End = time.Now()
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.mu.Unlock()
	}()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	req, err := decode(raw)
	if err != nil {
		call.Status = http.StatusBadRequest
		writeJSON(w, Status(http.StatusBadRequest, "invalid request body: "+err.Error()))
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var reply Reply
	queued := len(s.queue) > 0
	if queued {
		reply, s.queue = s.queue[0], s.queue[1:]
	}
	s.mu.Unlock()
	if !queued {
		if s.fallback == nil {
			reply = Status(http.StatusInternalServerError, "llmstub: no reply queued and no fallback")
		} else {
			reply = s.fallback(req)
		}
	}
	if reply.hang {
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	if reply.delay > 0 {
		t := time.NewTimer(reply.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	for k, v := range reply.header {
		w.Header()[k] = v
	}
	call.Status = writeJSON(w, reply)
}

// writeJSON writes r and returns the status it answered with.
func writeJSON(w http.ResponseWriter, r Reply) int {
	if r.status == 0 { // the zero Reply
		r = Status(http.StatusInternalServerError, "llmstub: a Reply must be made by one of its constructors")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_ = json.NewEncoder(w).Encode(r.body)
	return r.status
}

func decode(raw []byte) (Request, error) {
	var wire struct {
		Model    string `json:"model"`
		Messages []struct {
			Role       string            `json:"role"`
			Content    json.RawMessage   `json:"content"`
			ToolCallID string            `json:"tool_call_id"`
			ToolCalls  []json.RawMessage `json:"tool_calls"`
		} `json:"messages"`
		Tools       []json.RawMessage `json:"tools"`
		ToolChoice  json.RawMessage   `json:"tool_choice"`
		Temperature *float64          `json:"temperature"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return Request{}, err
	}
	req := Request{Model: wire.Model, Tools: wire.Tools, ToolChoice: wire.ToolChoice, Temperature: wire.Temperature, Raw: raw}
	for _, m := range wire.Messages {
		text, err := contentText(m.Content)
		if err != nil {
			return Request{}, fmt.Errorf("message content: %w", err)
		}
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: text, ToolCallID: m.ToolCallID, ToolCalls: m.ToolCalls})
	}
	return req, nil
}

// contentText reads content given as a string or as an array of parts.
func contentText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String(), nil
}
