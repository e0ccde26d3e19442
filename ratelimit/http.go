package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/feedbackloop/feedbackloop/viewer"
)

// The response headers, as GitHub's API names them.
const (
	HeaderLimit     = "X-RateLimit-Limit"
	HeaderRemaining = "X-RateLimit-Remaining"
	HeaderReset     = "X-RateLimit-Reset" // Unix seconds
	HeaderUsed      = "X-RateLimit-Used"
)

// state is what one HTTP request has spent, for its response headers.
type state struct {
	viewer  *viewer.Viewer
	status  Status
	charged bool
}

type stateKey struct{}

func stateOf(ctx context.Context) *state {
	s, _ := ctx.Value(stateKey{}).(*state)
	return s
}

// recordTo keeps what a request spent for its response headers.
func recordTo(ctx context.Context, st Status) {
	if s := stateOf(ctx); s != nil {
		s.status, s.charged = st, true
	}
}

// Identify tells the middleware who an authenticated request comes from, so
// that a response written before any operation was priced (a document that
// does not parse, say) is charged to the right client.
func Identify(ctx context.Context, v *viewer.Viewer) {
	if s := stateOf(ctx); s != nil {
		s.viewer = v
	}
}

// Middleware records each request's address and gives every response the
// X-RateLimit-* headers. Every request costs at least one point: one whose
// operations were not priced (it was refused before: unparsable, invalid,
// over a limit, unauthenticated) is charged one point when its response is
// written. A request refused for its budget is answered 429 with
// Retry-After. Websocket upgrades only get the address: their operations
// are priced one by one.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := withAddress(r.Context(), r)
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		s := &state{}
		ctx = context.WithValue(ctx, stateKey{}, s)
		next.ServeHTTP(&headerWriter{ResponseWriter: w, limiter: l, state: s, ctx: ctx}, r.WithContext(ctx))
	})
}

type headerWriter struct {
	http.ResponseWriter
	limiter *Limiter
	state   *state
	ctx     context.Context
	written bool
}

func (h *headerWriter) WriteHeader(code int) {
	if h.written {
		h.ResponseWriter.WriteHeader(code)
		return
	}
	h.written = true
	// The body says RATE_LIMITED only when an operation was refused; a
	// response written for another reason keeps its status.
	refused := h.state.charged && h.state.status.Known && !h.state.status.Allowed
	if !h.state.charged {
		h.limiter.Spend(h.ctx, 1)
	}
	st := h.state.status
	hd := h.Header()
	hd.Set(HeaderLimit, strconv.Itoa(st.Limit))
	if st.Known {
		hd.Set(HeaderRemaining, strconv.Itoa(st.Remaining))
		hd.Set(HeaderUsed, strconv.Itoa(st.Used))
		hd.Set(HeaderReset, strconv.FormatInt(st.ResetAt.Unix(), 10))
	}
	if st.Known && !st.Allowed {
		hd.Set("Retry-After", strconv.Itoa(st.RetryAfterSeconds()))
	}
	if refused && code < 300 {
		code = http.StatusTooManyRequests
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerWriter) Write(b []byte) (int, error) {
	if !h.written {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *headerWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Flush passes flushes on (after the headers).
func (h *headerWriter) Flush() { _ = h.FlushError() }

// FlushError passes flushes on, through writers that are not Flushers but
// unwrap to one (the access log's): an event stream's events reach the
// client as they are written.
func (h *headerWriter) FlushError() error {
	if !h.written {
		h.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(h.ResponseWriter).Flush()
}
