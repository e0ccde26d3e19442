// Package testproc runs the server processes that fault-injection tests
// start, stop, kill and restart (see testpg and testredis): each in a
// process group of its own, stopped by the kernel if the test binary dies,
// and always reaped.
package testproc

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
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

// WaitReady calls ready every interval until it returns nil. It returns
// ErrExited as soon as the process ends, and ready's last error once
// timeout has passed.
func (p *Process) WaitReady(timeout, interval time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v)", ErrExited, p.cmd.ProcessState)
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
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
