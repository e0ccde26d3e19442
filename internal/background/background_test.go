package background

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// A step that reports more work runs again at once, not a period later;
// Shutdown waits for the step in flight and leaves nothing running.
func TestMoreWorkRunsAtOnceAndShutdownWaits(t *testing.T) {
	var runs atomic.Int64
	var inStep atomic.Bool
	l := Start(context.Background(), time.Hour, slog.New(slog.DiscardHandler), "test", func(ctx context.Context) (bool, error) {
		inStep.Store(true)
		defer inStep.Store(false)
		return runs.Add(1) < 3, nil
	})
	testutil.WaitFor(t, "three steps within the first period", func() bool { return runs.Load() == 3 })
	if err := l.Shutdown(context.Background()); err != nil || inStep.Load() {
		t.Fatalf("Shutdown = %v with a step running: %v", err, inStep.Load())
	}
	if (*Loop)(nil).Shutdown(context.Background()) != nil {
		t.Fatal("a loop never started must shut down at once")
	}
}

// A failing step is tried again after a pause, and the loop survives it.
func TestFailuresAreRetried(t *testing.T) {
	var runs atomic.Int64
	l := Start(context.Background(), time.Millisecond, slog.New(slog.DiscardHandler), "test", func(ctx context.Context) (bool, error) {
		if runs.Add(1) < 3 {
			return false, errors.New("down")
		}
		return false, nil
	})
	defer l.Shutdown(context.Background())
	testutil.WaitFor(t, "the step to succeed after two failures", func() bool { return runs.Load() >= 3 })
}
