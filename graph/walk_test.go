package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// fragmentBomb is n fragments where each spreads the next one twice: a
// document of O(n) bytes whose spreads, expanded, number 2^n.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{...F0}\n")
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query {...F%d ...F%d}\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query {__typename projects(first: 1) { totalCount }}\n", n-1)
	return b.String()
}

// The page-size, depth and complexity checks once walked every expanded
// spread: n = 30 burned CPU for minutes. They now measure each fragment once,
// so the bomb is answered at once over every transport: refused for its
// complexity (2^n spreads of a field add up, as gqlgen prices them), or, with
// the complexity limit lifted, executed (execution merges the spreads). The
// client's deadline only turns a regression into a failure instead of a hang.
//
// The document limits refuse such a bomb before validation (its spreads
// answer to one response name 2^n times); these servers lift that limit,
// so the checks after validation meet the bomb.
func TestFragmentBombIsAnsweredOverEveryTransport(t *testing.T) {
	limited := newEnvWith(t, liftResponseNameLimit)
	unlimited := newEnvWith(t, func(c *graph.Config) {
		liftResponseNameLimit(c)
		c.Limits.MaxComplexity = math.MaxInt
		c.RateLimit = nil // no budget would pay for the bomb's price
	})
	unlimited.createProject("Only")
	for _, n := range []int{30, 60} {
		doc := fragmentBomb(n)
		for _, transport := range []string{"POST", "GET", "websocket"} {
			t.Run(fmt.Sprintf("%s n=%d", transport, n), func(t *testing.T) {
				got := sendWithin(t, limited.url, transport, doc)
				if len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != graph.CodeComplexityLimit {
					t.Fatalf("limited server: want one %s error, got %+v", graph.CodeComplexityLimit, got.Errors)
				}
				got = sendWithin(t, unlimited.url, transport, doc)
				if want := `{"__typename":"Query","projects":{"totalCount":1}}`; len(got.Errors) > 0 || string(got.Data) != want {
					t.Fatalf("unlimited server: data %s errors %+v, want %s", got.Data, got.Errors, want)
				}
			})
		}
	}
}

func liftResponseNameLimit(c *graph.Config) { c.Limits.Document.MaxFieldsPerResponseName = math.MaxInt }

// With the default limits, the bomb is refused before validation.
func TestFragmentBombIsRefusedBeforeValidation(t *testing.T) {
	e := newEnv(t)
	got := e.mustFail(fragmentBomb(60), nil, doclimit.CodeResponseNameLimit)
	if !strings.Contains(got.Message, `answer to the response name "__typename" in one selection set`) {
		t.Fatalf("message %q", got.Message)
	}
}

// sendWithin sends one operation over transport, failing instead of
// hanging if the server does not answer.
func sendWithin(t *testing.T, base, transport, doc string) gqltest.Response {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second}
	var resp *http.Response
	var err error
	switch transport {
	case "POST":
		body, _ := json.Marshal(map[string]any{"query": doc})
		resp, err = client.Post(base+"/query", "application/json", bytes.NewReader(body))
	case "GET":
		resp, err = client.Get(base + "/query?query=" + url.QueryEscape(doc))
	case "websocket":
		ws := gqltest.Dial(t, base, gqltest.TransportWS)
		ws.Subscribe("1", doc, nil)
		m := ws.Next()
		var out gqltest.Response
		if err := json.Unmarshal(m.Payload, &out); err != nil {
			t.Fatalf("%s message %s: %v", m.Kind, m.Payload, err)
		}
		if m.Kind == "error" { // graphql-transport-ws sends errors before execution as a list
			_ = json.Unmarshal(m.Payload, &out.Errors)
		}
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqltest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %s", resp.StatusCode, raw)
	}
	return out
}

// The limits still apply inside the bomb: a fragment spread 2^40 times that
// asks for too large a page is refused, naming the field.
func TestFragmentBombStillMeetsThePageLimit(t *testing.T) {
	e := newEnvWith(t, liftResponseNameLimit)
	doc := strings.Replace(fragmentBomb(40), "projects(first: 1)", "projects(first: 1000)", 1)
	got := e.mustFail(doc, nil, graph.CodeBadUserInput)
	if got.Extensions["field"] != "projects.first" {
		t.Fatalf("field %v, want projects.first", got.Extensions["field"])
	}
}

// The limits' walk of a document is kept for the next request with the same
// text, so the document must be judged again with each request's
// variables: a client cannot get a cheap answer cached and then replay the
// document with a page size, or a string, that the limits refuse.
func TestCachedDocumentIsJudgedByEachRequestsVariables(t *testing.T) {
	e := newEnv(t)
	e.createProject("Cached")
	const doc = `query($n: Int, $s: String) { projects(first: 100) { edges { node {
		tasks(first: $n, where: {titleContains: $s}) { edges { node { id title } } } } } } }`
	ok := func(vars map[string]any) {
		t.Helper()
		if got := e.do(doc, vars); len(got.Errors) > 0 {
			t.Fatalf("variables %v: %+v", vars, got.Errors)
		}
	}
	ok(map[string]any{"n": 1, "s": "a"})
	if got := e.mustFail(doc, map[string]any{"n": 100, "s": "a"}, graph.CodeComplexityLimit); got.Extensions["complexity"].(float64) <= 10000 {
		t.Fatalf("complexity %v with 100 × 100 tasks", got.Extensions["complexity"])
	}
	if got := e.mustFail(doc, map[string]any{"n": 1000, "s": "a"}, graph.CodeBadUserInput); got.Extensions["field"] != "projects.edges.node.tasks.first" {
		t.Fatalf("page limit error names %v", got.Extensions["field"])
	}
	if got := e.mustFail(doc, map[string]any{"n": 1, "s": "a\x00"}, graph.CodeBadUserInput); got.Extensions["field"] != "where.titleContains" {
		t.Fatalf("NUL error names %v", got.Extensions["field"])
	}
	ok(map[string]any{"n": 1, "s": "a"}) // a refusal is not cached either
}

// A query that runs past MAX_EXECUTION_TIME is stopped and reported as
// TIMEOUT: here the database blocks it on a lock another session holds.
func TestExecutionTimeLimitStopsTheRequest(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.MaxExecutionTime = 300 * time.Millisecond })
	e.createProject("Locked")
	unlock := lockProjects(t, e.db)
	defer unlock()
	got := e.mustFail(`{ projects(first: 5) { totalCount } }`, nil, graph.CodeTimeout)
	if !strings.Contains(got.Message, "execution time limit") {
		t.Fatalf("message %q does not say what happened", got.Message)
	}
	testutil.WaitFor(t, "the timed-out statement to be cancelled in PostgreSQL", func() bool {
		return blockedStatements(t, e.db) == 0
	})
}

// When the client goes away, its request's database work is cancelled
// rather than left to run.
func TestDisconnectedClientsWorkIsCancelled(t *testing.T) {
	e := newEnv(t)
	e.createProject("Locked")
	unlock := lockProjects(t, e.db)
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"query":"{ projects(first: 5) { totalCount } }"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	testutil.WaitFor(t, "the request to block on the lock", func() bool { return blockedStatements(t, e.db) == 1 })
	cancel()
	<-done
	testutil.WaitFor(t, "the abandoned statement to be cancelled", func() bool { return blockedStatements(t, e.db) == 0 })
}

// lockProjects holds an exclusive lock on the projects table from another
// session until the returned function is called.
func lockProjects(t *testing.T, db *sql.DB) func() {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE projects IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

// blockedStatements counts statements of this database waiting for a lock.
func blockedStatements(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
