// Package faults is the fault-injection suite: it runs the real service as
// separate processes (API and worker) against private PostgreSQL and Redis
// servers and a model stub, breaks things, and checks that every accepted
// feedback ends COMPLETED or FAILED with a reason, with its adjustments
// stored exactly once.
package faults

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testpg"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// binary is the service, built once for the suite.
var binary string

// tally is the suite's report: what it submitted, broke and lost.
var tally struct {
	sync.Mutex
	submitted, faults, lost int
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "feedbackloop")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: build the service:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	fmt.Printf("FAULT SUITE REPORT: %d feedback submitted, %d faults injected, %d lost\n", tally.submitted, tally.faults, tally.lost)
	if tally.lost > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func injected(n int) {
	tally.Lock()
	defer tally.Unlock()
	tally.faults += n
}

// world is one test's installation: private PostgreSQL and Redis, a model
// stub, and the environment the service's processes share.
type world struct {
	t     *testing.T
	pg    *testpg.Server
	redis *testredis.Server
	stub  *llmstub.Server
	env   map[string]string
	db    *sql.DB

	// settle bounds how long outcomes waits for feedback to end (90 s
	// unless a test says otherwise).
	settle time.Duration

	mu    sync.Mutex
	calls map[string]int // model calls by script marker
	gate  chan struct{}
}

func newWorld(t *testing.T, extraEnv map[string]string) *world {
	t.Helper()
	redis := testredis.Start(t)
	w := newWorldOn(t, testpg.Start(t), redis, map[string]string{"REDIS_URL": redis.URL})
	for k, v := range extraEnv {
		w.env[k] = v
	}
	return w
}

// newWorldOn is a world on pg and a Redis that redisEnv names (redis is the
// server when there is one, for tests that stop it).
func newWorldOn(t *testing.T, pg *testpg.Server, redis *testredis.Server, redisEnv map[string]string) *world {
	t.Helper()
	w := &world{t: t, pg: pg, redis: redis, calls: map[string]int{}, gate: make(chan struct{})}
	t.Cleanup(w.openGate)
	w.stub = llmstub.New(t, w.respond)
	w.env = map[string]string{
		"DATABASE_URL":        w.pg.URL("feedbackloop"),
		"LLM_PROVIDER":        "openai",
		"OPENAI_BASE_URL":     w.stub.URL,
		"OPENAI_API_KEY":      "test-key",
		"LLM_MODEL":           "stub-model",
		"LLM_TIMEOUT":         "20s",
		"LLM_MAX_ATTEMPTS":    "2",
		"JOB_LEASE":           "2s",
		"RECONCILE_INTERVAL":  "300ms",
		"PENDING_GRACE":       "1s",
		"QUEUE_POLL_INTERVAL": "50ms",
		"SHUTDOWN_TIMEOUT":    "6s",
		"LOG_FORMAT":          "json",
	}
	for k, v := range redisEnv {
		w.env[k] = v
	}
	return w
}

func (w *world) openGate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.gate:
	default:
		close(w.gate)
	}
}

// The stub's script: feedback text containing [fail:KIND:N] gets KIND for
// its first N model calls, then a valid answer. [gate] waits for openGate.
var script = regexp.MustCompile(`\[(fail:[a-z0-9]+:\d+|gate|slow)\]`)

const goodAnswer = `{"summary":"Plan adjusted","adjustments":[` +
	`{"type":"general","task_id":null,"description":"Tell the team","original_value":null,"new_value":null,"reasoning":null},` +
	`{"type":"new_task","task_id":null,"description":"Add a follow-up","original_value":null,"new_value":"Follow-up","reasoning":"asked for"}]}`

func (w *world) respond(r llmstub.Request) llmstub.Reply {
	var text string
	for _, m := range r.Messages {
		if m.Role == "user" {
			text = m.Content // the last user message; the first carries the feedback
			break
		}
	}
	good := llmstub.ToolCall("record_analysis", goodAnswer)
	marker := script.FindString(text)
	w.mu.Lock()
	w.calls[marker]++
	n := w.calls[marker]
	w.mu.Unlock()
	switch {
	case marker == "[gate]":
		<-w.gate
		return good
	case marker == "[slow]":
		return good.After(400 * time.Millisecond)
	case marker == "":
		return good
	}
	parts := strings.Split(strings.Trim(marker, "[]"), ":")
	limit, _ := strconv.Atoi(parts[2])
	if n > limit {
		return good
	}
	switch parts[1] {
	case "hang":
		return llmstub.Hang()
	case "429":
		return llmstub.Status(429, "rate limited")
	case "429ra":
		return llmstub.Status(429, "rate limited").WithHeader("Retry-After", "1")
	case "500":
		return llmstub.Status(500, "upstream exploded")
	case "400":
		return llmstub.Status(400, "bad request")
	case "truncated":
		return llmstub.Truncated(`{"summary":"cut`)
	case "schema":
		return llmstub.ToolCall("record_analysis", `{"summary":"","adjustments":[{"type":"reorganise","description":""}]}`) // nothing to salvage
	}
	panic("unknown script " + marker)
}

func (w *world) modelCalls(marker string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[marker]
}

// proc is one running service process.
type proc struct {
	name string
	base string
	cmd  *exec.Cmd
	logs *testutil.Buffer
	done chan struct{}
}

func (w *world) start(role string) *proc {
	w.t.Helper()
	port := testredis.FreePort(w.t)
	p := &proc{name: role, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &testutil.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary)
	p.cmd.Env = append(os.Environ(), "ROLE="+role, "PORT="+strconv.Itoa(port))
	for k, v := range w.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	w.t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		if w.t.Failed() {
			w.t.Logf("%s logs:\n%s", role, tail(p.logs.String(), 4000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			w.t.Fatalf("%s exited at start:\n%s", role, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s not up after 60s:\n%s", role, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill ends the process abruptly, like a crash.
func (p *proc) kill(t *testing.T) {
	p.signal(syscall.SIGKILL)
	<-p.done
	injected(1)
}

// terminate sends SIGTERM and requires a clean exit within limit.
func (p *proc) terminate(t *testing.T, limit time.Duration) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s did not stop within %s after SIGTERM", p.name, limit)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with %d after SIGTERM:\n%s", p.name, code, tail(p.logs.String(), 3000))
	}
	if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
		t.Errorf("%s did not log a clean stop", p.name)
	}
}

// project creates a project through the API and returns its ID.
func project(t *testing.T, api *proc) string {
	t.Helper()
	var out struct{ CreateProject struct{ ID string } }
	gqltest.MustPost(t, api.base, `mutation { createProject(input: {name: "Faulty"}) { id } }`, nil, &out)
	return out.CreateProject.ID
}

// submit submits feedback through the API; the mutation must succeed.
func submit(t *testing.T, api *proc, projectID, text string) string {
	t.Helper()
	var out struct{ SubmitFeedback struct{ ID, Status string } }
	gqltest.MustPost(t, api.base, `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id status } }`,
		map[string]any{"in": map[string]any{"projectID": projectID, "feedbackText": text}}, &out)
	if out.SubmitFeedback.Status != "PENDING" {
		t.Fatalf("submitted feedback is %s", out.SubmitFeedback.Status)
	}
	tally.Lock()
	tally.submitted++
	tally.Unlock()
	return out.SubmitFeedback.ID
}

// outcome is a feedback's stored end state.
type outcome struct {
	Status      string
	Error       string
	Attempts    int
	Adjustments int
}

func (w *world) database() *sql.DB {
	w.t.Helper()
	if w.db == nil {
		db, err := sql.Open("postgres", w.pg.URL("feedbackloop"))
		if err != nil {
			w.t.Fatal(err)
		}
		w.t.Cleanup(func() { db.Close() })
		w.db = db
	}
	return w.db
}

// outcomes waits until every feedback is COMPLETED or FAILED and checks the
// promises: COMPLETED has exactly the answer's two adjustments, FAILED has a
// reason and none. Feedback still unfinished after the wait is counted lost.
func (w *world) outcomes(ids ...string) map[string]outcome {
	w.t.Helper()
	out := map[string]outcome{}
	settle := w.settle
	if settle == 0 {
		settle = 90 * time.Second
	}
	deadline := time.Now().Add(settle)
	for _, id := range ids {
		for {
			var o outcome
			var errText sql.NullString
			err := w.database().QueryRow(`SELECT status, error, attempts,
				(SELECT count(*) FROM adjustments a WHERE a.feedback_id = f.id) FROM feedbacks f WHERE id = $1`, dbID(w.t, id)).
				Scan(&o.Status, &errText, &o.Attempts, &o.Adjustments)
			o.Error = errText.String
			if err == nil && (o.Status == "COMPLETED" || o.Status == "FAILED") {
				out[id] = o
				break
			}
			if time.Now().After(deadline) {
				tally.Lock()
				tally.lost++
				tally.Unlock()
				w.t.Errorf("feedback %s lost: %+v (%v)", id, o, err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		o := out[id]
		switch {
		case o.Status == "COMPLETED" && o.Adjustments != 2:
			w.t.Errorf("feedback %s COMPLETED with %d adjustments, want exactly 2", id, o.Adjustments)
		case o.Status == "FAILED" && (o.Error == "" || o.Adjustments != 0):
			w.t.Errorf("feedback %s FAILED with error %q and %d adjustments", id, o.Error, o.Adjustments)
		}
	}
	return out
}

func dbID(t *testing.T, id string) int {
	t.Helper()
	n, err := gid.Decode(id)
	if err != nil {
		t.Fatalf("not a global ID: %q", id)
	}
	return n
}

func readyz(t *testing.T, p *proc) int {
	t.Helper()
	resp, err := http.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func postRaw(t *testing.T, p *proc, query string) gqltest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(p.base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqltest.Response
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	out.Status = resp.StatusCode
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
