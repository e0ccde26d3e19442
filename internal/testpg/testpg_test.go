package testpg_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testpg"
)

func open(t *testing.T, s *testpg.Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// reachable reports whether a fresh connection to s gets an answer.
func reachable(t *testing.T, s *testpg.Server) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return open(t, s).PingContext(ctx)
}

func values(t *testing.T, s *testpg.Server) []int {
	t.Helper()
	rows, err := open(t, s).Query(`SELECT v FROM kept ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestStopKillRestartKeepData(t *testing.T) {
	s := testpg.Start(t)
	port := s.Port
	if !s.Running() {
		t.Fatal("Running() = false after Start")
	}
	db := open(t, s)
	if _, err := db.Exec(`CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	s.Stop(t)
	if s.Running() {
		t.Error("Running() = true after Stop")
	}
	if err := reachable(t, s); err == nil {
		t.Fatal("connected to a stopped server")
	}
	s.Stop(t) // idempotent

	s.Restart(t)
	if s.Port != port || !s.Running() {
		t.Fatalf("after Restart: port %d (was %d), running %v", s.Port, port, s.Running())
	}
	// The pool's connections died with the server; database/sql replaces
	// them, as the service's pools do.
	if _, err := db.Exec(`INSERT INTO kept VALUES (2)`); err != nil {
		t.Fatalf("insert after Restart: %v", err)
	}

	s.Kill(t)
	if s.Running() {
		t.Error("Running() = true after Kill")
	}
	if err := reachable(t, s); err == nil {
		t.Fatal("connected to a killed server")
	}
	s.Restart(t)
	if got := values(t, s); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("rows after Stop, Restart, Kill, Restart: %v, want [1 2]", got)
	}
}

// Kill must not lose acknowledged commits, or fault tests would blame the
// service for losses that no real crash of PostgreSQL causes.
func TestKillKeepsAcknowledgedCommits(t *testing.T) {
	s := testpg.Start(t)
	db := open(t, s)
	if _, err := db.Exec(`CREATE TABLE kept (v int)`); err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		if _, err := db.Exec(`INSERT INTO kept VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	s.Kill(t) // at once: no time for a background WAL flush
	s.Restart(t)
	if got := len(values(t, s)); got != n {
		t.Fatalf("%d of %d committed rows survived Kill", got, n)
	}
}

// Servers started at the same time get their own ports and data.
func TestParallelServersAreSeparate(t *testing.T) {
	var mu sync.Mutex
	live := map[int]string{} // port → data directory of the running server given it
	claim := func(t *testing.T, s *testpg.Server) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if dir, taken := live[s.Port]; taken {
			t.Fatalf("port %d given to both %s and %s", s.Port, dir, s.Dir)
		}
		live[s.Port] = s.Dir
		t.Cleanup(func() { mu.Lock(); delete(live, s.Port); mu.Unlock() })
	}
	serves := func(t *testing.T, s *testpg.Server) {
		t.Helper()
		var dir string
		if err := open(t, s).QueryRow(`SHOW data_directory`).Scan(&dir); err != nil || dir != s.Dir {
			t.Errorf("port %d is served from %q (%v), want %q", s.Port, dir, err, s.Dir)
		}
	}
	// Runs throughout, so every other server overlaps at least this one
	// however the parallel tests are scheduled.
	base := testpg.Start(t)
	claim(t, base)
	t.Run("group", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				s := testpg.Start(t)
				claim(t, s)
				serves(t, s)
				serves(t, base)
			})
		}
	})
}

// fatalRecorder is a testing.TB whose Fatal ends only the calling
// goroutine, so that a test can check how a helper fails.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatal(args ...any) { r.msg = fmt.Sprint(args...); runtime.Goexit() }
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// A port taken while the server was down makes Restart fail at once with
// postgres's explanation, rather than wait for a server that has exited, or
// hang on a listener that is not PostgreSQL.
func TestRestartOnTakenPortFailsFast(t *testing.T) {
	s := testpg.Start(t)
	s.Stop(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); s.Restart(r) }()
	<-done
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Restart took %v to fail", took)
	}
	if !strings.Contains(r.msg, "Address already in use") || s.Running() {
		t.Fatalf("Restart on a taken port: running %v, message %q", s.Running(), r.msg)
	}
}

// A replica follows the primary's writes, refuses its own, and survives a
// restart; the primary goes on while it is down.
func TestStartReplicaFollowsThePrimary(t *testing.T) {
	primary := testpg.Start(t)
	replica := primary.StartReplica(t)
	pdb, rdb := open(t, primary), open(t, replica)
	if _, err := pdb.Exec(`CREATE TABLE kept (v int)`); err != nil {
		t.Fatal(err)
	}
	insert := func(v int) {
		t.Helper()
		if _, err := pdb.Exec(`INSERT INTO kept VALUES ($1)`, v); err != nil {
			t.Fatal(err)
		}
	}
	follows := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Until the replica replays the CREATE TABLE, the table is missing.
			var got string
			if err := rdb.QueryRow(`SELECT array_agg(v ORDER BY v)::text FROM kept`).Scan(&got); err == nil && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica holds %s, want %s", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var recovering bool
	if err := rdb.QueryRow(`SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil || !recovering {
		t.Fatalf("pg_is_in_recovery() = %v, %v on the replica, want true", recovering, err)
	}
	insert(1)
	follows("{1}")
	if _, err := rdb.Exec(`INSERT INTO kept VALUES (9)`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("a write on the replica: %v, want a read-only transaction error", err)
	}
	replica.Stop(t)
	insert(2)
	replica.Restart(t)
	follows("{1,2}")
}
