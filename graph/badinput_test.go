package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

// limitedClient fails a request the server holds open (a subscription
// answered as if it were a query) instead of hanging the test.
var limitedClient = &http.Client{Timeout: 10 * time.Second}

// rawPost sends body as it is and returns the status and decoded errors.
func (e *env) rawPost(contentType, accept string, body []byte) (int, []gqltest.Error, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/query", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := limitedClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ Errors []gqltest.Error }
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out.Errors, string(raw)
}

// leaks are fragments of internal detail that must never reach a client.
var leaks = []string{"pq:", "sql", "goroutine", ".go:", "panic", "ent:"}

func TestBadRequestsGetClearErrors(t *testing.T) {
	e := newEnv(t)
	query := func(q string) []byte {
		b, _ := json.Marshal(map[string]any{"query": q})
		return b
	}
	deep := `{ projects(first: 1) { edges { node { tasks(first: 1) { edges { node { project { tasks(first: 1) { edges { node { project { tasks(first: 1) { edges { node { project { name } } } } } } } } } } } } } } } }`
	cases := []struct {
		name, accept string
		body         []byte
		status       int
		code, says   string
	}{
		{"malformed GraphQL", "", query(`{ projects(first: 1 { totalCount }`), 200, "GRAPHQL_PARSE_FAILED", "Expected"},
		{"malformed GraphQL, graphql-response+json", "application/graphql-response+json", query(`{ projects(`), 400, "GRAPHQL_PARSE_FAILED", "Expected"},
		{"unknown field", "", query(`{ projects(first: 1) { edges { node { colour } } } }`), 200, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "colour" on type "Project"`},
		{"wrong argument type", "", query(`{ projects(first: "ten") { totalCount } }`), 200, "GRAPHQL_VALIDATION_FAILED", "Int"},
		{"wrong variable type", "", []byte(`{"query":"query($n: Int) { projects(first: $n) { totalCount } }","variables":{"n":"ten"}}`), 200, "GRAPHQL_VALIDATION_FAILED", "Int"},
		{"not JSON", "", []byte(`{"query": "{ projects`), 400, graph.CodeBadRequest, "not valid JSON"},
		{"JSON but not an object", "", []byte(`["query"]`), 400, graph.CodeBadRequest, "must be a JSON object"},
		{"query not a string", "", []byte(`{"query": 42}`), 400, graph.CodeBadRequest, `"query" must be a string`},
		{"invalid UTF-8", "", []byte("{\"query\": \"{ node(id: \\\"\xff\xfe\\\") { id } }\"}"), 400, graph.CodeBadRequest, "not valid UTF-8"},
		{"body over 1 MiB", "", query(`{ projects(first: 1) { totalCount } }` + strings.Repeat(" ", 1<<20)), 413, graph.CodeRequestTooLarge, "limit of 1048576 bytes"},
		{"too deep", "", query(deep), 200, graph.CodeDepthLimit, "nested 16 levels deep; the limit is 15"},
		{"no query", "", []byte(`{}`), 400, graph.CodeBadRequest, `the request has no "query"`},
		{"subscription over HTTP", "", query(`subscription { projectFeedbackEvents(projectID: "UHJvamVjdDox") { status } }`), 200, graph.CodeBadRequest, "subscriptions need a stream: open a websocket to /query with the graphql-transport-ws subprotocol"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, errs, raw := e.rawPost("application/json", c.accept, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d (%s)", status, c.status, raw)
			}
			if len(errs) != 1 {
				t.Fatalf("want one error, got %s", raw)
			}
			if c.code != "" && errs[0].Extensions["code"] != c.code {
				t.Errorf("code %v, want %s (%s)", errs[0].Extensions["code"], c.code, raw)
			}
			if !strings.Contains(errs[0].Message, c.says) {
				t.Errorf("message %q does not say %q", errs[0].Message, c.says)
			}
			for _, leak := range leaks {
				if strings.Contains(raw, leak) {
					t.Errorf("response leaks %q: %s", leak, raw)
				}
			}
			if len(raw) > 2000 {
				t.Errorf("the error response is %d bytes: the body was echoed", len(raw))
			}
		})
	}
}

func TestSubscriptionOverGETIsRefused(t *testing.T) {
	e := newEnv(t)
	q := url.Values{"query": {`subscription { projectFeedbackEvents(projectID: "UHJvamVjdDox") { status } }`}}
	resp, err := limitedClient.Get(e.url + "/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Errors []gqltest.Error }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.CodeBadRequest ||
		!strings.Contains(out.Errors[0].Message, "open a websocket") || !strings.Contains(out.Errors[0].Message, "Accept: text/event-stream") {
		t.Fatalf("GET subscription: %d %+v, want one BAD_REQUEST error naming websockets and event streams", resp.StatusCode, out.Errors)
	}
}

func TestInvalidIDsAreNotFound(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Typed")
	for _, id := range []string{"", "not-base64!", "UHJvamVjdDox", strings.Repeat("A", 5000), "\u00e9\u00e9"} {
		got := e.mustFail(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, "NOT_FOUND")
		if got.Message != "no object has this ID" {
			t.Errorf("node(%.20q): %q", id, got.Message)
		}
	}
	// A project's ID where a task's is expected.
	e.mustFail(`mutation($id: ID!) { deleteTask(id: $id) }`, map[string]any{"id": p.ID}, "NOT_FOUND")
}

func TestComplexityLimit(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.MaxComplexity = 20 })
	status, errs, raw := e.rawPost("application/json", "", []byte(
		`{"query":"{ projects(first: 100) { edges { node { name description status createdAt updatedAt tasks(first: 100) { edges { node { title status priority } } } } } } }"}`))
	if status != 200 || len(errs) != 1 || errs[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(errs[0].Message, "20") {
		t.Fatalf("%d %s", status, raw)
	}
	// Small queries still run.
	e.mustDo(`{ projects(first: 1) { totalCount } }`, nil, nil)
}

func TestIntrospectionIsNotDepthLimited(t *testing.T) {
	e := newEnv(t)
	var out struct {
		Schema struct{ Types []struct{ Name string } } `json:"__schema"`
	}
	// The nesting GraphiQL's introspection query uses for type references.
	e.mustDo(`{ __schema { types { name fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }`, nil, &out)
	if len(out.Schema.Types) == 0 {
		t.Fatal("introspection returned no types")
	}
}

func TestOversizedWebsocketMessageClosesTheConnection(t *testing.T) {
	e := newEnv(t)
	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	// The server closes while the client is still writing, so the write
	// may fail; what the client must see is the close code.
	_ = c.TrySubscribe("big", `subscription { feedbackStatusChanged(id: "`+strings.Repeat("x", 70<<10)+`") { version } }`, nil)
	ce := c.WaitClosed()
	if ce == nil || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("closed with %v, want %d (message too big)", ce, websocket.CloseMessageTooBig)
	}
	// The server is still fine.
	e.mustDo(`{ projects(first: 1) { totalCount } }`, nil, nil)
}
