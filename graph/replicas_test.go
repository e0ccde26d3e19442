package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/internal/testpg"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations"
	"github.com/feedbackloop/feedbackloop/store"
)

// replicaEnv is an API over a private primary with one streaming replica,
// serving queries from the replica. Every instance (e.instance) watches
// the replica on its own and shares callers' positions through Redis.
type replicaEnv struct {
	*env
	primary, replica *testpg.Server
	standby          *sql.DB // on the replica
}

func newReplicaEnv(t *testing.T, maxLag time.Duration, positions redis.UniversalClient) *replicaEnv {
	t.Helper()
	ctx := context.Background()
	primary := testpg.Start(t)
	dsn := primary.URL("postgres")
	db, err := postgres.Open(ctx, dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Up(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	replica := primary.StartReplica(t)
	standby, err := postgres.Open(ctx, replica.URL("postgres"), postgres.Pool{MaxOpen: 2, MaxIdle: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Close() })
	prefix := "pos-" + testredis.Namespace(t) + ":"
	configure := func(cfg *graph.Config) {
		set, err := replicas.Open(ctx, replicas.Config{Primary: db, URLs: []string{replica.URL("postgres")},
			Pool: postgres.DefaultPool, MaxLag: maxLag, Metrics: cfg.Metrics, Logger: cfg.Logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { set.Close() })
		cfg.Client = store.NewClientOn(set.Driver())
		cfg.Reads, cfg.Positions = set, replicas.NewPositions(positions, prefix, maxLag)
	}
	e := newEnvOn(t, db, dsn, auth.Config{Secret: testSecret}, configure)
	return &replicaEnv{env: e, primary: primary, replica: replica, standby: standby}
}

// waitReplayed waits until the replica has replayed every write so far.
func (e *replicaEnv) waitReplayed(t *testing.T) {
	t.Helper()
	var pos string
	if err := e.db.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	testutil.WaitForWithin(t, 10*time.Second, "the replica replays the primary's writes", func() bool {
		var done bool
		return e.standby.QueryRow(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, pos).Scan(&done) == nil && done
	})
}

func (e *replicaEnv) replay(t *testing.T, on bool) {
	t.Helper()
	stmt := `SELECT pg_wal_replay_pause()`
	if on {
		stmt = `SELECT pg_wal_replay_resume()`
	}
	if _, err := e.standby.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// sendWith posts a GraphQL request to url with extra headers; it returns the
// response and its headers.
func sendWith(t *testing.T, url, cred string, header http.Header, query string, vars map[string]any) (gqlResponse, http.Header) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, resp.Header
}

const projectName = `query($id: ID!) { node(id: $id) { ... on Project { name } } }`

// nameAt is the project's name as cred reads it from url ("" when it
// cannot see it).
func nameAt(t *testing.T, url, cred, id string, header http.Header) string {
	t.Helper()
	resp, _ := sendWith(t, url, cred, header, projectName, map[string]any{"id": id})
	if len(resp.Errors) == 1 && resp.Errors[0].Extensions["code"] == graph.CodeNotFound {
		return ""
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("reading the project's name: %+v", resp.Errors)
	}
	var out struct{ Node *struct{ Name string } }
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Node == nil {
		return ""
	}
	return out.Node.Name
}

// mutate runs a mutation that must succeed and returns its write position.
func mutate(t *testing.T, url, cred, query string, vars map[string]any, out any) string {
	t.Helper()
	resp, h := sendWith(t, url, cred, nil, query, vars)
	if len(resp.Errors) > 0 {
		t.Fatalf("%s: %+v", query, resp.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			t.Fatal(err)
		}
	}
	pos := h.Get(graph.WritePositionHeader)
	if _, err := replicas.ParseLSN(pos); err != nil {
		t.Fatalf("%s header after a mutation: %v", graph.WritePositionHeader, err)
	}
	return pos
}

const rename = `mutation($id: ID!, $n: String!) { updateProject(id: $id, input: {name: $n}) { id } }`

// Queries read from the replica and mutations from the primary: with the
// replica's replay paused, a query of someone who wrote nothing sees the
// replica's stale data. The writer reads its own writes, on this instance
// and another, and so does whoever passes its write position back; a
// member removed from a project while the replica is stale no longer sees
// it.
func TestQueriesReadFromTheReplicaCallersReadTheirWrites(t *testing.T) {
	e := newReplicaEnv(t, time.Minute, testredis.Client(t))
	other := e.instance(t)
	alice, bob, carol := bearer(t, "alice"), bearer(t, "bob"), bearer(t, "carol")
	var p struct{ CreateProject struct{ ID string } }
	mutate(t, e.url, alice, `mutation { createProject(input: {name: "before"}) { id } }`, nil, &p)
	id := p.CreateProject.ID
	add := `mutation($p: ID!, $s: String!, $r: Role!) { addProjectMember(input: {projectID: $p, subject: $s, role: $r}) { id } }`
	mutate(t, e.url, alice, add, map[string]any{"p": id, "s": "bob", "r": "EDITOR"}, nil)
	var m struct{ AddProjectMember struct{ ID string } }
	mutate(t, e.url, alice, add, map[string]any{"p": id, "s": "carol", "r": "VIEWER"}, &m)
	e.waitReplayed(t)
	if got := nameAt(t, e.url, carol, id, nil); got != "before" {
		t.Fatalf("carol reads %q before any change, want before", got)
	}
	if got := nameAt(t, e.url, bob, id, nil); got != "before" {
		t.Fatalf("bob reads %q before any change, want before", got)
	}

	e.replay(t, false)
	pos := mutate(t, e.url, alice, rename, map[string]any{"id": id, "n": "after"}, nil)
	// On a loaded machine the monitor may have taken the replica out for
	// a moment (a check unanswered for 750 ms); it serves again once it
	// answers, and bob then reads its stale data.
	testutil.WaitForWithin(t, 10*time.Second, "bob, who wrote nothing, reads the paused replica's stale before (queries read from the replica)",
		func() bool { return nameAt(t, e.url, bob, id, nil) == "before" })
	if got := nameAt(t, e.url, alice, id, nil); got != "after" {
		t.Errorf("alice reads %q after renaming the project, want her own write, after", got)
	}
	if got := nameAt(t, other, alice, id, nil); got != "after" {
		t.Errorf("alice reads %q on another instance after renaming the project, want after", got)
	}
	if got := nameAt(t, e.url, bob, id, http.Header{graph.ReadAfterHeader: {pos}}); got != "after" {
		t.Errorf("bob reads %q with %s: %s, want after", got, graph.ReadAfterHeader, pos)
	}
	resp, _ := sendWith(t, e.url, bob, http.Header{graph.ReadAfterHeader: {"yesterday"}}, projectName, map[string]any{"id": id})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadRequest {
		t.Errorf("a bad %s header: %+v, want one BAD_REQUEST error", graph.ReadAfterHeader, resp.Errors)
	}

	// Mutations read from the primary: bob changes a task the replica
	// does not have yet, and then reads his own change.
	var task struct{ CreateTask struct{ ID string } }
	mutate(t, e.url, alice, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "new"}) { id } }`, map[string]any{"p": id}, &task)
	mutate(t, other, bob, `mutation($id: ID!) { updateTask(id: $id, input: {title: "by bob"}) { id } }`,
		map[string]any{"id": task.CreateTask.ID}, nil)
	resp, _ = sendWith(t, e.url, bob, nil, `query($id: ID!) { node(id: $id) { ... on Task { title } } }`, map[string]any{"id": task.CreateTask.ID})
	if string(resp.Data) != `{"node":{"title":"by bob"}}` {
		t.Errorf("bob reads %s (errors %+v) after his change, want title by bob", resp.Data, resp.Errors)
	}

	// Access taken away reaches every reader at once, whatever the replica
	// says: carol, who wrote nothing, is removed while the replica still
	// has her membership.
	mutate(t, e.url, alice, `mutation($id: ID!) { removeProjectMember(id: $id) }`, map[string]any{"id": m.AddProjectMember.ID}, nil)
	if got := nameAt(t, other, carol, id, nil); got != "" {
		t.Errorf("carol, removed from the project, still reads it as %q", got)
	}
	resp, _ = sendWith(t, e.url, carol, nil, `query($p: ID!) { projectInsights(projectID: $p) { feedbackCount } }`, map[string]any{"p": id})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeNotFound {
		t.Errorf("carol, removed from the project, asks for its insights: %s %+v, want NOT_FOUND", resp.Data, resp.Errors)
	}
}

// The lag rule through the API: a replica that stops replaying while the
// primary changes serves stale data until it is DATABASE_REPLICA_MAX_LAG
// behind, then reads go to the primary; once it catches up it serves
// again; stopped, it is replaced by the primary without an error.
func TestLaggingAndStoppedReplica(t *testing.T) {
	const maxLag = 3 * time.Second
	e := newReplicaEnv(t, maxLag, testredis.Client(t))
	alice, bob := bearer(t, "alice"), bearer(t, "bob")
	var p struct{ CreateProject struct{ ID string } }
	mutate(t, e.url, alice, `mutation { createProject(input: {name: "v1"}) { id } }`, nil, &p)
	id := p.CreateProject.ID
	mutate(t, e.url, alice, `mutation($p: ID!) { addProjectMember(input: {projectID: $p, subject: "bob", role: VIEWER}) { id } }`,
		map[string]any{"p": id}, nil)
	e.waitReplayed(t)

	e.replay(t, false)
	mutate(t, e.url, alice, rename, map[string]any{"id": id, "n": "v2"}, nil)
	written := time.Now()
	testutil.WaitForWithin(t, maxLag, "bob reads the paused replica's v1 while it lags less than the max",
		func() bool { return nameAt(t, e.url, bob, id, nil) == "v1" })
	testutil.WaitForWithin(t, maxLag+5*time.Second, "reads leave the lagging replica", func() bool { return nameAt(t, e.url, bob, id, nil) == "v2" })
	t.Logf("reads left the replica %v after it fell behind (max lag %v)", time.Since(written).Round(time.Millisecond), maxLag)

	e.replay(t, true)
	e.waitReplayed(t)
	time.Sleep(maxLag + 1500*time.Millisecond) // the monitor notices; alice's position expires
	e.replay(t, false)
	mutate(t, e.url, alice, rename, map[string]any{"id": id, "n": "v3"}, nil)
	testutil.WaitForWithin(t, maxLag, "bob reads the replica's stale v2 once it caught up and paused again (it serves again)",
		func() bool { return nameAt(t, e.url, bob, id, nil) == "v2" })

	e.replay(t, true)
	e.replica.Stop(t)
	for i := range 20 {
		if got := nameAt(t, e.url, bob, id, nil); got != "v3" {
			t.Fatalf("read %d after the replica stopped: %q, want v3 from the primary", i, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// When Redis cannot say where a caller last wrote, the caller reads from
// the primary.
func TestPositionUnknownReadsFromThePrimary(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { dead.Close() })
	e := newReplicaEnv(t, time.Minute, dead)
	alice := bearer(t, "alice")
	var p struct{ CreateProject struct{ ID string } }
	mutate(t, e.url, alice, `mutation { createProject(input: {name: "before"}) { id } }`, nil, &p)
	e.waitReplayed(t)
	e.replay(t, false)
	mutate(t, e.url, alice, rename, map[string]any{"id": p.CreateProject.ID, "n": "after"}, nil)
	if got := nameAt(t, e.url, alice, p.CreateProject.ID, nil); got != "after" {
		t.Errorf("alice reads %q after her change with Redis down, want after", got)
	}
}
