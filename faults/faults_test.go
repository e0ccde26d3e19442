package faults

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

const followQuery = `subscription($id: ID!) { feedbackStatusChanged(id: $id) { status version } }`

// 1. A worker killed mid-job (the model call in flight): after the lease
// expires another worker takes the feedback over and completes it once.
func TestWorkerKilledMidJob(t *testing.T) {
	w := newWorld(t, nil)
	api := w.start("api")
	first := w.start("worker")
	id := submit(t, api, project(t, api), "[fail:hang:1] the worker dies while the model thinks")
	testutil.WaitForWithin(t, 60*time.Second, "the first model call", func() bool { return w.modelCalls("[fail:hang:1]") == 1 })
	first.kill(t)

	w.start("worker")
	o := w.outcomes(id)[id]
	if o.Status != "COMPLETED" || o.Attempts != 2 {
		t.Fatalf("after the takeover: %+v, want COMPLETED on the second attempt", o)
	}
}

// 2. Redis down when feedback is submitted: intake goes on. The submission
// budget is counted from PostgreSQL's feedback rows, so 5 of 5 submissions
// are accepted and stored PENDING, and the next one beyond the budget is
// refused with RATE_LIMITED, as Redis would refuse it; reads go on too.
// With PostgreSQL down as well, a submission fails UNAVAILABLE. Once Redis
// is back the API queues what it accepted at once (before any worker or
// reconciler runs), and feedback queued before Redis went down, and lost
// with it (this Redis keeps nothing on disk), is queued again by the
// reconciler: every one ends COMPLETED.
func TestRedisDownAtSubmission(t *testing.T) {
	const before, during = 3, 5
	w := newWorld(t, map[string]string{"SUBMISSION_LIMIT_PER_CLIENT": strconv.Itoa(before + during)})
	api := w.start("api")
	pid := project(t, api)
	var ids []string
	for i := 0; i < before; i++ {
		ids = append(ids, submit(t, api, pid, "queued, then lost with Redis"))
	}

	w.redis.Stop(t)
	injected(1)
	var accepted []string
	for i := 0; i < during; i++ {
		accepted = append(accepted, submit(t, api, pid, "submitted while Redis is down"))
	}
	submission := fmt.Sprintf(`mutation { submitFeedback(input: {projectID: %q, feedbackText: "submitted while Redis is down"}) { id } }`, pid)
	got := postRaw(t, api, submission)
	if len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != "RATE_LIMITED" ||
		!strings.Contains(got.Errors[0].Message, fmt.Sprintf("you have submitted %d feedback submissions within an hour, the most allowed; retry in", before+during)) {
		t.Errorf("submission beyond the budget with Redis down: %+v", got.Errors)
	}
	if got := postRaw(t, api, `{ projects(first: 5) { totalCount } }`); len(got.Errors) > 0 || string(got.Data) != `{"projects":{"totalCount":1}}` {
		t.Errorf("read with Redis down: %s %+v", got.Data, got.Errors)
	}
	if code := readyz(t, api); code != 503 {
		t.Errorf("/readyz = %d while Redis is down, want 503", code)
	}
	var pending int
	if err := w.database().QueryRow(`SELECT count(*) FROM feedbacks WHERE status = 'PENDING'`).Scan(&pending); err != nil || pending != before+during {
		t.Errorf("%d feedbacks PENDING (%v), want the %d accepted", pending, err, before+during)
	}

	w.pg.Stop(t)
	injected(1)
	got = postRaw(t, api, submission)
	if len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != "UNAVAILABLE" || !strings.Contains(got.Errors[0].Message, "database is unavailable") {
		t.Errorf("submission with Redis and PostgreSQL down: %+v", got.Errors)
	}
	w.pg.Restart(t)

	w.redis.Restart(t)
	back := time.Now()
	testutil.WaitForWithin(t, 10*time.Second, "the API to queue what it accepted", func() bool {
		queued := map[string]bool{}
		for _, line := range strings.Split(api.logs.String(), "\n") {
			if strings.Contains(line, `"msg":"queued feedback that waited for the queue"`) {
				queued[regexp.MustCompile(`"feedback_id":\d+`).FindString(line)] = true
			}
		}
		for _, id := range accepted {
			if !queued[fmt.Sprintf(`"feedback_id":%d`, dbID(t, id))] {
				return false
			}
		}
		return true
	})
	t.Logf("the API queued the %d accepted feedback %s after Redis came back", during, time.Since(back).Round(10*time.Millisecond))
	w.start("worker")
	for id, o := range w.outcomes(append(ids, accepted...)...) {
		if o.Status != "COMPLETED" {
			t.Errorf("feedback %s: %+v", id, o)
		}
	}
	// go-redis fails fast after a run of dial errors until its background
	// probe (one a second) reaches the server again, so readiness may lag
	// Redis's return by about a second; not by more.
	code := readyz(t, api)
	for deadline := time.Now().Add(5 * time.Second); code != 200 && time.Now().Before(deadline); code = readyz(t, api) {
		time.Sleep(100 * time.Millisecond)
	}
	if code != 200 {
		t.Errorf("/readyz = %d 5s after Redis came back", code)
	}
}

// 3. Redis restarted while clients are subscribed: the API re-subscribes,
// a subscriber that missed the COMPLETED event meanwhile gets it from
// PostgreSQL, and later events flow again.
func TestRedisRestartWithSubscribers(t *testing.T) {
	w := newWorld(t, nil)
	api := w.start("api")
	w.start("worker")
	pid := project(t, api)
	id := submit(t, api, pid, "[gate] finishes while Redis is down")
	testutil.WaitForWithin(t, 60*time.Second, "the model call", func() bool { return w.modelCalls("[gate]") == 1 })

	c := gqltest.Dial(t, api.base, gqltest.TransportWS)
	c.Subscribe("f", followQuery, map[string]any{"id": id})
	var ev map[string]struct{ Status string }
	c.NextData(&ev)
	if ev["feedbackStatusChanged"].Status != "PROCESSING" {
		t.Fatalf("first event %+v", ev)
	}

	w.redis.Kill(t)
	injected(1)
	w.openGate() // the worker completes; its event cannot be published
	testutil.WaitForWithin(t, 60*time.Second, "the feedback to complete in PostgreSQL", func() bool {
		var status string
		_ = w.database().QueryRow(`SELECT status FROM feedbacks WHERE id = $1`, dbID(t, id)).Scan(&status)
		return status == "COMPLETED"
	})
	w.redis.Restart(t)

	c.NextData(&ev)
	if ev["feedbackStatusChanged"].Status != "COMPLETED" {
		t.Fatalf("after the restart: %+v, want the missed COMPLETED", ev)
	}
	c.ExpectComplete("f")

	// Later events reach subscribers again.
	later := submit(t, api, pid, "after the restart")
	c.Subscribe("g", followQuery, map[string]any{"id": later})
	for {
		c.NextData(&ev)
		if ev["feedbackStatusChanged"].Status == "COMPLETED" {
			break
		}
	}
	c.ExpectComplete("g")
	w.outcomes(id, later)
}

// 4. PostgreSQL restarted: requests during the outage get UNAVAILABLE, the
// service recovers by itself, and the job that could not store its result
// stores it afterwards.
func TestPostgresRestart(t *testing.T) {
	w := newWorld(t, nil)
	api := w.start("api")
	w.start("worker")
	id := submit(t, api, project(t, api), "[gate] result written after the outage")
	testutil.WaitForWithin(t, 60*time.Second, "the model call", func() bool { return w.modelCalls("[gate]") == 1 })

	w.pg.Stop(t)
	injected(1)
	resp := postRaw(t, api, `{ projects(first: 1) { totalCount } }`)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "UNAVAILABLE" {
		t.Fatalf("query during the outage: %d %+v", resp.Status, resp.Errors)
	}
	for _, leak := range []string{"pq:", "dial tcp", "connection refused"} {
		if strings.Contains(resp.Errors[0].Message, leak) {
			t.Errorf("the error leaks %q: %s", leak, resp.Errors[0].Message)
		}
	}
	w.openGate()
	time.Sleep(500 * time.Millisecond) // the worker tries to store its result meanwhile
	w.pg.Restart(t)

	if o := w.outcomes(id)[id]; o.Status != "COMPLETED" {
		t.Fatalf("after the outage: %+v", o)
	}
	testutil.WaitForWithin(t, 60*time.Second, "queries to work again", func() bool {
		return len(postRaw(t, api, `{ projects(first: 1) { totalCount } }`).Errors) == 0
	})
}

// 5. Model failures end COMPLETED (after retry or repair) or FAILED with a
// readable reason, and retryFeedback works afterwards.
func TestModelFailures(t *testing.T) {
	w := newWorld(t, map[string]string{"LLM_TIMEOUT": "500ms"})
	api := w.start("api")
	w.start("worker")
	pid := project(t, api)
	cases := []struct {
		script, status, reason string
	}{
		{"[fail:429:1]", "COMPLETED", ""},
		{"[fail:429ra:1]", "COMPLETED", ""},
		{"[fail:500:1]", "COMPLETED", ""},
		{"[fail:truncated:1]", "COMPLETED", ""},
		{"[fail:500:2]", "FAILED", "HTTP 500"},
		{"[fail:hang:2]", "FAILED", "did not answer within 500ms"},
		{"[fail:schema:2]", "FAILED", "invalid twice"},
		{"[fail:400:1]", "FAILED", "rejected the request (HTTP 400)"},
	}
	ids := map[string]string{}
	for _, c := range cases {
		ids[c.script] = submit(t, api, pid, c.script+" model trouble")
		injected(1)
	}
	var failed []string
	for _, c := range cases {
		o := w.outcomes(ids[c.script])[ids[c.script]]
		if o.Status != c.status || !strings.Contains(o.Error, c.reason) {
			t.Errorf("%s: %+v, want %s with %q", c.script, o, c.status, c.reason)
		}
		if o.Status == "FAILED" {
			failed = append(failed, ids[c.script])
		}
	}
	if w.modelCalls("[fail:400:1]") != 1 {
		t.Errorf("a 400 was retried: %d calls", w.modelCalls("[fail:400:1]"))
	}
	for _, id := range failed {
		gqltest.MustPost(t, api.base, `mutation($id: ID!) { retryFeedback(id: $id) { status } }`, map[string]any{"id": id}, nil)
	}
	for id, o := range w.outcomes(failed...) {
		if o.Status != "COMPLETED" {
			t.Errorf("retried %s: %+v", id, o)
		}
	}
}

// 6. SIGTERM to the API and the worker under load: websocket clients get
// 1001, in-flight jobs finish or go back to the queue, and new processes
// finish everything.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	w := newWorld(t, map[string]string{"WORKER_CONCURRENCY": "2"})
	api := w.start("api")
	worker := w.start("worker")
	pid := project(t, api)
	var ids []string
	for i := 0; i < 10; i++ {
		ids = append(ids, submit(t, api, pid, "[slow] under load"))
	}
	clients := []*gqltest.WS{gqltest.Dial(t, api.base, gqltest.TransportWS), gqltest.Dial(t, api.base, gqltest.LegacyWS)}
	for _, c := range clients {
		c.Subscribe("p", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`, map[string]any{"p": pid})
	}
	testutil.WaitForWithin(t, 60*time.Second, "jobs in flight", func() bool { return w.modelCalls("[slow]") >= 2 })

	api.terminate(t, 15*time.Second)
	worker.terminate(t, 15*time.Second)
	injected(2)
	for _, c := range clients {
		if ce := c.WaitClosed(); ce == nil || ce.Code != websocket.CloseGoingAway {
			t.Errorf("%s client closed with %v, want 1001", c.Proto, ce)
		}
	}

	api = w.start("api")
	w.start("worker")
	for id, o := range w.outcomes(ids...) {
		if o.Status != "COMPLETED" {
			t.Errorf("feedback %s: %+v", id, o)
		}
	}
}

// 7. Poison jobs (a corrupt payload, a deleted feedback) are dead-lettered
// and do not block the queue.
func TestPoisonJobs(t *testing.T) {
	w := newWorld(t, nil)
	api := w.start("api")
	pid := project(t, api)
	gone := submit(t, api, pid, "deleted before analysis")
	if _, err := w.database().Exec(`DELETE FROM feedbacks WHERE id = $1`, dbID(t, gone)); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: w.redis.Addr})
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.EnqueueContext(context.Background(), asynq.NewTask("feedback:analyze", []byte("{not json")),
		asynq.Queue("feedback"), asynq.MaxRetry(2)); err != nil {
		t.Fatal(err)
	}
	injected(2)
	healthy := submit(t, api, pid, "behind the poison")

	w.start("worker")
	w.outcomes(healthy)
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	testutil.WaitForWithin(t, 60*time.Second, "both poison jobs to be dead-lettered", func() bool {
		info, err := inspector.GetQueueInfo("feedback")
		return err == nil && info.Archived == 2
	})
}
