// Command feedbackloop serves the Feedback Loop GraphQL API.
//
// Configuration comes from environment variables (see README.md); it is read
// once here and passed down.
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

	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "feedbackloop:", err)
		os.Exit(1)
	}
}

// config is the whole configuration of a process.
type config struct {
	DatabaseURL     string
	RedisURL        string
	Addr            string
	LogLevel        slog.Level
	LogFormat       string // "json" or "text"
	ShutdownTimeout time.Duration
}

func loadConfig(getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{
		DatabaseURL:     envOr(getenv, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedbackloop?sslmode=disable"),
		RedisURL:        envOr(getenv, "REDIS_URL", "redis://127.0.0.1:6379/0"),
		Addr:            ":" + envOr(getenv, "PORT", "8080"),
		LogFormat:       strings.ToLower(getenv("LOG_FORMAT")),
		ShutdownTimeout: 20 * time.Second,
	}
	var errs []error
	if port, err := strconv.Atoi(strings.TrimPrefix(cfg.Addr, ":")); err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be a TCP port number, got %q", strings.TrimPrefix(cfg.Addr, ":")))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(envOr(getenv, "LOG_LEVEL", "info"))); err != nil {
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
	return cfg, errors.Join(errs...)
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return fallback
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
	return slog.New(logctx.Handler(h))
}

// run starts the process and blocks until ctx is cancelled and everything has
// shut down. listening, when not nil, receives the address the API serves on.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer, listening chan<- string) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := newLogger(cfg, stderr)

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := postgres.EnsureDatabase(startCtx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("%w (is PostgreSQL running? check DATABASE_URL)", err)
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

	api := graph.NewHandler(graph.Config{
		Client: client,
		Logger: logger,
		Checks: map[string]func(context.Context) error{
			"database": db.PingContext,
			"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		},
	})
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is PORT in use?)", cfg.Addr, err)
	}
	logger.Info("serving GraphQL API", "addr", ln.Addr().String(),
		"graphiql", "http://"+displayAddr(ln.Addr())+"/", "endpoint", "/query")
	if listening != nil {
		listening <- ln.Addr().String()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
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
