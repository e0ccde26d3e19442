// Package testproc runs the server processes that fault-injection tests
// start, stop, kill and restart (see testpg and testredis): each in a
// process group of its own, stopped by the kernel if the test binary dies,
// and always reaped.
package testproc

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrExited is returned by WaitReady when the process ends before it is
// ready.
var ErrExited = errors.New("the process exited")

// Process is a started server process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited and been reaped
}

// Start starts cmd in a process group of its own. If the test binary dies
// without running its cleanups (a go test timeout, say), the kernel sends
// the process deathSig, so that no stray server outlives the test.
func Start(cmd *exec.Cmd, deathSig syscall.Signal) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = deathSig
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited reports whether the process has ended, on its own or not.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitReady calls ready every interval until it returns nil. If the
// process exits first, the error wraps ErrExited, and ErrPortInUse too when
// its log says another process holds the address. If timeout passes, the
// process is killed and the error wraps ready's last error. Errors end with
// log(), the server's own account of what happened.
func (p *Process) WaitReady(timeout, interval time.Duration, ready func() error, log func() string) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			text := log()
			if strings.Contains(text, "Address already in use") {
				return fmt.Errorf("%w: %w by another process; its log:\n%s", ErrExited, ErrPortInUse, text)
			}
			return fmt.Errorf("%w during startup (%v); its log:\n%s", ErrExited, p.cmd.ProcessState, text)
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			p.Stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("not ready after %v: %w; its log:\n%s", timeout, err, log())
		}
	}
}

// Stop sends sig to the process and waits for it to end, killing its
// process group if that takes longer than timeout. Children left behind
// (a postmaster that died abnormally leaves its backends) are killed too.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) {
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// ErrPortInUse is what a StartFunc returns (WaitReady's error does) when
// another process bound its port first; StartServer then tries another
// port.
var ErrPortInUse = errors.New("port in use")

// StartFunc starts a server on port and returns it once it is ready, or
// an error after stopping whatever it started.
type StartFunc func(port int) (*Process, error)

// Server supervises a server process that tests stop, kill and restart on
// a port fixed for its life, so that clients can reconnect. Its methods may
// be called from any goroutine, but those taking a testing.TB call Fatal on
// failure, which must happen on the test's goroutine.
type Server struct {
	Port int // on 127.0.0.1

	stopSig, killSig syscall.Signal
	start            StartFunc

	mu   sync.Mutex
	proc *Process // nil when stopped
}

const (
	stopTimeout = 15 * time.Second // then the process group is killed
	startTries  = 5                // ports tried when others take them first
)

// StartServer starts a server with start on a free port, trying another
// one when start returns ErrPortInUse. Stop sends stopSig (a clean
// shutdown), Kill and the end of tb killSig (a crash).
func StartServer(tb testing.TB, stopSig, killSig syscall.Signal, start StartFunc) *Server {
	tb.Helper()
	s := &Server{stopSig: stopSig, killSig: killSig, start: start}
	tb.Cleanup(func() { s.halt(killSig) })
	for try := 1; ; try++ {
		port, err := FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		proc, err := start(port)
		if err == nil {
			s.Port, s.proc = port, proc
			return s
		}
		if !errors.Is(err, ErrPortInUse) || try == startTries {
			tb.Fatal(err)
		}
	}
}

// Running reports whether the server is up. It notices a server that died
// on its own, not only one stopped through s.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}

// Stop shuts the server down cleanly; connections are then refused. It
// does nothing if the server is not running.
func (s *Server) Stop(tb testing.TB) { tb.Helper(); s.halt(s.stopSig) }

// Kill ends the server abruptly, like a crash.
func (s *Server) Kill(tb testing.TB) { tb.Helper(); s.halt(s.killSig) }

// Restart stops the server if it runs (cleanly) and starts it again on the
// same port, returning once it is ready.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(s.stopSig)
	proc, err := s.start(s.Port)
	if err != nil {
		tb.Fatal(err)
	}
	s.proc = proc
}

func (s *Server) halt(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(sig)
}

func (s *Server) stopLocked(sig syscall.Signal) {
	if s.proc != nil {
		s.proc.Stop(sig, stopTimeout)
		s.proc = nil
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
