package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// With the default settings, feedback that repeats earlier feedback of the
// project gets its analysis without a model call, says so, and is counted.
func TestDuplicateFeedbackReusesTheAnalysisByDefault(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", `{"summary":"Checkout needs work","adjustments":[]}`)
	})
	ns := testredis.Namespace(t)
	base, _ := startProcess(t, map[string]string{
		"DATABASE_URL": newDatabaseURL(t), "REDIS_URL": testredis.URL(), "QUEUE_NAME": "q-" + ns, "EVENTS_CHANNEL": "ev-" + ns,
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": stub.URL, "OPENAI_API_KEY": "test-key", "LLM_MODEL": "stub-model",
	})
	projectID, taskID := createProjectWithTask(t, base)

	type fb struct {
		Status, Summary, Provider string
		ReusedFrom                *struct{ ID string }
		Similar                   []struct {
			Score    float64
			Feedback struct{ ID string }
		}
	}
	done := func(id string) fb {
		t.Helper()
		var q struct{ Node fb }
		testutil.WaitFor(t, "the feedback is analysed", func() bool {
			gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Feedback {
				status summary provider reusedFrom { id } similar { score feedback { id } } } } }`, map[string]any{"id": id}, &q)
			return q.Node.Status == "COMPLETED" || q.Node.Status == "FAILED"
		})
		return q.Node
	}
	first := submitFeedback(t, base, projectID, taskID, "Customers are stuck at checkout.")
	if got := done(first); got.Status != "COMPLETED" || got.ReusedFrom != nil {
		t.Fatalf("the first feedback: %+v", got)
	}
	second := submitFeedback(t, base, projectID, taskID, "customers are STUCK at checkout!")
	got := done(second)
	if got.Status != "COMPLETED" || got.Summary != "Checkout needs work" || got.Provider != "openai" ||
		got.ReusedFrom == nil || got.ReusedFrom.ID != first {
		t.Fatalf("the duplicate: %+v, want the first's analysis, reused from %s", got, first)
	}
	if len(got.Similar) != 1 || got.Similar[0].Feedback.ID != first || got.Similar[0].Score != 1 {
		t.Errorf("similar of the duplicate: %+v", got.Similar)
	}
	if stub.Calls() != 1 {
		t.Errorf("%d model calls, want 1", stub.Calls())
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `feedbackloop_analyses_reused_total{kind="exact"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// With FEEDBACK_REUSE_SEMANTIC, the worker embeds through langchaingo's
// OpenAI client (the stub's /v1/embeddings: a bag of words) and reuses the
// analysis of a text with the same meaning.
func TestSemanticReuseThroughTheService(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", `{"summary":"Checkout needs work","adjustments":[]}`)
	})
	ns := testredis.Namespace(t)
	base, _ := startProcess(t, map[string]string{
		"DATABASE_URL": newDatabaseURL(t), "REDIS_URL": testredis.URL(), "QUEUE_NAME": "q-" + ns, "EVENTS_CHANNEL": "ev-" + ns,
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": stub.URL, "OPENAI_API_KEY": "test-key", "LLM_MODEL": "stub-model",
		"FEEDBACK_REUSE_SEMANTIC": "0.95", "LLM_EMBEDDING_MODEL": "stub-embed",
	})
	projectID, taskID := createProjectWithTask(t, base)
	status := func(id string) (string, *string) {
		t.Helper()
		var q struct {
			Node struct {
				Status     string
				ReusedFrom *struct{ ID string }
			}
		}
		testutil.WaitFor(t, "the feedback is analysed", func() bool {
			gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Feedback { status reusedFrom { id } } } }`, map[string]any{"id": id}, &q)
			return q.Node.Status == "COMPLETED" || q.Node.Status == "FAILED"
		})
		if q.Node.ReusedFrom == nil {
			return q.Node.Status, nil
		}
		return q.Node.Status, &q.Node.ReusedFrom.ID
	}
	first := submitFeedback(t, base, projectID, taskID, "Customers are stuck at checkout")
	if s, from := status(first); s != "COMPLETED" || from != nil {
		t.Fatalf("the first: %s, reused from %v", s, from)
	}
	second := submitFeedback(t, base, projectID, taskID, "At checkout, customers are stuck")
	if s, from := status(second); s != "COMPLETED" || from == nil || *from != first {
		t.Fatalf("the same words in another order: %s, reused from %v; want %s", s, from, first)
	}
	if stub.Calls() != 1 || len(stub.Embedded()) != 2 {
		t.Errorf("%d model calls, embedded %q; want 1 call and both texts embedded", stub.Calls(), stub.Embedded())
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `feedbackloop_analyses_reused_total{kind="semantic"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
