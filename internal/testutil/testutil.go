// Package testutil holds the helpers every test package needs: polling for
// a condition and a log buffer safe for concurrent writers.
package testutil

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// WaitTimeout is how long WaitFor polls before failing the test. It only
// guards against hangs: conditions normally hold in milliseconds.
const WaitTimeout = 30 * time.Second

// WaitFor polls cond until it holds, failing tb after WaitTimeout.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	WaitForWithin(tb, WaitTimeout, what, cond)
}

// WaitForWithin is WaitFor with its own timeout, for conditions that
// legitimately take long (a process restart).
func WaitForWithin(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Buffer is a bytes.Buffer safe for concurrent writers, such as a logger
// shared by a server and its test.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether s was written.
func (b *Buffer) Contains(s string) bool { return strings.Contains(b.String(), s) }

// Lines returns what was written, a line each.
func (b *Buffer) Lines() []string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
