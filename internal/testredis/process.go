package testredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
)

const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 5 * time.Second // then the process is killed
	startTries   = 5               // fresh ports tried when another process takes ours first
)

// errPortInUse means another process bound the port between freePort and
// redis-server binding it; Start then tries another port.
var errPortInUse = errors.New("port in use")

// Server is a private redis-server on a free port, for tests that stop,
// kill and restart Redis without disturbing the shared one. Its methods may
// be called from any goroutine, but Stop, Kill and Restart call tb.Fatal on
// failure, which must happen on the test's goroutine.
type Server struct {
	Addr string // 127.0.0.1:port, fixed for the server's life so clients can reconnect after Restart
	URL  string // redis://127.0.0.1:port/0

	dir string

	mu   sync.Mutex
	proc *testproc.Process // nil when stopped
}

// Start runs a private redis-server (no persistence) until tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("testredis: redis-server not found (%v): install Redis (e.g. apt-get install redis-server)", err)
	}
	s := &Server{dir: tb.TempDir()}
	tb.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stop(syscall.SIGKILL)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		s.URL = "redis://" + s.Addr + "/0"
		err = s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortInUse) || try == startTries {
			tb.Fatal(err)
		}
	}
}

// start runs redis-server and waits until it answers PING. The caller
// holds s.mu.
func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	logPath := filepath.Join(s.dir, "redis-"+port+".log")
	_ = os.Remove(logPath) // only this start's lines, for error messages
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logPath)
	proc, err := testproc.Start(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("testredis: start redis-server: %w", err)
	}
	s.proc = proc

	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	err = proc.WaitReady(readyTimeout, 20*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err()
	})
	switch {
	case errors.Is(err, testproc.ErrExited):
		s.proc = nil
		log, _ := os.ReadFile(logPath)
		if strings.Contains(string(log), "Address already in use") {
			return fmt.Errorf("testredis: %s: %w by another process", s.Addr, errPortInUse)
		}
		return fmt.Errorf("testredis: redis-server exited during startup: %v; its log:\n%s", err, log)
	case err != nil:
		s.stop(syscall.SIGKILL)
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("testredis: redis-server on %s: %v; its log:\n%s", s.Addr, err, log)
	}
	return nil
}

// Running reports whether the server process is up. It notices a server
// that died on its own, not only one stopped through s.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}

// Stop shuts the server down (SIGTERM); connections are then refused. It
// does nothing if the server is not running.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop(syscall.SIGTERM)
}

// Kill ends the server abruptly (SIGKILL), like a crash.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop(syscall.SIGKILL)
}

// Restart stops the server if it runs and starts it again on the same port,
// empty (it keeps nothing on disk).
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop(syscall.SIGTERM)
	if err := s.start(); err != nil {
		tb.Fatal(err)
	}
}

// stop signals the server and waits for it. The caller holds s.mu.
func (s *Server) stop(sig syscall.Signal) {
	if s.proc == nil {
		return
	}
	s.proc.Stop(sig, stopTimeout)
	s.proc = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	p, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
