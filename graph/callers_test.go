package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// caller sends requests from one loopback address (127.0.0.1 is the test
// clients' default; 127.0.0.2 is another client as far as limits keyed by
// address are concerned) with an optional Authorization header.
type caller struct {
	t     testing.TB
	base  string
	auth  string
	http  *http.Client
	local net.IP
}

func (e *env) from(ip string) *caller {
	local := net.ParseIP(ip)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: local}, Timeout: 5 * time.Second}
	return &caller{t: e.t, base: e.url, local: local, http: &http.Client{
		Timeout:   20 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 16},
	}}
}

// as returns a caller sending authorization.
func (c *caller) as(authorization string) *caller {
	cc := *c
	cc.auth = authorization
	return &cc
}

// reply is one response: status, headers and the decoded body.
type reply struct {
	gqltest.Response
	Header http.Header
	Size   int
}

func (c *caller) post(query string, vars map[string]any) reply {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(http.MethodPost, "application/json", body)
}

func (c *caller) send(method, contentType string, body []byte) reply {
	c.t.Helper()
	r, err := c.try(method, contentType, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// try is send for use off the test's goroutine: it returns what went wrong.
func (c *caller) try(method, contentType string, body []byte) (reply, error) {
	req, err := http.NewRequest(method, c.base+"/query", bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	out := reply{Header: resp.Header, Size: len(raw)}
	out.Status = resp.StatusCode
	if len(raw) > 0 && method != http.MethodHead {
		if err := json.Unmarshal(raw, &out.Response); err != nil {
			return out, &notJSON{status: resp.StatusCode, body: raw}
		}
	}
	out.Status = resp.StatusCode
	return out, nil
}

type notJSON struct {
	status int
	body   []byte
}

func (e *notJSON) Error() string {
	if len(e.body) > 300 {
		e.body = e.body[:300]
	}
	return "response is not JSON: " + http.StatusText(e.status) + " " + string(e.body)
}

// code is the code of the reply's only error ("" if it has none or several).
func (r reply) code() string {
	if len(r.Errors) != 1 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// watchdog asks a trivial query as another client every 20ms until stopped,
// to show the server keeps answering while an attack runs.
type watchdog struct {
	stop     context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	answered int
	failures []string
}

func (e *env) watch() *watchdog { return e.watchAs("") }

// watchAs is watch for a bystander sending authorization.
func (e *env) watchAs(authorization string) *watchdog {
	bystander := e.from("127.0.0.2").as(authorization)
	ctx, stop := context.WithCancel(context.Background())
	w := &watchdog{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			r, err := bystander.try(http.MethodPost, "application/json", []byte(`{"query":"{ __typename }"}`))
			w.mu.Lock()
			switch {
			case err != nil:
				w.failures = append(w.failures, err.Error())
			case r.Status != 200 || string(r.Data) != `{"__typename":"Query"}`:
				w.failures = append(w.failures, string(r.Data)+" "+http.StatusText(r.Status))
			default:
				w.answered++
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	testutil.WaitFor(e.t, "the watchdog's first answer", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.answered > 0 || len(w.failures) > 0
	})
	return w
}

// check stops the watchdog and fails t unless every trivial query during
// the attack was answered (and at least one was asked).
func (w *watchdog) check(t testing.TB) {
	t.Helper()
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.failures) > 0 || w.answered == 0 {
		t.Errorf("the server did not stay responsive: %d trivial queries answered, failures %v", w.answered, w.failures)
	}
}
