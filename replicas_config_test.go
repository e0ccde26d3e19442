package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testpg"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// Replica URLs are read as a list, checked without echoing them (they may
// hold passwords), and the max lag defaults to 5s.
func TestReplicaSettings(t *testing.T) {
	env := map[string]string{"DATABASE_REPLICA_URLS": "postgres://u:secret@db-1:5432/f, postgresql://db-2/f"}
	cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil || !slices.Equal(cfg.DatabaseReplicaURLs, []string{"postgres://u:secret@db-1:5432/f", "postgresql://db-2/f"}) ||
		cfg.DatabaseReplicaMaxLag != 5*time.Second {
		t.Errorf("replicas = %q, max lag %v, %v", cfg.DatabaseReplicaURLs, cfg.DatabaseReplicaMaxLag, err)
	}
	env = map[string]string{"DATABASE_REPLICA_URLS": "postgres://u:secret@db-1/f,secret-host:5432", "DATABASE_REPLICA_MAX_LAG": "250ms"}
	cfg, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_REPLICA_URLS: replica 2 of 2 must be a URL such as postgres://") {
		t.Errorf("a URL that is not one: %v", err)
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the value: %v", err)
	}
	if cfg.DatabaseReplicaMaxLag != 250*time.Millisecond {
		t.Errorf("DATABASE_REPLICA_MAX_LAG=250ms read as %v", cfg.DatabaseReplicaMaxLag)
	}
}

// The process wired with DATABASE_REPLICA_URLS: a query is served by the
// replica (the metrics say where reads went), a mutation reports its write
// position, and the caller then reads its own write although the replica
// has stopped replaying.
func TestServerReadsFromTheReplica(t *testing.T) {
	primary := testpg.Start(t)
	replica := primary.StartReplica(t)
	ns := testredis.Namespace(t)
	base, logs := startProcess(t, map[string]string{
		"ROLE": "api", "DATABASE_URL": primary.URL("feedbackloop"), "DATABASE_REPLICA_URLS": replica.URL("feedbackloop"),
		"REDIS_URL": testredis.URL(), "QUEUE_NAME": "q-" + ns, "EVENTS_CHANNEL": "ev-" + ns,
	})
	post := func(query string, vars map[string]any) (map[string]any, http.Header) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data   map[string]any
			Errors []any
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Errors != nil {
			t.Fatalf("%s: %v %v", query, out.Errors, err)
		}
		return out.Data, resp.Header
	}
	name := func(id string) string {
		data, _ := post(`query($id: ID!) { node(id: $id) { ... on Project { name } } }`, map[string]any{"id": id})
		return data["node"].(map[string]any)["name"].(string)
	}
	data, h := post(`mutation { createProject(input: {name: "before"}) { id } }`, nil)
	id := data["createProject"].(map[string]any)["id"].(string)
	if h.Get("X-Write-Position") == "" {
		t.Error("no X-Write-Position after a mutation")
	}
	standby, err := sql.Open("postgres", replica.URL("feedbackloop"))
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close()
	testutil.WaitForWithin(t, 10*time.Second, "the replica has the project", func() bool {
		var n int
		return standby.QueryRow(`SELECT count(*) FROM projects`).Scan(&n) == nil && n == 1
	})
	if got := name(id); got != "before" {
		t.Fatalf("name %q, want before", got)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The caller's own write makes it caught_up (the replica had replayed
	// it, perhaps after a wait) rather than replica.
	served := `target="127.0.0.1:` + strconv.Itoa(replica.Port) + `"}`
	if !strings.Contains(grepLines(string(metrics), "feedbackloop_db_reads_total{"), served) ||
		!strings.Contains(string(metrics), "feedbackloop_db_replica_lag_seconds{") {
		t.Errorf("/metrics lacks %s or the replica's lag:\n%s", served, grepLines(string(metrics), "feedbackloop_db_"))
	}
	if _, err := standby.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	post(`mutation($id: ID!) { updateProject(id: $id, input: {name: "after"}) { id } }`, map[string]any{"id": id})
	if got := name(id); got != "after" {
		t.Errorf("the caller reads %q after its rename, with the replica paused: want its own write, after", got)
	}
	if !logs.Contains("read replica gets reads") {
		t.Errorf("no log line says the replica gets reads:\n%s", logs.String())
	}
}

func grepLines(s, part string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, part) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
