package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
)

// MaxPageSize is the largest first/last a connection accepts.
const MaxPageSize = 100

// Config holds what the API handler needs. Client and Logger are required.
type Config struct {
	Client *ent.Client
	Logger *slog.Logger
	// Checks are the dependencies /readyz reports on, by name ("database", "redis").
	Checks map[string]func(context.Context) error
}

// NewHandler returns the service's HTTP handler: GraphiQL at /, the GraphQL
// endpoint at /query, /healthz (the process is up) and /readyz (its
// dependencies answer).
func NewHandler(cfg Config) http.Handler {
	cfg.Logger = logctx.Logger(cfg.Logger)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", playground.Handler("Feedback Loop", "/query",
		playground.WithGraphiqlEnablePluginExplorer(true),
		playground.WithStoragePrefix("feedbackloop"),
	))
	mux.Handle("/query", newGraphQLServer(cfg))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /readyz", readiness(cfg.Logger, cfg.Checks))
	return withRequestID(accessLog(cfg.Logger, mux))
}

func newGraphQLServer(cfg Config) *handler.Server {
	resolver := &Resolver{client: cfg.Client, logger: cfg.Logger}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: resolver}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(pageLimit{max: MaxPageSize})
	srv.SetErrorPresenter(presentError(cfg.Logger))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))
	return srv
}

// readiness runs every check concurrently with a short deadline and answers
// 503 when one fails. Failure details go to the log, not to the caller.
func readiness(logger *slog.Logger, checks map[string]func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var (
			mu      sync.Mutex
			wg      sync.WaitGroup
			results = make(map[string]string, len(checks))
			status  = http.StatusOK
		)
		for name, check := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := check(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					logger.WarnContext(ctx, "readiness check failed", "check", name, "err", err)
					results[name] = "unavailable"
					status = http.StatusServiceUnavailable
					return
				}
				results[name] = "ok"
			}()
		}
		wg.Wait()
		overall := "ok"
		if status != http.StatusOK {
			overall = "unavailable"
		}
		writeJSON(w, status, map[string]any{"status": overall, "checks": results})
	})
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID gives every request an ID (the caller's X-Request-ID when it
// is sane), returns it in the response header and puts it on every log line.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(logctx.With(r.Context(), "request_id", id)))
	})
}

// accessLog logs one line per request (not for probes).
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.InfoContext(r.Context(), "http request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (and the websocket upgrader) reach the
// underlying writer's Hijacker and Flusher.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
