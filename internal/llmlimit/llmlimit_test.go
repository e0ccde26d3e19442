package llmlimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// A call waiting for its turn gives up when its job's context ends, rather
// than holding on past the job's deadline.
func TestWaitEndsWithTheContext(t *testing.T) {
	l := llmlimit.New(testredis.Client(t), llmlimit.Config{RPM: 1, Period: time.Hour, Prefix: testredis.Namespace(t)})
	if _, err := l.Wait(context.Background(), "openai", 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx, "openai", 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the second call of the hour was let through or failed otherwise: %v", err)
	}
	// Another provider's account is another budget.
	if _, err := l.Wait(context.Background(), "anthropic", 0); err != nil {
		t.Fatal(err)
	}
}

// The reported usage settles a call's estimate: tokens over-estimated are
// free again at once; tokens under-estimated hold the next calls, whoever
// makes them, until they are paid. The budget is 6,000 tokens an hour, 100
// tokens a bucket: it refills too slowly to matter here.
func TestUsageSettlesTheEstimate(t *testing.T) {
	cfg := llmlimit.Config{TPM: 6000, Period: time.Hour, Prefix: testredis.Namespace(t)}
	a := llmlimit.New(testredis.Client(t), cfg)
	b := llmlimit.New(testredis.Client(t), cfg)
	soon := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	// Over-estimated: 100 charged, 50 used.
	ticket, err := a.Wait(soon(), "over", 100)
	if err != nil {
		t.Fatal(err)
	}
	a.Done(soon(), ticket, 50)
	if _, err := b.Wait(soon(), "over", 50); err != nil {
		t.Fatalf("the 50 tokens given back are not free: %v", err)
	}

	// Under-estimated: 10 charged, 110 used; the bucket still holds 90.
	ticket, err = a.Wait(soon(), "under", 10)
	if err != nil {
		t.Fatal(err)
	}
	a.Done(soon(), ticket, 110)
	if _, err := b.Wait(soon(), "under", 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call went ahead although 100 tokens used beyond the estimate are unpaid: %v", err)
	}
}
