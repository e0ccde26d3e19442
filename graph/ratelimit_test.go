package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// withBudget gives an API a limiter with cfg in the Redis namespace prefix
// (so that several APIs can share one budget, as instances do).
func withBudget(t *testing.T, prefix string, cfg ratelimit.Config) func(*graph.Config) {
	return func(c *graph.Config) {
		cfg.Prefix, cfg.Logger, cfg.Metrics = prefix, c.Logger, c.Metrics
		cfg.ByAddress = true // open mode, as the harness runs
		c.RateLimit = ratelimit.New(testredis.Client(t), cfg)
	}
}

// checkHeaders fails unless r carries the budget's headers with these values.
func checkHeaders(t *testing.T, r reply, limit, remaining int) {
	t.Helper()
	h := r.Header
	if h.Get("X-RateLimit-Limit") != strconv.Itoa(limit) || h.Get("X-RateLimit-Remaining") != strconv.Itoa(remaining) ||
		h.Get("X-RateLimit-Used") != strconv.Itoa(limit-remaining) {
		t.Fatalf("headers Limit %q Remaining %q Used %q, want %d %d %d", h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"),
			h.Get("X-RateLimit-Used"), limit, remaining, limit-remaining)
	}
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || reset < time.Now().Unix()-1 || reset > time.Now().Add(time.Hour).Unix()+1 {
		t.Fatalf("X-RateLimit-Reset %q", h.Get("X-RateLimit-Reset"))
	}
}

func TestTwoInstancesShareOneBudgetAndClientsRecover(t *testing.T) {
	// 6 points per 6 seconds: a point back every second.
	prefix := "rl-" + testredis.Namespace(t)
	budget := withBudget(t, prefix, ratelimit.Config{Points: 6, Window: 6 * time.Second})
	a, b := newEnvWith(t, budget), newEnvWith(t, budget)
	fromA, fromB := a.from("127.0.0.1"), b.from("127.0.0.1")
	for i := 1; i <= 6; i++ {
		via := fromA
		if i%2 == 0 {
			via = fromB
		}
		r := via.post(`{ __typename }`, nil)
		if len(r.Errors) > 0 || r.Status != 200 {
			t.Fatalf("request %d: %d %+v", i, r.Status, r.Errors)
		}
		checkHeaders(t, r, 6, 6-i)
	}
	for _, via := range []*caller{fromA, fromB} {
		r := via.post(`{ __typename }`, nil)
		if r.Status != http.StatusTooManyRequests || r.code() != graph.CodeRateLimited || r.Data != nil {
			t.Fatalf("over the shared budget: %d %s %+v", r.Status, r.Data, r.Errors)
		}
		ext := r.Errors[0].Extensions
		retry, _ := ext["retryAfter"].(float64)
		if retry < 1 || retry > 1 || ext["cost"] != float64(1) || ext["limit"] != float64(6) || r.Header.Get("Retry-After") != "1" {
			t.Fatalf("refusal extensions %v, Retry-After %q", ext, r.Header.Get("Retry-After"))
		}
		checkHeaders(t, r, 6, 0)
	}
	// Another client (address) has its own budget.
	if r := a.from("127.0.0.2").post(`{ __typename }`, nil); r.Status != 200 {
		t.Fatalf("another client: %d %+v", r.Status, r.Errors)
	}
	time.Sleep(time.Second)
	if r := fromB.post(`{ __typename }`, nil); r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("after retryAfter: %d %+v", r.Status, r.Errors)
	}
	if !strings.Contains(a.scrape(), `feedbackloop_rate_limit_decisions_total{budget="requests",decision="limited"} 1`) {
		t.Error("the refusal is not in the metrics")
	}
}

func TestOperationsArePricedByCost(t *testing.T) {
	e := newEnvWith(t, withBudget(t, "rl-"+testredis.Namespace(t), ratelimit.Config{Points: 1000}))
	c := e.from("127.0.0.1")
	type rate struct {
		Limit, Cost, Remaining, Used int
		ResetAt                      time.Time
	}
	var got struct{ RateLimit rate }
	spent := 0
	for _, step := range []struct {
		doc  string
		cost int
	}{
		{`{ rateLimit { limit cost remaining used resetAt } }`, 1},
		// rateLimit 6 + projects 1 + 100 × (edges 1 + node 1 + name 1) = 307 → 3
		{`{ rateLimit { limit cost remaining used resetAt } projects(first: 100) { edges { node { name } } } }`, 3},
		// a mutation: 5 points per root field on top
		{`mutation { a: createProject(input: {name: "a"}) { id } b: createProject(input: {name: "b"}) { id } }`, 11},
		{`{ rateLimit { limit cost remaining used resetAt } }`, 1},
	} {
		r := c.post(step.doc, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", step.doc, r.Errors)
		}
		spent += step.cost
		checkHeaders(t, r, 1000, 1000-spent)
		if !strings.Contains(step.doc, "rateLimit") {
			continue
		}
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		reset, _ := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
		if got.RateLimit.Limit != 1000 || got.RateLimit.Cost != step.cost || got.RateLimit.Remaining != 1000-spent ||
			got.RateLimit.Used != spent || got.RateLimit.ResetAt.Unix() != reset {
			t.Fatalf("%s: rateLimit %+v, want cost %d, %d spent, reset %d", step.doc, got.RateLimit, step.cost, spent, reset)
		}
	}
	// A request refused before it is priced costs one point and has the
	// headers too.
	r := c.post(`{ projects(`, nil)
	if r.code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("%+v", r.Errors)
	}
	spent++
	checkHeaders(t, r, 1000, 1000-spent)
	// Subscriptions are priced when they start.
	ws := gqltest.Dial(t, e.url, gqltest.TransportWS)
	ws.Subscribe("1", `subscription { projectFeedbackEvents(projectID: "UHJvamVjdDox") { status } }`, nil)
	ws.Next() // NOT_FOUND: the subscription was priced and ran
	spent++
	checkHeaders(t, c.post(`{ __typename }`, nil), 1000, 1000-spent-1)
}

func TestWebsocketOperationsSpendTheBudget(t *testing.T) {
	e := newEnvWith(t, withBudget(t, "rl-"+testredis.Namespace(t), ratelimit.Config{Points: 2}))
	p := e.createProject("Watched") // 6 points, charged as the whole budget of 2
	ws := gqltest.Dial(t, e.url, gqltest.TransportWS)
	ws.Subscribe("1", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`, map[string]any{"p": p.ID})
	m := ws.Next()
	var resp gqltest.Response
	if m.Kind != "data" || json.Unmarshal(m.Payload, &resp) != nil || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeRateLimited {
		t.Fatalf("subscription over the budget: %s %s", m.Kind, m.Payload)
	}
	ws.ExpectComplete("1")
}

// tokens mints HS256 tokens for subjects.
type tokens []byte

func (k tokens) For(t *testing.T, subject string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: subject, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString([]byte(k))
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func TestBudgetsAreKeptPerIdentity(t *testing.T) {
	secret := tokens(strings.Repeat("s", 32))
	prefix := "rl-" + testredis.Namespace(t)
	e := newEnvAuth(t, auth.Config{Secret: secret}, func(c *graph.Config) {
		c.RateLimit = ratelimit.New(testredis.Client(t), ratelimit.Config{Prefix: prefix, Points: 3, SubmissionsPerClient: 2, Logger: c.Logger})
	})
	alice := e.from("127.0.0.1").as(secret.For(t, "alice"))
	bob := e.from("127.0.0.1").as(secret.For(t, "bob"))
	for i := 0; i < 3; i++ {
		if r := alice.post(`{ __typename }`, nil); r.Status != 200 {
			t.Fatalf("alice %d: %d %+v", i, r.Status, r.Errors)
		}
	}
	if r := alice.post(`{ __typename }`, nil); r.Status != 429 {
		t.Fatalf("alice over her budget: %d", r.Status)
	}
	// Bob, on the same address, has his own.
	r := bob.post(`{ __typename }`, nil)
	if r.Status != 200 {
		t.Fatalf("bob: %d %+v", r.Status, r.Errors)
	}
	checkHeaders(t, r, 3, 2)
	// Refused credentials are charged to the address, and say so.
	anon := e.from("127.0.0.1").as("Bearer not-a-token")
	for i := 0; i < 3; i++ {
		r := anon.post(`{ __typename }`, nil)
		if r.Status != http.StatusUnauthorized || r.code() != graph.CodeUnauthenticated {
			t.Fatalf("bad token %d: %d %+v", i, r.Status, r.Errors)
		}
		checkHeaders(t, r, 3, 2-i)
	}
}

func TestSubmissionBudgets(t *testing.T) {
	e := newEnvWith(t, withBudget(t, "rl-"+testredis.Namespace(t), ratelimit.Config{SubmissionsPerClient: 3, SubmissionsPerProject: 4}))
	p, q := e.createProject("Busy"), e.createProject("Other")
	c, other := e.from("127.0.0.1"), e.from("127.0.0.2")
	submit := func(via *caller, projectID string) reply {
		return via.post(submitMutation, map[string]any{"in": map[string]any{"projectID": projectID, "feedbackText": "hello"}})
	}
	for i := 0; i < 3; i++ {
		if r := submit(c, p.ID); len(r.Errors) > 0 {
			t.Fatalf("submission %d: %+v", i, r.Errors)
		}
	}
	r := submit(c, q.ID)
	if r.Status != 200 || r.code() != graph.CodeRateLimited || r.Errors[0].Extensions["budget"] != ratelimit.BudgetClientSubmissions ||
		r.Errors[0].Extensions["retryAfter"].(float64) < 1 || !strings.Contains(r.Errors[0].Message, "you have submitted 3 feedback submissions within an hour") {
		t.Fatalf("fourth submission of a client: %d %+v", r.Status, r.Errors)
	}
	if r := submit(other, p.ID); len(r.Errors) > 0 {
		t.Fatalf("another client: %+v", r.Errors)
	}
	r = submit(other, p.ID)
	if r.code() != graph.CodeRateLimited || r.Errors[0].Extensions["budget"] != ratelimit.BudgetProjectSubmissions ||
		!strings.Contains(r.Errors[0].Message, "this project has received 4 feedback submissions within an hour") {
		t.Fatalf("fifth submission to a project: %+v", r.Errors)
	}
	// A project the caller cannot see is not charged; it does not exist.
	if r := submit(other, "UHJvamVjdDo5OTk5OTk"); r.code() != graph.CodeNotFound {
		t.Fatalf("unknown project: %+v", r.Errors)
	}
	// retryFeedback spends the same budgets.
	fb := e.client.Feedback.Query().FirstX(accesstest.System())
	e.failFeedback(fb.ID, "model down")
	r = other.post(`mutation($id: ID!) { retryFeedback(id: $id) { id } }`, map[string]any{"id": gid.Encode(fb.ID)})
	if r.code() != graph.CodeRateLimited || r.Errors[0].Extensions["budget"] != ratelimit.BudgetProjectSubmissions {
		t.Fatalf("retry on a spent project: %+v", r.Errors)
	}
	if n := e.client.Feedback.Query().CountX(accesstest.System()); n != 4 {
		t.Errorf("%d feedbacks stored, want the 4 allowed", n)
	}
}

// With the budgets' Redis down, reads go through and submissions are
// counted from the feedback rows: within the budget they are stored
// PENDING (and queued: the queue's Redis is up here), beyond it refused with
// RATE_LIMITED as Redis would refuse them. Retries count as submissions.
// Open mode's callers are one user, so they share the client budget.
func TestRedisDownLetsReadsThroughAndCountsSubmissionsFromTheDatabase(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) {
		dead := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testredis.FreePort(t)), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
		t.Cleanup(func() { dead.Close() })
		c.RateLimit = ratelimit.New(dead, ratelimit.Config{Logger: c.Logger, Metrics: c.Metrics, ByAddress: true,
			SubmissionsPerClient: 3, SubmissionsPerProject: 4})
	})
	p := e.client.Project.Create().SetName("Stored").SaveX(accesstest.System())
	other := e.client.Project.Create().SetName("Other").SaveX(accesstest.System())
	c := e.from("127.0.0.1")
	r := c.post(`{ projects(first: 1) { totalCount } }`, nil)
	if r.Status != 200 || len(r.Errors) > 0 || r.Header.Get("X-RateLimit-Limit") != strconv.Itoa(ratelimit.DefaultPoints) || r.Header.Get("X-RateLimit-Remaining") != "" {
		t.Fatalf("read with Redis down: %d %+v %v", r.Status, r.Errors, r.Header)
	}
	submit := func(via *caller, projectID int) reply {
		return via.post(`mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id status } }`,
			map[string]any{"in": map[string]any{"projectID": gid.Encode(projectID), "feedbackText": "hello"}})
	}
	var ids []int
	for i, via := range []*caller{c, e.from("127.0.0.2")} {
		r := submit(via, p.ID)
		var out struct{ SubmitFeedback struct{ ID, Status string } }
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.SubmitFeedback.Status != "PENDING" {
			t.Fatalf("submission %d with Redis down: %s %+v\n%s", i+1, r.Data, r.Errors, e.logs)
		}
		ids = append(ids, dbID(t, out.SubmitFeedback.ID))
	}
	// A retry is the third submission of the client.
	e.failFeedback(ids[0], "model down")
	r = c.post(`mutation($id: ID!) { retryFeedback(id: $id) { status } }`, map[string]any{"id": gid.Encode(ids[0])})
	if len(r.Errors) > 0 || string(r.Data) != `{"retryFeedback":{"status":"PENDING"}}` {
		t.Fatalf("retry with Redis down: %s %+v", r.Data, r.Errors)
	}
	// The fourth, from either address, to any project, is refused.
	for _, pid := range []int{p.ID, other.ID} {
		r = submit(e.from("127.0.0.3"), pid)
		if r.code() != graph.CodeRateLimited ||
			!strings.Contains(r.Errors[0].Message, "you have submitted 3 feedback submissions within an hour, the most allowed; retry in") {
			t.Fatalf("fourth submission with Redis down: %s %+v", r.Data, r.Errors)
		}
		ext := r.Errors[0].Extensions
		if retry, _ := ext["retryAfter"].(float64); retry < 3500 || retry > 3600 || ext["budget"] != ratelimit.BudgetClientSubmissions {
			t.Fatalf("refusal extensions %v", ext)
		}
	}
	if n := e.client.Feedback.Query().CountX(accesstest.System()); n != 2 {
		t.Errorf("%d feedbacks stored, want the 2 allowed", n)
	}
	for _, id := range ids {
		if st := e.client.Feedback.GetX(accesstest.System(), id).Status; st != "PENDING" {
			t.Errorf("feedback %d is %s", id, st)
		}
	}
	r = c.post(`{ rateLimit { remaining } }`, nil)
	if r.code() != graph.CodeUnavailable || string(r.Data) != `{"rateLimit":null}` {
		t.Fatalf("rateLimit with Redis down: %s %+v", r.Data, r.Errors)
	}
	if !e.logs.Contains("rate limiter cannot reach Redis") || e.logs.Contains(`"level":"ERROR"`) {
		t.Errorf("want one WARN line about Redis, no ERROR:\n%s", e.logs)
	}
	got := e.scrape()
	for _, want := range []string{`budget="requests",decision="failed_open"`, `budget="client_submissions",decision="counted_allowed"`,
		`budget="client_submissions",decision="counted_limited"`} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestWebsocketConnectionsAreCountedPerIdentity(t *testing.T) {
	secret := tokens(strings.Repeat("s", 32))
	e := newEnvAuth(t, auth.Config{Secret: secret}, func(c *graph.Config) { c.Limits.MaxWebsocketConnectionsPerClient = 2 })
	alice, bob := secret.For(t, "alice"), secret.For(t, "bob")
	for i := 0; i < 2; i++ {
		if _, ce := dialRaw(t, e.url, alice); ce != nil {
			t.Fatalf("alice's connection %d: %v", i+1, ce)
		}
	}
	_, ce := dialRaw(t, e.url, alice)
	if ce == nil || ce.Code != 4429 || !strings.Contains(ce.Text, "at most 2 websocket connections per client") {
		t.Fatalf("alice's third connection: %v, want 4429", ce)
	}
	// Bob shares alice's address but not her count.
	for i := 0; i < 2; i++ {
		if _, ce := dialRaw(t, e.url, bob); ce != nil {
			t.Fatalf("bob's connection %d: %v", i+1, ce)
		}
	}
	// A refused credential is counted by address until it is refused.
	_, ce = dialRaw(t, e.url, "Bearer nonsense")
	if ce == nil || ce.Code != 4403 {
		t.Fatalf("bad token: %v, want 4403", ce)
	}
}
