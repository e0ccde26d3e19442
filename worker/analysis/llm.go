package analysis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/googleai"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// LLMConfig configures a model-backed Analyzer.
type LLMConfig struct {
	Provider               string // openai, anthropic, ollama or googleai
	Model, BaseURL, APIKey string
	Timeout                time.Duration // per model call (default 60s)
	MaxAttempts            int           // calls per step, the first included (default 3)
	Temperature            float64
	HTTPClient             *http.Client // optional
	Logger                 *slog.Logger // optional
	// Sleep waits between attempts (default: a timer, or until ctx ends).
	Sleep                   func(ctx context.Context, d time.Duration) error
	BaseBackoff, MaxBackoff time.Duration // defaults 1s and 30s
	// OnCall, when set, is told of every model call (for metrics).
	OnCall func(provider, model string, took time.Duration, err error)
}

// maxRetryAfter bounds how long a provider's Retry-After may hold a job.
const maxRetryAfter = 2 * time.Minute

// apiKeyVars name the setting of each provider's key, for error messages.
var apiKeyVars = map[string]string{"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "googleai": "GOOGLE_API_KEY"}

type llmAnalyzer struct {
	cfg      LLMConfig
	model    llms.Model
	useTools bool
	logger   *slog.Logger
}

// NewLLM returns an Analyzer that asks a model through langchaingo. It
// checks the configuration but does not call the model.
func NewLLM(ctx context.Context, cfg LLMConfig) (Analyzer, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Model == "" {
		return nil, errors.New("no model is configured: set LLM_MODEL")
	}
	// Every request goes through a transport that records the response's
	// status and Retry-After: langchaingo reports HTTP errors as plain text.
	client := &http.Client{}
	if cfg.HTTPClient != nil {
		*client = *cfg.HTTPClient
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = recordingTransport{next: next}

	a := &llmAnalyzer{cfg: cfg, logger: logger}
	var err error
	switch cfg.Provider {
	case "openai":
		token := cfg.APIKey
		if token == "" {
			if cfg.BaseURL == "" || strings.Contains(cfg.BaseURL, "api.openai.com") {
				return nil, errors.New("OPENAI_API_KEY is required for api.openai.com (set OPENAI_BASE_URL for a local OpenAI-compatible server)")
			}
			token = "unused" // local OpenAI-compatible servers ignore it; the client insists on one
		}
		opts := []openai.Option{openai.WithToken(token), openai.WithModel(cfg.Model), openai.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
		}
		a.model, err = openai.New(opts...)
		a.useTools = true
	case "anthropic":
		if cfg.APIKey == "" {
			return nil, errors.New("ANTHROPIC_API_KEY is required for LLM_PROVIDER=anthropic")
		}
		opts := []anthropic.Option{anthropic.WithToken(cfg.APIKey), anthropic.WithModel(cfg.Model), anthropic.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			opts = append(opts, anthropic.WithBaseURL(cfg.BaseURL))
		}
		a.model, err = anthropic.New(opts...)
		a.useTools = true
	case "ollama":
		opts := []ollama.Option{ollama.WithModel(cfg.Model), ollama.WithFormat("json"), ollama.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.BaseURL))
		}
		a.model, err = ollama.New(opts...)
	case "googleai":
		if cfg.APIKey == "" {
			return nil, errors.New("GOOGLE_API_KEY is required for LLM_PROVIDER=googleai")
		}
		a.model, err = googleai.New(ctx, googleai.WithAPIKey(cfg.APIKey), googleai.WithDefaultModel(cfg.Model), googleai.WithHTTPClient(client))
	default:
		return nil, fmt.Errorf("unknown model provider %q: set LLM_PROVIDER to openai, anthropic, ollama or googleai", cfg.Provider)
	}
	if err != nil {
		return nil, fmt.Errorf("set up the %s client: %s", cfg.Provider, a.redact(err.Error()))
	}
	return a, nil
}

func (a *llmAnalyzer) Provider() string { return a.cfg.Provider }
func (a *llmAnalyzer) Model() string    { return a.cfg.Model }

// Analyze asks the model once and, if the answer is invalid, once more with
// the problems spelled out.
func (a *llmAnalyzer) Analyze(ctx context.Context, req Request) (Result, error) {
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, systemPrompt),
		llms.TextParts(llms.ChatMessageTypeHuman, userPrompt(req)),
	}
	ans, err := a.call(ctx, msgs)
	if err != nil {
		return Result{}, err
	}
	res, invalid := ans.parse(req)
	if invalid == nil {
		return a.label(res), nil
	}
	a.logger.WarnContext(ctx, "model answer invalid; asking for a repair", "err", invalid)
	msgs = append(msgs,
		llms.TextParts(llms.ChatMessageTypeAI, truncate(ans.text, 8000)),
		llms.TextParts(llms.ChatMessageTypeHuman, repairPrompt(invalid)))
	ans, err = a.call(ctx, msgs)
	if err != nil {
		return Result{}, err
	}
	res, invalid = ans.parse(req)
	if invalid != nil {
		return Result{}, fmt.Errorf("the model's answer was invalid twice: %s", strings.Join(invalid.Problems, "; "))
	}
	return a.label(res), nil
}

func (a *llmAnalyzer) label(r Result) Result {
	r.Provider, r.Model = a.cfg.Provider, a.cfg.Model
	return r
}

// modelAnswer is the text of one answer: a tool call's arguments or the
// message content.
type modelAnswer struct {
	text      string
	truncated bool
}

func (m modelAnswer) parse(req Request) (Result, *InvalidAnswerError) {
	if m.truncated {
		return Result{}, &InvalidAnswerError{Problems: []string{"the answer was cut off at the model's output limit; answer more briefly"}}
	}
	res, err := ParseAnswer(m.text, req)
	if err != nil {
		var invalid *InvalidAnswerError
		if errors.As(err, &invalid) {
			return Result{}, invalid
		}
		return Result{}, &InvalidAnswerError{Problems: []string{err.Error()}}
	}
	return res, nil
}

// call sends msgs, retrying timeouts, rate limits, server errors and
// connection failures with exponential backoff and jitter.
func (a *llmAnalyzer) call(ctx context.Context, msgs []llms.MessageContent) (modelAnswer, error) {
	opts := []llms.CallOption{llms.WithTemperature(a.cfg.Temperature)}
	if a.useTools {
		opts = append(opts,
			llms.WithTools([]llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{
				Name: toolName, Description: "Record the analysis of the feedback.", Parameters: answerSchema(), Strict: true,
			}}}),
			llms.WithToolChoice(llms.ToolChoice{Type: "function", Function: &llms.FunctionReference{Name: toolName}}))
	} else if a.cfg.Provider == "googleai" {
		opts = append(opts, llms.WithJSONMode())
	}
	timeouts := 0
	for attempt := 1; ; attempt++ {
		info := &callInfo{}
		cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, info), a.cfg.Timeout)
		start := time.Now()
		resp, err := a.model.GenerateContent(cctx, msgs, opts...)
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		status, retryAfter := info.get()

		var failure error
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return modelAnswer{}, fmt.Errorf("analysis interrupted: %w", ctx.Err())
		case timedOut:
			timeouts++
			failure = fmt.Errorf("the model did not answer within %s", a.cfg.Timeout)
		case err == nil && len(resp.Choices) > 0:
			a.observe(start, nil)
			return a.answer(resp.Choices[0]), nil
		case err == nil || errors.Is(err, openai.ErrEmptyResponse):
			failure = errors.New("the model returned an empty answer")
		case permanent(status):
			a.observe(start, err)
			return modelAnswer{}, fmt.Errorf("the model provider rejected the request (HTTP %d): %s; %s",
				status, a.redact(truncate(err.Error(), 300)), a.hint(status))
		case status == http.StatusTooManyRequests:
			failure = errors.New("the model provider is rate limiting requests (HTTP 429)")
			wait = retryAfter
		case status >= 500:
			failure = fmt.Errorf("the model provider returned HTTP %d", status)
		default:
			failure = fmt.Errorf("could not reach the model provider: %s", a.redact(truncate(err.Error(), 300)))
		}
		a.observe(start, failure)
		if attempt >= a.cfg.MaxAttempts {
			if timeouts == attempt {
				return modelAnswer{}, fmt.Errorf("the model did not answer within %s (%d attempts); try again later or raise LLM_TIMEOUT", a.cfg.Timeout, attempt)
			}
			return modelAnswer{}, fmt.Errorf("the model call failed after %d attempts: %w", attempt, failure)
		}
		delay := backoff(attempt-1, a.cfg.BaseBackoff, a.cfg.MaxBackoff)
		if wait > 0 {
			delay = min(wait, maxRetryAfter)
		}
		a.logger.WarnContext(ctx, "model call failed; retrying", "attempt", attempt, "retry_in", delay.String(), "err", failure)
		if err := a.cfg.Sleep(ctx, delay); err != nil {
			return modelAnswer{}, fmt.Errorf("analysis interrupted: %w", err)
		}
	}
}

func (a *llmAnalyzer) observe(start time.Time, err error) {
	if a.cfg.OnCall != nil {
		a.cfg.OnCall(a.cfg.Provider, a.cfg.Model, time.Since(start), err)
	}
}

func (a *llmAnalyzer) answer(c *llms.ContentChoice) modelAnswer {
	ans := modelAnswer{text: c.Content, truncated: c.StopReason == "length" || c.StopReason == "max_tokens"}
	for _, tc := range c.ToolCalls {
		if tc.FunctionCall != nil && tc.FunctionCall.Name == toolName {
			ans.text = tc.FunctionCall.Arguments
			break
		}
	}
	return ans
}

// hint says what to check after a permanent error.
func (a *llmAnalyzer) hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		if v := apiKeyVars[a.cfg.Provider]; v != "" {
			return "check " + v
		}
		return "check the provider's credentials"
	case http.StatusNotFound:
		return "check LLM_MODEL and the provider's base URL"
	}
	return "check LLM_MODEL and the provider settings; retrying will not help"
}

// redact keeps the API key out of messages (some providers put it in URLs).
func (a *llmAnalyzer) redact(s string) string {
	if a.cfg.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, a.cfg.APIKey, "[redacted]")
}

func permanent(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// backoff is exponential with jitter: a random duration in [d/2, d], where
// d = base·2^n capped at max.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// callInfo is what the transport saw of the last response of one call.
type callInfo struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

func (c *callInfo) get() (int, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.retryAfter
}

type callInfoKey struct{}

type recordingTransport struct{ next http.RoundTripper }

func (t recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if info, ok := r.Context().Value(callInfoKey{}).(*callInfo); ok && resp != nil {
		info.mu.Lock()
		info.status = resp.StatusCode
		info.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		info.mu.Unlock()
	}
	return resp, err
}

// parseRetryAfter reads seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
