package testredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a private redis-server on a free port, for tests that stop,
// kill and restart Redis without disturbing the shared one.
type Server struct {
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0

	dir string
	cmd *exec.Cmd
}

// Start runs a private redis-server (no persistence) until tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("testredis: redis-server not found (%v): install Redis", err)
	}
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: tb.TempDir()}
	s.URL = "redis://" + s.Addr + "/0"
	tb.Cleanup(func() { s.stop(syscall.SIGKILL) })
	s.start(tb)
	return s
}

func (s *Server) start(tb testing.TB) {
	tb.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	logPath := filepath.Join(s.dir, "redis.log")
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testredis: start redis-server: %v", err)
	}
	s.cmd = cmd
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			tb.Fatalf("testredis: redis-server on %s not ready after 10s: %v\n%s", s.Addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Running reports whether the server process is up.
func (s *Server) Running() bool { return s.cmd != nil }

// Stop shuts the server down (SIGTERM); connections are then refused.
func (s *Server) Stop(tb testing.TB) { tb.Helper(); s.stop(syscall.SIGTERM) }

// Kill ends the server abruptly (SIGKILL), like a crash.
func (s *Server) Kill(tb testing.TB) { tb.Helper(); s.stop(syscall.SIGKILL) }

// Restart stops the server if it runs and starts it again on the same port,
// empty (it keeps nothing on disk).
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.stop(syscall.SIGTERM)
	s.start(tb)
}

func (s *Server) stop(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, sig)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
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
