// Command feedbackloop serves the Feedback Loop GraphQL API and processes
// feedback.
//
// ROLE=all (the default) runs the API, GraphiQL and a worker in one process;
// ROLE=api and ROLE=worker run them apart, so that several API instances and
// workers share one PostgreSQL and one Redis. Configuration comes from
// environment variables (see README.md); it is read once here and passed down.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/health"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/worker"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
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

// config is the whole configuration of a process.
type config struct {
	Role            string // all, api or worker
	DatabaseURL     string
	RedisURL        string
	Addr            string
	LogLevel        slog.Level
	LogFormat       string // json or text
	ShutdownTimeout time.Duration
	AllowedOrigins  []string

	QueueName     string
	EventsChannel string

	WorkerConcurrency int
	QueuePoll         time.Duration
	JobLease          time.Duration
	ReconcileEvery    time.Duration
	PendingGrace      time.Duration

	Limits graph.Limits

	LLM llm.Config // Provider "" or "builtin" means the built-in rules
}

// defaultModel is used when LLM_MODEL is not set.
func defaultModel(provider string) string {
	switch provider {
	case "openai":
		return "gpt-4o-mini"
	case "anthropic":
		return "claude-3-5-haiku-latest"
	case "ollama":
		return "llama3.1"
	case "googleai":
		return "gemini-1.5-flash"
	}
	return ""
}

func loadConfig(getenv func(string) string, stderr io.Writer) (config, error) {
	var errs []error
	env := func(key, fallback string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return fallback
	}
	duration := func(key string, fallback time.Duration) time.Duration {
		v := env(key, "")
		if v == "" {
			return fallback
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration such as 30s or 2m, got %q", key, v))
			return fallback
		}
		return d
	}
	integer := func(key string, fallback, lo, hi int) int {
		v := env(key, "")
		if v == "" {
			return fallback
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s must be a whole number from %d to %d, got %q", key, lo, hi, v))
			return fallback
		}
		return n
	}

	cfg := config{
		Role:              strings.ToLower(env("ROLE", "all")),
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedbackloop?sslmode=disable"),
		RedisURL:          env("REDIS_URL", "redis://127.0.0.1:6379/0"),
		Addr:              ":" + env("PORT", "8080"),
		LogFormat:         strings.ToLower(env("LOG_FORMAT", "")),
		ShutdownTimeout:   duration("SHUTDOWN_TIMEOUT", 30*time.Second),
		QueueName:         env("QUEUE_NAME", "feedback"),
		EventsChannel:     env("EVENTS_CHANNEL", "feedbackloop:feedback-events"),
		WorkerConcurrency: integer("WORKER_CONCURRENCY", 4, 1, 1000),
		JobLease:          duration("JOB_LEASE", 30*time.Second),
		ReconcileEvery:    duration("RECONCILE_INTERVAL", 10*time.Second),
		// asynq sleeps this long when the queue is empty: it bounds how long
		// new feedback waits before a worker picks it up.
		QueuePoll:    duration("QUEUE_POLL_INTERVAL", 100*time.Millisecond),
		PendingGrace: duration("PENDING_GRACE", 30*time.Second),
		Limits: graph.Limits{
			MaxBodyBytes:        int64(integer("MAX_BODY_BYTES", 1<<20, 1024, 1<<30)),
			MaxDepth:            integer("MAX_QUERY_DEPTH", 15, 2, 100),
			MaxComplexity:       integer("MAX_QUERY_COMPLEXITY", 10000, 10, 10_000_000),
			MaxWebsocketMessage: int64(integer("MAX_WS_MESSAGE_BYTES", 64<<10, 1024, 1<<30)),
			MaxExecutionTime:    duration("MAX_EXECUTION_TIME", 10*time.Second),
		},
	}
	for _, o := range strings.Split(env("CORS_ALLOWED_ORIGINS", "*"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	switch cfg.Role {
	case "all", "api", "worker":
	default:
		errs = append(errs, fmt.Errorf("ROLE must be all, api or worker, got %q", cfg.Role))
	}
	if port, err := strconv.Atoi(strings.TrimPrefix(cfg.Addr, ":")); err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be a TCP port number, got %q", strings.TrimPrefix(cfg.Addr, ":")))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", getenv("LOG_LEVEL")))
	}
	switch cfg.LogFormat {
	case "json", "text":
	case "":
		cfg.LogFormat = "json"
		if isTerminal(stderr) {
			cfg.LogFormat = "text"
		}
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be json or text, got %q", cfg.LogFormat))
	}

	provider := strings.ToLower(env("LLM_PROVIDER", "builtin"))
	cfg.LLM = llm.Config{
		Provider:    provider,
		Model:       env("LLM_MODEL", defaultModel(provider)),
		Timeout:     duration("LLM_TIMEOUT", 60*time.Second),
		MaxAttempts: integer("LLM_MAX_ATTEMPTS", 3, 1, 20),
	}
	if t := env("LLM_TEMPERATURE", "0.2"); t != "" {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || f < 0 || f > 2 {
			errs = append(errs, fmt.Errorf("LLM_TEMPERATURE must be a number from 0 to 2, got %q", t))
		}
		cfg.LLM.Temperature = f
	}
	switch provider {
	case "builtin":
	case "openai":
		cfg.LLM.BaseURL = env("OPENAI_BASE_URL", "https://api.openai.com/v1")
		cfg.LLM.APIKey = env("OPENAI_API_KEY", "")
	case "anthropic":
		cfg.LLM.BaseURL = env("ANTHROPIC_BASE_URL", "")
		cfg.LLM.APIKey = env("ANTHROPIC_API_KEY", "")
	case "ollama":
		cfg.LLM.BaseURL = env("OLLAMA_URL", "http://127.0.0.1:11434")
	case "googleai":
		cfg.LLM.APIKey = env("GOOGLE_API_KEY", "")
	default:
		errs = append(errs, fmt.Errorf("LLM_PROVIDER must be builtin, openai, anthropic, ollama or googleai, got %q", provider))
	}
	return cfg, errors.Join(errs...)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(logctx.Handler(h)).With("role", cfg.Role)
}

// run starts the process and blocks until ctx is cancelled and everything has
// shut down. listening, when not nil, receives the address HTTP is served on.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer, listening chan<- string) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := newLogger(cfg, stderr)

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := postgres.EnsureDatabase(startCtx, cfg.DatabaseURL); err != nil {
		if postgres.IsUnavailable(err) {
			err = fmt.Errorf("%w (is PostgreSQL running? check DATABASE_URL)", err)
		}
		return err
	}
	db, err := postgres.Open(startCtx, cfg.DatabaseURL, postgres.DefaultPool)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(startCtx, db, logger); err != nil {
		return err
	}
	client := postgres.NewClient(db)

	redisOpts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w (want redis://host:port/db)", err)
	}
	rdb := redis.NewClient(redisOpts)
	defer rdb.Close()

	jobs := queue.NewClient(rdb, queue.Options{Name: cfg.QueueName})
	defer jobs.Close()
	pipe := pipeline.New(pipeline.Config{
		Client: client,
		Jobs:   jobs,
		Events: events.NewPublisher(rdb, cfg.EventsChannel),
		Logger: logger,
	})
	m := metrics.New()
	m.QueueDepth(func(ctx context.Context) (map[string]int, error) {
		d, err := jobs.Depth(ctx)
		return map[string]int{"pending": d.Pending, "active": d.Active, "scheduled": d.Scheduled, "retry": d.Retry, "archived": d.Archived}, err
	})
	checks := map[string]health.Check{
		"database": db.PingContext,
		"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}

	// Each part registers how it stops; they stop in reverse order.
	var stoppers []func(context.Context) error
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		for i := len(stoppers) - 1; i >= 0; i-- {
			if err := stoppers[i](shutdownCtx); err != nil {
				logger.Error("shutdown", "err", err)
			}
		}
		logger.Info("stopped")
	}()

	if cfg.Role == "all" || cfg.Role == "worker" {
		cfg.LLM.OnCall = m.ModelCall
		analyzer, err := newAnalyzer(startCtx, cfg.LLM, logger)
		if err != nil {
			return err
		}
		w := worker.New(worker.Config{
			Client:   client,
			Pipeline: pipe,
			Analyzer: analyzer,
			Queue:    jobs,
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
			Metrics:        m,
		})
		if err := w.Start(ctx); err != nil {
			return err
		}
		stoppers = append(stoppers, w.Shutdown)
	}

	var handler http.Handler
	var api *graph.Server
	if cfg.Role == "worker" {
		mux := http.NewServeMux()
		mux.Handle("GET /healthz", health.Live())
		mux.Handle("GET /readyz", health.Ready(logger, checks))
		mux.Handle("GET /metrics", m.Handler())
		handler = mux
	} else {
		bus := events.NewBus(events.BusConfig{Redis: rdb, Channel: cfg.EventsChannel, Logger: logger})
		if err := bus.Start(startCtx); err != nil {
			return fmt.Errorf("subscribe to events: %w (is Redis running? check REDIS_URL)", err)
		}
		stoppers = append(stoppers, bus.Shutdown)
		m.Gauge("feedbackloop_active_subscriptions", "Open GraphQL subscriptions on this instance.",
			func() float64 { return float64(bus.Subscribers()) })
		api = graph.New(graph.Config{
			Client:         client,
			Pipeline:       pipe,
			Bus:            bus,
			Logger:         logger,
			Checks:         checks,
			AllowedOrigins: cfg.AllowedOrigins,
			Metrics:        m,
			Limits:         cfg.Limits,
		})
		handler = api
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is PORT in use?)", cfg.Addr, err)
	}
	if api != nil {
		logger.Info("serving GraphQL API", "addr", ln.Addr().String(),
			"graphiql", "http://"+displayAddr(ln.Addr())+"/", "endpoint", "/query")
	} else {
		logger.Info("serving health probes", "addr", ln.Addr().String())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	stoppers = append(stoppers, func(ctx context.Context) error {
		// http.Server.Shutdown does not wait for websockets: close them first.
		if api != nil {
			if err := api.CloseSubscriptions(ctx); err != nil {
				logger.Warn("shutdown", "err", err)
			}
		}
		return srv.Shutdown(ctx)
	})
	if listening != nil {
		listening <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
		return nil
	}
}

func newAnalyzer(ctx context.Context, cfg llm.Config, logger *slog.Logger) (analysis.Analyzer, error) {
	if cfg.Provider == "builtin" {
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

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
