// Package backoff is the service's one retry-delay policy: exponential
// growth with jitter, and a sleep that ends early when its context does.
// The queue, the model clients and the event bus all wait with it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay returns a random duration in [d/2, d], where d = base·2^attempt
// capped at max: exponential, with enough jitter that retries of many callers
// spread out. attempt 0 is the first retry.
func Delay(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d, or until ctx ends, in which case it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
