package graph_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

func (e *env) scrape() string {
	e.t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	return string(body)
}

func TestMetricsCountOperationsAndSubscriptions(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Measured")
	e.createProject("Measured too")
	e.mustFail(`mutation { deleteProject(id: "nope") }`, nil, "NOT_FOUND")
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "count me"})
	c := gqltest.Dial(t, e.url, gqltest.TransportWS)
	c.Subscribe("1", feedbackSubscription, map[string]any{"id": fb.ID})
	nextStatus(t, c, "feedbackStatusChanged")

	got := e.scrape()
	for _, want := range []string{
		`feedbackloop_graphql_operations_total{operation="createProject",result="ok",type="mutation"} 2`,
		`feedbackloop_graphql_operations_total{operation="deleteProject",result="error",type="mutation"} 1`,
		`feedbackloop_graphql_operations_total{operation="submitFeedback",result="ok",type="mutation"} 1`,
		`feedbackloop_graphql_operation_duration_seconds_count{operation="createProject",type="mutation"} 2`,
		`feedbackloop_http_requests_total{code="200",method="POST",path="/query"} 4`,
		`feedbackloop_active_subscriptions 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	c.Unsubscribe("1")
	testutil.WaitFor(t, "the subscription to end", func() bool {
		return strings.Contains(e.scrape(), "feedbackloop_active_subscriptions 0")
	})
}
