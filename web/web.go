// Package web is the service's HTTP shell: routing, CORS and origin checks,
// authentication of requests, request IDs and the access log, probes,
// metrics, GraphiQL and the web app. The GraphQL endpoint itself is the graph package's;
// web only decides who reaches it.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/feedbackloop/feedbackloop/internal/graphiql"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/tracing"
	"github.com/feedbackloop/feedbackloop/internal/webapp"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Authenticator turns an Authorization header into a viewer (see the auth
// package).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (*viewer.Viewer, error)
	// Open reports open mode: every caller is the local admin.
	Open() bool
}

// Config holds what the HTTP shell serves.
type Config struct {
	// GraphQL serves /query over HTTP and websockets; nil serves only the
	// probes and metrics (a worker process).
	GraphQL http.Handler
	Auth    Authenticator
	Logger  *slog.Logger
	// Checks are the dependencies /readyz reports on, by name.
	Checks map[string]Check
	// Metrics, when set, records requests. It is served at /metrics unless
	// MetricsElsewhere (then MetricsHandler serves it on its own address).
	Metrics          *metrics.Metrics
	MetricsElsewhere bool
	// Origins decides which browser pages may call the API.
	Origins *Origins
	// RateLimit, when set, charges every /query request to its client's
	// budget and gives every response the X-RateLimit-* headers.
	RateLimit *ratelimit.Limiter
	// Tracing, when set, makes every request (but probes and scrapes) a
	// span, continuing a trace the caller sent in traceparent.
	Tracing trace.TracerProvider
	// GitHubWebhook, when set, receives GitHub's webhook deliveries at
	// GitHubWebhookPath: they authenticate with their signature, not with
	// the API's credentials, and come from GitHub, not from browsers.
	GitHubWebhook http.Handler
}

// GitHubWebhookPath is where GitHubWebhook is served.
const GitHubWebhookPath = "/integrations/github/webhook"

// New returns the service's HTTP handler.
func New(cfg Config) http.Handler {
	logger := logctx.Logger(cfg.Logger)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", Live())
	mux.Handle("GET /readyz", Ready(logger, cfg.Checks))
	if cfg.Metrics != nil && !cfg.MetricsElsewhere {
		// With credentials configured, the metrics reveal enough about the
		// service (operations, queue sizes) to be an admin's business.
		mux.Handle("GET /metrics", authenticate(cfg.Auth, logger, requireAdmin(cfg.Metrics.Handler())))
	}
	if cfg.GraphQL != nil {
		// GraphiQL's page and files hold no data: a browser must load them
		// before it can send the token typed into its Headers tab.
		mux.Handle("GET /{$}", graphiql.Handler("Feedback Loop", "/query"))
		mux.Handle("GET "+graphiql.AssetPrefix, graphiql.Assets())
		// The web app, likewise: it signs in from the browser.
		mux.Handle("GET "+webapp.Prefix, webapp.Handler())
		mux.Handle("GET /app", http.RedirectHandler(webapp.Prefix, http.StatusMovedPermanently))
		var query http.Handler = authenticate(cfg.Auth, logger, cfg.GraphQL)
		if cfg.RateLimit != nil {
			// Outside authentication: refused credentials are charged to
			// their address.
			query = cfg.RateLimit.Middleware(query)
		}
		mux.Handle("/query", cfg.Origins.cors(query))
	}
	if cfg.GitHubWebhook != nil {
		mux.Handle(GitHubWebhookPath, cfg.GitHubWebhook)
	}
	var h http.Handler = accessLog(logger, cfg.Metrics, mux)
	h = cfg.Origins.guardHost(h)
	h = withRequestID(h)
	if cfg.Tracing != nil {
		// Outermost, so that every log line of the request names its trace.
		h = otelhttp.NewHandler(h, "http",
			otelhttp.WithTracerProvider(cfg.Tracing),
			otelhttp.WithPropagators(tracing.Propagator()),
			otelhttp.WithFilter(func(r *http.Request) bool { return !isProbe(r.URL.Path) }),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
	}
	return h
}

// isProbe reports whether path is a probe or a scrape, which are neither
// logged nor traced.
func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// MetricsHandler serves /metrics alone, for METRICS_ADDR: an address only
// the operator's scraper reaches, so it asks for no credentials. The Go
// profiler (net/http/pprof) is served there too, under /debug/pprof/: it
// shows what the process spends its time on under real load, and, like the
// metrics, it is the operator's business and never on the API's address.
func MetricsHandler(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// Timeouts of the HTTP server: reading a request (headers and body) must end
// within ReadTimeout, so a client trickling its body cannot hold a
// connection; an idle keep-alive connection is closed after IdleTimeout.
// Websockets are not affected: the upgrade clears the deadlines; nor are
// Server-Sent Event streams (net/http clears the read deadline once the
// body is read), which bound each write themselves
// (graph/wstransport/sse.go): a WriteTimeout would end every stream.
const (
	DefaultReadTimeout = 15 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
	readHeaderTimeout  = 10 * time.Second
)

// NewServer returns the HTTP server for h with the read and idle timeouts
// (zero: the defaults); it logs its own errors (broken connections, read
// timeouts) to logger at WARN.
func NewServer(h http.Handler, readTimeout, idleTimeout time.Duration, logger *slog.Logger) *http.Server {
	if readTimeout <= 0 {
		readTimeout = DefaultReadTimeout
	}
	if idleTimeout <= 0 {
		idleTimeout = DefaultIdleTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(readHeaderTimeout, readTimeout),
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
