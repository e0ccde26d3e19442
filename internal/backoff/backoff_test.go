package backoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
)

func TestDelayGrowsAndStaysWithinItsJitterWindow(t *testing.T) {
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		for range 50 {
			if got := backoff.Delay(attempt, time.Second, 10*time.Second); got < want/2 || got > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
	if got := backoff.Delay(1000, time.Millisecond, time.Minute); got > time.Minute {
		t.Fatalf("a huge attempt count overflowed the cap: %v", got)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := backoff.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := backoff.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}
