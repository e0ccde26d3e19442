package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/store"
)

// sseEvent is one event of a stream: its type ("next", "complete"), or a
// comment (keep-alive) when comment is set; end is the stream's end
// (without a complete: the connection ended).
type sseEvent struct {
	kind    string
	data    json.RawMessage
	comment bool
	end     bool
}

// sseStream is a GraphQL-over-SSE subscription, read as a client reads it.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
}

// sseSubscribe posts query with Accept: text/event-stream as authorization
// ("" for none) and returns the stream, or fails unless the server answers
// 200 with an event stream.
func sseSubscribe(t *testing.T, base, authorization, query string, vars map[string]any) *sseStream {
	t.Helper()
	s, status, body := sseTry(t, base, authorization, query, vars)
	if s == nil {
		t.Fatalf("the event stream was refused: %d %s", status, body)
	}
	return s
}

// sseTry is sseSubscribe that returns the status and body of a refusal
// (then the stream is nil).
func sseTry(t *testing.T, base, authorization, query string, vars map[string]any) (*sseStream, int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode, string(b)
	}
	s := &sseStream{t: t, resp: resp, cancel: cancel, events: make(chan sseEvent, 1000)}
	t.Cleanup(s.close)
	go s.read()
	return s, resp.StatusCode, ""
}

func (s *sseStream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.kind != "" || ev.comment {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			ev.comment = true
		case strings.HasPrefix(line, "event:"):
			ev.kind = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			ev.data = append(ev.data, strings.TrimSpace(strings.TrimPrefix(line, "data:"))...)
		}
	}
	s.events <- sseEvent{end: true}
}

func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next event that is not a comment.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("the stream was read to its end already")
			}
			if !ev.comment || ev.kind != "" || ev.end {
				return ev
			}
		case <-timeout:
			s.t.Fatal("no event within 15s")
		}
	}
}

// nextResult returns the next result, failing on anything else.
func (s *sseStream) nextResult() gqltest.Response {
	s.t.Helper()
	ev := s.next()
	if ev.kind != "next" {
		s.t.Fatalf("want a next event, got %+v (%s)", ev, ev.data)
	}
	var out gqltest.Response
	if err := json.Unmarshal(ev.data, &out); err != nil {
		s.t.Fatalf("%s: %v", ev.data, err)
	}
	return out
}

// wantError reads a result of one error of code saying text, then the
// complete event.
func (s *sseStream) wantError(code, text string) gqltest.Error {
	s.t.Helper()
	r := s.nextResult()
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != code || !strings.Contains(r.Errors[0].Message, text) {
		s.t.Fatalf("want one %s error saying %q, got %+v (data %s)", code, text, r.Errors, r.Data)
	}
	if ev := s.next(); ev.kind != "complete" {
		s.t.Fatalf("after the error: %+v, want complete", ev)
	}
	return r.Errors[0]
}

const sseTaskEvents = `subscription($p: ID!, $after: String) {
  projectEvents(projectID: $p, after: $after) { ... on TaskEvent { cursor change task { title } } }
}`

type sseTaskEvent struct {
	ProjectEvents struct {
		Cursor string
		Change string
		Task   struct{ Title string }
	}
}

func (s *sseStream) nextTaskEvent() sseTaskEvent {
	s.t.Helper()
	r := s.nextResult()
	if len(r.Errors) > 0 {
		s.t.Fatalf("errors: %+v", r.Errors)
	}
	var ev sseTaskEvent
	if err := json.Unmarshal(r.Data, &ev); err != nil {
		s.t.Fatal(err)
	}
	return ev
}

// positioned waits until n streams were positioned in e's instance since
// it started: events committed from now on reach them.
func (e *env) positioned(t *testing.T, n int) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("%d streams positioned", n), func() bool { return e.server.StreamsPositioned() >= n })
}

func (e *env) addTask(t *testing.T, cred, project, title string) {
	t.Helper()
	e.as(t, cred, `mutation($p: ID!, $t: String!) { createTask(input: {projectID: $p, title: $t}) { id } }`, map[string]any{"p": project, "t": title}, nil)
}

// A member subscribes over SSE and gets the project's events; the stream,
// closed by the client, ends its subscription on the server; resumed with
// after: the cursor of the last event received, it gets the events since
// and no earlier one.
func TestSSEDeliversEventsAndResumesAfterACursor(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "sse")
	s := sseSubscribe(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own})
	e.positioned(t, 1)
	if n := e.server.Subscriptions(); n != 1 {
		t.Fatalf("%d open subscriptions, want 1", n)
	}
	e.addTask(t, w.owner, w.own, "first")
	first := s.nextTaskEvent().ProjectEvents
	if first.Task.Title != "first" || first.Change != "CREATED" || first.Cursor == "" {
		t.Fatalf("first event: %+v", first)
	}
	s.close()
	testutil.WaitFor(t, "the subscription to end", func() bool { return e.server.Subscriptions() == 0 })

	// A query over a stream gets its one result, then complete.
	q := sseSubscribe(t, e.url, w.reader, `{ viewer { subject } }`, nil)
	if r := q.nextResult(); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "reader-sse") {
		t.Fatalf("a query: %s %+v", r.Data, r.Errors)
	}
	if ev := q.next(); ev.kind != "complete" {
		t.Fatalf("after the query's result: %+v", ev)
	}

	e.addTask(t, w.owner, w.own, "second")
	e.addTask(t, w.owner, w.own, "third")
	s = sseSubscribe(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own, "after": first.Cursor})
	for _, want := range []string{"second", "third"} {
		if got := s.nextTaskEvent().ProjectEvents.Task.Title; got != want {
			t.Fatalf("resumed: got %q, want %q", got, want)
		}
	}
}

// A stream is authorised as any request is: no credential is a 401 before
// any event, and someone who may not see the project gets NOT_FOUND, as a
// websocket subscriber does.
func TestSSERefusesWhoMayNotSee(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "ssenot")
	if s, status, body := sseTry(t, e.url, "", sseTaskEvents, map[string]any{"p": w.own}); s != nil || status != http.StatusUnauthorized || !strings.Contains(body, graph.CodeUnauthenticated) {
		t.Fatalf("without credentials: %d %s", status, body)
	}
	s := sseSubscribe(t, e.url, w.outsider, sseTaskEvents, map[string]any{"p": w.own})
	s.wantError(graph.CodeNotFound, "")
}

// A stream opened with an API key ends with FORBIDDEN when the key is
// revoked, on the instance that heard of it; a member's stream ends when
// the member is removed from the project; a bystander's goes on.
func TestSSEStreamEndsWhenRightsAreLost(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "sserev")
	byKey := sseSubscribe(t, e.url, w.key, sseTaskEvents, map[string]any{"p": w.own})
	reader := sseSubscribe(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own})
	owner := sseSubscribe(t, e.url, w.owner, sseTaskEvents, map[string]any{"p": w.own})
	e.positioned(t, 3)
	e.as(t, w.owner, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": e.keyID(t, w.owner, "ci")}, nil)
	byKey.wantError(graph.CodeForbidden, "was revoked")
	e.as(t, w.owner, `mutation($m: ID!) { removeProjectMember(id: $m) }`, map[string]any{"m": w.readerMember}, nil)
	reader.wantError(graph.CodeForbidden, "took this stream from you")
	e.addTask(t, w.owner, w.own, "still here")
	if got := owner.nextTaskEvent().ProjectEvents.Task.Title; got != "still here" {
		t.Fatalf("the owner's stream: %q", got)
	}
	testutil.WaitFor(t, "the two streams to end", func() bool { return e.server.Subscriptions() == 1 })
}

// A stream opened with a token ends with FORBIDDEN when the token expires.
func TestSSEStreamEndsWhenItsTokenExpires(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "sseexp")
	tok, err := hs256.Mint(testSecret, "reader-sseexp", "Name of reader-sseexp", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := sseSubscribe(t, e.url, "Bearer "+tok, sseTaskEvents, map[string]any{"p": w.own})
	s.wantError(graph.CodeForbidden, "the credential expired")
}

// Event streams count as connections, with websockets, against
// MAX_WS_CONNECTIONS_PER_CLIENT: one past it is refused with 429 before any
// event; when one ends, another may open.
func TestSSEStreamsCountWithWebsocketConnections(t *testing.T) {
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.Limits.MaxWebsocketConnectionsPerClient = 2
	})
	w := e.newWorld(t, "ssemax")
	gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader) // open until the test ends
	s := sseSubscribe(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own})
	_, status, body := sseTry(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own})
	if status != http.StatusTooManyRequests || !strings.Contains(body, graph.CodeSubscriptionLimit) || !strings.Contains(body, "at most 2 websocket connections per client, event streams (SSE) included") {
		t.Fatalf("a third connection: %d %s", status, body)
	}
	// Someone else is counted apart.
	sseSubscribe(t, e.url, w.owner, sseTaskEvents, map[string]any{"p": w.own})
	s.close()
	testutil.WaitFor(t, "the stream's slot", func() bool {
		s, _, _ := sseTry(t, e.url, w.reader, sseTaskEvents, map[string]any{"p": w.own})
		if s != nil {
			s.close()
		}
		return s != nil
	})
}

// Events sent over a stream are charged to the client's budget as a
// socket's are: a point per 10 KB. Over budget, the stream ends with
// RATE_LIMITED saying when to resume.
func TestSSEEventsSpendTheBudget(t *testing.T) {
	prefix := "rl-" + testredis.Namespace(t)
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.RateLimit = ratelimit.New(testredis.Client(t), ratelimit.Config{Points: 100, Window: time.Minute, Prefix: prefix, Logger: c.Logger})
	})
	w := e.newWorld(t, "ssepay")
	// Each event carries the task's 10,000-character description in 10
	// aliases: 100 KB, 10 points.
	var sel strings.Builder
	for i := range 10 {
		fmt.Fprintf(&sel, "d%d: task { description } ", i)
	}
	sub := `subscription($p: ID!) { projectEvents(projectID: $p) { ... on TaskEvent { cursor ` + sel.String() + ` } } }`
	s := sseSubscribe(t, e.url, w.reader, sub, map[string]any{"p": w.own})
	e.positioned(t, 1)
	taskID := dbID(t, w.ownTask)
	for i := range 15 {
		sys := accesstest.System()
		if _, err := store.InTx(sys, e.client, func(tx *ent.Tx) (*ent.Task, error) {
			return tx.Task.UpdateOneID(taskID).SetDescription(fmt.Sprintf("%05d", i) + strings.Repeat("d", 9_995)).AddVersion(1).Save(sys)
		}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for {
		r := s.nextResult()
		if len(r.Errors) == 0 {
			got++
			if got == 15 {
				t.Fatal("all 15 events (150 points) were delivered on a budget of 100")
			}
			continue
		}
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeRateLimited || !strings.Contains(r.Errors[0].Message, "resume from your last cursor in") {
			t.Fatalf("after %d events: %+v", got, r.Errors)
		}
		break
	}
	if ev := s.next(); ev.kind != "complete" {
		t.Fatalf("after the error: %+v", ev)
	}
}

// A stream outlives the server's read timeout (as web.NewServer sets it:
// it bounds reading the request only), gets keep-alive comments while idle, and ends without a complete when the server shuts down, so that
// clients reconnect elsewhere.
func TestSSEStreamOutlivesTheReadTimeoutAndEndsAtShutdown(t *testing.T) {
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(c *graph.Config) {
		c.Limits.WebsocketKeepAlive = 100 * time.Millisecond
	})
	w := e.newWorld(t, "ssetime")
	e.readTimeout = 500 * time.Millisecond
	srv, base := e.startInstance(t, e.bus)
	s := sseSubscribe(t, base, w.reader, sseTaskEvents, map[string]any{"p": w.own})
	testutil.WaitFor(t, "the stream positioned", func() bool { return srv.StreamsPositioned() == 1 })
	// Idle for three read timeouts: keep-alives only.
	comments := 0
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); {
		select {
		case ev := <-s.events:
			if !ev.comment || ev.kind != "" {
				t.Fatalf("while idle: %+v", ev)
			}
			comments++
		case <-time.After(100 * time.Millisecond):
		}
	}
	if comments < 3 {
		t.Fatalf("%d keep-alive comments in 1.5s, sent every 100ms", comments)
	}
	e.addTask(t, w.owner, w.own, "late")
	if got := s.nextTaskEvent().ProjectEvents.Task.Title; got != "late" {
		t.Fatalf("after the read timeout: %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.CloseSubscriptions(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); !ev.end {
		t.Fatalf("at shutdown: %+v, want the end of the stream without complete", ev)
	}
	if s, status, body := sseTry(t, base, w.reader, sseTaskEvents, map[string]any{"p": w.own}); s != nil || status != http.StatusServiceUnavailable {
		t.Fatalf("a stream during shutdown: %d %s", status, body)
	}
}

// The graphql-sse library (its distinct connections mode, under Node)
// subscribes with an API key, gets an event, and when the key is revoked
// gets the FORBIDDEN error and the end of the subscription.
func TestGraphQLSSELibraryClient(t *testing.T) {
	dir := filepath.Join("testdata", "graphql-sse")
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("this test runs the graphql-sse npm client, and %s is not installed: %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-sse")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	e := newSecureEnv(t)
	w := e.newWorld(t, "ssenode")
	vars, _ := json.Marshal(map[string]any{"p": w.own})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "subscribe.mjs", e.url+"/query", sseTaskEvents, string(vars))
	node.Dir = dir
	node.Env = append(os.Environ(), "AUTHORIZATION="+w.key)
	var stderr bytes.Buffer
	node.Stderr = &stderr
	stdout, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	line := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("the client ended early: %v\n%s", node.Wait(), stderr.String())
		}
		return lines.Text()
	}
	if l := line(); l != "connected" {
		t.Fatalf("first line: %s", l)
	}
	e.positioned(t, 1)
	e.addTask(t, w.owner, w.own, "from node")
	var first struct{ Data sseTaskEvent }
	if l := line(); json.Unmarshal([]byte(l), &first) != nil || first.Data.ProjectEvents.Task.Title != "from node" {
		t.Fatalf("first result: %s", l)
	}
	e.as(t, w.owner, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": e.keyID(t, w.owner, "ci")}, nil)
	var second gqltest.Response
	if l := line(); json.Unmarshal([]byte(l), &second) != nil || len(second.Errors) != 1 || second.Errors[0].Extensions["code"] != graph.CodeForbidden {
		t.Fatalf("after the revocation: %s", l)
	}
	if l := line(); l != "complete" {
		t.Fatalf("last line: %s", l)
	}
	if err := node.Wait(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
}
