package wstransport

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// GraphQL over Server-Sent Events, for clients that cannot open a
// websocket: the graphql-sse protocol's "distinct connections" mode, one
// operation per POST that asks for Accept: text/event-stream, its results
// as "next" events and a "complete" event at the end. gqlgen's
// transport.SSE speaks the protocol; this wraps it so that a stream gets
// what a websocket subscription gets:
//
//   - The request is authenticated as any POST is (the web package puts the
//     viewer on its context); a stream opened with an API key is indexed
//     with the sockets, so that RecheckKeys ends it, with a FORBIDDEN error
//     event, when the key is revoked or its owner's role changes; a token's
//     stream ends when the token expires; a membership change that takes
//     the project away ends it too (Stream.Recheck).
//   - Streams count as connections: against MaxConnections and, under the
//     identity of the request, MaxConnectionsPerClient (a refusal is an HTTP
//     429 or 503 before any event).
//   - Every event's bytes are charged to the client's request budget, as a
//     socket's are (EventBytesPerPoint); a stream over budget ends with a
//     RATE_LIMITED error event that says when to resume.
//   - Each write must reach the client within WriteTimeout, or the stream is
//     dropped (the server has no WriteTimeout of its own, which would end
//     every stream; its ReadTimeout bounds reading the request only).
//   - A comment (": ping") goes out every KeepAlive, so that proxies keep an
//     idle stream open.
//   - Shutdown ends every stream without a "complete", which graphql-sse
//     clients take as a lost connection: they reconnect, to another
//     instance, and resume from their last cursor.

// Error codes of the events that end a stream.
const (
	// CodeForbidden ends a stream whose credential lost its rights.
	CodeForbidden = "FORBIDDEN"
	// CodeRateLimited ends a stream whose client spent its budget.
	CodeRateLimited = "RATE_LIMITED"
)

// SSE returns the transport of GraphQL over Server-Sent Events, which
// shares t's limits, budgets, re-checks of API keys and shutdown. Add it
// to the handler before the plain POST transport.
func (t *Transport) SSE() graphql.Transport {
	return &sseTransport{t: t, inner: transport.SSE{KeepAlivePingInterval: t.limits.KeepAlive}}
}

type sseTransport struct {
	t     *Transport
	inner transport.SSE
}

// Supports reports whether r is a POST of JSON that accepts
// text/event-stream.
func (s *sseTransport) Supports(r *http.Request) bool { return s.inner.Supports(r) }

// Do serves one operation as an event stream, until its results end, the
// client goes away, or the stream is ended by the server.
func (s *sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t := s.t
	v := viewer.FromContext(r.Context())
	switch {
	case v == nil:
		t.refuseStream(w, http.StatusUnauthorized, CodeForbidden, "the request was not authenticated: send an Authorization header")
		return
	case t.closing.Err() != nil:
		t.refuseStream(w, http.StatusServiceUnavailable, CodeUnavailable, errShuttingDown.Error())
		return
	case !v.ExpiresAt.IsZero() && !time.Now().Before(v.ExpiresAt):
		// Within the clock-skew leeway a token still authenticates a
		// request, but the stream would end at once.
		t.refuseStream(w, http.StatusUnauthorized, CodeForbidden, "the credential has expired: send a fresh one")
		return
	}
	st := &sseStream{t: t, authorization: r.Header.Get("Authorization")}
	st.viewer.Store(v)
	// Open mode's shared admin is counted by address, as sockets are.
	client := ratelimit.ClientKey(v, requestAddress(r), v.UserKind == viewer.LocalAdmin)
	switch code, reason := t.conns.acquire(&st.slot, client); code {
	case 0:
	case closeTooMany:
		t.refuseStream(w, http.StatusTooManyRequests, CodeSubscriptionLimit, reason)
		return
	default:
		t.refuseStream(w, http.StatusServiceUnavailable, CodeUnavailable, reason)
		return
	}
	t.open.Add(1)
	defer t.open.Done()
	defer t.conns.release(&st.slot)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st.ctx = ctx
	rc := http.NewResponseController(w)
	st.w = &sseWriter{ResponseWriter: w, rc: rc, timeout: t.limits.WriteTimeout, cancel: cancel, delivered: st.delivered}
	w.Header().Set("X-Accel-Buffering", "no") // nginx would hold events back

	t.keys.add(st, v)
	defer t.keys.remove(st)
	// Shutting down: no "complete", so the client reconnects elsewhere.
	defer context.AfterFunc(t.closing, func() { st.end(nil) })()
	if !v.ExpiresAt.IsZero() {
		expire := time.AfterFunc(time.Until(v.ExpiresAt), func() {
			st.end(streamError(CodeForbidden, "Forbidden: the credential expired; subscribe again with a fresh one"))
		})
		defer expire.Stop()
	}
	s.inner.Do(st.w, r.WithContext(ctx), &sseExecutor{GraphExecutor: exec, st: st})
	st.w.finish()
	if st.field != "" {
		t.subscriptions.Add(-1)
		if t.metrics != nil {
			t.metrics.SubscriptionEnded(st.field, false)
		}
	}
}

// refuseStream answers a request for a stream with an HTTP error: the
// client has seen no event yet.
func (t *Transport) refuseStream(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]any{"errors": []*gqlerror.Error{streamError(code, message)}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func streamError(code, message string) *gqlerror.Error {
	return &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
}

// sseStream is one event stream.
type sseStream struct {
	t             *Transport
	ctx           context.Context // the request's, cancelled when the stream ends
	authorization string
	viewer        atomic.Pointer[viewer.Viewer] // as last authenticated
	slot          slot
	meter         meter
	w             *sseWriter
	field         string // the root field of a subscription ("": another operation)
}

func (st *sseStream) credential() (context.Context, string) { return st.ctx, st.authorization }
func (st *sseStream) current() *viewer.Viewer               { return st.viewer.Load() }
func (st *sseStream) setCurrent(v *viewer.Viewer)           { st.viewer.Store(v) }
func (st *sseStream) forbid(reason string)                  { st.end(streamError(CodeForbidden, reason)) }

// delivered charges a result of n bytes to the client's budget.
func (st *sseStream) delivered(n int) {
	st.meter.charge(st.t, st.ctx, n, func(reason string, s ratelimit.Status) {
		err := streamError(CodeRateLimited, reason)
		err.Extensions["retryAfter"] = s.RetryAfterSeconds()
		st.end(err)
	})
}

// end ends the stream: with err as a last result and a "complete" when err
// is set, or else with neither (the client reconnects). Whatever gqlgen
// writes afterwards is dropped.
func (st *sseStream) end(err *gqlerror.Error) {
	w := st.w
	w.mu.Lock()
	if !w.done {
		if err != nil {
			b, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{err}})
			w.writeLocked([]byte("event: next\ndata: " + string(b) + "\n\n"))
			w.writeLocked(completeEvent)
		}
		w.done = true
	}
	w.mu.Unlock()
	w.cancel()
}

var (
	nextEvent     = []byte("event: next\n")
	completeEvent = []byte("event: complete\ndata:\n\n")
)

// sseExecutor learns from gqlgen's transport what the stream runs: a
// subscription is counted as open and given a Stream (StreamOf), through
// which its resolver reports its position and its re-checks of access.
type sseExecutor struct {
	graphql.GraphExecutor
	st *sseStream
}

func (e *sseExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		t := e.st.t
		e.st.field = rootField(rc)
		attachStream(rc, &Stream{sse: e.st})
		t.subscriptions.Add(1)
		if t.metrics != nil {
			t.metrics.SubscriptionStarted(e.st.field, false)
		}
	}
	return e.GraphExecutor.DispatchOperation(ctx, rc)
}

// sseWriter is the stream's response, as gqlgen's transport writes it (an
// event per Write, then a Flush): writes are serialised with the server's
// own (end), each must reach the client within timeout, results are
// counted for the budget, and nothing is written once the stream ended.
type sseWriter struct {
	http.ResponseWriter
	rc        *http.ResponseController
	timeout   time.Duration
	cancel    context.CancelFunc
	delivered func(n int)

	mu   sync.Mutex
	done bool
}

func (w *sseWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(b), nil
	}
	if err := w.writeLocked(b); err != nil {
		return 0, err
	}
	if bytes.HasPrefix(b, nextEvent) {
		w.delivered(len(b))
	}
	return len(b), nil
}

// writeLocked writes b and flushes it; a client that does not take it
// within the timeout is dropped. w.mu is held.
func (w *sseWriter) writeLocked(b []byte) error {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.ResponseWriter.Write(b)
	if err == nil {
		err = w.rc.Flush()
	}
	if err != nil {
		w.done = true
		w.cancel()
	}
	return err
}

// Flush is done with each write; gqlgen's transport needs the method.
func (w *sseWriter) Flush() {}

// finish stops all writing; gqlgen's keep-alive may outlive its Do.
func (w *sseWriter) finish() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	// The server's last write (the end of the chunked body) gets the
	// timeout too.
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
}
