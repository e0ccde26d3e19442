package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// hookReceiver is a real HTTP endpoint keeping the requests it gets.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	header []http.Header
	body   []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.header, r.body = append(r.header, req.Header.Clone()), append(r.body, string(b))
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// find returns the first request whose body contains s.
func (r *hookReceiver) find(s string) (http.Header, string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.body {
		if strings.Contains(b, s) {
			return r.header[i], b, true
		}
	}
	return nil, "", false
}

// The whole path in one process: an analysis completes, the worker reads
// its event from the outbox and posts it, signed, to a STANDARD endpoint
// and as Block Kit to a SLACK one; applying a suggestion reaches Slack too.
func TestWebhooksAreDeliveredByTheWorker(t *testing.T) {
	base, _ := startServer(t, map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"})
	projectID, taskID := createProjectWithTask(t, base)
	standard, slack := newHookReceiver(t), newHookReceiver(t)
	var created struct {
		CreateWebhook struct{ Secret string }
	}
	gqltest.MustPost(t, base, `mutation($p: ID!, $url: String!) { createWebhook(input: {projectID: $p, url: $url, events: [ANALYSIS_COMPLETED]}) { secret } }`,
		map[string]any{"p": projectID, "url": standard.URL}, &created)
	gqltest.MustPost(t, base, `mutation($p: ID!, $url: String!) { createWebhook(input: {projectID: $p, url: $url, kind: SLACK, events: [ANALYSIS_COMPLETED, SUGGESTION_APPLIED]}) { webhook { id } } }`,
		map[string]any{"p": projectID, "url": slack.URL}, nil)

	id := submitFeedback(t, base, projectID, taskID, "The checkout page is urgent: customers are stuck")
	var h http.Header
	var body string
	testutil.WaitFor(t, "the analysis.completed webhook", func() bool {
		h, body, _ = standard.find(`"type":"analysis.completed"`)
		return h != nil
	})
	if err := webhooks.Verify(created.CreateWebhook.Secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"),
		[]byte(body), time.Now(), time.Minute); err != nil {
		t.Fatalf("the delivery does not verify: %v\n%s", err, body)
	}
	if !strings.Contains(body, id) {
		t.Errorf("the body does not name feedback %s: %s", id, body)
	}
	testutil.WaitFor(t, "Slack's Analysis completed", func() bool { _, _, ok := slack.find(`"text":"Analysis completed"`); return ok })

	var fb struct {
		Node struct{ Adjustments []struct{ ID string } }
	}
	gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Feedback { adjustments { id } } } }`, map[string]any{"id": id}, &fb)
	if len(fb.Node.Adjustments) == 0 {
		t.Fatal("the analysis suggested nothing to apply")
	}
	gqltest.MustPost(t, base, `mutation($id: ID!) { applyAdjustment(id: $id, force: true) { adjustment { status } } }`,
		map[string]any{"id": fb.Node.Adjustments[0].ID}, nil)
	testutil.WaitFor(t, "Slack's Suggestion applied", func() bool { _, _, ok := slack.find(`"text":"Suggestion applied"`); return ok })
	var hooks struct {
		Node struct {
			Webhooks []struct {
				Deliveries struct {
					Edges []struct{ Node struct{ Status string } }
				}
			}
		}
	}
	gqltest.MustPost(t, base, `query($p: ID!) { node(id: $p) { ... on Project { webhooks { deliveries(first: 10) { edges { node { status } } } } } } }`,
		map[string]any{"p": projectID}, &hooks)
	if len(hooks.Node.Webhooks) != 2 {
		t.Fatalf("webhooks %+v", hooks)
	}
}
