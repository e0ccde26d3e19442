package testredis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
)

const readyTimeout = 10 * time.Second

// Server is a private redis-server, for tests that stop, kill and restart
// Redis without disturbing the shared one. Stop sends SIGTERM, Kill
// SIGKILL (a crash); Restart keeps the address and starts empty, since the
// server keeps nothing on disk.
type Server struct {
	*testproc.Server
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0

	dir string
	// argv, when set, turns a plain server's arguments for port into
	// those of a replica, a cluster node or a Sentinel.
	argv argvFunc
}

// Start runs a private redis-server (no persistence) until tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return startServer(tb, nil)
}

// argvFunc returns redis-server's arguments given a plain server's, the
// server's own directory and its port.
type argvFunc func(plain []string, dir string, port int) ([]string, error)

// startServer runs redis-server, with the arguments argv makes when set,
// until tb ends.
func startServer(tb testing.TB, argv argvFunc) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("testredis: redis-server not found (%v): install Redis (e.g. apt-get install redis-server)", err)
	}
	s := &Server{dir: tb.TempDir(), argv: argv}
	s.Server = testproc.StartServer(tb, syscall.SIGTERM, syscall.SIGKILL, s.start)
	s.Addr = fmt.Sprintf("127.0.0.1:%d", s.Port)
	s.URL = "redis://" + s.Addr + "/0"
	return s
}

// start runs redis-server on port and waits until it answers PING.
func (s *Server) start(port int) (*testproc.Process, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(s.dir, "redis-"+strconv.Itoa(port)+".log")
	_ = os.Remove(logPath) // only this start's lines, for error messages
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logPath}
	if s.argv != nil {
		var err error
		if args, err = s.argv(args, s.dir, port); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("redis-server", args...)
	proc, err := testproc.Start(cmd, syscall.SIGKILL)
	if err != nil {
		return nil, fmt.Errorf("testredis: start redis-server: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err()
	}
	log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := proc.WaitReady(readyTimeout, 20*time.Millisecond, ping, log); err != nil {
		return nil, fmt.Errorf("testredis: redis-server on %s: %w", addr, err)
	}
	return proc, nil
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	p, err := testproc.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
