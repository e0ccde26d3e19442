// Command feedbackloop serves the Feedback Loop GraphQL API and processes
// feedback.
//
// ROLE=all (the default) runs the API, GraphiQL and a worker in one process;
// ROLE=api and ROLE=worker run them apart, so that several API instances and
// workers share one PostgreSQL and one Redis. Configuration comes from
// environment variables (config.go, docs/configuration.md); it is read once
// here and passed down.
package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/integrations/github"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/redisconn"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/internal/tlscert"
	"github.com/feedbackloop/feedbackloop/internal/tracing"
	"github.com/feedbackloop/feedbackloop/migrations"
	"github.com/feedbackloop/feedbackloop/notify"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/web"
	"github.com/feedbackloop/feedbackloop/webhooks"
	"github.com/feedbackloop/feedbackloop/webhooks/dispatch"
	"github.com/feedbackloop/feedbackloop/worker"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/budget"
	"github.com/feedbackloop/feedbackloop/worker/fallback"
	"github.com/feedbackloop/feedbackloop/worker/llm"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Getenv, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "feedbackloop:", err)
		os.Exit(1)
	}
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(logctx.Handler(h)).With("role", cfg.Role)
}

// deps are the connections every role shares.
type deps struct {
	db      *sql.DB
	client  *ent.Client
	rdb     redis.UniversalClient // one of the topologies of redisconn
	jobs    *queue.Client
	pipe    *pipeline.Pipeline
	events  *events.Publisher
	metrics *metrics.Metrics
	checks  map[string]web.Check
	tracing trace.TracerProvider // nil: tracing is off
}

func (d *deps) close() {
	d.pipe.Close()
	_ = d.jobs.Close()
	_ = d.rdb.Close()
	_ = d.db.Close()
}

// connect opens the database (creating and migrating it first) and Redis.
func connect(ctx context.Context, cfg config, logger *slog.Logger, tp trace.TracerProvider) (*deps, error) {
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		if postgres.IsUnavailable(err) {
			err = fmt.Errorf("%w (is PostgreSQL running? check DATABASE_URL)", err)
		}
		return nil, err
	}
	var traced []postgres.Option
	if tp != nil {
		traced = append(traced, postgres.WithTracing(tp))
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabasePool, traced...)
	if err != nil {
		return nil, err
	}
	if err := migrations.Up(ctx, db, logger); err != nil {
		db.Close()
		return nil, err
	}
	rdb, err := redisconn.New(cfg.Redis)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("Redis (%s): %w", redisSettings(cfg.Redis), err)
	}
	d := &deps{db: db, client: store.NewClient(db), rdb: rdb, metrics: metrics.New(), tracing: tp}
	if tp != nil {
		// Commands by name only: their arguments carry feedback text and
		// clients' addresses.
		err := redisotel.InstrumentTracing(d.rdb, redisotel.WithTracerProvider(tp), redisotel.WithDBStatement(false))
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("trace Redis: %w", err)
		}
	}
	d.jobs = queue.NewClient(d.rdb, queue.Options{Name: cfg.QueueName, Tracing: tp})
	d.events = events.NewPublisher(d.rdb, cfg.EventsChannel)
	d.pipe = pipeline.New(pipeline.Config{Client: d.client, Jobs: d.jobs, Logger: logger, RejectionMemory: cfg.RejectionMemory})
	d.metrics.QueueDepth(func(ctx context.Context) (map[string]int, error) {
		q, err := d.jobs.Depth(ctx)
		return map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled, "retry": q.Retry, "archived": q.Archived}, err
	})
	d.checks = map[string]web.Check{
		"database": db.PingContext,
		"redis":    func(ctx context.Context) error { return redisconn.Ping(ctx, d.rdb) },
	}
	return d, nil
}

// redisSettings names the settings of the Redis topology o, for errors.
func redisSettings(o redisconn.Options) string {
	switch o.Topology() {
	case "sentinel":
		return "REDIS_SENTINEL_ADDRS and REDIS_SENTINEL_MASTER"
	case "cluster":
		return "REDIS_CLUSTER_ADDRS"
	}
	return "REDIS_URL"
}

// stoppers stop the parts of a process in the reverse order they started.
type stoppers []func(context.Context) error

func (s stoppers) stop(ctx context.Context, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	for i := len(s) - 1; i >= 0; i-- {
		if err := s[i](ctx); err != nil {
			logger.Error("shutdown", "err", err)
		}
	}
	logger.Info("stopped")
}

// run starts the process and blocks until ctx is cancelled and everything has
// shut down. listening, when not nil, receives the address HTTP is served on.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer, listening chan<- string) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := newLogger(cfg, stderr)
	if cfg.GOGC == "" {
		go gcPolicy().Run(ctx)
	}

	// Before anything connects: a bad pair is found at once.
	tlsConfig, err := loadTLS(cfg, logger)
	if err != nil {
		return err
	}

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tp, stopTracing, err := tracing.Setup(startCtx, getenv, cfg.Role)
	if err != nil {
		return err
	}
	d, err := connect(startCtx, cfg, logger, tp)
	if err != nil {
		return err
	}
	defer d.close()

	// Stopped last: the other parts' final spans are flushed.
	stop := stoppers{stopTracing}
	defer func() { stop.stop(ctx, cfg.ShutdownTimeout, logger) }()

	authn, err := auth.New(startCtx, withLogger(cfg.Auth, logger), d.client)
	if err != nil {
		return err
	}
	defer authn.Close()
	if authn.Open() {
		warnOpenMode(cfg.Addr, scheme(cfg), logger)
	}

	// Every process runs a relay; one at a time publishes the outbox.
	relay := outbox.NewRelay(outbox.RelayConfig{
		DB: d.db, Client: d.client, DatabaseURL: cfg.DatabaseURL, Publisher: d.events, Logger: logger,
		Retention: cfg.EventRetention, OnPublished: d.metrics.EventsRelayed, Tracing: tp,
	})
	if err := relay.Start(ctx); err != nil {
		return err
	}
	stop = append(stop, relay.Shutdown)

	if cfg.Role == "all" || cfg.Role == "worker" {
		w, err := startWorker(ctx, startCtx, cfg, d, logger)
		if err != nil {
			return err
		}
		stop = append(stop, w.Shutdown)
		// Webhooks are delivered from the outbox by the workers, never
		// from a request.
		if cfg.WebhookAllowPrivate {
			logger.Warn("WEBHOOK_ALLOW_PRIVATE is set: webhooks may reach loopback, private and link-local addresses")
		}
		hooks := dispatch.New(dispatch.Config{Client: d.client, HTTP: webhooks.NewClient(cfg.WebhookAllowPrivate),
			Secrets: cfg.WebhookSecrets, Logger: logger, NotifyOwners: cfg.SMTP != nil})
		hooks.Start(ctx)
		stop = append(stop, hooks.Shutdown)
		// Email digests: each worker looks for due ones; a row claim
		// keeps each digest to one of them.
		if cfg.SMTP != nil {
			digests := digest.NewScheduler(digest.Config{Client: d.client, Mailer: cfg.SMTP, Logger: logger, PollEvery: cfg.DigestEvery})
			digests.Start(ctx)
			stop = append(stop, digests.Shutdown)
			// The emails owed to single members (disabled webhooks,
			// mentions), written with what they tell.
			notes := notify.NewSender(notify.Config{Client: d.client, Mailer: cfg.SMTP, Logger: logger, PollEvery: cfg.NotifyEvery})
			notes.Start(ctx)
			stop = append(stop, notes.Shutdown)
		} else {
			logger.Info("SMTP_URL is not set: email digests and notifications (disabled webhooks, mentions) are not sent (members' choices are kept)")
		}
		issues := github.NewDispatcher(github.Config{Client: d.client, GitHub: &github.Client{BaseURL: cfg.GitHubAPIURL},
			Secrets: cfg.WebhookSecrets, Logger: logger})
		issues.Start(ctx)
		stop = append(stop, issues.Shutdown)
	}

	origins := web.NewOrigins(cfg.AllowedOrigins, authn.Open())
	shell := web.Config{Auth: authn, Logger: logger, Checks: d.checks, Metrics: d.metrics, MetricsElsewhere: cfg.MetricsAddr != "",
		Origins: origins, Tracing: tp}
	var api *graph.Server
	if cfg.Role != "worker" {
		limiter := newLimiter(cfg, d, authn.Open(), logger)
		api, err = startAPI(startCtx, cfg, d, authn, origins, limiter, logger, &stop)
		if err != nil {
			return err
		}
		shell.GraphQL, shell.RateLimit = api, limiter
		shell.GitHubWebhook = github.Webhook(d.client, cfg.WebhookSecrets, logger)
	}

	addr, err := listen(ctx, cfg, tlsConfig, shell, api, d.metrics, startupAttrs(cfg, authn.Open()), logger, &stop)
	if err != nil {
		return err
	}
	if listening != nil {
		listening <- addr
	}
	<-ctx.Done()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	return nil
}

// listen serves the HTTP shell on cfg.Addr, and /metrics alone on
// METRICS_ADDR when set, until ctx ends; it returns the shell's address.
// With tlsConfig both speak only TLS: the design asks for HTTPS only, and
// the profiler on METRICS_ADDR shows as much as the API.
func listen(ctx context.Context, cfg config, tlsConfig *tls.Config, shell web.Config, api *graph.Server, m *metrics.Metrics, attrs []any, logger *slog.Logger, stop *stoppers) (string, error) {
	if cfg.MetricsAddr != "" {
		addr, err := serve(ctx, web.NewServer(web.MetricsHandler(m), cfg.ReadTimeout, cfg.IdleTimeout, logger), cfg.MetricsAddr, tlsConfig, logger, stop, nil)
		if err != nil {
			return "", fmt.Errorf("METRICS_ADDR: %w", err)
		}
		logger.Info("serving metrics", "addr", addr, "url", scheme(cfg)+"://"+displayAddr(addr)+"/metrics")
	}
	addr, err := serve(ctx, web.NewServer(web.New(shell), cfg.ReadTimeout, cfg.IdleTimeout, logger), cfg.Addr, tlsConfig, logger, stop, func(ctx context.Context) {
		// http.Server.Shutdown does not wait for websockets: close them first.
		if api != nil {
			if err := api.CloseSubscriptions(ctx); err != nil {
				logger.Warn("shutdown", "err", err)
			}
		}
	})
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w (is PORT in use?)", cfg.Addr, err)
	}
	if api != nil {
		logger.Info("serving GraphQL API", append([]any{"addr", addr, "graphiql", scheme(cfg) + "://" + displayAddr(addr) + "/", "endpoint", "/query"}, attrs...)...)
	} else {
		logger.Info("serving health probes", append([]any{"addr", addr}, attrs...)...)
	}
	return addr, nil
}

// startupAttrs say, on the line that says where the service listens, how it
// runs: its mode (open, or with credentials) and, where this process
// analyses feedback, its model (every line names the role).
func startupAttrs(cfg config, open bool) []any {
	mode := "credentials"
	if open {
		mode = "open"
	}
	attrs := []any{"mode", mode}
	if cfg.Role == "all" || cfg.Role == "worker" {
		model := "builtin (rule-based)"
		if cfg.LLM.Provider != defaultProvider {
			model = cfg.LLM.Provider + "/" + cfg.LLM.Model
		}
		attrs = append(attrs, "model", model)
	}
	return attrs
}

// newLimiter returns the rate limiter. Budgets are kept in Redis, shared
// by every API instance. In open mode everyone is the same local admin, so
// callers are told apart by address.
func newLimiter(cfg config, d *deps, open bool, logger *slog.Logger) *ratelimit.Limiter {
	rateCfg := cfg.RateLimit
	rateCfg.ByAddress, rateCfg.Logger, rateCfg.Metrics = open, logger, d.metrics
	return ratelimit.New(d.rdb, rateCfg)
}

// startAPI subscribes the instance to the event bus and returns the
// GraphQL server; stop gets the bus's shutdown.
func startAPI(startCtx context.Context, cfg config, d *deps, authn *auth.Authenticator, origins *web.Origins,
	limiter *ratelimit.Limiter, logger *slog.Logger, stop *stoppers) (*graph.Server, error) {
	bus := events.NewBus(events.BusConfig{Redis: d.rdb, Channel: cfg.EventsChannel, Logger: logger, OnDispatch: d.metrics.EventDispatched})
	if err := bus.Start(startCtx); err != nil {
		return nil, fmt.Errorf("subscribe to events: %w (is Redis running? check %s)", err, redisSettings(cfg.Redis))
	}
	*stop = append(*stop, bus.Shutdown)
	client, reads, positions, err := openReplicas(startCtx, cfg, d, logger, stop)
	if err != nil {
		return nil, err
	}
	return graph.New(graph.Config{
		Reads:       reads,
		Positions:   positions,
		Client:      client,
		Pipeline:    d.pipe,
		Bus:         bus,
		Logger:      logger,
		Auth:        authn,
		CheckOrigin: origins.AllowWebsocket,
		Metrics:     d.metrics,
		Limits:      cfg.Limits,
		RateLimit:   limiter,
		Tracing:     d.tracing,
		// A token's user is its subject at its issuer, and with
		// JWT_ISSUER set every token's issuer is JWT_ISSUER.
		DefaultIssuer:      cfg.Auth.Issuer,
		Budget:             cfg.LLMBudget,
		WebhooksPerProject: cfg.WebhooksPerProject,
		WebhookSecrets:     cfg.WebhookSecrets,
		DigestsSending:     cfg.SMTP != nil,
		Compare:            cfg.Compare,
	}), nil
}

// openReplicas opens the read replicas of DATABASE_REPLICA_URLS, if any,
// for the API's query operations: it returns the ent client that routes
// them, the replica set and where callers' last writes are remembered (in
// Redis, for every instance). Without replicas it returns d's client alone.
func openReplicas(ctx context.Context, cfg config, d *deps, logger *slog.Logger, stop *stoppers) (*ent.Client, *replicas.Set, *replicas.Positions, error) {
	if len(cfg.DatabaseReplicaURLs) == 0 {
		return d.client, nil, nil, nil
	}
	var traced []postgres.Option
	if d.tracing != nil {
		traced = append(traced, postgres.WithTracing(d.tracing))
	}
	set, err := replicas.Open(ctx, replicas.Config{Primary: d.db, URLs: cfg.DatabaseReplicaURLs, Pool: cfg.DatabasePool, Options: traced,
		MaxLag: cfg.DatabaseReplicaMaxLag, Metrics: d.metrics, Logger: logger})
	if err != nil {
		return nil, nil, nil, err
	}
	*stop = append(*stop, func(context.Context) error { return set.Close() })
	return store.NewClientOn(set.Driver()), set,
		// Beside the budgets' keys: deployments sharing a Redis keep apart.
		replicas.NewPositions(d.rdb, cfg.RateLimit.Prefix+":written:", cfg.DatabaseReplicaMaxLag), nil
}

// warnOpenMode says at start that every caller is the local admin, and,
// when HOST is not a loopback address, that the network can reach it: open
// mode still answers only requests naming a loopback host (so no web page
// can, through DNS rebinding), but any program on the network may name one.
func warnOpenMode(addr, scheme string, logger *slog.Logger) {
	host, _, _ := net.SplitHostPort(addr)
	if web.IsLoopbackHost(host) {
		logger.Warn("OPEN MODE: no credentials are configured (JWT_SECRET, JWT_JWKS_URL or ADMIN_API_KEY), so every caller acts as the local admin; serving loopback only",
			"addr", addr, "scheme", scheme)
		return
	}
	logger.Warn("OPEN MODE ON A NETWORK ADDRESS: no credentials are configured (JWT_SECRET, JWT_JWKS_URL or ADMIN_API_KEY) and HOST is not a loopback address: "+
		"requests must still name localhost, 127.0.0.1 or [::1] as their host, which keeps out web pages but not other programs on the network; configure credentials to serve it",
		"addr", addr, "scheme", scheme)
}

// loadTLS returns the servers' TLS configuration, nil for plain HTTP.
func loadTLS(cfg config, logger *slog.Logger) (*tls.Config, error) {
	if cfg.TLSCertFile == "" {
		return nil, nil
	}
	certs, err := tlscert.New(cfg.TLSCertFile, cfg.TLSKeyFile, logger)
	if err != nil {
		return nil, err
	}
	return certs.ServerConfig(), nil
}

// scheme is how clients reach the process: https with TLS_CERT_FILE.
func scheme(cfg config) string {
	if cfg.TLSCertFile != "" {
		return "https"
	}
	return "http"
}

func withLogger(c auth.Config, logger *slog.Logger) auth.Config {
	c.Logger = logger
	return c
}

// serve listens on addr and serves srv until the process stops; beforeStop
// runs first when it does. With tlsConfig it serves HTTPS, HTTP/2 included
// (http.Server adds it). Websockets stay on HTTP/1.1: Go's HTTP/2 server
// does not offer RFC 8441's extended CONNECT (unless GODEBUG=http2xconnect=1,
// which loadConfig refuses), so browsers open them on an HTTP/1.1 connection,
// which the websocket library needs (TestHTTPSServesHTTP2AndWebsocketsOverHTTP1).
func serve(ctx context.Context, srv *http.Server, addr string, tlsConfig *tls.Config, logger *slog.Logger, stop *stoppers, beforeStop func(context.Context)) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	if tlsConfig != nil {
		// Its own copy: http.Server adds HTTP/2 to the one it is given.
		srv.TLSConfig = tlsConfig.Clone()
	}
	go func() {
		var err error
		if tlsConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && err != http.ErrServerClosed {
			logger.ErrorContext(ctx, "HTTP server stopped", "addr", addr, "err", err)
		}
	}()
	*stop = append(*stop, func(ctx context.Context) error {
		if beforeStop != nil {
			beforeStop(ctx)
		}
		return srv.Shutdown(ctx)
	})
	return ln.Addr().String(), nil
}

func startWorker(ctx, startCtx context.Context, cfg config, d *deps, logger *slog.Logger) (*worker.Worker, error) {
	cfg.LLM.OnCall = d.metrics.ModelCall
	cfg.LLM.Tracing = d.tracing
	cfg.LLM.Redis = d.rdb // model call limits and pauses, shared by every worker
	cfg.LLM.InFlight = semaphore.NewWeighted(int64(cfg.LLMMaxInFlight))
	analyzer, err := newAnalyzer(startCtx, cfg.LLM, logger)
	if err != nil {
		return nil, err
	}
	if analyzer, err = withFallback(startCtx, analyzer, cfg, logger); err != nil {
		return nil, err
	}
	analyzer = withBudget(analyzer, cfg, d.pipe, logger)
	embedder, err := newEmbedder(cfg)
	if err != nil {
		return nil, err
	}
	comparers, err := newComparers(startCtx, cfg, d.pipe, logger)
	if err != nil {
		return nil, err
	}
	w := worker.New(worker.Config{
		Client:   d.client,
		Pipeline: d.pipe,
		Analyzer: analyzer,
		Queue:    d.jobs,
		Consumer: queue.ServerConfig{
			Concurrency:  cfg.WorkerConcurrency,
			PollInterval: cfg.QueuePoll,
			// Leave time after the jobs for the rest of the shutdown.
			ShutdownTimeout: cfg.ShutdownTimeout * 2 / 3,
		},
		Lease:          cfg.JobLease,
		ReconcileEvery: cfg.ReconcileEvery,
		PendingGrace:   cfg.PendingGrace,
		Logger:         logger,
		Metrics:        d.metrics,
		Prices:         cfg.LLMPrices,
		Reuse:          cfg.Reuse,
		Embedder:       embedder,
		EmbeddingModel: cfg.EmbeddingModel,
		Comparers:      comparers,
		Compare:        cfg.Compare,
	})
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// newEmbedder is what semantic reuse embeds texts with: the provider's
// embeddings through langchaingo, with its URL, key and timeout. There is
// none unless FEEDBACK_REUSE_SEMANTIC is set (loadConfig then requires the
// provider that has them).
func newEmbedder(cfg config) (reuse.Embedder, error) {
	if cfg.Reuse.Semantic <= 0 {
		return nil, nil
	}
	token := cfg.LLM.APIKey
	if token == "" {
		token = "unused" // a local OpenAI-compatible server, as llm.New allows; the client insists on one
	}
	client, err := openai.New(openai.WithBaseURL(cfg.LLM.BaseURL), openai.WithToken(token),
		openai.WithEmbeddingModel(cfg.EmbeddingModel), openai.WithHTTPClient(&http.Client{Timeout: cfg.LLM.Timeout}))
	if err != nil {
		return nil, fmt.Errorf("FEEDBACK_REUSE_SEMANTIC: %w", err)
	}
	return embeddings.NewEmbedder(client)
}

func newAnalyzer(ctx context.Context, cfg llm.Config, logger *slog.Logger) (analysis.Analyzer, error) {
	if cfg.Provider == defaultProvider {
		logger.Info("no LLM configured: using the built-in rule-based analyzer (set LLM_PROVIDER to use a model)")
		return rules.New(), nil
	}
	cfg.Logger = logger
	cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout + 5*time.Second}
	a, err := llm.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("LLM_PROVIDER=%s: %w", cfg.Provider, err)
	}
	return a, nil
}

// withFallback chains the LLM_FALLBACK providers behind primary; without
// any, primary is used alone, as before.
func withFallback(ctx context.Context, primary analysis.Analyzer, cfg config, logger *slog.Logger) (analysis.Analyzer, error) {
	if len(cfg.LLMFallback) == 0 {
		return primary, nil
	}
	chain := []analysis.Analyzer{primary}
	for _, fc := range cfg.LLMFallback {
		if fc.Provider == defaultProvider {
			chain = append(chain, rules.New())
			continue
		}
		fc.OnCall, fc.Tracing, fc.Redis, fc.InFlight = cfg.LLM.OnCall, cfg.LLM.Tracing, cfg.LLM.Redis, cfg.LLM.InFlight
		a, err := newAnalyzer(ctx, fc, logger)
		if err != nil {
			return nil, fmt.Errorf("LLM_FALLBACK: %w", err)
		}
		chain = append(chain, a)
	}
	return fallback.New(fallback.Config{Analyzers: chain, Failures: cfg.LLMBreakerFailures,
		OpenTimeout: cfg.LLMBreakerTimeout, Logger: logger})
}

// newComparers makes the analyzers of comparison runs, one per model
// compareAnalyses may name (cfg.Compare.Targets): each a single model, no
// fallback (a comparison compares that model), sharing the primary's call
// limits, pauses and calls in flight, and kept within the project's
// budget (no built-in rules past it: the run fails saying so).
func newComparers(ctx context.Context, cfg config, spent budget.Spender, logger *slog.Logger) (map[string]analysis.Analyzer, error) {
	out := make(map[string]analysis.Analyzer, len(cfg.CompareModels))
	for i, mc := range cfg.CompareModels {
		var a analysis.Analyzer = rules.New()
		if mc.Provider != defaultProvider {
			mc.OnCall, mc.Tracing, mc.Redis, mc.InFlight = cfg.LLM.OnCall, cfg.LLM.Tracing, cfg.LLM.Redis, cfg.LLM.InFlight
			var err error
			if a, err = newAnalyzer(ctx, mc, logger); err != nil {
				return nil, fmt.Errorf("COMPARE_PROVIDERS: %w", err)
			}
			if cfg.LLMBudget.Monthly > 0 {
				a = budget.New(budget.Config{Models: a, Budget: cfg.LLMBudget, Spend: spent, Logger: logger})
			}
		}
		out[cfg.Compare.Targets[i].Key()] = a
	}
	return out, nil
}

// withBudget keeps each project's model calls within
// LLM_PROJECT_MONTHLY_BUDGET: past it, analyses go to the built-in rules if
// LLM_FALLBACK names them, else fail. Without a budget, or without a model
// to limit, analyzer is used as it is.
func withBudget(analyzer analysis.Analyzer, cfg config, spent budget.Spender, logger *slog.Logger) analysis.Analyzer {
	models := cfg.LLM.Provider != defaultProvider
	var builtin analysis.Analyzer
	for _, fc := range cfg.LLMFallback {
		if fc.Provider == defaultProvider {
			builtin = rules.New()
		} else {
			models = true
		}
	}
	if cfg.LLMBudget.Monthly <= 0 || !models {
		return analyzer
	}
	logger.Info("model calls limited per project and month", "budget", cfg.LLMBudget.Amount(cfg.LLMBudget.Monthly),
		"past_it", map[bool]string{true: "built-in rules", false: "analyses fail"}[builtin != nil])
	return budget.New(budget.Config{Models: analyzer, Builtin: builtin, Budget: cfg.LLMBudget, Spend: spent, Logger: logger})
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
