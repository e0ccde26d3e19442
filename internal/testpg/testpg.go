// Package testpg runs a private PostgreSQL server for tests that stop, crash
// and restart the database without disturbing the shared server: initdb into
// a temporary directory, postgres on a free port, removed when the test ends.
package testpg

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver the service uses
)

// Server is a private PostgreSQL server.
type Server struct {
	Port int
	Dir  string // data directory

	bin  string
	cred *syscall.Credential
	cmd  *exec.Cmd
	log  string
}

// Start initialises and starts a server, stopped and removed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{bin: bin}
	// PostgreSQL refuses to run as root: run it as the postgres user.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("testpg: running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not tb.TempDir: its parents are private to root, and postgres must
	// reach the directory.
	root, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(root) })
	s.Dir = filepath.Join(root, "data")
	s.log = filepath.Join(root, "postgres.log")
	if s.cred != nil {
		if err := os.Chown(root, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	initdb := s.command("initdb", "-D", s.Dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("testpg: initdb: %v\n%s", err, out)
	}
	s.Port, err = freePort()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.stop(syscall.SIGQUIT) })
	s.start(tb)
	return s
}

// URL is the address of database on the server.
func (s *Server) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, database)
}

// Running reports whether the server process is up.
func (s *Server) Running() bool { return s.cmd != nil }

// Stop shuts the server down cleanly (fast shutdown).
func (s *Server) Stop(tb testing.TB) { tb.Helper(); s.stop(syscall.SIGINT) }

// Kill ends the server abruptly (immediate shutdown: crash recovery at the
// next start).
func (s *Server) Kill(tb testing.TB) { tb.Helper(); s.stop(syscall.SIGQUIT) }

// Restart stops the server if it runs and starts it again with the same
// data on the same port.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.stop(syscall.SIGINT)
	s.start(tb)
}

func (s *Server) start(tb testing.TB) {
	tb.Helper()
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		tb.Fatal(err)
	}
	defer logFile.Close()
	if s.cred != nil {
		_ = os.Chown(s.log, int(s.cred.Uid), int(s.cred.Gid))
	}
	cmd := s.command("postgres", "-D", s.Dir, "-p", strconv.Itoa(s.Port), "-h", "127.0.0.1", "-k", filepath.Dir(s.Dir),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testpg: start postgres: %v", err)
	}
	s.cmd = cmd
	db, err := sql.Open("postgres", s.URL("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(s.log)
			tb.Fatalf("testpg: postgres on port %d not ready after 30s: %v\n%s", s.Port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) stop(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	cmd.Dir = os.TempDir()
	return cmd
}

// binDir finds the server's programs: PG_BIN, else the newest installed
// Debian-style /usr/lib/postgresql/<version>/bin.
func binDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("testpg: initdb not found: install the PostgreSQL server or set PG_BIN")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testpg: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
