package graph

import (
	"cmp"
	"context"
	"github.com/feedbackloop/feedbackloop/compare"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/ravilushqa/otelgqlgen"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/feedbackloop/feedbackloop/discussion"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/pricing"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/viewer"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// MaxPageSize is the largest first/last a connection accepts.
const MaxPageSize = 100

// MaxNodes is the most IDs nodes(ids:) accepts: a page.
const MaxNodes = MaxPageSize

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
	// Tracing, when set, makes every operation and every resolver a span.
	Tracing trace.TracerProvider
	// RateLimit, when set, charges each operation to its client's request
	// budget and each submission to the submission budgets.
	RateLimit *ratelimit.Limiter
	// Reads, when set, serves query operations from read replicas, and
	// Positions remembers each caller's last write so that they read it
	// (graph/reads.go). Both or neither.
	Reads     *replicas.Set
	Positions *replicas.Positions
	// DefaultIssuer is the issuer of the people addProjectMember names
	// without one: JWT_ISSUER, whose tokens all carry it ("" when unset).
	DefaultIssuer string
	// Budget is each project's monthly budget for model calls
	// (LLM_PROJECT_MONTHLY_BUDGET, 0: none) in the price table's currency
	// (LLM_PRICE_CURRENCY), which projectInsights reports costs in.
	Budget spend.Budget
	// DigestsSending is whether the deployment sends email digests
	// (SMTP_URL is set); setDigest tells members.
	DigestsSending bool
	// Compare names the models compareAnalyses may run (compare.Settings).
	Compare compare.Settings
	// WebhooksPerProject bounds a project's webhook endpoints
	// (WEBHOOKS_PER_PROJECT; 0: webhooks.DefaultPerProject).
	WebhooksPerProject int
	// WebhookSecrets seals webhooks' signing secrets at rest
	// (WEBHOOK_SECRET_KEY; nil: stored as they are).
	WebhookSecrets *webhooks.Sealer
	// fieldMiddleware, when set, intercepts every field (tests: see
	// export_test.go's AddFieldInterceptor).
	fieldMiddleware graphql.FieldMiddleware
}

// Authenticator turns credentials into a viewer (see the auth package).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (*viewer.Viewer, error)
}

// Server is the GraphQL endpoint, /query: HTTP GET and POST, and
// subscriptions over websockets or Server-Sent Events (a POST with
// Accept: text/event-stream).
type Server struct {
	handler   http.Handler
	markClose context.CancelFunc
	ws        *wstransport.Transport
	resolver  *Resolver
}

// New returns the GraphQL endpoint.
func New(cfg Config) *Server {
	cfg.Logger = logctx.Logger(cfg.Logger)
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Budget.Currency == "" {
		cfg.Budget.Currency = spend.DefaultCurrency
	}
	closing, markClose := context.WithCancel(context.Background())
	srv, ws, resolver := newGraphQLServer(cfg)
	s := &Server{markClose: markClose, ws: ws, resolver: resolver}
	if cfg.Bus != nil {
		// Subscribed before New returns: no change after it is missed.
		go watchCredentials(closing, cfg.Bus.SubscribeKinds(outbox.KindCredential, outbox.KindAccess), ws)
	}
	s.handler = guardTransport(guardBody(cfg.Limits.MaxBodyBytes, srv))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Subscriptions is the number of open GraphQL subscriptions.
func (s *Server) Subscriptions() int { return s.ws.Subscriptions() }

// StreamsPositioned counts subscription streams positioned since start
// (wstransport.Transport.StreamsPositioned).
func (s *Server) StreamsPositioned() int { return s.ws.StreamsPositioned() }

// CloseSubscriptions closes every websocket connection with code 1001
// (going away) and ends every event stream, refuses new ones and waits
// until all are closed or ctx ends. Call it when the process shuts down,
// before http.Server.Shutdown, which does not wait for websockets (and
// would wait for streams until its own deadline).
func (s *Server) CloseSubscriptions(ctx context.Context) error {
	s.markClose()
	return s.ws.Shutdown(ctx)
}

// checksBeforeExecution are the extensions that refuse an operation before
// any resolver runs, in order: the first refusal wins.
func checksBeforeExecution(l Limits, es graphql.ExecutableSchema) []graphql.HandlerExtension {
	return append([]graphql.HandlerExtension{subscriptionsNeedAWebsocket{}}, doclimit.Checks(es, doclimit.CheckLimits{
		MaxDepth:         l.MaxDepth,
		MaxComplexity:    l.MaxComplexity,
		MaxRootFields:    l.MaxRootFields,
		MaxSubmissions:   l.MaxSubmissionsPerRequest,
		MaxPageSize:      MaxPageSize,
		SubmissionFields: submissionFields,
		NoIntrospection:  l.DisableIntrospection,
	})...)
}

// submissionFields are the mutations that spend model calls, bounded per
// request by MaxSubmissionsPerRequest and per hour by the submission budgets.
var submissionFields = []string{"submitFeedback", "retryFeedback"}

// documentCacheSize is how many parsed documents (gqlgen's query cache) and
// persisted queries a server keeps.
const documentCacheSize = 1000

func newGraphQLServer(cfg Config) (*handler.Server, *wstransport.Transport, *Resolver) {
	resolver := &Resolver{client: cfg.Client, pipeline: cfg.Pipeline, bus: cfg.Bus, planner: plan.New(cfg.Client), discussion: discussion.New(cfg.Client, cfg.DigestsSending), logger: cfg.Logger,
		limiter: cfg.RateLimit, members: newMembershipCache(cfg.Client), defaultIssuer: cfg.DefaultIssuer, budgetCfg: cfg.Budget,
		webhooksPerProject: cmp.Or(cfg.WebhooksPerProject, webhooks.DefaultPerProject), webhookSecrets: cfg.WebhookSecrets,
		digestsSending: cfg.DigestsSending, compare: cfg.Compare}
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: resolver, Complexity: pricing.Complexity(MaxNodes)})
	srv := handler.New(schema)
	ws := newWebsocketTransport(cfg, newSharing(resolver, schema.Schema()))
	srv.AddTransport(ws)
	// A POST that accepts text/event-stream: before the plain POST.
	srv.AddTransport(ws.SSE())
	srv.AddTransport(transport.Options{})
	srv.AddTransport(plainHTTP{transport.GET{}})
	srv.AddTransport(plainHTTP{jsonPOST{}})
	// Documents are checked, and validated, by doclimit before gqlgen
	// sees them; gqlgen then finds them in this cache. Its own parser
	// limit and suggestions match, for a document evicted in between.
	documents := lru.New[*ast.QueryDocument](documentCacheSize)
	srv.SetQueryCache(documents)
	srv.SetParserTokenLimit(cfg.Limits.Document.MaxTokens)
	srv.SetDisableSuggestion(cfg.Limits.DisableIntrospection)
	exts := []graphql.HandlerExtension{rawVariables{}}
	if !cfg.Limits.DisableIntrospection {
		exts = append(exts, extension.Introspection{})
	}
	exts = append(exts, extension.AutomaticPersistedQuery{Cache: lru.New[string](documentCacheSize)})
	exts = append(exts, doclimit.New(doclimit.Config{
		Limits:      cfg.Limits.Document,
		Schema:      schema.Schema(),
		Cache:       documents,
		Suggestions: !cfg.Limits.DisableIntrospection, // they would name fields introspection hides
		Charge:      chargeDocument(cfg.RateLimit),
		Lookup:      lookupMetric(cfg.Metrics),
	}))
	exts = append(exts, checksBeforeExecution(cfg.Limits, schema)...)
	if cfg.RateLimit != nil {
		// Last of the checks: it prices what the others let through.
		exts = append(exts, rateLimit{limiter: cfg.RateLimit})
	}
	if cfg.Tracing != nil {
		exts = append(exts, resolverSpans{otelgqlgen.Middleware(
			otelgqlgen.WithTracerProvider(cfg.Tracing),
			// Variables can hold anything a client sends: feedback text,
			// names. Spans are for resolvers, not for every scalar field.
			otelgqlgen.WithoutVariables(),
			otelgqlgen.WithCreateSpanFromFields(func(fc *graphql.FieldContext) bool { return fc.IsResolver }),
		)})
	}
	for _, ext := range exts {
		srv.Use(ext)
	}
	if cfg.Reads != nil && cfg.Positions != nil {
		srv.AroundOperations(readRouting(cfg.Reads, cfg.Positions, cfg.Logger))
	}
	srv.AroundOperations(withVoteCache)
	if cfg.fieldMiddleware != nil {
		srv.AroundFields(cfg.fieldMiddleware)
	}
	if cfg.Metrics != nil {
		srv.AroundResponses(recordOperation(cfg.Metrics))
	}
	srv.AroundResponses(executionDeadline(cfg.Limits.MaxExecutionTime))
	srv.AroundResponses(responseLimit(cfg.Limits.MaxResponseBytes, cfg.Limits.Document.MaxErrors))
	srv.SetErrorPresenter(presentError(cfg.Logger, schema.Schema()))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))
	return srv, ws, resolver
}

// plainHTTP marks the operations a transport carries as plain HTTP
// requests, which get one response and so cannot carry a subscription, and
// lets the checks below choose the response's status.
type plainHTTP struct{ graphql.Transport }

// plainRequest is what the checks know of a plain HTTP request: its method,
// and the status (with the methods to Allow) a refusal answers with; and
// the WAL position a mutation's response reports (graph/reads.go).
type plainRequest struct {
	method        string
	status        int
	allow         string
	writePosition string
}

type plainHTTPKey struct{}

func (t plainHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	req := &plainRequest{method: r.Method}
	t.Transport.Do(&refusalStatusWriter{ResponseWriter: w, req: req}, r.WithContext(context.WithValue(r.Context(), plainHTTPKey{}, req)), exec)
}

// refusalStatusWriter answers with the status a check chose, if any.
type refusalStatusWriter struct {
	http.ResponseWriter
	req *plainRequest
}

func (w *refusalStatusWriter) WriteHeader(code int) {
	if w.req.writePosition != "" {
		w.Header().Set(WritePositionHeader, w.req.writePosition)
		w.req.writePosition = ""
	}
	if w.req.status != 0 {
		code = w.req.status
		if w.req.allow != "" {
			w.Header().Set("Allow", w.req.allow)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusalStatusWriter) Write(b []byte) (int, error) {
	if w.req.status != 0 || w.req.writePosition != "" {
		// The transport may write without WriteHeader: the status and
		// headers still apply.
		w.WriteHeader(cmp.Or(w.req.status, http.StatusOK))
		w.req.status = 0
	}
	return w.ResponseWriter.Write(b)
}

func (w *refusalStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// subscriptionsNeedAWebsocket rejects a subscription sent as a plain HTTP
// request (not asking for an event stream): gqlgen would answer it with the
// first event only, which looks like a working subscription that then goes
// silent. It also rejects a
// mutation sent with GET with 405 and Allow: POST, as the GraphQL-over-HTTP
// specification says (GET must not change anything).
type subscriptionsNeedAWebsocket struct{}

var (
	_ graphql.HandlerExtension        = subscriptionsNeedAWebsocket{}
	_ graphql.OperationContextMutator = subscriptionsNeedAWebsocket{}
)

func (subscriptionsNeedAWebsocket) ExtensionName() string                   { return "SubscriptionsNeedAWebsocket" }
func (subscriptionsNeedAWebsocket) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionsNeedAWebsocket) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	req, _ := ctx.Value(plainHTTPKey{}).(*plainRequest)
	if oc.Operation == nil || req == nil {
		return nil
	}
	var err *gqlerror.Error
	switch {
	case oc.Operation.Operation == ast.Subscription:
		err = gqlerror.Errorf("subscriptions need a stream: open a websocket to /query with the graphql-transport-ws " +
			"subprotocol (the graphql-ws library; subscriptions-transport-ws also works), or POST with Accept: text/event-stream " +
			"(Server-Sent Events: the graphql-sse library)")
	case oc.Operation.Operation == ast.Mutation && req.method == http.MethodGet:
		err = gqlerror.Errorf("mutations must be sent with POST; GET serves queries only")
		req.status, req.allow = http.StatusMethodNotAllowed, http.MethodPost
	default:
		return nil
	}
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

// lookupMetric counts look-ups in the document cache (nil: no metrics).
func lookupMetric(m *metrics.Metrics) func(bool) {
	if m == nil {
		return nil
	}
	return m.DocumentLookup
}

// resolverSpans is otelgqlgen's tracer, which makes spans for resolvers
// only and passes every other field through: it tells the executor so
// (graphql.PlainFieldsSkipper, third_party/PATCHES.md), and fields that
// only read a struct field are written directly with tracing on too.
type resolverSpans struct{ otelgqlgen.Tracer }

var _ graphql.PlainFieldsSkipper = resolverSpans{}

func (resolverSpans) SkipsPlainFields() bool { return true }
