package testproc_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
)

func noLog() string { return "" }

func TestWaitReadyReturnsAsSoonAsTheProcessExits(t *testing.T) {
	p, err := testproc.Start(exec.Command("sh", "-c", "exit 3"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	err = p.WaitReady(time.Minute, 10*time.Millisecond, func() error { calls++; return errors.New("not yet") }, func() string { return "FATAL: bad config" })
	if !errors.Is(err, testproc.ErrExited) || errors.Is(err, testproc.ErrPortInUse) || !p.Exited() {
		t.Fatalf("WaitReady: %v (exited %v), want ErrExited", err, p.Exited())
	}
	if !strings.Contains(err.Error(), "FATAL: bad config") {
		t.Errorf("the error lacks the server's log: %v", err)
	}
	if calls == 0 {
		t.Error("ready was never asked")
	}
}

func TestWaitReadyTellsATakenPort(t *testing.T) {
	p, err := testproc.Start(exec.Command("sh", "-c", "exit 1"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	log := func() string { return "bind: Address already in use" }
	if err := p.WaitReady(time.Minute, 10*time.Millisecond, func() error { return errors.New("not yet") }, log); !errors.Is(err, testproc.ErrPortInUse) {
		t.Fatalf("WaitReady: %v, want ErrPortInUse", err)
	}
}

func TestWaitReadyGivesUpWithTheLastErrorAndKills(t *testing.T) {
	p, err := testproc.Start(exec.Command("sleep", "60"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	notYet := errors.New("not yet")
	if err := p.WaitReady(50*time.Millisecond, 10*time.Millisecond, func() error { return notYet }, noLog); !errors.Is(err, notYet) {
		t.Fatalf("WaitReady: %v, want the readiness error", err)
	}
	if !p.Exited() {
		t.Error("a server that never got ready was left running")
	}

	ready, err := testproc.Start(exec.Command("sleep", "60"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Stop(syscall.SIGKILL, time.Second)
	if err := ready.WaitReady(time.Minute, 10*time.Millisecond, func() error { return nil }, noLog); err != nil {
		t.Fatalf("WaitReady on a ready process: %v", err)
	}
}

// A server that ignores the signal is killed once the timeout has passed.
func TestStopKillsWhatIgnoresTheSignal(t *testing.T) {
	p, err := testproc.Start(exec.Command("sh", "-c", `trap "" TERM; sleep 60 & wait`), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the trap is set
	p.Stop(syscall.SIGTERM, 200*time.Millisecond)
	if !p.Exited() {
		t.Fatal("the process survived Stop")
	}
}

func TestServerRetriesTakenPortsAndRestartsOnTheSamePort(t *testing.T) {
	var ports []int
	sleeper := func(port int) (*testproc.Process, error) {
		ports = append(ports, port)
		if len(ports) == 1 {
			return nil, fmt.Errorf("port %d: %w", port, testproc.ErrPortInUse)
		}
		return testproc.Start(exec.Command("sleep", "60"), syscall.SIGKILL)
	}
	s := testproc.StartServer(t, syscall.SIGTERM, syscall.SIGKILL, sleeper)
	if len(ports) != 2 || s.Port != ports[1] || !s.Running() {
		t.Fatalf("ports tried %v, server on %d, running %v", ports, s.Port, s.Running())
	}
	s.Kill(t)
	if s.Running() {
		t.Fatal("running after Kill")
	}
	s.Stop(t) // a no-op on a stopped server
	s.Restart(t)
	if len(ports) != 3 || ports[2] != s.Port || !s.Running() {
		t.Fatalf("after Restart: ports tried %v, server on %d, running %v", ports, s.Port, s.Running())
	}
}
