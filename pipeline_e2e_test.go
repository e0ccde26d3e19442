package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

const statusEventFields = `status previousStatus version feedback { id status provider model summary adjustments { adjustmentType description task { id } } }`

type e2eEvent struct {
	Status         string  `json:"status"`
	PreviousStatus *string `json:"previousStatus"`
	Version        int     `json:"version"`
	Feedback       struct {
		ID          string  `json:"id"`
		Status      string  `json:"status"`
		Provider    *string `json:"provider"`
		Model       *string `json:"model"`
		Summary     *string `json:"summary"`
		Adjustments []struct {
			AdjustmentType string `json:"adjustmentType"`
			Description    string `json:"description"`
			Task           *struct{ ID string }
		} `json:"adjustments"`
	} `json:"feedback"`
}

func nextEvent(t *testing.T, c *gqltest.WS, field string) e2eEvent {
	t.Helper()
	var out map[string]e2eEvent
	c.NextData(&out)
	ev, ok := out[field]
	if !ok {
		t.Fatalf("data without %s: %+v", field, out)
	}
	return ev
}

// followToEnd reads a feedbackStatusChanged stream to its completion and
// checks that versions strictly increase.
func followToEnd(t *testing.T, c *gqltest.WS, id string) []e2eEvent {
	t.Helper()
	var got []e2eEvent
	for {
		m := c.Next()
		if m.Kind == "complete" && m.ID == id {
			break
		}
		var body struct{ Data map[string]e2eEvent }
		if m.Kind != "data" || json.Unmarshal(m.Payload, &body) != nil {
			t.Fatalf("unexpected message %s %s", m.Kind, m.Payload)
		}
		ev := body.Data["feedbackStatusChanged"]
		if len(got) > 0 && ev.Version <= got[len(got)-1].Version {
			t.Fatalf("version %d after %d: out of order or duplicated", ev.Version, got[len(got)-1].Version)
		}
		got = append(got, ev)
	}
	if len(got) == 0 {
		t.Fatal("no events before completion")
	}
	return got
}

func createProjectWithTask(t *testing.T, base string) (projectID, taskID string) {
	t.Helper()
	var p struct{ CreateProject struct{ ID string } }
	gqltest.MustPost(t, base, `mutation { createProject(input: {name: "Website", description: "Relaunch"}) { id } }`, nil, &p)
	var tk struct{ CreateTask struct{ ID string } }
	gqltest.MustPost(t, base, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "Checkout page", priority: 2}) { id } }`,
		map[string]any{"p": p.CreateProject.ID}, &tk)
	return p.CreateProject.ID, tk.CreateTask.ID
}

func submitFeedback(t *testing.T, base, projectID, taskID, text string) string {
	t.Helper()
	var out struct{ SubmitFeedback struct{ ID, Status string } }
	in := map[string]any{"projectID": projectID, "feedbackText": text}
	if taskID != "" {
		in["taskID"] = taskID
	}
	gqltest.MustPost(t, base, `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id status } }`,
		map[string]any{"in": in}, &out)
	if out.SubmitFeedback.Status != "PENDING" {
		t.Fatalf("submitted feedback is %s", out.SubmitFeedback.Status)
	}
	return out.SubmitFeedback.ID
}

// The one-command experience: API and worker in one process, no API key,
// the built-in analyzer.
func TestOneProcessWithTheBuiltinAnalyzer(t *testing.T) {
	base, _ := startServer(t, nil)
	projectID, taskID := createProjectWithTask(t, base)
	id := submitFeedback(t, base, projectID, taskID, "The checkout page is urgent: customers are stuck")

	c := gqltest.Dial(t, base, gqltest.TransportWS)
	c.Subscribe(id, `subscription($id: ID!) { feedbackStatusChanged(id: $id) { `+statusEventFields+` } }`, map[string]any{"id": id})
	evs := followToEnd(t, c, id)
	last := evs[len(evs)-1]
	if last.Status != "COMPLETED" || last.Feedback.Provider == nil || *last.Feedback.Provider != "builtin" {
		t.Fatalf("last event %+v", last)
	}
	if len(last.Feedback.Adjustments) == 0 || last.Feedback.Summary == nil || !strings.Contains(*last.Feedback.Summary, "not an LLM") {
		t.Fatalf("builtin analysis: summary %v, %d adjustments", last.Feedback.Summary, len(last.Feedback.Adjustments))
	}
}

// Two API instances and a separate worker share PostgreSQL and Redis: a
// client subscribed on API A follows feedback submitted on API B and
// analysed by the worker through langchaingo's OpenAI client.
func TestTwoAPIsAndASeparateWorker(t *testing.T) {
	var (
		mu      sync.Mutex
		taskDB  int
		release = make(chan struct{})
	)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		<-release // hold the analysis until the test has subscribed
		mu.Lock()
		defer mu.Unlock()
		return llmstub.ToolCall("record_analysis", fmt.Sprintf(
			`{"summary":"Fix checkout first","adjustments":[{"type":"task_priority","task_id":%d,"description":"Raise checkout to 5","original_value":"2","new_value":"5","reasoning":"customers are stuck"}]}`, taskDB))
	})

	ns := testredis.Namespace(t)
	shared := map[string]string{
		"DATABASE_URL":   newDatabaseURL(t),
		"REDIS_URL":      testredis.URL(),
		"QUEUE_NAME":     "q-" + ns,
		"EVENTS_CHANNEL": "ev-" + ns,
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range shared {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	apiA, _ := startProcess(t, with(map[string]string{"ROLE": "api"}))
	apiB, _ := startProcess(t, with(map[string]string{"ROLE": "api"}))
	workerBase, workerLogs := startProcess(t, with(map[string]string{
		"ROLE": "worker", "LLM_PROVIDER": "openai", "OPENAI_BASE_URL": stub.URL, "OPENAI_API_KEY": "test-key",
		"LLM_MODEL": "stub-model", "WORKER_CONCURRENCY": "2",
	}))

	projectID, taskID := createProjectWithTask(t, apiA)
	n, err := gid.Decode(taskID)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	taskDB = n
	mu.Unlock()

	id := submitFeedback(t, apiB, projectID, taskID, "Customers are stuck at checkout")
	onA := gqltest.Dial(t, apiA, gqltest.TransportWS)
	onA.Subscribe(id, `subscription($id: ID!) { feedbackStatusChanged(id: $id) { `+statusEventFields+` } }`, map[string]any{"id": id})
	first := nextEvent(t, onA, "feedbackStatusChanged")
	if first.Status != "PENDING" && first.Status != "PROCESSING" {
		t.Fatalf("first event %+v, want the current, unfinished state", first)
	}
	close(release)
	rest := followToEnd(t, onA, id)
	evs := append([]e2eEvent{first}, rest...)
	var statuses []string
	for _, ev := range evs {
		statuses = append(statuses, ev.Status)
	}
	if got := strings.Join(statuses, ","); got != "PENDING,PROCESSING,COMPLETED" && got != "PROCESSING,COMPLETED" {
		t.Fatalf("statuses on A: %s", got)
	}
	done := evs[len(evs)-1]
	if done.PreviousStatus == nil || *done.PreviousStatus != "PROCESSING" {
		t.Errorf("COMPLETED event's previous status %v", done.PreviousStatus)
	}
	f := done.Feedback
	if *f.Provider != "openai" || *f.Model != "stub-model" || *f.Summary != "Fix checkout first" ||
		len(f.Adjustments) != 1 || f.Adjustments[0].AdjustmentType != "TASK_PRIORITY" || f.Adjustments[0].Task.ID != taskID {
		t.Fatalf("completed feedback %+v", f)
	}
	if !strings.Contains(workerLogs.String(), `"feedback_id":`) {
		t.Errorf("worker logs carry no feedback ID")
	}

	// The result is queryable on B too.
	var q struct {
		Node struct {
			Status      string
			Adjustments []struct{ NewValue string }
		}
	}
	gqltest.MustPost(t, apiB, `query($id: ID!) { node(id: $id) { ... on Feedback { status adjustments { newValue } } } }`, map[string]any{"id": id}, &q)
	if q.Node.Status != "COMPLETED" || len(q.Node.Adjustments) != 1 || q.Node.Adjustments[0].NewValue != "5" {
		t.Fatalf("feedback on B: %+v", q.Node)
	}
	if stub.Calls() != 1 {
		t.Errorf("%d model calls, want 1", stub.Calls())
	}

	// The worker's /metrics tell the same story, once the job's run is
	// counted: that comes after the result's commit, which the event
	// follows.
	var body []byte
	testutil.WaitForWithin(t, 10*time.Second, "the job counted in the worker's /metrics", func() bool {
		resp, err := http.Get(workerBase + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), `feedbackloop_jobs_total{outcome="completed"} 1`)
	})
	for _, want := range []string{
		`feedbackloop_jobs_total{outcome="completed"} 1`,
		`feedbackloop_model_calls_total{model="stub-model",provider="openai",result="ok"} 1`,
		`feedbackloop_model_call_duration_seconds_count{model="stub-model",provider="openai"} 1`,
		`feedbackloop_queue_jobs{state="pending"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("worker /metrics lacks %s", want)
		}
	}
}

// graphqlWSClient runs one subscription with the graphql-ws library in Node
// (clients/graphql-ws/subscribe.mjs, installing its packages first if
// needed), sending token if any, until count results (0: until the server
// completes it). It returns the output, a JSON line per result, and the exit
// code.
func graphqlWSClient(t *testing.T, base, token string, count int, query string, vars map[string]any) (string, int) {
	t.Helper()
	dir := filepath.Join("clients", "graphql-ws")
	npmInstall(t, dir, "graphql-ws")
	variables, _ := json.Marshal(vars)
	node := exec.Command("node", "subscribe.mjs", "ws"+strings.TrimPrefix(base, "http")+"/query", strconv.Itoa(count), query, string(variables))
	node.Dir = dir
	node.Env = append(os.Environ(), "TOKEN="+token)
	out, err := node.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out) + string(exit.Stderr), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	return string(out), 0
}

// npmInstall installs the packages of the Node client in dir unless pkg is
// there already.
func npmInstall(t *testing.T, dir, pkg string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err == nil {
		return
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (Node.js and npm are needed for this test): %v\n%s", dir, err, out)
	}
}

// followQuery follows one feedback to its end.
const followQuery = `subscription($id: ID!) {
  feedbackStatusChanged(id: $id) {
    status previousStatus version
    feedback { id provider adjustments { adjustmentType description } }
  }
}`

// follow runs followQuery with the Node client.
func follow(t *testing.T, base, id, token string) (string, int) {
	t.Helper()
	return graphqlWSClient(t, base, token, 0, followQuery, map[string]any{"id": id})
}

// A real third-party client, the graphql-ws library in Node, follows a
// feedback to completion.
func TestGraphQLWSLibraryClient(t *testing.T) {
	base, _ := startServer(t, nil)
	projectID, taskID := createProjectWithTask(t, base)
	id := submitFeedback(t, base, projectID, taskID, "Checkout is urgent")
	out, code := follow(t, base, id, "")
	if code != 0 {
		t.Fatalf("node client exited %d:\n%s", code, out)
	}
	checkFollowedToCompletion(t, out, id)
}

func checkFollowedToCompletion(t *testing.T, out, id string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Status   string
		Version  int
		Feedback struct {
			ID          string
			Provider    string
			Adjustments []struct{ AdjustmentType string }
		}
	}
	var line struct {
		FeedbackStatusChanged json.RawMessage `json:"feedbackStatusChanged"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if err := json.Unmarshal(line.FeedbackStatusChanged, &last); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if last.Status != "COMPLETED" || last.Feedback.ID != id || last.Feedback.Provider != "builtin" || len(last.Feedback.Adjustments) == 0 {
		t.Fatalf("the client's last event: %+v\n%s", last, out)
	}
}

// With credentials configured, the graphql-ws client is refused with 4403
// without a token (which the library treats as "reconnect with fresh
// connectionParams"), and follows the feedback with one.
func TestGraphQLWSLibraryClientWithAuth(t *testing.T) {
	secret := "a-secret-for-the-node-client-test-0123456789"
	base, _ := startServer(t, map[string]string{"JWT_SECRET": secret})
	token, err := hs256.Mint([]byte(secret), "ada", "Ada", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	authz := "Bearer " + token
	var p struct{ CreateProject struct{ ID string } }
	gqltest.MustPostAs(t, base, authz, `mutation { createProject(input: {name: "Shop"}) { id } }`, nil, &p)
	var f struct{ SubmitFeedback struct{ ID string } }
	gqltest.MustPostAs(t, base, authz, `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "Checkout is urgent and we need a new pricing page"}) { id } }`,
		map[string]any{"p": p.CreateProject.ID}, &f)

	out, code := follow(t, base, f.SubmitFeedback.ID, "")
	var closed struct {
		Closed int
		Reason string
	}
	if code != 2 || json.Unmarshal([]byte(strings.TrimSpace(out)), &closed) != nil || closed.Closed != 4403 {
		t.Fatalf("without a token: exit %d, output %s; want the connection closed with 4403", code, out)
	}
	if !strings.Contains(closed.Reason, "credentials") {
		t.Errorf("close reason %q does not say what is missing", closed.Reason)
	}

	// Another user's token: the feedback is not theirs to see.
	stranger, _ := hs256.Mint([]byte(secret), "stranger", "", time.Hour)
	if out, code := follow(t, base, f.SubmitFeedback.ID, stranger); code != 1 || !strings.Contains(out, "NOT_FOUND") {
		t.Fatalf("a stranger's token: exit %d, output %s; want NOT_FOUND", code, out)
	}

	out, code = follow(t, base, f.SubmitFeedback.ID, token)
	if code != 0 {
		t.Fatalf("with a token: exit %d:\n%s", code, out)
	}
	checkFollowedToCompletion(t, out, f.SubmitFeedback.ID)
}

// The GraphQL-over-HTTP specification's own audits (graphql-http's
// serverAudits, run in Node) all pass against the real server: 405 with
// Allow: POST for a mutation sent with GET, 400 for a request without a
// query, no data entry when a document does not parse or validate.
func TestGraphQLOverHTTPAudits(t *testing.T) {
	base, _ := startServer(t, nil)
	dir := filepath.Join("clients", "graphql-http-audit")
	npmInstall(t, dir, "graphql-http")
	node := exec.Command("node", "audit.mjs", base+"/query")
	node.Dir = dir
	out, err := node.Output()
	if err != nil {
		t.Fatalf("node audit.mjs: %v\n%s", err, out)
	}
	passed := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var a struct{ ID, Name, Status, Reason string }
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("audit output %q: %v", line, err)
		}
		if a.Status != "ok" {
			t.Errorf("%s %s: %s (%s)", a.ID, a.Name, a.Status, a.Reason)
			continue
		}
		passed++
	}
	if passed < 61 { // graphql-http 1.23.1 has 61 server audits
		t.Errorf("%d audits passed, want all 61", passed)
	}
}

// Issue 22, finding 5, replayed: the model says the task's priority was "0"
// when it was 5. The suggestion stores 5, the task's value, as its original
// value and keeps the model's "0" only as information, so applying it meets
// no false CONFLICT. A real change of the task between the analysis and the
// apply is still a CONFLICT, naming the stored value.
func TestPipelineStoresTheTasksValueNotTheModelsClaim(t *testing.T) {
	var (
		mu     sync.Mutex
		taskDB int
	)
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		mu.Lock()
		defer mu.Unlock()
		return llmstub.ToolCall("record_analysis", fmt.Sprintf(
			`{"summary":"Calm down","adjustments":[{"type":"task_priority","task_id":%d,"description":"Lower checkout to 2","original_value":"0","new_value":"2","reasoning":"it can wait"}]}`, taskDB))
	})
	base, _ := startServer(t, map[string]string{
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": stub.URL, "OPENAI_API_KEY": "test-key", "LLM_MODEL": "stub-model",
	})
	var p struct{ CreateProject struct{ ID string } }
	gqltest.MustPost(t, base, `mutation { createProject(input: {name: "Shop"}) { id } }`, nil, &p)
	var tk struct{ CreateTask struct{ ID string } }
	gqltest.MustPost(t, base, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "Checkout", priority: 5}) { id } }`,
		map[string]any{"p": p.CreateProject.ID}, &tk)
	n, err := gid.Decode(tk.CreateTask.ID)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	taskDB = n
	mu.Unlock()

	type suggestion struct {
		ID                   string
		OriginalValue        *string
		ClaimedOriginalValue *string
	}
	// analysed submits feedback and returns its suggestion once COMPLETED.
	analysed := func(text string) suggestion {
		t.Helper()
		id := submitFeedback(t, base, p.CreateProject.ID, tk.CreateTask.ID, text)
		var q struct {
			Node struct {
				Status      string
				Adjustments []suggestion
			}
		}
		testutil.WaitFor(t, "the analysis", func() bool {
			gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Feedback { status adjustments { id originalValue claimedOriginalValue } } } }`,
				map[string]any{"id": id}, &q)
			return q.Node.Status == "COMPLETED" || q.Node.Status == "FAILED"
		})
		if q.Node.Status != "COMPLETED" || len(q.Node.Adjustments) != 1 {
			t.Fatalf("feedback %+v", q.Node)
		}
		return q.Node.Adjustments[0]
	}
	show := func(s *string) string {
		if s == nil {
			return "null"
		}
		return *s
	}
	apply := `mutation($id: ID!) { applyAdjustment(id: $id) { adjustment { status } task { priority } } }`

	first := analysed("Checkout can wait")
	if show(first.OriginalValue) != "5" || show(first.ClaimedOriginalValue) != "0" {
		t.Fatalf("originalValue %s, claimedOriginalValue %s; want 5 (the task's) and 0 (the model's)",
			show(first.OriginalValue), show(first.ClaimedOriginalValue))
	}
	var applied struct {
		ApplyAdjustment struct {
			Adjustment struct{ Status string }
			Task       struct{ Priority int }
		}
	}
	resp := gqltest.Post(t, base, apply, map[string]any{"id": first.ID})
	if len(resp.Errors) > 0 {
		t.Fatalf("applying a suggestion whose task did not change: %+v", resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, &applied); err != nil || applied.ApplyAdjustment.Adjustment.Status != "APPLIED" || applied.ApplyAdjustment.Task.Priority != 2 {
		t.Fatalf("apply: %s (%v)", resp.Data, err)
	}

	// Analysed at priority 2; someone sets 4 before the apply.
	second := analysed("Checkout can wait, really")
	if show(second.OriginalValue) != "2" || show(second.ClaimedOriginalValue) != "0" {
		t.Fatalf("originalValue %s, claimedOriginalValue %s; want 2 and 0", show(second.OriginalValue), show(second.ClaimedOriginalValue))
	}
	gqltest.MustPost(t, base, `mutation($t: ID!) { updateTask(id: $t, input: {priority: 4}) { version } }`, map[string]any{"t": tk.CreateTask.ID}, nil)
	resp = gqltest.Post(t, base, apply, map[string]any{"id": second.ID})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "CONFLICT" || resp.Errors[0].Extensions["currentValue"] != "4" ||
		resp.Errors[0].Extensions["expectedValue"] != "2" || !strings.Contains(resp.Errors[0].Message, `now "4", not "2"`) {
		t.Fatalf("want CONFLICT: now 4, not 2 as analysed; got %+v", resp.Errors)
	}
}
