package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
)

// Limits bound what one request may ask of the server. Zero values take the
// defaults.
type Limits struct {
	MaxBodyBytes        int64 // HTTP request body (default 1 MiB)
	MaxDepth            int   // nesting of fields, introspection excluded (default 15)
	MaxComplexity       int   // one per field, connections times their page size (default 10000)
	MaxWebsocketMessage int64 // one websocket message from a client (default 64 KiB)
	// MaxExecutionTime bounds the execution of one query or mutation
	// (default 10s); past it, the request's work stops and the client gets
	// TIMEOUT. Subscriptions are long-lived and not bounded.
	MaxExecutionTime time.Duration
	// MaxRootFields bounds the root fields of one operation, aliases
	// counted (default 50): each runs on its own, so a document of
	// thousands of aliased counts or mutations is refused before it runs.
	MaxRootFields int
	// MaxSubmissionsPerRequest bounds the submitFeedback and retryFeedback
	// fields of one operation (default 5).
	MaxSubmissionsPerRequest int
	// MaxResponseBytes bounds the data of one response or subscription
	// event (default 5 MiB); past it the client gets RESPONSE_TOO_LARGE.
	MaxResponseBytes int
	// DisableIntrospection refuses __schema and __type (GRAPHQL_INTROSPECTION=false).
	DisableIntrospection bool
	// Websockets: open connections per instance (default 10,000) and per
	// client (default 20), and operations running on one connection
	// (default 100).
	MaxWebsocketConnections          int
	MaxWebsocketConnectionsPerClient int
	MaxSubscriptionsPerConnection    int
	// MaxWebsocketQueuedMessages bounds the messages waiting to be written
	// to one connection (default 256): a client that falls that far
	// behind is closed with 1013 and resumes with its last cursor.
	MaxWebsocketQueuedMessages int
	// WebsocketKeepAlive is how often idle connections are pinged (default
	// 10s); one silent for two intervals is closed.
	WebsocketKeepAlive time.Duration
	// WebsocketWriteTimeout bounds how long one message may wait for a
	// client's socket (default 10s); past it the connection is dropped.
	WebsocketWriteTimeout time.Duration
	// WebsocketInitTimeout is how long a new connection may take to send
	// connection_init (default 15s); then it is closed with 4408.
	WebsocketInitTimeout time.Duration
	// Document bounds a document before it is validated (tokens, fields,
	// fields per response name, directives); its MaxTime is
	// MaxExecutionTime.
	Document doclimit.Limits
	// WebsocketSendBuffer, when set, is the kernel's send buffer of each
	// websocket (SO_SNDBUF, bytes), which otherwise grows to
	// net.ipv4.tcp_wmem's maximum (4 MiB) for a client that does not read.
	WebsocketSendBuffer int
}

// The limits' defaults.
const (
	DefaultMaxBodyBytes                     = 1 << 20
	DefaultMaxDepth                         = 15
	DefaultMaxComplexity                    = 10_000
	DefaultMaxWebsocketMessage              = wstransport.DefaultMaxMessageBytes
	DefaultMaxExecutionTime                 = 10 * time.Second
	DefaultMaxRootFields                    = 50
	DefaultMaxSubmissionsPerRequest         = 5
	DefaultMaxResponseBytes                 = 5 << 20
	DefaultMaxWebsocketConnections          = wstransport.DefaultMaxConnections
	DefaultMaxWebsocketConnectionsPerClient = wstransport.DefaultMaxConnectionsPerClient
	DefaultMaxSubscriptionsPerConnection    = wstransport.DefaultMaxOperationsPerConnection
)

func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&l.MaxDepth, DefaultMaxDepth)
	orDefault(&l.MaxComplexity, DefaultMaxComplexity)
	orDefault(&l.MaxWebsocketMessage, DefaultMaxWebsocketMessage)
	orDefault(&l.MaxExecutionTime, DefaultMaxExecutionTime)
	orDefault(&l.MaxRootFields, DefaultMaxRootFields)
	orDefault(&l.MaxSubmissionsPerRequest, DefaultMaxSubmissionsPerRequest)
	orDefault(&l.MaxResponseBytes, DefaultMaxResponseBytes)
	orDefault(&l.MaxWebsocketConnections, DefaultMaxWebsocketConnections)
	orDefault(&l.MaxWebsocketConnectionsPerClient, DefaultMaxWebsocketConnectionsPerClient)
	orDefault(&l.MaxSubscriptionsPerConnection, DefaultMaxSubscriptionsPerConnection)
	orDefault(&l.MaxWebsocketQueuedMessages, DefaultMaxWebsocketQueuedMessages)
	orDefault(&l.WebsocketKeepAlive, DefaultWebsocketKeepAlive)
	orDefault(&l.WebsocketWriteTimeout, DefaultWebsocketWriteTimeout)
	orDefault(&l.WebsocketInitTimeout, DefaultWebsocketInitTimeout)
	l.Document.MaxTime = l.MaxExecutionTime
	l.Document = l.Document.WithDefaults()
	return l
}

func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Error codes of requests rejected before execution.
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodeRequestTooLarge  = "REQUEST_TOO_LARGE"
	CodeDepthLimit       = doclimit.CodeDepthLimit
	CodeTimeout          = "TIMEOUT"
	CodeComplexityLimit  = doclimit.CodeComplexityLimit
	CodeRootFieldLimit   = doclimit.CodeRootFieldLimit
	CodeSubmissionLimit  = doclimit.CodeSubmissionLimit
	CodeResponseTooLarge = "RESPONSE_TOO_LARGE"
	// CodeTooManyErrors stands for the errors of a response past the most
	// it carries (doclimit.DefaultMaxErrors).
	CodeTooManyErrors = "TOO_MANY_ERRORS"
	CodeRateLimited   = wstransport.CodeRateLimited
	// CodeSubscriptionLimit ends an operation started on a websocket
	// connection that runs MaxSubscriptionsPerConnection already.
	CodeSubscriptionLimit = wstransport.CodeSubscriptionLimit
	graphqlResponseMedia  = "application/graphql-response+json"
	jsonMedia             = "application/json"
)

// guardBody rejects POST bodies that are too large, not UTF-8 or not JSON
// with a GraphQL error of its own. gqlgen would answer the last two by
// echoing the body back, which is neither clear nor safe.
func guardBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeErrors(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
				fmt.Sprintf("the request body is larger than the limit of %d bytes", maxBytes))
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The server's read timeout passed (web.NewServer).
			writeErrors(w, http.StatusRequestTimeout, CodeBadRequest, "the request body did not arrive in time: send it at once")
			return
		case err != nil:
			writeErrors(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == jsonMedia {
			if problem := jsonProblem(body); problem != "" {
				writeErrors(w, http.StatusBadRequest, CodeBadRequest, problem)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(statusForJSON(w, r), r)
	})
}

// acceptedContentTypes are the request bodies the POST transport reads.
var acceptedContentTypes = []string{jsonMedia}

// guardTransport answers requests no transport serves (another method or
// content type, a GET whose variables are not JSON) with a GraphQL error of
// its own. gqlgen would answer "transport not supported" without a code.
func guardTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrade := r.Header.Get("Upgrade")
		switch {
		case strings.EqualFold(upgrade, "websocket"), r.Method == http.MethodOptions, r.Method == http.MethodHead:
		case upgrade != "":
			writeErrors(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("cannot upgrade to %q: /query upgrades to websocket only", upgrade))
			return
		case r.Method == http.MethodGet:
			q := r.URL.Query()
			if q.Get("query") == "" && !strings.Contains(q.Get("extensions"), `"persistedQuery"`) {
				writeErrors(w, http.StatusBadRequest, CodeBadRequest, "the request has no query parameter: send GET /query?query={...}")
				return
			}
			for _, param := range []string{"variables", "extensions"} {
				if v := r.URL.Query().Get(param); v != "" && (!json.Valid([]byte(v)) || !isJSONObjectOrNull([]byte(v))) {
					writeErrors(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("the %s parameter must be a JSON object", param))
					return
				}
			}
		case r.Method == http.MethodPost:
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if !slices.Contains(acceptedContentTypes, mt) {
				w.Header().Set("Accept-Post", strings.Join(acceptedContentTypes, ", "))
				writeErrorsWith(w, http.StatusUnsupportedMediaType, CodeBadRequest,
					fmt.Sprintf("the Content-Type %q is not supported: send the request as %s", r.Header.Get("Content-Type"), strings.Join(acceptedContentTypes, " or ")),
					map[string]any{"acceptedContentTypes": acceptedContentTypes})
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeErrors(w, http.StatusMethodNotAllowed, CodeBadRequest,
				fmt.Sprintf("the method %s is not supported: send queries with GET or POST, mutations with POST, subscriptions over a websocket", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonProblem says what is wrong with a GraphQL-over-HTTP JSON body, if
// anything.
func jsonProblem(body []byte) string {
	const shape = `; send {"query": "...", "variables": {...}, "operationName": "..."}`
	if !utf8.Valid(body) {
		return "the request body is not valid UTF-8"
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(body, &params); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Sprintf("the request body is not valid JSON (error at byte %d)%s", syntax.Offset, shape)
		}
		return "the request body must be a JSON object" + shape
	}
	for _, key := range []string{"query", "operationName"} {
		if v, ok := params[key]; ok && !isJSONStringOrNull(v) {
			return fmt.Sprintf("%q must be a string%s", key, shape)
		}
	}
	if !hasQuery(params["query"]) && !bytes.Contains(params["extensions"], []byte(`"persistedQuery"`)) {
		return `the request has no "query"` + shape
	}
	if v, ok := params["variables"]; ok && !isJSONObjectOrNull(v) {
		return `"variables" must be an object` + shape
	}
	return ""
}

// hasQuery reports whether v is a query: a JSON string, not empty.
func hasQuery(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 2 && v[0] == '"'
}

func isJSONStringOrNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return bytes.Equal(v, []byte("null")) || (len(v) > 0 && v[0] == '"')
}

func isJSONObjectOrNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return bytes.Equal(v, []byte("null")) || (len(v) > 0 && v[0] == '{')
}

func writeErrors(w http.ResponseWriter, status int, code, message string) {
	writeErrorsWith(w, status, code, message, nil)
}

func writeErrorsWith(w http.ResponseWriter, status int, code, message string, extensions map[string]any) {
	ext := map[string]any{"code": code}
	for k, v := range extensions {
		ext[k] = v
	}
	w.Header().Set("Content-Type", jsonMedia)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": message, "extensions": ext}},
	})
}

// statusForJSON follows the GraphQL-over-HTTP spec for application/json
// responses: a well-formed request gets 200 even when the document does not
// parse or validate (the errors are in the body). gqlgen answers those with
// 422; with application/graphql-response+json it already answers 400.
func statusForJSON(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if strings.Contains(r.Header.Get("Accept"), graphqlResponseMedia) {
		return w
	}
	return &jsonStatusWriter{ResponseWriter: w}
}

type jsonStatusWriter struct{ http.ResponseWriter }

func (j *jsonStatusWriter) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity {
		code = http.StatusOK
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonStatusWriter) Unwrap() http.ResponseWriter { return j.ResponseWriter }

// executionDeadline gives every query and mutation at most d to run. The
// deadline is on the context resolvers and the database driver see, so work
// stops when it passes, as it does when an HTTP client disconnects (net/http
// cancels the request's context). presentError reports what the deadline
// interrupted as TIMEOUT.
func executionDeadline(d time.Duration) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return next(ctx)
	}
}

// responseLimit bounds what one response (or subscription event) may carry:
// past maxErrors errors the rest are replaced by one that counts them, and
// a response whose data and errors are larger than maxBytes is replaced
// with a RESPONSE_TOO_LARGE error. The other limits bound what execution
// may build; this one keeps a huge answer off the wire, errors included.
func responseLimit(maxBytes, maxErrors int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return resp
		}
		size := len(resp.Data)
		if len(resp.Errors) > 0 {
			// Validation stops one error past maxErrors with an error of its
			// own that says so: that one is kept.
			if more := len(resp.Errors) - maxErrors; more > 1 {
				note := gqlerror.Errorf("%d more errors were left out: correct these first", more)
				note.Extensions = map[string]any{"code": CodeTooManyErrors, "omitted": more}
				resp.Errors = append(resp.Errors[:maxErrors:maxErrors], note)
			}
			encoded, _ := json.Marshal(resp.Errors)
			size += len(encoded)
		}
		if size <= maxBytes {
			return resp
		}
		err := gqlerror.Errorf("the response would be %d bytes, more than the limit of %d: ask for less (smaller pages, fewer fields or aliases)", size, maxBytes)
		err.Extensions = map[string]any{"code": CodeResponseTooLarge, "size": size, "limit": maxBytes}
		return &graphql.Response{Errors: gqlerror.List{err}, Extensions: resp.Extensions, Label: resp.Label, Path: resp.Path}
	}
}
