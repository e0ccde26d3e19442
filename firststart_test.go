package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
)

// buildService compiles the service into a temporary directory, so that a
// test can run it as separate processes, as production does.
func buildService(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "feedbackloop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build the service: %v\n%s", err, out)
	}
	return bin
}

// listenAddr returns the port a process logged it serves on, or "" before
// it has.
func listenAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) != nil || !strings.HasPrefix(line.Msg, "serving ") {
			continue
		}
		if _, port, err := net.SplitHostPort(line.Addr); err == nil {
			return port
		}
	}
	return ""
}

// migrationVersions lists the versions of the migration files, which
// goose_db_version must hold once each.
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var versions []int64
	for _, f := range files {
		prefix, _, _ := strings.Cut(filepath.Base(f), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no version prefix", f)
		}
		versions = append(versions, v)
	}
	return versions
}

// Several processes starting at once on a database that does not exist yet
// (the first `docker compose up`, or a deploy of API and workers together)
// must all come up: one creates the database and migrates it, the others
// wait for it instead of failing.
func TestConcurrentFirstStartsAllComeUp(t *testing.T) {
	bin := buildService(t)
	dsn := newDatabaseURL(t)
	ns := testredis.Namespace(t)

	type proc struct {
		role string
		p    *testproc.Process
		logs *testutil.Buffer
	}
	roles := []string{"api", "worker", "api", "worker"}
	procs := make([]proc, len(roles))
	// Everything that can be prepared is, so that the processes start as
	// close together as exec allows.
	cmds := make([]*exec.Cmd, len(roles))
	for i, role := range roles {
		cmds[i] = exec.Command(bin)
		cmds[i].Env = append(os.Environ(),
			"ROLE="+role, "PORT=0", "LOG_FORMAT=json", "SHUTDOWN_TIMEOUT=10s",
			"DATABASE_URL="+dsn, "REDIS_URL="+testredis.URL(),
			"QUEUE_NAME=q-"+ns, "EVENTS_CHANNEL=ev-"+ns)
		procs[i] = proc{role: role, logs: &testutil.Buffer{}}
		cmds[i].Stdout, cmds[i].Stderr = procs[i].logs, procs[i].logs
	}
	for i := range procs {
		p, err := testproc.Start(cmds[i], syscall.SIGKILL)
		if err != nil {
			t.Fatal(err)
		}
		procs[i].p = p
	}
	for _, pr := range procs {
		t.Cleanup(func() {
			pr.p.Stop(syscall.SIGTERM, 15*time.Second)
			if t.Failed() {
				t.Logf("%s log:\n%s", pr.role, pr.logs.String())
			}
		})
	}

	for i, pr := range procs {
		ready := func() error {
			port := listenAddr(pr.logs.String())
			if port == "" {
				return fmt.Errorf("not listening yet")
			}
			resp, err := http.Get("http://127.0.0.1:" + port + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("/readyz answered %d", resp.StatusCode)
			}
			return nil
		}
		if err := pr.p.WaitReady(60*time.Second, 20*time.Millisecond, ready, pr.logs.String); err != nil {
			t.Fatalf("process %d (%s) did not become ready: %v", i, pr.role, err)
		}
		// The container health check agrees.
		check := exec.Command(bin, "healthcheck")
		check.Env = append(os.Environ(), "PORT="+listenAddr(pr.logs.String()))
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("%s healthcheck: %v %s", bin, err, out)
		}
	}

	// Every migration ran once, by one process; all saw the schema current.
	applied := 0
	for _, pr := range procs {
		applied += strings.Count(pr.logs.String(), `"msg":"applied migration"`)
		if !pr.logs.Contains(`"msg":"database schema is current"`) {
			t.Errorf("%s did not report the schema current", pr.role)
		}
	}
	want := migrationVersions(t)
	if applied != len(want) {
		t.Errorf("%d migrations applied across the processes, want %d (each once)", applied, len(want))
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[int64]int{}
	rows, err := db.Query(`SELECT version_id, count(*) FROM goose_db_version GROUP BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		got[v] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantRows := map[int64]int{0: 1} // goose's marker row for the empty database
	for _, v := range want {
		wantRows[v] = 1
	}
	if fmt.Sprint(got) != fmt.Sprint(wantRows) {
		t.Errorf("goose_db_version rows by version = %v, want %v", got, wantRows)
	}

	// And they stop cleanly together, too.
	for _, pr := range procs {
		pr.p.Stop(syscall.SIGTERM, 15*time.Second)
		if !pr.logs.Contains(`"msg":"stopped"`) {
			t.Errorf("%s did not stop cleanly:\n%s", pr.role, pr.logs.String())
		}
	}
}

// "Is PostgreSQL running?" helps only when it may not be; a server that
// answers and refuses gets its own answer passed on unadorned.
func TestDatabaseStartErrorsBlameTheRightThing(t *testing.T) {
	closed, err := testproc.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = migrationstest.DefaultURL
	}
	noRole, _ := url.Parse(admin)
	noRole.User = url.User("fltest_no_such_role")
	noRole.Path = "/fl"
	for _, c := range []struct {
		url, want string
		hint      bool
	}{
		{fmt.Sprintf("postgres://postgres@127.0.0.1:%d/fl?sslmode=disable&connect_timeout=2", closed), "connection refused", true},
		// PostgreSQL says the role does not exist, or that its password
		// is wrong, depending on its authentication set-up.
		{noRole.String(), `"fltest_no_such_role"`, false},
	} {
		env := map[string]string{"DATABASE_URL": c.url, "LOG_FORMAT": "json"}
		err := run(t.Context(), func(k string) string { return env[k] }, &testutil.Buffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DATABASE_URL=%s: run = %v, want an error saying %s", c.url, err, c.want)
			continue
		}
		if got := strings.Contains(err.Error(), "is PostgreSQL running?"); got != c.hint {
			t.Errorf("DATABASE_URL=%s: hint %v, want %v: %v", c.url, got, c.hint, err)
		}
	}
}
