package worker_test

import (
	"encoding/json"
	"fmt"
	"github.com/feedbackloop/feedbackloop/compare"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/worker"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/budget"
	"github.com/feedbackloop/feedbackloop/worker/fallback"
	"github.com/feedbackloop/feedbackloop/worker/llm"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "worker", &dbTemplate) }

// env is one test's world: its own database, queue, event channel and model
// server, and workers built like server.go builds them, with langchaingo's
// real OpenAI client talking to the stub.
type env struct {
	t        testing.TB
	client   *ent.Client
	jobs     *queue.Client
	pipeline *pipeline.Pipeline
	events   *outboxtest.Tail
	llm      *llmstub.Server
	qopts    queue.Options
	ns       string
	// redis opens a connection to the queue's Redis server.
	redis func() *redis.Client

	projectID int
	taskIDs   []int
}

func newEnv(t testing.TB, fallback llmstub.Responder) *env {
	t.Helper()
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	rdb := testredis.Client(t)
	ns := testredis.Namespace(t)
	qopts := queue.Options{Name: "q-" + ns, MaxRetry: 2}
	jobs := queue.NewClient(rdb, qopts)
	t.Cleanup(func() { jobs.Close() })
	e := &env{
		t: t, client: client, jobs: jobs, qopts: qopts, ns: ns, redis: func() *redis.Client { return testredis.Client(t) },
		pipeline: pipeline.New(pipeline.Config{Client: client, Jobs: jobs}),
		llm:      llmstub.New(t, fallback),
	}
	ctx := accesstest.System()
	p := client.Project.Create().SetName("Mobile app").SetDescription("Ship v2 by March").SaveX(ctx)
	e.projectID = p.ID
	e.events = outboxtest.NewTail(t, client, p.ID)
	for i, title := range []string{"Login screen", "Push notifications"} {
		e.taskIDs = append(e.taskIDs, client.Task.Create().SetProjectID(p.ID).SetTitle(title).
			SetDescription(fmt.Sprintf("task %d", i)).SetPriority(i+1).SaveX(ctx).ID)
	}
	return e
}

type workerOpts struct {
	concurrency int           // default 2
	poll        time.Duration // the queue's poll interval, default 50ms
	// The reconciler's period and grace, default 100ms and 300ms.
	reconcileEvery, pendingGrace time.Duration
	timeout                      time.Duration
	maxAttempts                  int
	lease                        time.Duration
	shutdown                     time.Duration
	logger                       *slog.Logger
	// withFallback puts the built-in rules behind the model, as
	// LLM_FALLBACK=builtin does.
	withFallback bool
	// prices estimate analyses' costs; budget, when set, puts the model
	// behind the budget gate as server.go does (now is its clock).
	prices spend.Prices
	budget spend.Budget
	now    func() time.Time
	// reuse says which earlier analyses the worker reuses (none by default).
	reuse reuse.Settings
	// embed gives the worker an embedder: langchaingo's OpenAI client on
	// the stub's /v1/embeddings.
	embed bool
	// shared meters the model calls in Redis with every other worker's, as
	// server.go does (only pauses: no RPM or TPM).
	shared bool
	// analyzer, when set, replaces the model (such as rules.New()).
	analyzer analysis.Analyzer
	// comparers run comparison runs; compare samples feedback for them.
	comparers map[string]analysis.Analyzer
	compare   compare.Settings
}

// startWorker starts a worker with its own Redis connections, as a separate
// process would have.
func (e *env) startWorker(o workerOpts) *worker.Worker {
	e.t.Helper()
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 3
	}
	if o.lease == 0 {
		o.lease = 3 * time.Second
	}
	if o.shutdown == 0 {
		o.shutdown = 5 * time.Second
	}
	if o.concurrency == 0 {
		o.concurrency = 2
	}
	if o.poll == 0 {
		o.poll = 50 * time.Millisecond
	}
	if o.reconcileEvery == 0 {
		o.reconcileEvery = 100 * time.Millisecond
	}
	if o.pendingGrace == 0 {
		o.pendingGrace = 300 * time.Millisecond
	}
	cfg := llm.Config{
		Provider: "openai", Model: "stub-model", BaseURL: e.llm.URL, APIKey: "test-key",
		Timeout: o.timeout, MaxAttempts: o.maxAttempts, Temperature: 0.2,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: o.logger,
	}
	if o.shared {
		cfg.Redis, cfg.Limits = e.redis(), e.limits()
	}
	a, err := llm.New(accesstest.System(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if o.analyzer != nil {
		a = o.analyzer
	}
	if o.withFallback {
		chain, err := fallback.New(fallback.Config{Analyzers: []analysis.Analyzer{a, rules.New()}, Logger: o.logger})
		if err != nil {
			e.t.Fatal(err)
		}
		a = chain
	}
	if o.budget.Monthly > 0 {
		var builtin analysis.Analyzer
		if o.withFallback {
			builtin = rules.New()
		}
		a = budget.New(budget.Config{Models: a, Builtin: builtin, Budget: o.budget, Spend: e.pipeline, Now: o.now, Logger: o.logger})
	}
	// Its own queue client, on its own Redis connection.
	jobs := queue.NewClient(e.redis(), e.qopts)
	e.t.Cleanup(func() { jobs.Close() })
	var embedder reuse.Embedder
	if o.embed {
		client, err := openai.New(openai.WithBaseURL(e.llm.URL), openai.WithToken("test-key"), openai.WithEmbeddingModel("stub-embed"))
		if err != nil {
			e.t.Fatal(err)
		}
		if embedder, err = embeddings.NewEmbedder(client); err != nil {
			e.t.Fatal(err)
		}
	}
	w := worker.New(worker.Config{
		Client: e.client, Pipeline: e.pipeline, Analyzer: a, Queue: jobs,
		Consumer: queue.ServerConfig{
			Concurrency: o.concurrency,
			RetryBase:   10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
			PollInterval: o.poll, ShutdownTimeout: o.shutdown,
		},
		Lease: o.lease, ReconcileEvery: o.reconcileEvery, PendingGrace: o.pendingGrace,
		Logger: o.logger, Prices: o.prices,
		Reuse: o.reuse, Embedder: embedder, EmbeddingModel: "stub-embed",
		Comparers: o.comparers, Compare: o.compare,
	})
	if err := w.Start(accesstest.System()); err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	e.t.Cleanup(func() {
		once.Do(func() {
			if err := w.Shutdown(accesstest.System()); err != nil {
				e.t.Error(err)
			}
		})
	})
	return w
}

// limits are the shared model call limits of this test's workers.
func (e *env) limits() llmlimit.Config { return llmlimit.Config{Prefix: e.ns} }

func (e *env) submit(text string, taskID *int) *ent.Feedback {
	e.t.Helper()
	fb, err := e.pipeline.Submit(accesstest.System(), pipeline.Submission{ProjectID: e.projectID, TaskID: taskID, Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return fb
}

// statuses collects the status events of feedback id from the outbox until
// it finishes.
func (e *env) statuses(id int) []string {
	e.t.Helper()
	var got []string
	for {
		ev := e.events.Next()
		if ev.Kind != outbox.KindFeedback || ev.ObjectID != id {
			continue
		}
		status := string(outboxtest.Feedback(e.t, ev).Feedback.Status)
		got = append(got, status)
		if status == "COMPLETED" || status == "FAILED" {
			return got
		}
	}
}

func (e *env) reload(id int) *ent.Feedback {
	e.t.Helper()
	fb, err := e.client.Feedback.Query().Where(feedback.ID(id)).
		WithAdjustments(func(q *ent.AdjustmentQuery) { q.Order(ent.Asc(adjustment.FieldPosition)) }).
		Only(accesstest.System())
	if err != nil {
		e.t.Fatal(err)
	}
	return fb
}

// answer is a model answer in the tool call's JSON shape.
func answer(summary string, adjustments ...map[string]any) string {
	if adjustments == nil {
		adjustments = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"summary": summary, "adjustments": adjustments})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func toolAnswer(summary string, adjustments ...map[string]any) llmstub.Reply {
	return llmstub.ToolCall("record_analysis", answer(summary, adjustments...))
}

func (e *env) goodAnswer(llmstub.Request) llmstub.Reply {
	return toolAnswer("Login needs attention first",
		map[string]any{"type": "task_priority", "task_id": e.taskIDs[0], "description": "Raise the login screen's priority",
			"original_value": "1", "new_value": "4", "reasoning": "users cannot sign in"},
		map[string]any{"type": "new_task", "task_id": nil, "description": "Add a password reset flow",
			"original_value": nil, "new_value": "Password reset", "reasoning": nil},
	)
}

func TestFeedbackIsAnalysedAndStored(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])

	if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events %v, want PENDING,PROCESSING,COMPLETED", got)
	}
	done := e.reload(fb.ID)
	if done.Summary == nil || *done.Summary != "Login needs attention first" || done.ProcessedAt == nil {
		t.Errorf("stored feedback %+v", done)
	}
	if done.Provider == nil || *done.Provider != "openai" || done.Model == nil || *done.Model != "stub-model" {
		t.Errorf("provider/model = %v/%v, want openai/stub-model", done.Provider, done.Model)
	}
	if done.Attempts != 1 || done.Version != 3 || done.LeaseOwner != nil {
		t.Errorf("attempts %d version %d lease %v", done.Attempts, done.Version, done.LeaseOwner)
	}
	adj := done.Edges.Adjustments
	if len(adj) != 2 {
		t.Fatalf("%d adjustments, want 2", len(adj))
	}
	if adj[0].AdjustmentType != adjustment.AdjustmentTypeTaskPriority || adj[0].TaskID == nil || *adj[0].TaskID != e.taskIDs[0] ||
		*adj[0].NewValue != "4" || *adj[0].OriginalValue != "1" || *adj[0].Reasoning != "users cannot sign in" {
		t.Errorf("first adjustment %+v", adj[0])
	}
	if adj[1].AdjustmentType != adjustment.AdjustmentTypeNewTask || adj[1].TaskID != nil || *adj[1].NewValue != "Password reset" {
		t.Errorf("second adjustment %+v", adj[1])
	}

	// The prompt carried the project, every task and the feedback.
	reqs := e.llm.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls, want 1", len(reqs))
	}
	var all strings.Builder
	for _, m := range reqs[0].Messages {
		all.WriteString(m.Content + "\n")
	}
	for _, want := range []string{"Mobile app", "Ship v2 by March", "Login screen", "Push notifications",
		fmt.Sprint(e.taskIDs[1]), "Nobody can log in since the last release!"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("prompt lacks %q:\n%s", want, all.String())
		}
	}
	if reqs[0].Messages[0].Role != "system" || reqs[0].Model != "stub-model" || len(reqs[0].Tools) != 1 {
		t.Errorf("request: first role %s, model %s, %d tools", reqs[0].Messages[0].Role, reqs[0].Model, len(reqs[0].Tools))
	}
}

func TestUnknownTaskBecomesAnUnlinkedGeneralSuggestion(t *testing.T) {
	other := 0
	var e *env
	e = newEnv(t, func(llmstub.Request) llmstub.Reply {
		return toolAnswer("One suggestion",
			map[string]any{"type": "task_status", "task_id": other, "description": "Mark the other project's task done", "new_value": "DONE"})
	})
	// A task that exists, but in another project.
	ctx := accesstest.System()
	p2 := e.client.Project.Create().SetName("Other").SaveX(ctx)
	other = e.client.Task.Create().SetProjectID(p2.ID).SetTitle("Foreign").SaveX(ctx).ID
	e.startWorker(workerOpts{})
	fb := e.submit("Is the foreign task done?", nil)
	e.statuses(fb.ID)

	adj := e.reload(fb.ID).Edges.Adjustments
	if len(adj) != 1 || adj[0].AdjustmentType != adjustment.AdjustmentTypeGeneral || adj[0].TaskID != nil {
		t.Fatalf("adjustments %+v, want one unlinked GENERAL", adj)
	}
}

func TestInvalidAnswerIsRepairedOnce(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.llm.Enqueue(llmstub.ToolCall("record_analysis", `{"summary": 42, "adjustments": "none"}`))
	e.startWorker(workerOpts{})
	fb := e.submit("Please look at login", nil)
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	if n := len(e.reload(fb.ID).Edges.Adjustments); n != 2 {
		t.Fatalf("%d adjustments after repair, want 2", n)
	}
	reqs := e.llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want the answer and one repair", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if !strings.Contains(last.Content, "summary") {
		t.Errorf("the repair request does not tell the model what was wrong: %+v", last)
	}
}

func TestAnswersThatStayInvalidFailCleanly(t *testing.T) {
	cases := map[string][]llmstub.Reply{
		"not JSON twice":  {llmstub.Text("Sure! Here are my thoughts..."), llmstub.Text("I think you should focus.")},
		"wrong types":     {llmstub.ToolCall("record_analysis", `{"summary": "x", "adjustments": [{"type": 3}]}`), llmstub.ToolCall("record_analysis", `[]`)},
		"unknown type":    {toolAnswer("s", map[string]any{"type": "rewrite_everything", "description": "d"}), toolAnswer(" ", map[string]any{"type": "panic", "description": "d"})},
		"empty":           {llmstub.ToolCall("record_analysis", ``), llmstub.ToolCall("record_analysis", `{}`)},
		"truncated twice": {llmstub.Truncated(`{"summary": "cut`), llmstub.Truncated(`{"summary": "cut again`)},
	}
	for name, replies := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "fallback must not be reached") })
			e.llm.Enqueue(replies...)
			e.startWorker(workerOpts{})
			fb := e.submit("anything", nil)
			if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,FAILED" {
				t.Fatalf("events %v", got)
			}
			done := e.reload(fb.ID)
			if done.Error == nil || !strings.Contains(*done.Error, "invalid") || len(done.Edges.Adjustments) != 0 {
				t.Fatalf("failed feedback: error %v, %d adjustments", done.Error, len(done.Edges.Adjustments))
			}
			if e.llm.Calls() != 2 {
				t.Errorf("%d model calls, want 2 (one repair)", e.llm.Calls())
			}
		})
	}
}

// The response format of the original design: "adjustment_type" for "type"
// and task IDs as strings of digits, as plain text or as the tool call.
func TestTheOriginalDesignsAnswerFormatIsAccepted(t *testing.T) {
	e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "fallback must not be reached") })
	seed := fmt.Sprintf(`{"summary": "Login first", "adjustments": [
		{"adjustment_type": "task_priority", "description": "Raise the login screen", "original_value": "1", "new_value": "5", "reasoning": "nobody can sign in", "task_id": "%d"},
		{"adjustment_type": "task_status", "description": "Hold push notifications", "original_value": "TODO", "new_value": "BLOCKED", "reasoning": "login first", "task_id": "%d"}]}`,
		e.taskIDs[0], e.taskIDs[1])
	e.llm.Enqueue(llmstub.Text(seed), llmstub.ToolCall("record_analysis", seed))
	e.startWorker(workerOpts{})
	for _, text := range []string{"Nobody can log in", "Still nobody can log in"} {
		fb := e.submit(text, nil)
		if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
			t.Fatalf("events %v", got)
		}
		done := e.reload(fb.ID)
		adj := done.Edges.Adjustments
		if *done.Summary != "Login first" || len(adj) != 2 {
			t.Fatalf("summary %q, %d adjustments", *done.Summary, len(adj))
		}
		if adj[0].AdjustmentType != adjustment.AdjustmentTypeTaskPriority || adj[0].TaskID == nil || *adj[0].TaskID != e.taskIDs[0] || *adj[0].NewValue != "5" {
			t.Errorf("first adjustment %+v", adj[0])
		}
		if adj[1].AdjustmentType != adjustment.AdjustmentTypeTaskStatus || adj[1].TaskID == nil || *adj[1].TaskID != e.taskIDs[1] || *adj[1].NewValue != "BLOCKED" {
			t.Errorf("second adjustment %+v", adj[1])
		}
	}
	if e.llm.Calls() != 2 {
		t.Errorf("%d model calls for two feedbacks, want 2 (no repair)", e.llm.Calls())
	}
}

// An answer still invalid after the repair keeps its valid suggestions; the
// others are counted as dropped.
func TestMixedAnswerKeepsTheValidSuggestions(t *testing.T) {
	e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "fallback must not be reached") })
	mixed := toolAnswer("Partly usable",
		map[string]any{"type": "task_priority", "task_id": e.taskIDs[0], "description": "Raise login", "new_value": "4"},
		map[string]any{"type": "rewrite_everything", "description": "d"},
		map[string]any{"type": "task_status", "task_id": e.taskIDs[1], "description": "Later", "new_value": "someday"},
		map[string]any{"type": "remove_task", "description": "Drop something"},
	)
	e.llm.Enqueue(mixed, mixed)
	logs := &testutil.Buffer{}
	e.startWorker(workerOpts{logger: slog.New(slog.NewJSONHandler(logs, nil))})
	fb := e.submit("mixed", nil)
	if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events %v", got)
	}
	done := e.reload(fb.ID)
	adj := done.Edges.Adjustments
	if *done.Summary != "Partly usable" || done.Error != nil || len(adj) != 2 {
		t.Fatalf("summary %q, error %v, %d adjustments", *done.Summary, done.Error, len(adj))
	}
	if adj[0].AdjustmentType != adjustment.AdjustmentTypeTaskPriority || *adj[0].TaskID != e.taskIDs[0] || *adj[0].NewValue != "4" {
		t.Errorf("first adjustment %+v", adj[0])
	}
	if adj[1].AdjustmentType != adjustment.AdjustmentTypeGeneral || adj[1].TaskID != nil || !strings.HasPrefix(adj[1].Description, "Drop something") {
		t.Errorf("second adjustment %+v", adj[1])
	}
	if e.llm.Calls() != 2 {
		t.Errorf("%d model calls, want the answer and one repair", e.llm.Calls())
	}
	// The dropped ones are counted on the feedback, with why.
	if done.DroppedSuggestions != 2 || len(done.DroppedReasons) != 2 {
		t.Errorf("dropped %d, reasons %q; want 2 of each", done.DroppedSuggestions, done.DroppedReasons)
	}
	testutil.WaitFor(t, "the completion to be logged", func() bool {
		for _, line := range logs.Lines() {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "feedback completed" {
				return rec["adjustments"] == float64(2) && rec["dropped"] == float64(2)
			}
		}
		return false
	})
}

func TestProviderErrorsAreRetriedThenFail(t *testing.T) {
	e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "upstream exploded") })
	e.startWorker(workerOpts{maxAttempts: 3})
	fb := e.submit("anything", nil)
	if got := e.statuses(fb.ID); got[len(got)-1] != "FAILED" {
		t.Fatalf("events %v", got)
	}
	done := e.reload(fb.ID)
	if done.Error == nil || !strings.Contains(*done.Error, "500") || !strings.Contains(*done.Error, "3 attempts") {
		t.Fatalf("error = %v, want the status and the attempts", done.Error)
	}
	if strings.Contains(*done.Error, "test-key") {
		t.Fatal("the API key leaked into the error")
	}
	if e.llm.Calls() != 3 {
		t.Errorf("%d model calls, want 3", e.llm.Calls())
	}

	// retryFeedback afterwards works once the provider recovers.
	e.llm.Enqueue(e.goodAnswer(llmstub.Request{}))
	if _, err := e.pipeline.Retry(accesstest.System(), fb.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.statuses(fb.ID); strings.Join(got, ",") != "PENDING,PROCESSING,COMPLETED" {
		t.Fatalf("events after retry %v", got)
	}
	again := e.reload(fb.ID)
	if again.Error != nil || len(again.Edges.Adjustments) != 2 || again.Attempts != 2 {
		t.Fatalf("after retry: error %v, %d adjustments, attempts %d", again.Error, len(again.Edges.Adjustments), again.Attempts)
	}
}

func TestFailingProviderFallsBackAndRecordsWhy(t *testing.T) {
	e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(500, "upstream exploded") })
	e.startWorker(workerOpts{maxAttempts: 2, withFallback: true})
	fb := e.submit("The login screen keeps crashing", nil)
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v, want the fallback to complete the analysis", got)
	}
	done := e.reload(fb.ID)
	if done.Provider == nil || *done.Provider != "builtin" || done.Model == nil || *done.Model != rules.New().Model() {
		t.Errorf("provider/model = %v/%v, want the built-in rules", done.Provider, done.Model)
	}
	if done.FallbackReason == nil || !strings.Contains(*done.FallbackReason, "openai failed") || !strings.Contains(*done.FallbackReason, "HTTP 500") {
		t.Errorf("fallback_reason = %v, want why openai was not used", done.FallbackReason)
	}
	if done.Error != nil {
		t.Errorf("error = %q on a completed analysis", *done.Error)
	}
	if e.llm.Calls() != 2 {
		t.Errorf("%d model calls, want the primary's 2 attempts", e.llm.Calls())
	}
}

func TestModelTimeoutsAreRetriedThenFail(t *testing.T) {
	e := newEnv(t, func(llmstub.Request) llmstub.Reply { return llmstub.Hang() })
	e.startWorker(workerOpts{timeout: 200 * time.Millisecond, maxAttempts: 2})
	fb := e.submit("anything", nil)
	if got := e.statuses(fb.ID); got[len(got)-1] != "FAILED" {
		t.Fatalf("events %v", got)
	}
	done := e.reload(fb.ID)
	if done.Error == nil || !strings.Contains(*done.Error, "did not answer") {
		t.Fatalf("error = %v", done.Error)
	}
	if e.llm.Calls() != 2 {
		t.Errorf("%d model calls, want 2", e.llm.Calls())
	}
}

// At-least-once delivery: the same feedback's job delivered twice at once,
// and again after it finished, stores its adjustments once.
func TestDuplicateDeliveryStoresAdjustmentsOnce(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r).After(300 * time.Millisecond) })
	// Stored without a job, then queued twice under different job IDs, as a
	// redelivery or a reconciler race would.
	silent := pipeline.New(pipeline.Config{Client: e.client, Jobs: queue.NewClient(testredis.Client(t), queue.Options{Name: "unused-" + e.ns})})
	fb, err := silent.Submit(accesstest.System(), pipeline.Submission{ProjectID: e.projectID, Text: "twice"})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := range 2 {
		if err := e.jobs.Enqueue(accesstest.System(), queue.Job{FeedbackID: fb.ID, Key: fb.JobKey.String(), Attempt: 10 + attempt}); err != nil {
			t.Fatal(err)
		}
	}
	e.startWorker(workerOpts{})
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	// A late redelivery of a finished feedback.
	if err := e.jobs.Enqueue(accesstest.System(), queue.Job{FeedbackID: fb.ID, Key: fb.JobKey.String(), Attempt: 20}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the queue to drain", func() bool {
		d, err := e.jobs.Depth(accesstest.System())
		return err == nil && d.Pending == 0 && d.Active == 0 && d.Retry == 0
	})
	done := e.reload(fb.ID)
	if n := len(done.Edges.Adjustments); n != 2 {
		t.Fatalf("%d adjustments, want 2", n)
	}
	if e.llm.Calls() != 1 {
		t.Errorf("%d model calls for one feedback, want 1", e.llm.Calls())
	}
	if done.Version != 3 {
		t.Errorf("version %d, want 3 (PENDING, PROCESSING, COMPLETED)", done.Version)
	}
}

// Feedback accepted while the queue was down has no job; the reconciler
// queues it. Feedback whose worker died keeps an expired lease; the
// reconciler queues it again.
func TestReconcilerQueuesStrandedFeedback(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	ctx := accesstest.System()
	noQueue := pipeline.New(pipeline.Config{Client: e.client,
		Jobs: queue.NewClient(testredis.Client(t), queue.Options{Name: "unused-" + e.ns})})
	pending, err := noQueue.Submit(ctx, pipeline.Submission{ProjectID: e.projectID, Text: "queue was down"})
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := noQueue.Submit(ctx, pipeline.Submission{ProjectID: e.projectID, Text: "worker died"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noQueue.Claim(ctx, orphan.ID, "dead-worker", time.Millisecond); err != nil {
		t.Fatal(err)
	}

	e.startWorker(workerOpts{})
	for _, id := range []int{pending.ID, orphan.ID} {
		testutil.WaitFor(t, fmt.Sprintf("feedback %d to complete", id), func() bool {
			return e.reload(id).Status == feedback.StatusCompleted
		})
		if n := len(e.reload(id).Edges.Adjustments); n != 2 {
			t.Errorf("feedback %d has %d adjustments, want 2", id, n)
		}
	}
	if a := e.reload(orphan.ID).Attempts; a != 2 {
		t.Errorf("the orphan took %d attempts, want 2", a)
	}
}

// A job whose feedback was deleted is dead-lettered at once and does not
// hold up the jobs behind it.
func TestJobOfDeletedFeedbackIsDeadLettered(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	ctx := accesstest.System()
	gone := e.submit("about to be deleted", nil)
	e.client.Feedback.DeleteOneID(gone.ID).ExecX(ctx)
	next := e.submit("still here", nil)

	e.startWorker(workerOpts{})
	if got := e.statuses(next.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	testutil.WaitFor(t, "the job of the deleted feedback to be dead-lettered", func() bool {
		st, err := e.jobs.State(ctx, pipeline.JobFor(gone))
		return err == nil && st.DeadLettered()
	})
}

// Shutdown mid-job puts the job back: another worker finishes it, once.
func TestShutdownReturnsInFlightJobs(t *testing.T) {
	var e *env
	slow := make(chan struct{})
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply {
		select {
		case <-slow:
			return e.goodAnswer(r)
		default:
			return llmstub.Hang()
		}
	})
	first := e.startWorker(workerOpts{shutdown: 200 * time.Millisecond, timeout: 10 * time.Second})
	fb := e.submit("interrupted", nil)
	testutil.WaitFor(t, "the model call", func() bool { return e.llm.Calls() == 1 })
	if err := first.Shutdown(accesstest.System()); err != nil {
		t.Fatal(err)
	}
	stopped := e.reload(fb.ID)
	if stopped.Status == feedback.StatusCompleted || stopped.Status == feedback.StatusFailed {
		t.Fatalf("shutdown finished the feedback: %s %v", stopped.Status, stopped.Error)
	}

	close(slow)
	e.startWorker(workerOpts{})
	testutil.WaitFor(t, "the second worker to complete the feedback", func() bool {
		return e.reload(fb.ID).Status == feedback.StatusCompleted
	})
	if n := len(e.reload(fb.ID).Edges.Adjustments); n != 2 {
		t.Fatalf("%d adjustments, want 2", n)
	}
}

// Every line logged while a job runs, the analyzer's included, names the
// job and the feedback.
func TestJobLogLinesCarryJobAndFeedbackIDs(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.llm.Enqueue(llmstub.Status(500, "once"), llmstub.Text("not json"))
	logs := &testutil.Buffer{}
	logger := slog.New(logctx.Handler(slog.NewJSONHandler(logs, nil)))
	e.startWorker(workerOpts{logger: logger})
	fb := e.submit("log me", nil)
	e.statuses(fb.ID)
	// The COMPLETED event is published before the worker logs it.
	testutil.WaitFor(t, "the completion to be logged", func() bool {
		return strings.Contains(strings.Join(logs.Lines(), "\n"), `"msg":"feedback completed"`)
	})

	seen := map[string]bool{}
	for _, line := range logs.Lines() {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		msg, _ := rec["msg"].(string)
		switch msg {
		case "processing feedback", "model call failed; retrying", "model answer invalid; asking for a repair", "feedback completed":
			seen[msg] = true
			if rec["job_id"] != pipeline.JobFor(fb).ID() || rec["feedback_id"] != float64(fb.ID) {
				t.Errorf("line without the job's IDs: %s", line)
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("saw only %v in the log", seen)
	}
}
