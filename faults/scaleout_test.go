package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testpg"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// 8. Scale-out: the topology the design draws, on real engines. Two API
// instances and two workers over three Redis servers under three Sentinels
// and a PostgreSQL primary with a streaming replica. While feedback is
// submitted and subscribers watch, the Redis master is killed (Sentinel
// promotes a replica), an API instance and a worker are killed, and the
// PostgreSQL replica is stopped and started. Afterwards every stored
// feedback is COMPLETED or FAILED with a reason, none analysed twice; every
// subscriber, resuming by cursor, has every event of its project once and
// in order; every submission was readable at once by its caller on the
// other instance.
func TestScaleOutSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 13 processes")
	}
	redis := testredis.StartSentinel(t, 2, 3)
	w := newScaleWorld(t, map[string]string{
		"REDIS_SENTINEL_ADDRS":  strings.Join(redis.Addrs(), ","),
		"REDIS_SENTINEL_MASTER": redis.MasterName(),
	})
	s := w.run(scaleRun{
		feedback: 500, projects: 10, watchers: 200, apis: 2, workers: 2,
		faults: []scaleFault{
			{at: 100, name: "Redis master killed", do: func(t *testing.T, _ *scaleWorld) { redis.Master(t).Kill(t) }, gaps: true},
			{at: 200, name: "API instance killed", do: func(t *testing.T, sw *scaleWorld) { sw.apis[1].kill(t) }},
			{at: 300, name: "worker killed", do: func(t *testing.T, sw *scaleWorld) { sw.workers[0].kill(t) }},
			{at: 400, name: "replica stopped and started", do: func(t *testing.T, sw *scaleWorld) {
				sw.replica.Stop(t)
				time.Sleep(2 * time.Second)
				sw.replica.Restart(t)
			}},
		},
	})
	injected(4)
	t.Logf("scale-out (Sentinel): %s", s)
}

// 9. The same, smaller, over a Redis Cluster of three masters, each with a
// replica: every script, key and channel the service uses works across its
// slots, and when the master holding the job queue is killed its replica
// takes over the queue.
func TestScaleOutCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 12 processes")
	}
	redis := testredis.StartClusterWithReplicas(t, 3, 1)
	w := newScaleWorld(t, map[string]string{"REDIS_CLUSTER_ADDRS": strings.Join(redis.Addrs(), ",")})
	s := w.run(scaleRun{
		feedback: 150, projects: 4, watchers: 40, apis: 2, workers: 2,
		faults: []scaleFault{
			// asynq keeps a queue's keys under the hash tag of its name.
			{at: 30, name: "Redis master of the queue killed", do: func(t *testing.T, _ *scaleWorld) { redis.MasterOf(t, "{feedback}").Kill(t) }, gaps: true},
			{at: 70, name: "API instance killed", do: func(t *testing.T, sw *scaleWorld) { sw.apis[1].kill(t) }},
			{at: 110, name: "worker killed", do: func(t *testing.T, sw *scaleWorld) { sw.workers[0].kill(t) }},
		},
	})
	injected(3)
	t.Logf("scale-out (Cluster): %s", s)
}

// scaleWorld is a world whose PostgreSQL has a streaming replica and whose
// Redis is the topology the test names.
type scaleWorld struct {
	*world
	replica *testpg.Server
	apis    []*proc
	workers []*proc
}

func newScaleWorld(t *testing.T, redisEnv map[string]string) *scaleWorld {
	w := newWorldOn(t, testpg.Start(t), nil, redisEnv)
	sw := &scaleWorld{world: w, replica: w.pg.StartReplica(t)}
	// A worker killed after asynq handed it a job but before it claimed the
	// feedback leaves the job active in Redis, where only asynq's recoverer
	// can take it back: its lease is 30 s, it allows 30 s more for clock
	// skew and it looks once a minute, so such feedback may wait two
	// minutes (docs/operations.md, what fails how).
	w.settle = 150 * time.Second
	w.env["DATABASE_REPLICA_URLS"] = sw.replica.URL("feedbackloop")
	w.env["DATABASE_REPLICA_MAX_LAG"] = "1s"
	// One caller (open mode's local admin) submits everything.
	w.env["SUBMISSION_LIMIT_PER_CLIENT"] = "100000"
	w.env["SUBMISSION_LIMIT_PER_PROJECT"] = "100000"
	w.env["RATE_LIMIT_POINTS"] = "100000000"
	w.env["MAX_WS_CONNECTIONS_PER_CLIENT"] = "100000"
	return sw
}

type scaleRun struct {
	feedback, projects, watchers, apis, workers int
	faults                                      []scaleFault
}

// scaleFault is injected once the run has submitted at feedback.
type scaleFault struct {
	at   int
	name string
	do   func(*testing.T, *scaleWorld)
	gaps bool // measure the time to the first job and event after it
}

// scaleReport is what a run measured.
type scaleReport struct {
	submitted, refused, readOwnWrite int
	jobGap, eventGap, notReady       time.Duration
	lagMax, lagP50                   time.Duration
	reconnects                       int64
}

func (r scaleReport) String() string {
	return fmt.Sprintf("%d feedback accepted (%d submissions refused), %d read back at once on the other instance; "+
		"after the Redis master was killed: first job %s, first event %s, /readyz 503 for %s; replica replay lag p50 %s, max %s; %d subscriber reconnections",
		r.submitted, r.refused, r.readOwnWrite, r.jobGap.Round(time.Millisecond), r.eventGap.Round(time.Millisecond),
		r.notReady.Round(time.Millisecond), r.lagP50, r.lagMax, r.reconnects)
}

func (sw *scaleWorld) run(cfg scaleRun) scaleReport {
	t := sw.t
	t.Helper()
	for range cfg.apis {
		sw.apis = append(sw.apis, sw.start("api"))
	}
	for range cfg.workers {
		sw.workers = append(sw.workers, sw.start("worker"))
	}
	var projects []string
	for range cfg.projects {
		projects = append(projects, project(t, sw.apis[0]))
	}

	stop := make(chan struct{})
	var watchers []*watcher
	var wg sync.WaitGroup
	for i := range cfg.watchers {
		wt := &watcher{project: projects[i%len(projects)], seen: map[string][]int{}, statuses: map[string]string{}}
		watchers = append(watchers, wt)
		first := i % len(sw.apis)
		wg.Go(func() { wt.watch(sw, first, stop) })
	}
	for _, wt := range watchers {
		wt.waitSubscribed(t)
	}
	// A pong says the server has read the subscribe message, not that the
	// subscription has started listening; no feedback exists yet, so a
	// moment's wait costs nothing.
	time.Sleep(time.Second)

	lag := sw.sampleLag(stop)
	var report scaleReport
	var submitted, refused, readBack atomic.Int64
	faults := slices.Clone(cfg.faults)
	sort.Slice(faults, func(i, j int) bool { return faults[i].at < faults[j].at })
	var killedAt time.Time
	var notReady <-chan time.Duration
	for n := 0; n < cfg.feedback; n++ {
		for len(faults) > 0 && n == faults[0].at {
			f := faults[0]
			faults = faults[1:]
			t.Logf("%d submitted: %s", n, f.name)
			if f.gaps {
				killedAt = time.Now()
				notReady = sw.timeNotReady(sw.apis[0], 20*time.Second)
				f.do(t, sw)
			} else {
				f.do(t, sw)
			}
		}
		api, other := sw.pick(n)
		id, err := submitOnce(api, projects[n%len(projects)], fmt.Sprintf("scale-out feedback %d", n))
		if err != nil {
			refused.Add(1)
			continue
		}
		submitted.Add(1)
		if sw.visible(other, id) {
			readBack.Add(1)
		} else {
			t.Errorf("feedback %s submitted on %s was not visible at once on %s", id, api.base, other.base)
		}
	}
	tally.Lock()
	tally.submitted += int(submitted.Load())
	tally.Unlock()

	// Every stored feedback, whether or not its submitter heard the answer.
	rows, err := sw.database().Query(`SELECT id FROM feedbacks ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, gid.Encode(id))
	}
	rows.Close()
	if len(ids) < int(submitted.Load()) {
		t.Errorf("%d feedback stored, %d accepted", len(ids), submitted.Load())
	}
	sw.outcomes(ids...)
	sw.checkWatchers(watchers)
	if n := sw.replicaReads(); n == 0 {
		t.Error("no query was served by the replica: read-your-writes was not put to the test")
	} else {
		t.Logf("%d queries served by the replica", n)
	}
	close(stop)
	wg.Wait()

	report.submitted, report.refused, report.readOwnWrite = int(submitted.Load()), int(refused.Load()), int(readBack.Load())
	if !killedAt.IsZero() {
		report.jobGap, report.eventGap = sw.gapsAfter(killedAt, watchers)
	}
	for _, wt := range watchers {
		report.reconnects += wt.reconnects.Load()
	}
	report.lagP50, report.lagMax = lag()
	if notReady != nil {
		report.notReady = <-notReady
	}
	return report
}

// pick returns the live API instance to submit to and the other one to
// read back on (the same one when only one is left).
func (sw *scaleWorld) pick(n int) (*proc, *proc) {
	live := sw.liveAPIs()
	return live[n%len(live)], live[(n+1)%len(live)]
}

func (sw *scaleWorld) liveAPIs() []*proc {
	var live []*proc
	for _, p := range sw.apis {
		select {
		case <-p.done:
		default:
			live = append(live, p)
		}
	}
	return live
}

func submitOnce(api *proc, projectID, text string) (string, error) {
	resp := postVars(api, `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id status } }`,
		map[string]any{"in": map[string]any{"projectID": projectID, "feedbackText": text}})
	if resp.err != nil {
		return "", resp.err
	}
	var out struct{ SubmitFeedback struct{ ID, Status string } }
	if err := json.Unmarshal(resp.Data, &out); err != nil || out.SubmitFeedback.ID == "" {
		return "", fmt.Errorf("submission refused: %s %+v", resp.Data, resp.Errors)
	}
	return out.SubmitFeedback.ID, nil
}

// visible reports whether the feedback can be read on api at once.
func (sw *scaleWorld) visible(api *proc, id string) bool {
	resp := postVars(api, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
	if resp.err != nil {
		select {
		case <-api.done:
			return true // that instance was killed meanwhile; nothing to judge
		default:
			sw.t.Logf("read back on %s: %v", api.base, resp.err)
			return false
		}
	}
	return strings.Contains(string(resp.Data), id)
}

type scaleResponse struct {
	gqltest.Response
	err error
}

func postVars(p *proc, query string, vars map[string]any) scaleResponse {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(p.base+"/query", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return scaleResponse{err: err}
	}
	defer resp.Body.Close()
	var out gqltest.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return scaleResponse{err: fmt.Errorf("%d: %w", resp.StatusCode, err)}
	}
	return scaleResponse{Response: out}
}

// replicaReads sums, over the live API instances, the reads their /metrics
// say went to a replica.
func (sw *scaleWorld) replicaReads() int {
	total := 0
	for _, api := range sw.liveAPIs() {
		resp, err := http.Get(api.base + "/metrics")
		if err != nil {
			sw.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if !strings.HasPrefix(line, "feedbackloop_db_reads_total{") || strings.Contains(line, `target="primary"`) {
				continue
			}
			fields := strings.Fields(line)
			n, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
			total += int(n)
		}
	}
	return total
}

// timeNotReady polls api's /readyz every 50 ms for up to limit and returns
// how long it answered 503.
func (sw *scaleWorld) timeNotReady(api *proc, limit time.Duration) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		var total time.Duration
		end := time.Now().Add(limit)
		for time.Now().Before(end) {
			// A poll may wait on the check's own timeout: count its
			// whole time, and the pause after it, when it says 503.
			start := time.Now()
			resp, err := http.Get(api.base + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			time.Sleep(50 * time.Millisecond)
			if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
				total += time.Since(start)
			}
		}
		out <- total
	}()
	return out
}

// sampleLag reads the replica's replay lag from the primary every 200 ms
// until stop; the returned function gives the median and the maximum.
func (sw *scaleWorld) sampleLag(stop <-chan struct{}) func() (time.Duration, time.Duration) {
	var mu sync.Mutex
	var samples []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var ms float64
			err := sw.database().QueryRow(`SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0) FROM pg_stat_replication LIMIT 1`).Scan(&ms)
			if err == nil {
				mu.Lock()
				samples = append(samples, time.Duration(ms*float64(time.Millisecond)))
				mu.Unlock()
			}
		}
	}()
	return func() (time.Duration, time.Duration) {
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(samples) == 0 {
			return 0, 0
		}
		slices.Sort(samples)
		return samples[len(samples)/2].Round(time.Millisecond), samples[len(samples)-1].Round(time.Millisecond)
	}
}

// gapsAfter measures, from the moment the Redis master was killed, the time
// to the first job a worker took from the queue and to the first event a
// subscriber received, each of a feedback submitted after the kill (so its
// job and its events needed the new master).
func (sw *scaleWorld) gapsAfter(killed time.Time, watchers []*watcher) (job, event time.Duration) {
	var first time.Time
	err := sw.database().QueryRow(`SELECT min(e.created_at) FROM outbox_events e JOIN feedbacks f ON f.id = e.object_id
		WHERE e.kind = 'feedback' AND f.created_at > $1 AND e.payload::text LIKE '%"PROCESSING"%'`, killed).Scan(&first)
	if err == nil {
		job = first.Sub(killed)
	}
	after := map[string]bool{}
	rows, err := sw.database().Query(`SELECT id FROM feedbacks WHERE created_at > $1`, killed)
	if err != nil {
		sw.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			sw.t.Fatal(err)
		}
		after[gid.Encode(id)] = true
	}
	for _, wt := range watchers {
		if d := wt.firstOf(after, killed); d > 0 && (event == 0 || d < event) {
			event = d
		}
	}
	return job, event
}

// watcher is one subscriber of a project's feedback events that resumes
// by cursor on a live instance whenever its connection ends.
type watcher struct {
	project    string
	subscribed chan struct{}
	once       sync.Once
	reconnects atomic.Int64

	mu       sync.Mutex
	seen     map[string][]int  // feedback ID → versions in arrival order
	statuses map[string]string // feedback ID → last status
	arrivals []arrival
	cursor   string
}

type arrival struct {
	feedback string
	received time.Time
}

func (wt *watcher) waitSubscribed(t *testing.T) {
	t.Helper()
	select {
	case <-wt.ready():
	case <-time.After(30 * time.Second):
		t.Fatalf("a subscriber of %s did not subscribe within 30s", wt.project)
	}
}

func (wt *watcher) ready() chan struct{} {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.subscribed == nil {
		wt.subscribed = make(chan struct{})
	}
	return wt.subscribed
}

func (wt *watcher) watch(sw *scaleWorld, first int, stop <-chan struct{}) {
	ready := wt.ready()
	for attempt := 0; ; attempt++ {
		select {
		case <-stop:
			return
		default:
		}
		live := sw.liveAPIs()
		if len(live) == 0 {
			return
		}
		api := live[(first+attempt)%len(live)]
		if attempt > 0 {
			wt.reconnects.Add(1)
		}
		wt.session(api, ready, stop)
		time.Sleep(100 * time.Millisecond)
	}
}

// session subscribes on api from the watcher's cursor and records events
// until the connection ends or stop is closed.
func (wt *watcher) session(api *proc, ready chan struct{}, stop <-chan struct{}) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(api.base, "http")+"/query", http.Header{"Origin": {api.base}})
	if err != nil {
		return
	}
	defer conn.Close()
	go func() { <-stop; conn.Close() }()
	if conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{}}) != nil {
		return
	}
	wt.mu.Lock()
	vars := map[string]any{"p": wt.project}
	if wt.cursor != "" {
		vars["after"] = wt.cursor
	}
	wt.mu.Unlock()
	subscribed := false
	for {
		var m struct {
			Type    string
			Payload json.RawMessage
		}
		if err := conn.ReadJSON(&m); err != nil {
			return
		}
		switch m.Type {
		case "connection_ack":
			err := conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query": `subscription($p: ID!, $after: String) { projectFeedbackEvents(projectID: $p, after: $after) {
					feedback { id } status version cursor } }`,
				"variables": vars}})
			if err != nil {
				return
			}
			// The server has the subscription once it answers a ping
			// sent after it (messages of a connection are handled in order).
			_ = conn.WriteJSON(map[string]any{"type": "ping"})
		case "pong":
			if !subscribed {
				subscribed = true
				wt.once.Do(func() { close(ready) })
			}
		case "next":
			var p struct {
				Data struct {
					ProjectFeedbackEvents struct {
						Feedback struct{ ID string }
						Status   string
						Version  int
						Cursor   string
					}
				}
			}
			if json.Unmarshal(m.Payload, &p) != nil {
				return
			}
			e := p.Data.ProjectFeedbackEvents
			wt.mu.Lock()
			wt.seen[e.Feedback.ID] = append(wt.seen[e.Feedback.ID], e.Version)
			wt.statuses[e.Feedback.ID] = e.Status
			wt.arrivals = append(wt.arrivals, arrival{feedback: e.Feedback.ID, received: time.Now()})
			wt.cursor = e.Cursor
			wt.mu.Unlock()
		case "error", "complete":
			return
		}
	}
}

// firstOf returns how long after t the watcher received its first event
// of a feedback in ids (0 if none).
func (wt *watcher) firstOf(ids map[string]bool, t time.Time) time.Duration {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	for _, a := range wt.arrivals {
		if ids[a.feedback] {
			return a.received.Sub(t)
		}
	}
	return 0
}

// checkWatchers waits until every watcher has seen each feedback of its
// project reach its end, then compares what each saw with the outbox: every
// event of its project once and in order.
func (sw *scaleWorld) checkWatchers(watchers []*watcher) {
	t := sw.t
	t.Helper()
	want := map[string]map[string][]int{} // project → feedback → versions
	rows, err := sw.database().Query(`SELECT f.project_id, e.object_id, e.version FROM outbox_events e JOIN feedbacks f ON f.id = e.object_id
		WHERE e.kind = 'feedback' ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var project, object, version int
		if err := rows.Scan(&project, &object, &version); err != nil {
			t.Fatal(err)
		}
		p, f := gid.Encode(project), gid.Encode(object)
		if want[p] == nil {
			want[p] = map[string][]int{}
		}
		want[p][f] = append(want[p][f], version)
	}
	rows.Close()

	deadline := time.Now().Add(60 * time.Second)
	bad := 0
	for _, wt := range watchers {
		for {
			wt.mu.Lock()
			diff := compareSeen(want[wt.project], wt.seen)
			wt.mu.Unlock()
			if diff == "" {
				break
			}
			if time.Now().After(deadline) {
				bad++
				if bad <= 5 {
					t.Errorf("a subscriber of project %s: %s", wt.project, diff)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d subscribers did not get every event of their project once and in order", bad, len(watchers))
	}
}

// compareSeen describes how seen differs from want ("" when it does not).
func compareSeen(want, seen map[string][]int) string {
	for f, versions := range want {
		if got := seen[f]; !slices.Equal(got, versions) {
			return fmt.Sprintf("feedback %s: versions %v, want %v", f, got, versions)
		}
	}
	for f := range seen {
		if _, ok := want[f]; !ok {
			return fmt.Sprintf("events of feedback %s, which is not of the project", f)
		}
	}
	return ""
}
