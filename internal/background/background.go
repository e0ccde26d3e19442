// Package background runs a polling step in its own goroutine until it is
// shut down: the worker's dispatchers, which read the outbox and send what
// is due.
package background

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
)

// Loop is a step running in the background.
type Loop struct {
	stop context.CancelFunc
	done chan struct{}
}

// Start runs step every every, with the values of ctx but not its end:
// again at once while step reports more work, and after a growing pause
// (up to 30 s) while it fails; the first failure in a row is logged, with
// what naming the loop.
func Start(ctx context.Context, every time.Duration, logger *slog.Logger, what string, step func(context.Context) (more bool, err error)) *Loop {
	l := &Loop{done: make(chan struct{})}
	ctx, l.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(l.done)
		failures := 0
		for ctx.Err() == nil {
			more, err := step(ctx)
			for err == nil && more && ctx.Err() == nil {
				more, err = step(ctx)
			}
			wait := every
			if err != nil && ctx.Err() == nil {
				failures++
				if failures == 1 {
					logger.WarnContext(ctx, what+" interrupted; retrying", "err", err)
				}
				wait = max(wait, backoff.Delay(failures, 100*time.Millisecond, 30*time.Second))
			} else {
				failures = 0
			}
			if backoff.Sleep(ctx, wait) != nil {
				return
			}
		}
	}()
	return l
}

// Shutdown stops the loop and waits for its step in flight, or for ctx to
// end. A nil Loop (never started) stops at once.
func (l *Loop) Shutdown(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.stop()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: %w", ctx.Err())
	}
}
