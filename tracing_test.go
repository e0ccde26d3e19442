package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// collector is an OTLP/HTTP trace receiver: the processes export to it
// with the standard OTLP exporter, as they would to a real collector, and
// the test reads the spans from its memory.
type collector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []span
}

type span struct {
	role                string // the process's feedbackloop.role
	traceID, id, parent string
	name                string
	kind                tracepb.Span_SpanKind
	attrs               map[string]string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range req.ResourceSpans {
			role := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "feedbackloop.role" {
					role = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					attrs := map[string]string{}
					for _, a := range s.Attributes {
						attrs[a.Key] = fmt.Sprint(anyValue(a.GetValue()))
					}
					c.spans = append(c.spans, span{role: role, traceID: hex.EncodeToString(s.TraceId), id: hex.EncodeToString(s.SpanId),
						parent: hex.EncodeToString(s.ParentSpanId), name: s.Name, kind: s.Kind, attrs: attrs})
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

func anyValue(v interface {
	GetStringValue() string
	GetIntValue() int64
	GetBoolValue() bool
}) any {
	if s := v.GetStringValue(); s != "" {
		return s
	}
	if i := v.GetIntValue(); i != 0 {
		return i
	}
	return v.GetBoolValue()
}

func (c *collector) trace(id string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if s.traceID == id {
			out = append(out, s)
		}
	}
	return out
}

func (c *collector) find(match func(span) bool) (span, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if match(s) {
			return s, true
		}
	}
	return span{}, false
}

// ancestorOf reports whether a is b or an ancestor of b in spans.
func ancestorOf(spans []span, a, b span) bool {
	byID := map[string]span{}
	for _, s := range spans {
		byID[s.id] = s
	}
	for cur, ok := b, true; ok; cur, ok = byID[cur.parent] {
		if cur.id == a.id {
			return true
		}
	}
	return false
}

// One trace follows a submission from the HTTP request through the
// GraphQL operation, the job queued in Redis (its trace context in the
// job's headers), the worker's run of it in another process, each model
// call, the database statements, and the publication of the events the
// change wrote; the worker's log lines carry the trace ID.
func TestOneTraceFromSubmissionToTheWorkersModelCall(t *testing.T) {
	col := newCollector(t)
	otel := map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT": col.URL,
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}
	for k, v := range otel {
		t.Setenv(k, v) // the OTLP exporter reads them from the environment
	}
	stub := llmstub.New(t, func(r llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", `{"summary":"Fix checkout first","adjustments":[]}`)
	})
	ns := testredis.Namespace(t)
	dbURL := newDatabaseURL(t)
	env := func(role string, extra map[string]string) map[string]string {
		e := map[string]string{"ROLE": role, "DATABASE_URL": dbURL, "REDIS_URL": testredis.URL(), "QUEUE_NAME": "q-" + ns, "EVENTS_CHANNEL": "ev-" + ns}
		for k, v := range otel {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}
	api, _ := startProcess(t, env("api", nil))
	_, workerLogs := startProcess(t, env("worker", map[string]string{
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": stub.URL, "OPENAI_API_KEY": "test-key", "LLM_MODEL": "stub-model",
	}))

	projectID, taskID := createProjectWithTask(t, api)
	id := submitFeedback(t, api, projectID, taskID, "Customers are stuck at checkout")
	dbID, _ := gid.Decode(id)
	testutil.WaitFor(t, "the analysis", func() bool {
		var q struct{ Node struct{ Status string } }
		gqltest.MustPost(t, api, `query($id: ID!) { node(id: $id) { ... on Feedback { status } } }`, map[string]any{"id": id}, &q)
		return q.Node.Status == "COMPLETED"
	})

	// The worker's run, and the trace it belongs to.
	var run span
	testutil.WaitFor(t, "the worker's span", func() bool {
		var ok bool
		run, ok = col.find(func(s span) bool {
			// feedback-<id>-<the row's job key>-<attempt>
			job := s.attrs["job.id"]
			return s.name == "queue.process" && strings.HasPrefix(job, fmt.Sprintf("feedback-%d-", dbID)) && strings.HasSuffix(job, "-0")
		})
		return ok
	})
	var spans []span
	var request, operation, enqueue, modelCall span
	defer func() {
		if t.Failed() {
			for _, s := range col.trace(run.traceID) {
				t.Logf("%s %s id=%s parent=%s kind=%v attrs=%v", s.role, s.name, s.id, s.parent, s.kind, s.attrs)
			}
		}
	}()
	testutil.WaitFor(t, "the whole trace to be exported", func() bool {
		spans = col.trace(run.traceID)
		request, operation, enqueue, modelCall = span{}, span{}, span{}, span{}
		published, statements := 0, 0
		for _, s := range spans {
			switch {
			case s.kind == tracepb.Span_SPAN_KIND_SERVER && s.name == "POST /query" && s.role == "api":
				request = s
			case s.role == "api" && s.name == "Mutation/submitFeedback":
				// otelgqlgen's resolver span for the mutation field.
				operation = s
			case s.name == "queue.enqueue":
				enqueue = s
			case s.name == "llm.call":
				modelCall = s
			case s.name == "outbox.publish":
				published++
			case s.attrs["db.system"] == "postgresql" || s.attrs["db.system.name"] == "postgresql":
				statements++
			}
		}
		// PENDING from the API; PROCESSING and COMPLETED from the worker.
		return request.id != "" && operation.id != "" && enqueue.id != "" && modelCall.id != "" && published >= 3 && statements > 0
	})
	checks := []struct {
		what         string
		parent, span span
	}{
		{"the GraphQL operation runs within the HTTP request", request, operation},
		{"the job is queued within the operation", operation, enqueue},
		{"the worker's run continues the job's trace", enqueue, run},
		{"the model call is part of the run", run, modelCall},
	}
	for _, c := range checks {
		if !ancestorOf(spans, c.parent, c.span) {
			t.Errorf("%s: %s (%s) is not under %s (%s)", c.what, c.span.name, c.span.role, c.parent.name, c.parent.role)
		}
	}
	if run.role != "worker" || request.role != "api" {
		t.Errorf("the trace should cross processes: request on %q, run on %q", request.role, run.role)
	}
	if modelCall.attrs["gen_ai.system"] != "openai" || modelCall.attrs["gen_ai.request.model"] != "stub-model" || modelCall.attrs["llm.attempt"] != "1" {
		t.Errorf("model call attributes %v", modelCall.attrs)
	}
	for _, s := range spans {
		if s.name == "outbox.publish" && !ancestorOf(spans, request, s) && !ancestorOf(spans, run, s) {
			t.Errorf("an event's publication is outside the change's trace")
		}
	}
	if !strings.Contains(workerLogs.String(), `"trace_id":"`+run.traceID+`"`) {
		t.Errorf("the worker's log lines do not carry the trace ID %s", run.traceID)
	}
}
