package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	enttask "github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// The hostile-input suite replays, against one API with the default limits
// in open mode, the probes of a hostile client on 127.0.0.1 (issue 10). Each
// test asserts the refusal a client sees (a clear code, never INTERNAL) and
// that the server kept answering a bystander on 127.0.0.2 meanwhile. The
// slow-body probe is TestSlowBodyIsCutOff in the root package (it needs the
// real HTTP server's timeouts); the prompt probe is
// worker/analysis.TestPromptKeepsUserTextAsData.

// noInternal fails t if the logs have an ERROR line or a reply an INTERNAL code.
func noInternal(t *testing.T, e *env, replies ...reply) {
	t.Helper()
	for _, line := range e.logs.Lines() {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged at ERROR: %s", line)
		}
	}
	for _, r := range replies {
		for _, err := range r.Errors {
			if err.Extensions["code"] == graph.CodeInternal || err.Extensions["code"] == nil {
				t.Errorf("error without a clear code: %+v", err)
			}
		}
	}
}

// aliases repeats field n times, aliased a0, a1, ...
func aliases(n int, field string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: %s\n", i, field)
	}
	return b.String()
}

// Probe: 2,000 submitFeedback from one client were all accepted.
func TestHostileManySubmissionsFromOneClient(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Target")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	start := time.Now()
	var (
		mu       sync.Mutex
		accepted int
		codes    = map[string]int{}
		statuses = map[int]int{}
		bad      []string
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	body, _ := json.Marshal(map[string]any{"query": submitMutation, "variables": map[string]any{"in": map[string]any{"projectID": p.ID, "feedbackText": "spam"}}})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				r, err := attacker.try(http.MethodPost, "application/json", body)
				mu.Lock()
				switch {
				case err != nil:
					bad = append(bad, err.Error())
				case len(r.Errors) == 0:
					accepted++
				default:
					codes[r.code()]++
					statuses[r.Status]++
					if r.code() == graph.CodeRateLimited && r.Errors[0].Extensions["retryAfter"] == nil {
						bad = append(bad, "RATE_LIMITED without retryAfter")
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	w.check(t)
	// 60 per client per hour, refilling one a minute.
	if most := ratelimit.DefaultSubmissionsPerClient + int(time.Since(start)/time.Minute); accepted < ratelimit.DefaultSubmissionsPerClient || accepted > most {
		t.Errorf("%d of 2,000 submissions accepted, want %d (at most %d)", accepted, ratelimit.DefaultSubmissionsPerClient, most)
	}
	if len(bad) > 0 || len(codes) != 1 || codes[graph.CodeRateLimited] != 2000-accepted {
		t.Errorf("refusals: %v, problems %v; want all %d RATE_LIMITED", codes, bad, 2000-accepted)
	}
	// The submission budget refuses the field (200); once the request
	// budget is spent too, the whole request is refused (429).
	if statuses[http.StatusOK] == 0 || statuses[http.StatusTooManyRequests] == 0 || len(statuses) != 2 {
		t.Errorf("statuses of the refusals: %v", statuses)
	}
	q, err := e.jobs.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if q.Pending != accepted {
		t.Errorf("%d jobs queued, want %d", q.Pending, accepted)
	}
	stored := e.client.Feedback.Query().CountX(accesstest.System())
	if stored != accepted {
		t.Errorf("%d feedbacks stored, want %d", stored, accepted)
	}
	noInternal(t, e)
}

// Probe: 4,900 aliased submitFeedback in one 322 KB request queued 4,900 jobs.
func TestHostileAliasedSubmissions(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Target")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	field := fmt.Sprintf(`submitFeedback(input: {projectID: %q, feedbackText: "spam spam spam spam"}) { id }`, p.ID)
	doc := "mutation {\n" + aliases(4900, field) + "}"
	if len(doc) < 300_000 {
		t.Fatalf("the document is %d bytes, want the probe's ~322 KB", len(doc))
	}
	r := attacker.post(doc, nil)
	if r.code() != doclimit.CodeTokenLimit {
		t.Errorf("4,900 aliases: %d %+v", r.Status, r.Errors)
	}
	// Within the token limit, the root-field limit refuses it.
	r = attacker.post("mutation {\n"+aliases(60, field)+"}", nil)
	if r.code() != graph.CodeRootFieldLimit || !strings.Contains(r.Errors[0].Message, "60 root fields") {
		t.Errorf("60 aliases: %d %+v", r.Status, r.Errors)
	}
	// Within the root-field limit, more than 5 submissions are refused as
	// a whole too.
	r = attacker.post("mutation {\n"+aliases(6, field)+"}", nil)
	if r.code() != graph.CodeSubmissionLimit || !strings.Contains(r.Errors[0].Message, "the limit is 5 per request") || r.Data != nil {
		t.Errorf("6 aliases: %d %+v %s", r.Status, r.Errors, r.Data)
	}
	// Five run.
	r = attacker.post("mutation {\n"+aliases(5, field)+"}", nil)
	if len(r.Errors) > 0 {
		t.Errorf("5 aliases: %+v", r.Errors)
	}
	w.check(t)
	if n := e.client.Feedback.Query().Where(feedback.ProjectID(dbID(t, p.ID))).CountX(accesstest.System()); n != 5 {
		t.Errorf("%d feedbacks stored, want the last request's 5", n)
	}
	noInternal(t, e, r)
}

// Probe: 500 aliased createTask with 10,000-character descriptions (45 KB,
// one variable) made every later prompt of the project grow past 5 MB.
func TestHostileAliasedTaskCreation(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Target")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	long := strings.Repeat("d", 10_000)
	field := `createTask(input: {projectID: $p, title: "t", description: $d}) { id }`
	r := attacker.post("mutation($p: ID!, $d: String) {\n"+aliases(500, field)+"}", map[string]any{"p": p.ID, "d": long})
	if r.code() != doclimit.CodeTokenLimit {
		t.Errorf("500 aliased createTask: %d %+v", r.Status, r.Errors)
	}
	r = attacker.post("mutation($p: ID!, $d: String) {\n"+aliases(graph.DefaultMaxRootFields+1, field)+"}", map[string]any{"p": p.ID, "d": long})
	if r.code() != graph.CodeRootFieldLimit {
		t.Errorf("%d aliased createTask: %d %+v", graph.DefaultMaxRootFields+1, r.Status, r.Errors)
	}
	if n := e.client.Task.Query().CountX(accesstest.System()); n != 0 {
		t.Errorf("%d tasks created", n)
	}
	// Descriptions are bounded: 10,000 characters are stored, 10,001 are refused.
	for _, c := range []struct {
		doc  string
		vars map[string]any
	}{
		{`mutation($p: ID!, $d: String) { createTask(input: {projectID: $p, title: "t", description: $d}) { id } }`, map[string]any{"p": p.ID, "d": long + "d"}},
		{`mutation($d: String) { createProject(input: {name: "n", description: $d}) { id } }`, map[string]any{"d": long + "d"}},
	} {
		r := attacker.post(c.doc, c.vars)
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != "input.description" ||
			!strings.Contains(r.Errors[0].Message, "at most 10000 characters (got 10001)") {
			t.Errorf("10,001-character description: %+v", r.Errors)
		}
		c.vars["d"] = long
		if r := attacker.post(c.doc, c.vars); len(r.Errors) > 0 {
			t.Errorf("10,000-character description: %+v", r.Errors)
		}
	}
	w.check(t)
	noInternal(t, e, r)
}

// Probe: 5,000 × projects(first: 0) { totalCount } issued 5,000 SQL counts.
func TestHostileCountBomb(t *testing.T) {
	e := newEnv(t)
	w := e.watch()
	attacker := e.from("127.0.0.1")
	before := e.queries.Load()
	r := attacker.post("{\n"+aliases(5000, "projects(first: 0) { totalCount }")+"}", nil)
	if r.code() != doclimit.CodeTokenLimit {
		t.Errorf("5,000 counts: %d %+v", r.Status, r.Errors)
	}
	r = attacker.post("{\n"+aliases(graph.DefaultMaxRootFields+1, "projects(first: 0) { totalCount }")+"}", nil)
	if r.code() != graph.CodeRootFieldLimit || r.Errors[0].Extensions["limit"] != float64(graph.DefaultMaxRootFields) {
		t.Errorf("%d counts: %d %+v", graph.DefaultMaxRootFields+1, r.Status, r.Errors)
	}
	if n := e.queries.Load() - before; n != 0 {
		t.Errorf("%d SQL statements ran for a refused document", n)
	}
	// At the limit, it runs.
	r = attacker.post("{\n"+aliases(graph.DefaultMaxRootFields, "projects(first: 0) { totalCount }")+"}", nil)
	if len(r.Errors) > 0 {
		t.Errorf("%d counts: %+v", graph.DefaultMaxRootFields, r.Errors)
	}
	w.check(t)
	noInternal(t, e, r)
}

// introspectionQuery is the full introspection query GraphiQL sends.
const introspectionQuery = `__schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType }
  directives { name description locations args { ...InputValue } }
}`

const introspectionFragments = `
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

// Probe: one 87 KB document of 1,700 aliased __schema got a 12 MB answer
// (the server grew from 57 to 365 MB).
func TestHostileIntrospectionBomb(t *testing.T) {
	e := newEnv(t)
	w := e.watch()
	attacker := e.from("127.0.0.1")
	doc := "{\n" + aliases(1700, "__schema { types { name fields { name type { name } } } }") + "}"
	if len(doc) < 85_000 {
		t.Fatalf("document of %d bytes, want the probe's ~87 KB", len(doc))
	}
	r := attacker.post(doc, nil)
	if r.code() != doclimit.CodeTokenLimit || r.Size > 2000 {
		t.Errorf("1,700 aliased __schema: %d bytes, %+v", r.Size, r.Errors)
	}
	r = attacker.post("{\n"+aliases(graph.DefaultMaxRootFields+1, "__schema { types { name fields { name type { name } } } }")+"}", nil)
	if r.code() != graph.CodeRootFieldLimit || r.Size > 2000 {
		t.Errorf("%d aliased __schema: %d bytes, %+v", graph.DefaultMaxRootFields+1, r.Size, r.Errors)
	}
	// Within the root-field limit, 50 full introspections once made the
	// server build 8.6 MB (1.2 s of CPU) to refuse it as too large: the
	// schema is answered once per operation, so two are refused up front.
	for _, n := range []int{50, 2} {
		r = attacker.post("{\n"+aliases(n, introspectionQuery)+"}"+introspectionFragments, nil)
		if r.code() != graph.CodeRootFieldLimit || r.Errors[0].Extensions["field"] != "__schema" || r.Size > 2000 {
			t.Errorf("%d full introspections: %d bytes, %+v", n, r.Size, r.Errors)
		}
	}
	// One, as GraphiQL sends it, is answered.
	r = attacker.post("query IntrospectionQuery {\n"+introspectionQuery+"}"+introspectionFragments, nil)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"queryType":{"name":"Query"}`) {
		t.Errorf("GraphiQL's introspection: %+v", r.Errors)
	}
	w.check(t)
	noInternal(t, e, r)
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.DisableIntrospection = true })
	for _, doc := range []string{`{ __schema { types { name } } }`, `{ __type(name: "Project") { name } }`, `{ ...F } fragment F on Query { s: __schema { queryType { name } } }`} {
		got := e.mustFail(doc, nil, "GRAPHQL_VALIDATION_FAILED")
		if !strings.Contains(got.Message, "introspection is disabled") {
			t.Errorf("%s: %q", doc, got.Message)
		}
	}
	e.mustDo(`{ __typename projects(first: 1) { totalCount } }`, nil, nil)
}

func TestResponseSizeIsCapped(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.MaxResponseBytes = 20_000 })
	for i := 0; i < 5; i++ {
		e.client.Project.Create().SetName(fmt.Sprint("P", i)).SetDescription(strings.Repeat("x", 5000)).SaveX(accesstest.System())
	}
	r := e.from("127.0.0.1").post(`{ projects(first: 10) { edges { node { description } } } }`, nil)
	if r.code() != graph.CodeResponseTooLarge || r.Data != nil || r.Size > 1000 ||
		!strings.Contains(r.Errors[0].Message, "more than the limit of 20000") {
		t.Fatalf("%d bytes: %s %+v", r.Size, r.Data, r.Errors)
	}
	e.mustDo(`{ projects(first: 3) { edges { node { description } } } }`, nil, nil)
	// Errors count toward the size: 101 validation errors are over 5,000 bytes.
	small := newEnvWith(t, func(c *graph.Config) { c.Limits.MaxResponseBytes = 5000 })
	r = small.from("127.0.0.1").post("{ viewer { "+numbered(150, "zz%d")+"} }", nil)
	if r.code() != graph.CodeResponseTooLarge || len(r.Errors) != 1 || r.Size > 1000 {
		t.Fatalf("101 errors: %d bytes, %+v", r.Size, r.Errors)
	}
	noInternal(t, e, r)
}

// Past 100 errors, execution's errors are counted in one more: 150 missing
// nodes are 100 NOT_FOUND errors and a TOO_MANY_ERRORS that counts 50.
func TestResponseErrorsAreCapped(t *testing.T) {
	e := newEnv(t)
	first := dbID(t, e.createProject("P").ID)
	ids := make([]string, 75)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", gid.Encode(first+1+i)) // projects that do not exist
	}
	list := "[" + strings.Join(ids, ", ") + "]"
	r := e.from("127.0.0.1").post(fmt.Sprintf("{ a: nodes(ids: %s) { id } b: nodes(ids: %s) { id } }", list, list), nil)
	if n := len(r.Errors); n != 101 || r.Errors[0].Extensions["code"] != graph.CodeNotFound ||
		r.Errors[100].Extensions["code"] != graph.CodeTooManyErrors || r.Errors[100].Message != "50 more errors were left out: correct these first" {
		t.Fatalf("%d errors: first %+v, last %+v", n, r.Errors[0], r.Errors[n-1])
	}
	noInternal(t, e, r)
}

// Probe: nodes(ids:) with 35,000 IDs was accepted.
func TestHostileManyNodeIDs(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Seen")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	ids := make([]string, 35_000)
	for i := range ids {
		ids[i] = gid.Encode(dbID(t, p.ID) + i)
	}
	r := attacker.post(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
	if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != "ids" || !strings.Contains(r.Errors[0].Message, "at most 100 IDs (got 35000)") {
		t.Errorf("35,000 IDs: %+v", r.Errors)
	}
	// A hundred are looked up (the others name no project).
	r = attacker.post(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids[:graph.MaxNodes]})
	if len(r.Errors) != graph.MaxNodes-1 || r.Errors[0].Extensions["code"] != graph.CodeNotFound || !strings.HasPrefix(string(r.Data), `{"nodes":[{"id":"`+p.ID+`"},null,`) {
		t.Errorf("100 IDs: %s %+v", r.Data, r.Errors)
	}
	w.check(t)
	noInternal(t, e, r)
}

// Probe: one websocket opened 10,000 subscriptions, duplicate IDs accepted.
func TestHostileSubscriptionFlood(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Watched")
	w := e.watch()
	for _, proto := range []string{gqltest.TransportWS, gqltest.LegacyWS} {
		t.Run(proto, func(t *testing.T) {
			c := gqltest.Dial(t, e.url, proto)
			for i := 0; i < 10_000; i++ {
				c.Subscribe(fmt.Sprint("s", i), `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`, map[string]any{"p": p.ID})
			}
			refused := map[string]bool{}
			for len(refused) < 10_000-graph.DefaultMaxSubscriptionsPerConnection {
				m := c.Next()
				var errs []gqltest.Error
				if m.Kind != "error" || json.Unmarshal(m.Payload, &errs) != nil || len(errs) != 1 ||
					errs[0].Extensions["code"] != graph.CodeSubscriptionLimit || !strings.Contains(errs[0].Message, "already runs 100 operations") {
					t.Fatalf("want a subscription-limit error, got %s %s %s", m.Kind, m.ID, m.Payload)
				}
				refused[m.ID] = true
			}
			for i := 0; i < graph.DefaultMaxSubscriptionsPerConnection; i++ {
				if refused[fmt.Sprint("s", i)] {
					t.Fatalf("subscription s%d, within the limit, was refused", i)
				}
			}
			// Completing one makes room for one.
			c.Unsubscribe("s0")
			testutil.WaitFor(t, "room for a subscription", func() bool {
				c.Subscribe("again", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`, map[string]any{"p": p.ID})
				m, ok := c.Pending(200 * time.Millisecond)
				for ok && m.Kind == "complete" && m.ID == "s0" {
					m, ok = c.Pending(200 * time.Millisecond)
				}
				return !ok // no refusal: it runs
			})
			// A running ID used again closes the connection with 4409.
			c.Subscribe("s1", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`, map[string]any{"p": p.ID})
			ce := c.WaitClosed()
			if ce == nil || ce.Code != 4409 || ce.Text != "Subscriber for s1 already exists" {
				t.Fatalf("duplicate ID: closed with %v, want 4409 Subscriber for s1 already exists", ce)
			}
		})
	}
	w.check(t)
	testutil.WaitFor(t, "the subscriptions to end", func() bool { return e.bus.Subscribers() == 0 })
	if got := e.scrape(); !strings.Contains(got, `feedbackloop_websocket_refusals_total{reason="duplicate_id"} 2`) ||
		!strings.Contains(got, fmt.Sprintf(`feedbackloop_websocket_refusals_total{reason="subscriptions"} %d`, 2*(10_000-graph.DefaultMaxSubscriptionsPerConnection))) {
		t.Errorf("metrics lack the refusals")
	}
	noInternal(t, e)
}

// dialRaw opens a websocket to base from 127.0.0.1 and sends
// connection_init, returning the connection (nil) or the close frame that
// refused it.
func dialRaw(t *testing.T, base, authorization string) (*websocket.Conn, *websocket.CloseError) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{gqltest.TransportWS}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	payload := map[string]any{}
	if authorization != "" {
		payload["Authorization"] = authorization
	}
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		return nil, &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: err.Error()}
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type string }
		err := conn.ReadJSON(&m)
		if ce, ok := err.(*websocket.CloseError); ok {
			return nil, ce
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Type == "connection_ack" {
			_ = conn.SetReadDeadline(time.Time{})
			return conn, nil
		}
	}
}

// Probe: 5,000 websockets opened, with no per-client limit.
func TestHostileConnectionFlood(t *testing.T) {
	e := newEnv(t)
	w := e.watch()
	var open []*websocket.Conn
	for i := 0; i < graph.DefaultMaxWebsocketConnectionsPerClient; i++ {
		conn, ce := dialRaw(t, e.url, "")
		if ce != nil {
			t.Fatalf("connection %d refused: %v", i+1, ce)
		}
		open = append(open, conn)
	}
	for i := 0; i < 50; i++ {
		_, ce := dialRaw(t, e.url, "")
		if ce == nil || ce.Code != 4429 || !strings.Contains(ce.Text, "at most 20 websocket connections per client") {
			t.Fatalf("connection %d: %v, want 4429 with a reason", graph.DefaultMaxWebsocketConnectionsPerClient+i+1, ce)
		}
	}
	// Another client is not affected.
	d := websocket.Dialer{Subprotocols: []string{gqltest.TransportWS},
		NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}
	other, _, err := d.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/query", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.WriteJSON(map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var ack struct{ Type string }
	if err := other.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("another client: %v %v", ack, err)
	}
	// A closed connection frees its place.
	open[0].Close()
	testutil.WaitFor(t, "a freed place", func() bool {
		conn, ce := dialRaw(t, e.url, "")
		if conn != nil {
			conn.Close()
		}
		return ce == nil
	})
	w.check(t)
	noInternal(t, e)
}

func TestInstanceConnectionLimit(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.MaxWebsocketConnections = 3 })
	for i := 0; i < 3; i++ {
		if _, ce := dialRaw(t, e.url, ""); ce != nil {
			t.Fatalf("connection %d: %v", i+1, ce)
		}
	}
	_, ce := dialRaw(t, e.url, "")
	if ce == nil || ce.Code != websocket.CloseTryAgainLater || !strings.Contains(ce.Text, "maximum of 3 websocket connections") {
		t.Fatalf("fourth connection: %v, want 1013 (try again later) with a reason", ce)
	}
	if !strings.Contains(e.scrape(), "feedbackloop_websocket_connections 3") {
		t.Error("the connection gauge does not say 3")
	}
}

// Probe: \u0000 in any string was INTERNAL, logged at ERROR.
func TestHostileNULInStrings(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Target")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	cases := []struct {
		doc   string
		vars  map[string]any
		field string
	}{
		{`mutation { createProject(input: {name: "a\u0000b"}) { id } }`, nil, "input.name"},
		{`mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`, map[string]any{"in": map[string]any{"name": "ok", "description": "x\x00"}}, "input.description"},
		{submitMutation, map[string]any{"in": map[string]any{"projectID": p.ID, "feedbackText": "\x00"}}, "input.feedbackText"},
		{`{ projects(first: 1, where: {nameContains: "\u0000"}) { totalCount } }`, nil, "where.nameContains"},
		{`query($w: TaskWhereInput) { tasks(first: 1, where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"or": []any{map[string]any{"title": "a"}, map[string]any{"titleHasPrefix": "\x00"}}}}, "where.or[1].titleHasPrefix"},
		{`{ ...F } fragment F on Query { projects(first: 1, where: {name: "\u0000"}) { totalCount } }`, nil, "where.name"},
	}
	var replies []reply
	for _, c := range cases {
		r := attacker.post(c.doc, c.vars)
		replies = append(replies, r)
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != c.field || !strings.Contains(r.Errors[0].Message, "must not contain the NUL character") {
			t.Errorf("%s: %+v", c.doc, r.Errors)
		}
	}
	w.check(t)
	noInternal(t, e, replies...)
}

// Probe: a garbage after cursor was INTERNAL.
func TestHostileCursors(t *testing.T) {
	e := newEnv(t)
	e.createProject("A")
	e.createProject("B")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	var replies []reply
	for _, c := range []struct{ arg, cursor string }{
		{"after", "garbage"},
		{"before", "garbage"},
		{"after", "!!!"},
		{"after", ""},
		{"after", "gaFpoXg"},         // msgpack {"i":"x"}: the ID is not a number
		{"after", "gqFpAaF2gaFhoWI"}, // {"i":1,"v":{"a":"b"}}: a value no column compares with
		{"after", "gqFpAaF2o3h5eg"},  // {"i":1,"v":"xyz"}: text where a time is ordered
		{"after", "gqFpAaF2kgEC"},    // {"i":1,"v":[1,2]}
		{"after", strings.Repeat("A", 4000)},
	} {
		r := attacker.post(fmt.Sprintf(`query($c: Cursor) { projects(first: 1, %s: $c, orderBy: {field: CREATED_AT, direction: ASC}) { totalCount edges { node { name } } } }`, c.arg),
			map[string]any{"c": c.cursor})
		replies = append(replies, r)
		if len(r.Errors) > 0 && r.code() != graph.CodeBadUserInput {
			t.Errorf("%s %q: %+v", c.arg, c.cursor, r.Errors)
		}
	}
	r := attacker.post(`{ projects(first: 1, after: "garbage") { totalCount } }`, nil)
	if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != "projects.after" || !strings.Contains(r.Errors[0].Message, "not a cursor this API issued") {
		t.Errorf("garbage cursor: %+v", r.Errors)
	}
	// A cursor the API issued works.
	var page struct {
		Projects struct{ PageInfo pageInfo } `json:"projects"`
	}
	e.mustDo(`{ projects(first: 1) { pageInfo { endCursor } edges { node { id } } } }`, nil, &page)
	e.mustDo(`query($c: Cursor) { projects(first: 1, after: $c) { totalCount } }`, map[string]any{"c": *page.Projects.PageInfo.EndCursor}, nil)
	w.check(t)
	noInternal(t, e, append(replies, r)...)
}

// Probe: some errors came without a code; a float for an Int said "cannot
// use value 0 as Int".
func TestHostileErrorsAllHaveCodes(t *testing.T) {
	e := newEnv(t)
	attacker := e.from("127.0.0.1")
	cases := []struct {
		name, method, contentType, body string
		status                          int
		code, says                      string
	}{
		{"text/plain body", "POST", "text/plain", `{"query":"{ __typename }"}`, 415, graph.CodeBadRequest, `send the request as application/json`},
		{"form body", "POST", "application/x-www-form-urlencoded", `query=x`, 415, graph.CodeBadRequest, `"application/x-www-form-urlencoded" is not supported`},
		{"no content type", "POST", "", `{"query":"{ __typename }"}`, 415, graph.CodeBadRequest, `is not supported`},
		{"PUT", "PUT", "application/json", `{"query":"{ __typename }"}`, 405, graph.CodeBadRequest, "the method PUT is not supported"},
		{"DELETE", "DELETE", "", ``, 405, graph.CodeBadRequest, "the method DELETE is not supported"},
		{"first and last", "POST", "application/json", `{"query":"{ projects(first: 1, last: 1) { totalCount } }"}`, 200, graph.CodeBadUserInput, "pass first or last, not both"},
		{"float for an Int", "POST", "application/json", `{"query":"query($n: Int) { projects(first: $n) { totalCount } }","variables":{"n":1.5}}`, 200, "GRAPHQL_VALIDATION_FAILED", "1.5 is not an Int"},
		{"zero point zero for an Int", "POST", "application/json", `{"query":"query($n: Int) { projects(first: $n) { totalCount } }","variables":{"n":1e400}}`, 200, "GRAPHQL_VALIDATION_FAILED", "1e400 is not an Int"},
		{"string for a nested Int", "POST", "application/json", `{"query":"mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }","variables":{"in":{"projectID":"x","title":"t","priority":"high"}}}`, 200, "GRAPHQL_VALIDATION_FAILED", `"high" is not an Int (variable $in)`},
		{"float for a nested Int", "POST", "application/json", `{"query":"mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }","variables":{"in":{"projectID":"x","title":"t","priority":2.5}}}`, 200, "GRAPHQL_VALIDATION_FAILED", `2.5 is not an Int`},
		{"list for a String", "POST", "application/json", `{"query":"query($s: String) { projects(first: 1, where: {name: $s}) { totalCount } }","variables":{"s":["a"]}}`, 200, "GRAPHQL_VALIDATION_FAILED", `["a"] is not a String`},
		{"no operation", "POST", "application/json", `{"query":""}`, 400, graph.CodeBadRequest, `the request has no "query"`},
		{"no operation, over GET", "GET", "", ``, 400, graph.CodeBadRequest, "the request has no query parameter"},
		{"only a comment", "POST", "application/json", `{"query":"# nothing"}`, 200, "GRAPHQL_VALIDATION_FAILED", "no operation"},
		{"mutation over GET", "GET", "", `mutation { deleteProject(id: "x") }`, 405, graph.CodeBadRequest, "mutations must be sent with POST"},
		{"GET variables not JSON", "GET", "", `query($n: Int) { projects(first: $n) { totalCount } }&variables={`, 400, graph.CodeBadRequest, "the variables parameter must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r reply
			if c.method == "GET" {
				q, vars, _ := strings.Cut(c.body, "&variables=")
				u := e.url + "/query?query=" + url.QueryEscape(q)
				if vars != "" {
					u += "&variables=" + url.QueryEscape(vars)
				}
				resp, err := attacker.http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				r.Status, r.Header = resp.StatusCode, resp.Header
				if err := json.NewDecoder(resp.Body).Decode(&r.Response); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				r, err = attacker.try(c.method, c.contentType, []byte(c.body))
				if err != nil {
					t.Fatal(err)
				}
			}
			if r.Status != c.status || r.code() != c.code || !strings.Contains(r.Errors[0].Message, c.says) {
				t.Errorf("status %d, errors %+v; want %d %s saying %q", r.Status, r.Errors, c.status, c.code, c.says)
			}
			if c.status == 405 && c.method == "GET" && r.Header.Get("Allow") != "POST" {
				t.Errorf("405 with Allow %q, want POST", r.Header.Get("Allow"))
			}
			if c.status == 415 && fmt.Sprint(r.Errors[0].Extensions["acceptedContentTypes"]) != "[application/json]" {
				t.Errorf("415 without the accepted types: %+v", r.Errors[0].Extensions)
			}
		})
	}
	// The estimate's bound is the suggestion table's: 10,000 hours.
	p := e.createProject("Estimates")
	create := `mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }`
	got := e.mustFail(create, map[string]any{"in": map[string]any{"projectID": p.ID, "title": "t", "estimatedHours": 10_000.5}}, graph.CodeBadUserInput)
	if got.Extensions["field"] != "input.estimatedHours" || got.Message != "input.estimatedHours must be at most 10000 hours (got 10000.5)" {
		t.Errorf("estimate over the bound: %+v", got)
	}
	e.mustDo(create, map[string]any{"in": map[string]any{"projectID": p.ID, "title": "t", "estimatedHours": 10_000}}, nil)
	if n := e.client.Task.Query().Where(enttask.EstimatedHours(10_000)).CountX(accesstest.System()); n != 1 {
		t.Errorf("%d tasks with the largest estimate", n)
	}
	noInternal(t, e)
}

// numbered repeats format (with %d the index) n times.
func numbered(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+"\n", i)
	}
	return b.String()
}

// Probe: documents whose validation took seconds (fields of one response
// name are compared pairwise; 60,000 unknown fields each got suggestions)
// or answered megabytes of errors, each for one point. They are refused by
// size before validation, within the token limit by the limit made for
// their shape, and each is charged for its size.
func TestHostileValidationBombs(t *testing.T) {
	e := newEnv(t)
	w := e.watch()
	attacker := e.from("127.0.0.1")
	for _, p := range []struct{ name, doc, code, message string }{
		{"2,000 aliases of one response name (51 KB)", "{ ...F } fragment F on Query {\n" + numbered(2000, `x: node(id: "%d") { id }`) + "}",
			doclimit.CodeTokenLimit, "the document has more than 10000 tokens"},
		{"16,000 repeats of one field (125 KB)", "{ viewer { " + strings.Repeat("subject ", 16_000) + "} }",
			doclimit.CodeTokenLimit, "the document has more than 10000 tokens"},
		{"60,000 unknown fields", "{ viewer { " + strings.Repeat("zz ", 60_000) + "} }",
			doclimit.CodeTokenLimit, "the document has more than 10000 tokens"},
		{"@include ×58,000", "{ viewer { subject " + strings.Repeat("@include(if:true)", 58_000) + "} }",
			doclimit.CodeTokenLimit, "the document has more than 10000 tokens"},
		{"31 aliases of one response name", "{ ...F } fragment F on Query {\n" + numbered(31, `x: node(id: "%d") { id }`) + "}",
			doclimit.CodeResponseNameLimit, `31 fields answer to the response name "x" in one selection set (line 2, column 1), more than the 30 allowed`},
		{"31 repeats of one field", "{ viewer { " + strings.Repeat("subject ", 31) + "} }",
			doclimit.CodeResponseNameLimit, `31 fields answer to the response name "subject"`},
		{"2,001 unknown fields", "{ viewer { " + numbered(2001, "zz%d") + "} }",
			doclimit.CodeFieldLimit, "the document selects more than 2000 fields"},
		{"@include ×51", "{ viewer { subject " + strings.Repeat("@include(if:true)", 51) + "} }",
			doclimit.CodeDirectiveLimit, "the document has more than 50 directives"},
	} {
		r := attacker.post(p.doc, nil)
		if len(r.Errors) != 1 || r.code() != p.code || !strings.Contains(r.Errors[0].Message, p.message) || r.Size > 1000 {
			t.Errorf("%s: %d bytes, %+v; want %s %q", p.name, r.Size, r.Errors, p.code, p.message)
		}
	}
	// Within the limits, errors stop at 100 and one more says so.
	r := attacker.post("{ viewer { "+numbered(150, "zz%d")+"} }", nil)
	if n := len(r.Errors); n != doclimit.DefaultMaxErrors+1 || r.Errors[n-1].Message != "validation stopped after 100 errors: correct these and send the document again" {
		t.Errorf("150 unknown fields: %d errors, the last %+v", n, r.Errors[n-1])
	}
	w.check(t)
	noInternal(t, e, r)
}

// A refused document is charged for its size over HTTP and websockets,
// as a valid one is: a point per 1,000 tokens, at least one.
func TestRefusedDocumentsAreChargedForTheirSize(t *testing.T) {
	// A budget that refills a point in about ten hours: what is used is
	// what was charged.
	e := newEnvWith(t, withBudget(t, "rl-"+testredis.Namespace(t), ratelimit.Config{Points: 100_000, Window: 1_000_000 * time.Hour}))
	client := e.from("127.0.0.1")
	used := func() int {
		t.Helper()
		r := client.post("{ rateLimit { used } }", nil)
		var out struct{ RateLimit struct{ Used int } }
		if err := json.Unmarshal(r.Data, &out); err != nil || len(r.Errors) > 0 {
			t.Fatalf("%s %+v", r.Data, r.Errors)
		}
		return out.RateLimit.Used
	}
	big := "{ viewer { subject " + strings.Repeat("@include(if:true)", 2000) + "} }" // 14,005 tokens
	for _, c := range []struct {
		name string
		send func()
		cost int
	}{
		{"too many tokens, over HTTP", func() { client.post(big, nil) }, 10},
		{"an unknown field, over HTTP", func() { client.post("{ viewer { zz } }", nil) }, 1},
		{"too many tokens, over a websocket", func() {
			ws := gqltest.Dial(t, e.url, gqltest.TransportWS)
			ws.Subscribe("1", big, nil)
			if m := ws.Next(); !strings.Contains(string(m.Payload), doclimit.CodeTokenLimit) {
				t.Errorf("%s %s", m.Kind, m.Payload)
			}
		}, 10},
	} {
		before := used()
		c.send()
		if got := used() - before - 1; got != c.cost { // less the point of the second look
			t.Errorf("%s cost %d points, want %d", c.name, got, c.cost)
		}
	}
}

// nestedNot is a where filter of depth input objects: not inside not,
// around a name predicate.
func nestedNot(depth int) map[string]any {
	v := map[string]any{"name": "x"}
	for range depth - 1 {
		v = map[string]any{"not": v}
	}
	return v
}

// Probe: a where variable nested 5,000 deep with not was INTERNAL
// (PostgreSQL's parser ran out of memory; the server grew by 380 MB), and
// 5,000 and-ed hasTasksWith predicates ran into TIMEOUT after 10 s, for a
// point each. Both are the client's error now, refused before any SQL.
func TestHostileFilters(t *testing.T) {
	e := newEnv(t)
	e.createProject("x")
	w := e.watch()
	attacker := e.from("127.0.0.1")
	before := e.queries.Load()
	const q = `query($w: ProjectWhereInput) { projects(first: 5, where: $w) { totalCount } }`
	r := attacker.post(q, map[string]any{"w": nestedNot(5000)})
	if r.code() != graph.CodeBadUserInput || !strings.HasPrefix(r.Errors[0].Extensions["field"].(string), "where.not.not") ||
		!strings.HasSuffix(r.Errors[0].Message, "nests input objects more than 10 deep: write the filter flatter, with and/or lists") {
		t.Errorf("where 5,000 deep: %+v", r.Errors)
	}
	and := make([]any, 5000)
	for i := range and {
		and[i] = map[string]any{"hasTasksWith": []any{map[string]any{"title": fmt.Sprint("t", i)}}}
	}
	r = attacker.post(q, map[string]any{"w": map[string]any{"and": and}})
	if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != "where.and" ||
		r.Errors[0].Message != "where.and lists 5000 items, more than the 100 allowed" {
		t.Errorf("5,000 predicates: %+v", r.Errors)
	}
	r = attacker.post(q, map[string]any{"w": map[string]any{"and": and[:60]}})
	if r.code() != graph.CodeBadUserInput || !strings.HasSuffix(r.Errors[0].Message, "brings the argument past 100 input fields in all: split the request, or filter with lists such as idIn") {
		t.Errorf("60 predicates of two fields each: %+v", r.Errors)
	}
	if n := e.queries.Load() - before; n != 0 {
		t.Errorf("%d SQL statements ran for refused filters", n)
	}
	// At the bounds, filters run.
	var out struct{ Projects struct{ TotalCount int } }
	e.mustDo(q, map[string]any{"w": nestedNot(doclimit.MaxInputDepth)}, &out)
	if out.Projects.TotalCount != 0 {
		t.Errorf("not^9 name = x: %d projects", out.Projects.TotalCount)
	}
	e.mustDo(q, map[string]any{"w": map[string]any{"and": and[:49]}}, nil)
	w.check(t)
	noInternal(t, e, r)
}
