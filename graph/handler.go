package graph

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/internal/graphiql"
	"github.com/feedbackloop/feedbackloop/internal/health"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

// MaxPageSize is the largest first/last a connection accepts.
const MaxPageSize = 100

// Config holds what the API handler needs. All but Checks and AllowedOrigins are required.
type Config struct {
	Client   *ent.Client
	Pipeline *pipeline.Pipeline
	Bus      *events.Bus
	Logger   *slog.Logger
	// Checks are the dependencies /readyz reports on, by name ("database", "redis").
	Checks map[string]health.Check
	// Metrics, when set, records requests and is served at /metrics.
	Metrics *metrics.Metrics
	// Limits bound request size, depth and complexity.
	Limits Limits
	// AllowedOrigins are the browser origins that may call the API (CORS and
	// websockets); empty or "*" allows any origin. The API uses no cookies.
	AllowedOrigins []string
}

// Server is the service's HTTP handler: GraphiQL at /, the GraphQL endpoint
// at /query (HTTP and websockets), /healthz (the process is up) and /readyz
// (its dependencies answer).
type Server struct {
	handler   http.Handler
	closing   context.Context
	markClose context.CancelFunc
	open      *sync.WaitGroup // open websocket connections
}

// New returns the API's HTTP handler.
func New(cfg Config) *Server {
	cfg.Logger = logctx.Logger(cfg.Logger)
	cfg.Limits = cfg.Limits.withDefaults()
	closing, markClose := context.WithCancel(context.Background())
	s := &Server{closing: closing, markClose: markClose, open: &sync.WaitGroup{}}

	allowAll := len(cfg.AllowedOrigins) == 0 || slices.Contains(cfg.AllowedOrigins, "*")
	corsOpts := cors.Options{
		AllowedOrigins: cfg.AllowedOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Content-Type", "Accept", "Authorization", "X-Request-ID", "Apollo-Require-Preflight"},
		ExposedHeaders: []string{"X-Request-ID"},
		MaxAge:         600,
	}
	if allowAll {
		corsOpts.AllowedOrigins = []string{"*"}
	}
	c := cors.New(corsOpts)
	checkOrigin := func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		return allowAll || origin == "" || c.OriginAllowed(r)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graphiql.Handler("Feedback Loop", "/query"))
	mux.Handle("GET "+graphiql.AssetPrefix, graphiql.Assets())
	mux.Handle("/query", c.Handler(guardBody(cfg.Limits.MaxBodyBytes, newGraphQLServer(cfg, closing, s.open, checkOrigin))))
	mux.Handle("GET /healthz", health.Live())
	mux.Handle("GET /readyz", health.Ready(cfg.Logger, cfg.Checks))
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	s.handler = withRequestID(accessLog(cfg.Logger, cfg.Metrics, mux))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// CloseSubscriptions closes every websocket connection with code 1001
// (going away), refuses new ones and waits until all are closed or ctx
// ends. Call it when the process shuts down, before http.Server.Shutdown,
// which does not wait for websockets.
func (s *Server) CloseSubscriptions(ctx context.Context) error {
	s.markClose()
	closed := make(chan struct{})
	go func() { s.open.Wait(); close(closed) }()
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close websocket connections: %w", ctx.Err())
	}
}

func newGraphQLServer(cfg Config, closing context.Context, open *sync.WaitGroup, checkOrigin func(*http.Request) bool) *handler.Server {
	resolver := &Resolver{client: cfg.Client, pipeline: cfg.Pipeline, bus: cfg.Bus, logger: cfg.Logger}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: resolver, Complexity: complexity()}))
	srv.AddTransport(websocketTransport(closing, open, checkOrigin, cfg.Limits.MaxWebsocketMessage, func(ctx context.Context, err error) {
		cfg.Logger.DebugContext(ctx, "websocket connection error", "err", err)
	}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(plainHTTP{transport.GET{}})
	srv.AddTransport(plainHTTP{transport.POST{}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(subscriptionsNeedAWebsocket{})
	srv.Use(pageLimit{max: MaxPageSize})
	srv.Use(depthLimit{max: cfg.Limits.MaxDepth})
	srv.Use(&complexityLimit{max: cfg.Limits.MaxComplexity})
	if cfg.Metrics != nil {
		srv.AroundResponses(recordOperation(cfg.Metrics))
	}
	srv.AroundResponses(executionDeadline(cfg.Limits.MaxExecutionTime))
	srv.SetErrorPresenter(presentError(cfg.Logger))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))
	return srv
}

// plainHTTP marks the operations a transport carries as plain HTTP
// requests, which get one response and so cannot carry a subscription.
type plainHTTP struct{ graphql.Transport }

type plainHTTPKey struct{}

func (t plainHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r.WithContext(context.WithValue(r.Context(), plainHTTPKey{}, true)), exec)
}

// subscriptionsNeedAWebsocket rejects a subscription sent as a plain HTTP
// request. gqlgen would answer it with the first event only, which looks
// like a working subscription that then goes silent.
type subscriptionsNeedAWebsocket struct{}

var (
	_ graphql.HandlerExtension        = subscriptionsNeedAWebsocket{}
	_ graphql.OperationContextMutator = subscriptionsNeedAWebsocket{}
)

func (subscriptionsNeedAWebsocket) ExtensionName() string                   { return "SubscriptionsNeedAWebsocket" }
func (subscriptionsNeedAWebsocket) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionsNeedAWebsocket) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription || ctx.Value(plainHTTPKey{}) == nil {
		return nil
	}
	err := gqlerror.Errorf("subscriptions are served over websockets only: open a websocket to /query " +
		"with the graphql-transport-ws subprotocol (the graphql-ws library; subscriptions-transport-ws also works)")
	err.Extensions = map[string]any{"code": CodeBadRequest}
	return err
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

// accessLog logs one line per request (not for probes and scrapes) and
// records it in m.
func accessLog(logger *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		if m != nil {
			path := r.URL.Path
			if path != "/query" && path != "/" {
				path = "other" // bounded label values
			}
			m.HTTPRequest(path, r.Method, rec.status, took)
		}
		logger.InfoContext(r.Context(), "http request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", took.Milliseconds())
	})
}

// recordOperation records each GraphQL response by its operation's type
// and first root field. Root fields come from the schema, so the label
// values are bounded, unlike client-chosen operation names.
func recordOperation(m *metrics.Metrics) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		start := time.Now()
		resp := next(ctx)
		if resp == nil || !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		name, typ := "invalid", "unknown"
		if op := oc.Operation; op != nil {
			typ = string(op.Operation)
			if fields := graphql.CollectFields(oc, op.SelectionSet, nil); len(fields) > 0 {
				name = fields[0].Name
			}
		}
		m.Operation(name, typ, time.Since(start), len(resp.Errors) > 0)
		return resp
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack hands the connection to the websocket upgrader.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer's Flusher.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
