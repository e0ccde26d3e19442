package graph

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// MaxPageSize is the largest first/last a connection accepts.
const MaxPageSize = 100

// Config holds what the GraphQL endpoint needs. Metrics is optional.
type Config struct {
	Client   *ent.Client
	Pipeline *pipeline.Pipeline
	Bus      *events.Bus
	Logger   *slog.Logger
	// Auth checks the credentials websocket clients send with
	// connection_init (HTTP requests arrive authenticated by the web package).
	Auth Authenticator
	// CheckOrigin decides which browser pages may open a websocket.
	CheckOrigin func(*http.Request) bool
	Metrics     *metrics.Metrics
	// Limits bound request size, depth, complexity and execution time.
	Limits Limits
}

// Authenticator turns credentials into a viewer (see the auth package).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (*viewer.Viewer, error)
}

// Server is the GraphQL endpoint, /query: HTTP GET and POST, and
// subscriptions over websockets.
type Server struct {
	handler   http.Handler
	closing   context.Context
	markClose context.CancelFunc
	open      *sync.WaitGroup // open websocket connections
}

// New returns the GraphQL endpoint.
func New(cfg Config) *Server {
	cfg.Logger = logctx.Logger(cfg.Logger)
	cfg.Limits = cfg.Limits.withDefaults()
	closing, markClose := context.WithCancel(context.Background())
	s := &Server{closing: closing, markClose: markClose, open: &sync.WaitGroup{}}
	s.handler = guardBody(cfg.Limits.MaxBodyBytes, newGraphQLServer(cfg, closing, s.open))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		r = withConnSlot(r)
	}
	s.handler.ServeHTTP(w, r)
}

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

func newGraphQLServer(cfg Config, closing context.Context, open *sync.WaitGroup) *handler.Server {
	resolver := &Resolver{client: cfg.Client, pipeline: cfg.Pipeline, bus: cfg.Bus, planner: plan.New(cfg.Client), logger: cfg.Logger}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: resolver, Complexity: complexity()}))
	srv.AddTransport(websocketTransport(cfg, closing, open))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(plainHTTP{transport.GET{}})
	srv.AddTransport(plainHTTP{transport.POST{}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.AroundOperations(withLoaders(cfg.Client))
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
