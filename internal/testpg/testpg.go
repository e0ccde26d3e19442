// Package testpg runs a private PostgreSQL server for tests that stop, crash
// and restart the database without disturbing the shared server: initdb into
// a temporary directory, postgres on a free port, removed when the test ends.
package testpg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver the service uses

	"github.com/feedbackloop/feedbackloop/internal/testproc"
)

// readyTimeout is long: crash recovery after Kill can take a while on a
// loaded machine.
const readyTimeout = 30 * time.Second

// Server is a private PostgreSQL server on 127.0.0.1:Port. Stop is a clean
// shutdown, like pg_ctl stop -m fast: sessions end, everything is written
// out, and connections are then refused. Kill is a crash, like pg_ctl stop
// -m immediate: nothing is written out and the next start runs crash
// recovery, but committed transactions survive, as they would a real
// crash. Restart keeps the data and the port.
type Server struct {
	*testproc.Server
	Dir string // data directory

	bin  string              // directory holding initdb and postgres
	cred *syscall.Credential // the postgres user when we run as root, else nil
	log  string              // server log, appended to by every start
}

// Start initialises a database cluster in a new temporary directory and
// starts a server on it, stopped and removed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := newServer(tb)
	initdb := s.command("initdb", "-D", s.Dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("testpg: initdb %s: %v\n%s\n(the server's user must be able to reach %s; set TMPDIR to a directory it can, e.g. /tmp)",
			s.Dir, err, out, filepath.Dir(s.Dir))
	}
	s.serve(tb)
	return s
}

// StartReplica starts a streaming replica of s (a hot standby, read-only):
// pg_basebackup -R copies s's data and writes the standby settings, and
// the copy follows s's WAL from then on. initdb's defaults allow it on the
// primary (wal_level replica, max_wal_senders 10, replication connections
// from 127.0.0.1 trusted). Stop, Kill and Restart act on the replica alone.
func (s *Server) StartReplica(tb testing.TB) *Server {
	tb.Helper()
	r := newServer(tb)
	// -X stream copies the WAL written during the backup too; -c fast
	// does not wait for the next scheduled checkpoint.
	backup := r.command("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres",
		"-D", r.Dir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	if out, err := backup.CombinedOutput(); err != nil {
		tb.Fatalf("testpg: pg_basebackup of the server on port %d into %s: %v\n%s", s.Port, r.Dir, err, out)
	}
	r.serve(tb)
	return r
}

// newServer prepares a server's directories, removed when tb ends.
func newServer(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{bin: bin}
	// PostgreSQL refuses to run as root, so run it as the postgres user.
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			tb.Fatal(err)
		}
	}
	// Not tb.TempDir: its parent is private to root, and the postgres user
	// must reach the directory.
	root, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(root) })
	if s.cred != nil {
		if err := os.Chown(root, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			tb.Fatalf("testpg: %v", err)
		}
	}
	s.Dir = filepath.Join(root, "data")
	s.log = filepath.Join(root, "postgres.log")
	return s
}

// serve starts the server on its data directory.
func (s *Server) serve(tb testing.TB) {
	tb.Helper()
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("testpg: end of the server log (%s):\n%s", s.log, tail(s.log, 0, 4<<10))
		}
	})
	// Registered last, so its cleanup runs first: the server must be gone
	// before its directory is. SIGINT is pg_ctl's -m fast, SIGQUIT its -m
	// immediate.
	s.Server = testproc.StartServer(tb, syscall.SIGINT, syscall.SIGQUIT, s.start)
}

// URL is the address of database on the server, for lib/pq.
func (s *Server) URL(database string) string { return dsn(s.Port, database) }

func dsn(port int, database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, database)
}

// start runs postgres on port and waits until it accepts connections.
func (s *Server) start(port int) (*testproc.Process, error) {
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testpg: %w", err)
	}
	defer logFile.Close()
	logStart, _ := logFile.Seek(0, io.SeekEnd)

	// postgres directly rather than pg_ctl, so that we own the postmaster's
	// process: we see it exit, and signal it as pg_ctl would.
	//
	// fsync=off makes it fast and only risks data if the machine crashes.
	// synchronous_commit stays on: with it off, Kill loses commits that
	// were already acknowledged, which no crash of a real server does.
	cmd := s.command("postgres", "-D", s.Dir, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", filepath.Dir(s.Dir),
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := testproc.Start(cmd, syscall.SIGQUIT)
	if err != nil {
		return nil, fmt.Errorf("testpg: start %s: %w", cmd.Path, err)
	}

	// connect_timeout bounds the handshake too, which the context does
	// not: a process other than postgres holding the port may accept the
	// connection and never answer.
	db, err := sql.Open("postgres", dsn(port, "postgres")+"&connect_timeout=1")
	if err != nil {
		proc.Stop(syscall.SIGQUIT, time.Second)
		return nil, fmt.Errorf("testpg: %w", err)
	}
	defer db.Close()
	log := func() string { return tail(s.log, logStart, 4<<10) }
	if err := proc.WaitReady(readyTimeout, 50*time.Millisecond, func() error { return s.ping(db, port) }, log); err != nil {
		return nil, fmt.Errorf("testpg: postgres on port %d: %w", port, err)
	}
	return proc, nil
}

// ping succeeds once this server accepts queries. Checking the data
// directory makes sure the answer came from it and not from a server that
// took the port while ours was down.
func (s *Server) ping(db *sql.DB, port int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var dir string
	if err := db.QueryRowContext(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return err
	}
	if filepath.Clean(dir) != filepath.Clean(s.Dir) {
		return fmt.Errorf("port %d is served from %s, not %s", port, dir, s.Dir)
	}
	return nil
}

// command prepares one of the server's programs to run as the server's
// user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	// The test's working directory may be closed to the postgres user,
	// and initdb fails if it cannot return to it.
	cmd.Dir = os.TempDir()
	return cmd
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testpg: PostgreSQL refuses to run as root and there is no postgres user to run it as (%v): install the PostgreSQL server package, or run the tests as another user", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testpg: postgres user's uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testpg: postgres user's gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// binDir finds the server's programs: PG_BIN, else the newest Debian-style
// /usr/lib/postgresql/<version>/bin, else the directory of initdb on PATH.
func binDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if !has(dir) {
			return "", fmt.Errorf("testpg: PG_BIN=%s holds no initdb and postgres: point it at PostgreSQL's bin directory (pg_config --bindir)", dir)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64) // "15", or "9.6"
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(path)) {
		return filepath.Dir(path), nil
	}
	return "", errors.New("testpg: initdb not found: install the PostgreSQL server (e.g. apt-get install postgresql) or set PG_BIN to its bin directory")
}

// tail returns up to limit bytes of the end of the file at path, starting
// no earlier than from, for error messages.
func tail(path string, from, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-from > limit {
		from = fi.Size() - limit
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, from, 1<<62))
	return string(b)
}
