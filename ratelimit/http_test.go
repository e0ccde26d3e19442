package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// unwrapOnly wraps a response as the access log does: no Flush of its own,
// only Unwrap.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// A handler's flush reaches the connection through writers that only
// unwrap: an event stream's events are not held in a buffer.
func TestMiddlewareFlushesThroughWritersThatUnwrap(t *testing.T) {
	l := newLimiter(t, "", ratelimit.Config{Points: 10})
	rec := httptest.NewRecorder()
	l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("event: next\n\n"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
	})).ServeHTTP(unwrapOnly{rec}, httptest.NewRequest(http.MethodPost, "/query", nil))
	if !rec.Flushed {
		t.Fatal("the flush did not reach the connection")
	}
	if rec.Header().Get(ratelimit.HeaderLimit) != "10" {
		t.Fatalf("headers: %v", rec.Header())
	}
}
