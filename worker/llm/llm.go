// Package llm is the model-backed Analyzer: it asks a model through langchaingo
// (OpenAI and compatible servers, Anthropic, Ollama, Google AI) with the
// analysis prompt, retries what can succeed later, and validates every answer
// with analysis.ParseAnswer, asking once for a repair.
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/sync/semaphore"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/text"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// Defaults of Config.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultMaxAttempts = 3
	DefaultHold        = 2 * time.Second
	// DefaultMaxInFlight is LLM_MAX_IN_FLIGHT's default: model calls in
	// flight per worker. A job holds a worker slot only while it works,
	// so it is also WORKER_CONCURRENCY's default with a model.
	DefaultMaxInFlight = 64
	// DefaultTemperature is sent on every call: providers' own defaults differ.
	DefaultTemperature = 0.2
)

// Provider describes one model provider's configuration: the settings it
// reads and their defaults.
type Provider struct {
	Name           string
	APIKeyVar      string // the setting holding its API key ("" if none)
	BaseURLVar     string // the setting holding its base URL ("" if none)
	DefaultBaseURL string
	DefaultModel   string
	// DefaultPrice is DefaultModel's list price in spend.DefaultCurrency
	// per million tokens when this table was written: the built-in price
	// table, an example that LLM_PRICES replaces.
	DefaultPrice spend.Price
}

// Providers lists every provider, the one table server.go reads settings
// from and errors name settings by.
var Providers = []Provider{
	{Name: "openai", APIKeyVar: "OPENAI_API_KEY", BaseURLVar: "OPENAI_BASE_URL", DefaultBaseURL: "https://api.openai.com/v1", DefaultModel: "gpt-4o-mini", DefaultPrice: spend.Price{Input: 0.15, Output: 0.60}},
	{Name: "anthropic", APIKeyVar: "ANTHROPIC_API_KEY", BaseURLVar: "ANTHROPIC_BASE_URL", DefaultModel: "claude-3-5-haiku-latest", DefaultPrice: spend.Price{Input: 0.80, Output: 4.00}},
	{Name: "ollama", BaseURLVar: "OLLAMA_URL", DefaultBaseURL: "http://127.0.0.1:11434", DefaultModel: "llama3.1"}, // a local server: free
	{Name: "googleai", APIKeyVar: "GOOGLE_API_KEY", DefaultModel: "gemini-1.5-flash", DefaultPrice: spend.Price{Input: 0.075, Output: 0.30}},
}

// DefaultPrices is the built-in price table: each provider's default model
// at its DefaultPrice, in spend.DefaultCurrency. LLM_PRICES replaces it.
func DefaultPrices() spend.Prices {
	out := spend.Prices{}
	for _, p := range Providers {
		out[spend.Key{Provider: p.Name, Model: p.DefaultModel}] = p.DefaultPrice
	}
	return out
}

// ProviderNamed returns the provider called name.
func ProviderNamed(name string) (Provider, bool) {
	for _, p := range Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// Config configures a model-backed Analyzer.
type Config struct {
	Provider               string // openai, anthropic, ollama or googleai
	Model, BaseURL, APIKey string
	Timeout                time.Duration // per model call (default 60s)
	MaxAttempts            int           // calls per step, the first included (default 3)
	Temperature            float64       // always sent: providers' defaults differ
	// MaxPromptChars bounds the opening prompt, in characters (default
	// analysis.DefaultMaxPromptChars, at least analysis.MinPromptChars); see
	// analysis.Prompt.
	MaxPromptChars int
	// HTTPClient is optional. Its transport is wrapped to read response
	// status codes; the default client has no timeout of its own, each call
	// has a context deadline of Timeout instead.
	HTTPClient *http.Client
	Logger     *slog.Logger // optional
	// Sleep waits between attempts (default: a timer, or until ctx ends).
	// Tests replace it to record backoffs without waiting.
	Sleep                   func(ctx context.Context, d time.Duration) error
	BaseBackoff, MaxBackoff time.Duration // defaults 1s and 30s
	// OnCall, when set, is told of every model call (for metrics).
	OnCall func(provider, model string, took time.Duration, err error)
	// Tracing, when set, makes every model call (each attempt) a span.
	Tracing trace.TracerProvider
	// Redis, when set, is where the calls to the provider are metered with
	// every other worker's: Limits (LLM_MAX_RPM, LLM_MAX_TPM), and the
	// pause after a 429 or a Retry-After, which holds every worker's calls.
	Redis  redis.UniversalClient
	Limits llmlimit.Config
	// Hold is the longest wait (a provider's pause, a backoff between
	// attempts) sat out in place when the request may wait later
	// (analysis.Request.MayWaitLater); a longer one is returned as an
	// *analysis.WaitError and the job gives its slot back. Default 2s.
	Hold time.Duration
	// InFlight, when set, bounds the model calls in flight; one semaphore
	// is shared by a worker's analyzers (LLM_MAX_IN_FLIGHT).
	InFlight *semaphore.Weighted
}

// maxRetryAfter bounds how long a provider's Retry-After may hold a job
// (unless MaxBackoff is longer).
const maxRetryAfter = 2 * time.Minute

// maxOutputTokens is asked of providers whose client default (2048) is too
// small for a full answer. OpenAI-compatible servers keep their own default:
// older ones reject max_completion_tokens.
const maxOutputTokens = 4096

type llmAnalyzer struct {
	tracer  trace.Tracer
	limiter *llmlimit.Limiter // nil without Redis
	cfg     Config
	model   llms.Model
	opts    []llms.CallOption
	logger  *slog.Logger
}

// New returns an Analyzer that asks a model through langchaingo. It
// checks the configuration but does not call the model. Its errors name the
// setting to fix.
func New(ctx context.Context, cfg Config) (analysis.Analyzer, error) {
	cfg.Provider = strings.ToLower(strings.TrimSpace(cfg.Provider))
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Hold <= 0 {
		cfg.Hold = DefaultHold
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.BaseBackoff)
	if cfg.Sleep == nil {
		cfg.Sleep = backoff.Sleep
	}
	a := &llmAnalyzer{cfg: cfg, logger: cfg.Logger, tracer: noop.NewTracerProvider().Tracer("")}
	if cfg.Tracing != nil {
		a.tracer = cfg.Tracing.Tracer("github.com/feedbackloop/feedbackloop/worker/llm")
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPromptChars == 0 {
		cfg.MaxPromptChars = analysis.DefaultMaxPromptChars
	}
	if cfg.MaxPromptChars < analysis.MinPromptChars {
		return nil, fmt.Errorf("LLM_MAX_PROMPT_CHARS must be at least %d, got %d", analysis.MinPromptChars, cfg.MaxPromptChars)
	}
	if cfg.Redis != nil {
		if cfg.Limits.Logger == nil {
			cfg.Limits.Logger = a.logger
		}
		a.limiter = llmlimit.New(cfg.Redis, cfg.Limits)
	}
	if cfg.Model == "" && cfg.Provider != "" {
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

	tool := llms.WithTools([]llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{
		Name:        analysis.ToolName,
		Description: "Record the analysis of the feedback: a summary and the suggested adjustments to the plan.",
		Parameters:  analysis.AnswerSchema(),
		Strict:      true,
	}}})
	force := llms.WithToolChoice(llms.ToolChoice{Type: "function", Function: &llms.FunctionReference{Name: analysis.ToolName}})
	a.opts = []llms.CallOption{llms.WithTemperature(cfg.Temperature)}

	if setting := providerSetting(cfg.Provider).BaseURLVar; setting != "" && cfg.BaseURL != "" {
		if err := checkBaseURL(setting, cfg.BaseURL); err != nil {
			return nil, err
		}
	}

	var err error
	switch cfg.Provider {
	case "openai":
		token := cfg.APIKey
		if token == "" {
			if cfg.BaseURL == "" || strings.Contains(cfg.BaseURL, "api.openai.com") {
				return nil, errors.New("OPENAI_API_KEY is required for api.openai.com (or set OPENAI_BASE_URL to a local OpenAI-compatible server)")
			}
			token = "unused" // local OpenAI-compatible servers ignore it; the client insists on one
		}
		opts := []openai.Option{openai.WithToken(token), openai.WithModel(cfg.Model), openai.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
		}
		a.model, err = openai.New(opts...)
		a.opts = append(a.opts, tool, force)
	case "anthropic":
		if cfg.APIKey == "" {
			return nil, errors.New("ANTHROPIC_API_KEY is required for LLM_PROVIDER=anthropic")
		}
		opts := []anthropic.Option{anthropic.WithToken(cfg.APIKey), anthropic.WithModel(cfg.Model), anthropic.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			// Anthropic's SDKs take the URL without /v1 and add it; this
			// client posts to base + /messages. Accept both spellings.
			base := strings.TrimRight(cfg.BaseURL, "/")
			if !strings.HasSuffix(base, "/v1") {
				base += "/v1"
			}
			opts = append(opts, anthropic.WithBaseURL(base))
		}
		a.model, err = anthropic.New(opts...)
		// langchaingo v0.1.14 does not forward tool_choice to Anthropic, so
		// the model may answer in text; Analyze parses that too.
		a.opts = append(a.opts, tool, force, llms.WithMaxTokens(maxOutputTokens))
	case "ollama":
		// Ollama's client does not forward tools: JSON mode, with the shape
		// described in the system prompt.
		opts := []ollama.Option{ollama.WithModel(cfg.Model), ollama.WithFormat("json"), ollama.WithHTTPClient(client)}
		if cfg.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.BaseURL))
		}
		a.model, err = ollama.New(opts...)
	case "googleai":
		if cfg.APIKey == "" {
			return nil, errors.New("GOOGLE_API_KEY is required for LLM_PROVIDER=googleai")
		}
		if cfg.BaseURL != "" {
			return nil, errors.New("a base URL is not supported for LLM_PROVIDER=googleai; unset it")
		}
		a.model, err = newGoogleAI(ctx, cfg, client) // googleai.go; built with -tags googleai only
		a.opts = append(a.opts, llms.WithJSONMode(), llms.WithMaxTokens(maxOutputTokens))
	default:
		return nil, fmt.Errorf("unknown model provider %q: set LLM_PROVIDER to openai, anthropic, ollama or googleai", cfg.Provider)
	}
	if err != nil {
		return nil, fmt.Errorf("could not set up the %s client: %s", cfg.Provider, a.redact(err.Error()))
	}
	return a, nil
}

func (a *llmAnalyzer) Provider() string { return a.cfg.Provider }
func (a *llmAnalyzer) Model() string    { return a.cfg.Model }

// Analyze asks the model once and, if the answer is invalid, once more with
// the problems spelled out. If the second answer is invalid too, its valid
// part is kept (see analysis.ParseAnswer) when it has a summary or a
// suggestion; otherwise the analysis fails.
func (a *llmAnalyzer) Analyze(ctx context.Context, req analysis.Request) (analysis.Result, error) {
	system, user := analysis.Prompt(req, a.cfg.MaxPromptChars)
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, system),
		llms.TextParts(llms.ChatMessageTypeHuman, user),
	}
	calls := 0 // model calls made, for a wait to report
	ans, err := a.call(ctx, msgs, req, &calls)
	if err != nil {
		return analysis.Result{}, err
	}
	used := ans.usage
	res, bad := ans.parse(req)
	if bad == nil {
		return a.label(res, used), nil
	}
	a.logger.WarnContext(ctx, "model answer invalid; asking for a repair", "err", bad)
	// The answer goes back as plain assistant text, not as a tool call with
	// a tool result: every provider accepts that, while langchaingo's
	// Anthropic client cannot even send a tool call whose arguments are not
	// valid JSON, which is exactly what may need repairing.
	previous := ans.text
	if strings.TrimSpace(previous) == "" {
		previous = "(empty answer)"
	}
	msgs = append(msgs,
		llms.TextParts(llms.ChatMessageTypeAI, text.Truncate(previous, 8000)),
		llms.TextParts(llms.ChatMessageTypeHuman, analysis.RepairPrompt(bad.Problems)))
	ans, err = a.call(ctx, msgs, req, &calls)
	if err != nil {
		return analysis.Result{}, a.spent(err, used)
	}
	used = used.Add(ans.usage)
	res, bad = ans.parse(req)
	if bad != nil && !res.Usable() {
		return analysis.Result{}, a.spent(fmt.Errorf("the model's answer was invalid twice: %s", strings.Join(bad.Problems, "; ")), used)
	}
	if bad != nil {
		a.logger.WarnContext(ctx, "model answer still invalid after the repair; keeping its valid part",
			"kept", len(res.Adjustments), "dropped", res.DroppedSuggestions, "err", bad)
	}
	return a.label(res, used), nil
}

// spent says what the analysis's calls used when it fails after some did.
func (a *llmAnalyzer) spent(err error, used *analysis.Usage) error {
	if used == nil {
		return err
	}
	return &analysis.SpentError{Err: err, Provider: a.cfg.Provider, Model: a.cfg.Model, Usage: used}
}

func (a *llmAnalyzer) label(r analysis.Result, used *analysis.Usage) analysis.Result {
	r.Provider, r.Model, r.Usage = a.cfg.Provider, a.cfg.Model, used
	return r
}

// modelAnswer is the text of one answer: a tool call's arguments or the
// message content.
type modelAnswer struct {
	text      string
	truncated bool
	// usage is the tokens of every attempt of the call that reported them.
	usage *analysis.Usage
}

// parse validates the answer; with an error, the result is its valid part.
// A cut-off answer has none worth keeping: its missing part is unknown.
func (m modelAnswer) parse(req analysis.Request) (analysis.Result, *analysis.InvalidAnswerError) {
	if m.truncated {
		return analysis.Result{}, invalidAnswer("the answer was cut off at the model's output limit; answer more briefly, with fewer or shorter adjustments")
	}
	res, err := analysis.ParseAnswer(m.text, req)
	if err != nil {
		var ie *analysis.InvalidAnswerError
		if errors.As(err, &ie) {
			return res, ie
		}
		return analysis.Result{}, invalidAnswer(err.Error())
	}
	return res, nil
}

// call sends msgs, retrying timeouts, rate limits, server errors, empty
// answers and connection failures with exponential backoff and jitter. For
// a request that may wait later, a wait longer than Hold (the provider's
// pause, a backoff) ends the call with an *analysis.WaitError instead; the
// model calls of the job's earlier runs count as attempts. calls counts the
// model calls of the analysis.
func (a *llmAnalyzer) call(ctx context.Context, msgs []llms.MessageContent, req analysis.Request, calls *int) (modelAnswer, error) {
	timeouts := 0
	estimate := estimateTokens(msgs)
	var reported *analysis.Usage // every attempt's that reported its tokens
	turn := llmlimit.Call{Provider: a.cfg.Provider, Tokens: estimate, Priority: req.Priority}
	if req.MayWaitLater {
		turn.Hold = a.cfg.Hold
	}
	first := min(1+req.EarlierCalls, a.cfg.MaxAttempts)
	for attempt := first; ; attempt++ {
		var ticket llmlimit.Ticket
		if a.limiter != nil {
			var err error
			ticket, err = a.limiter.Wait(ctx, turn)
			var busy *llmlimit.BusyError
			if errors.As(err, &busy) {
				return modelAnswer{}, &analysis.WaitError{After: busy.Left, Err: busy, Calls: *calls}
			}
			if err != nil {
				return modelAnswer{}, fmt.Errorf("the analysis was interrupted while waiting for the provider's rate limits: %w", err)
			}
		}
		if a.cfg.InFlight != nil {
			if err := a.cfg.InFlight.Acquire(ctx, 1); err != nil {
				if a.limiter != nil {
					a.limiter.Done(ctx, ticket, 0)
				}
				return modelAnswer{}, fmt.Errorf("the analysis was interrupted while waiting for a model call slot: %w", err)
			}
		}
		*calls++
		start := time.Now()
		resp, timedOut, status, retryAfter, err := a.generate(ctx, msgs, attempt)
		if in, out, ok := usageOf(resp); ok {
			reported = reported.Add(&analysis.Usage{InputTokens: in, OutputTokens: out})
		}
		if a.limiter != nil {
			used := -1 // unknown: the estimate stands
			if in, out, ok := usageOf(resp); ok {
				used = in + out
			} else if status == http.StatusTooManyRequests {
				used = 0 // refused before the model ran
			}
			a.limiter.Done(ctx, ticket, used)
		}

		var failure error
		switch {
		case ctx.Err() != nil:
			a.observe(start, ctx.Err())
			return modelAnswer{}, fmt.Errorf("the analysis was interrupted: %w", ctx.Err())
		// Some clients (Ollama's) return neither an error nor content for
		// an HTTP error with an empty body: the recorded status decides.
		case err == nil && status < 400 && resp != nil && slices.ContainsFunc(resp.Choices, func(c *llms.ContentChoice) bool { return c != nil }):
			a.observe(start, nil)
			ans := answerOf(resp.Choices)
			ans.usage = reported
			return ans, nil
		case timedOut:
			timeouts++
			failure = fmt.Errorf("the model did not answer within %s", a.cfg.Timeout)
		case permanent(status):
			detail := "no details"
			if err != nil {
				detail = a.redact(text.Truncate(err.Error(), 300))
			}
			failure = fmt.Errorf("the model provider rejected the request (HTTP %d): %s; %s", status, detail, a.hint(status, detail))
			a.observe(start, failure)
			return modelAnswer{}, failure
		case status >= 400:
			failure = fmt.Errorf("the provider returned HTTP %d", status)
		case err == nil || status == http.StatusOK:
			failure = errors.New("the model provider returned an empty or unreadable answer")
		default:
			failure = fmt.Errorf("could not reach the model provider (%s)", a.redact(text.Truncate(err.Error(), 300)))
		}
		a.observe(start, failure)
		delay := backoff.Delay(attempt-1, a.cfg.BaseBackoff, a.cfg.MaxBackoff)
		if retryAfter > 0 {
			delay = min(retryAfter, max(maxRetryAfter, a.cfg.MaxBackoff))
		}
		if a.limiter != nil && (retryAfter > 0 || status == http.StatusTooManyRequests) {
			// The account is over its limit for everyone, not only for
			// this call: every worker waits.
			a.limiter.Pause(ctx, a.cfg.Provider, delay)
		}
		if attempt >= a.cfg.MaxAttempts {
			if timeouts == attempt-first+1 {
				return modelAnswer{}, &analysis.UnavailableError{Err: fmt.Errorf("the model did not answer within %s (%d attempts); try again later, or raise LLM_TIMEOUT", a.cfg.Timeout, attempt)}
			}
			return modelAnswer{}, &analysis.UnavailableError{Err: fmt.Errorf("the model call failed after %d attempts: %w; try again later", attempt, failure)}
		}
		if req.MayWaitLater && delay > a.cfg.Hold {
			a.logger.WarnContext(ctx, "model call failed; the job waits", "attempt", attempt, "retry_in", delay.String(), "err", failure)
			return modelAnswer{}, &analysis.WaitError{After: delay, Err: failure, Calls: *calls}
		}
		a.logger.WarnContext(ctx, "model call failed; retrying", "attempt", attempt, "retry_in", delay.String(), "err", failure)
		if err := a.cfg.Sleep(ctx, delay); err != nil {
			return modelAnswer{}, fmt.Errorf("the analysis was interrupted: %w", err)
		}
	}
}

// generate makes one model call, in flight until it returns (the slot is
// given back whatever happens, a panic in the client included): the
// response, whether it timed out, the HTTP status and Retry-After the
// transport saw, and the client's error.
func (a *llmAnalyzer) generate(ctx context.Context, msgs []llms.MessageContent, attempt int) (resp *llms.ContentResponse, timedOut bool, status int, retryAfter time.Duration, err error) {
	if a.cfg.InFlight != nil {
		defer a.cfg.InFlight.Release(1)
	}
	info := &callInfo{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, info), a.cfg.Timeout)
	defer cancel()
	cctx, span := a.tracer.Start(cctx, "llm.call", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.system", a.cfg.Provider), attribute.String("gen_ai.request.model", a.cfg.Model),
		attribute.Int("llm.attempt", attempt)))
	defer func() { endCallSpan(span, resp, status, err) }()
	resp, err = a.model.GenerateContent(cctx, msgs, a.opts...)
	// langchaingo turns deadlines into plain errors: ask the contexts.
	timedOut = errors.Is(cctx.Err(), context.DeadlineExceeded)
	status, retryAfter = info.get()
	return resp, timedOut, status, retryAfter, err
}

func (a *llmAnalyzer) observe(start time.Time, err error) {
	if a.cfg.OnCall != nil {
		a.cfg.OnCall(a.cfg.Provider, a.cfg.Model, time.Since(start), err)
	}
}

// answerOf reads the analysis tool call, else the last text, else any tool
// call. Anthropic's client gives one choice per content block, and Claude
// often writes a sentence (or a thinking block) before the tool call.
func answerOf(choices []*llms.ContentChoice) modelAnswer {
	var ans modelAnswer
	var recorded, anyCall *llms.FunctionCall
	for _, c := range choices {
		if c == nil {
			continue
		}
		switch c.StopReason {
		case "length", "max_tokens", "FinishReasonMaxTokens":
			ans.truncated = true
		}
		if strings.TrimSpace(c.Content) != "" {
			ans.text = c.Content
		}
		for _, tc := range c.ToolCalls {
			switch {
			case tc.FunctionCall == nil:
			case tc.FunctionCall.Name == analysis.ToolName && recorded == nil:
				recorded = tc.FunctionCall
			case anyCall == nil:
				anyCall = tc.FunctionCall
			}
		}
	}
	switch {
	case recorded != nil:
		ans.text = recorded.Arguments
	case anyCall != nil && strings.TrimSpace(ans.text) == "":
		ans.text = anyCall.Arguments
	}
	return ans
}

// hint says what to check after a permanent error.
func (a *llmAnalyzer) hint(status int, detail string) string {
	badKey := strings.Contains(detail, "API_KEY_INVALID") || strings.Contains(detail, "API key not valid") // Google answers 400
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden, badKey:
		if key := providerSetting(a.cfg.Provider).APIKeyVar; key != "" {
			return "check " + key
		}
		return "check the provider's credentials"
	case status == http.StatusNotFound:
		return "check LLM_MODEL and the provider's base URL"
	}
	return "check LLM_MODEL and the provider settings; retrying will not help"
}

// providerSetting is the table row of a provider (empty for an unknown one).
func providerSetting(name string) Provider {
	p, _ := ProviderNamed(name)
	return p
}

// checkBaseURL rejects what the clients would misuse: langchaingo's Ollama
// client even exits the process on a URL it cannot parse.
func checkBaseURL(setting, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q is not an http(s) URL: write it as http://host:port", setting, raw)
	}
	return nil
}

// redact keeps the API key out of messages (some providers put it in URLs).
func (a *llmAnalyzer) redact(s string) string {
	if a.cfg.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, a.cfg.APIKey, "[redacted]")
}

// permanent reports whether an HTTP status means retrying cannot help. Of
// the 4xx, only timeouts, conflicts and rate limits are worth another try.
func permanent(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}

// endCallSpan records a model call's outcome on its span: the HTTP status,
// the tokens used when the provider says, the error.
func endCallSpan(span trace.Span, resp *llms.ContentResponse, status int, err error) {
	defer span.End()
	if status > 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	if in, out, ok := usageOf(resp); ok {
		span.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", in), attribute.Int("gen_ai.usage.output_tokens", out))
	}
	if err != nil || status >= 400 {
		if err != nil {
			span.RecordError(err)
		}
		span.SetStatus(codes.Error, fmt.Sprintf("HTTP %d", status))
	}
}

// usageOf reads the tokens a response says it used, as langchaingo's
// clients report them (OpenAI's names, then Anthropic's), in whichever
// integer type the client uses (Google AI's are int32).
func usageOf(resp *llms.ContentResponse) (in, out int, ok bool) {
	if resp == nil || len(resp.Choices) == 0 || resp.Choices[0] == nil {
		return 0, 0, false
	}
	info := resp.Choices[0].GenerationInfo
	read := func(keys ...string) (int, bool) {
		for _, k := range keys {
			switch n := info[k].(type) {
			case int:
				return n, true
			case int32:
				return int(n), true
			case int64:
				return int(n), true
			}
		}
		return 0, false
	}
	in, okIn := read("PromptTokens", "InputTokens")
	out, okOut := read("CompletionTokens", "OutputTokens")
	return in, out, okIn || okOut
}

// expectedAnswerTokens is what an answer is reckoned to cost before the
// call; the reported usage corrects it after.
const expectedAnswerTokens = 1000

// estimateTokens reckons a call's tokens before it is made: about four
// characters a token (langchaingo's own approximation; exact counts would
// need each model's tokenizer, which tiktoken-go downloads), plus an
// answer's worth.
func estimateTokens(msgs []llms.MessageContent) int {
	chars := 0
	for _, m := range msgs {
		for _, p := range m.Parts {
			if t, ok := p.(llms.TextContent); ok {
				chars += len(t.Text)
			}
		}
	}
	return chars/4 + expectedAnswerTokens
}

// callInfo is what the transport saw of the last response of one call. It
// travels in the request's context, so concurrent calls do not mix.
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

// parseRetryAfter reads seconds or an HTTP date; 0 means none.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func invalidAnswer(problem string) *analysis.InvalidAnswerError {
	return &analysis.InvalidAnswerError{Problems: []string{problem}}
}
