package llmlimit_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// A call waiting for its turn gives up when its job's context ends, rather
// than holding on past the job's deadline.
func TestWaitEndsWithTheContext(t *testing.T) {
	l := llmlimit.New(testredis.Client(t), llmlimit.Config{RPM: 1, Period: time.Hour, Prefix: testredis.Namespace(t)})
	if _, err := l.Wait(context.Background(), llmlimit.Call{Provider: "openai"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx, llmlimit.Call{Provider: "openai"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the second call of the hour was let through or failed otherwise: %v", err)
	}
	// Another provider's account is another budget.
	if _, err := l.Wait(context.Background(), llmlimit.Call{Provider: "anthropic"}); err != nil {
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
	ticket, err := a.Wait(soon(), llmlimit.Call{Provider: "over", Tokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	a.Done(soon(), ticket, 50)
	if _, err := b.Wait(soon(), llmlimit.Call{Provider: "over", Tokens: 50}); err != nil {
		t.Fatalf("the 50 tokens given back are not free: %v", err)
	}

	// Under-estimated: 10 charged, 110 used; the bucket still holds 90.
	ticket, err = a.Wait(soon(), llmlimit.Call{Provider: "under", Tokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	a.Done(soon(), ticket, 110)
	if _, err := b.Wait(soon(), llmlimit.Call{Provider: "under", Tokens: 10}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call went ahead although 100 tokens used beyond the estimate are unpaid: %v", err)
	}
}

// A pause longer than the call's Hold is not sat out: Wait says how long it
// has left, so that the caller can give its place up meanwhile. A call
// without a Hold waits.
func TestWaitReturnsAPauseLongerThanItsHold(t *testing.T) {
	l := llmlimit.New(testredis.Client(t), llmlimit.Config{Prefix: testredis.Namespace(t)})
	ctx := context.Background()
	l.Pause(ctx, "openai", 5*time.Second)
	_, err := l.Wait(ctx, llmlimit.Call{Provider: "openai", Hold: time.Second})
	var busy *llmlimit.BusyError
	if !errors.As(err, &busy) || busy.Left <= time.Second || busy.Left > 5*time.Second || busy.Provider != "openai" {
		t.Fatalf("Wait = %v; want a BusyError with up to 5s left", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(short, llmlimit.Call{Provider: "openai"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait without a Hold = %v; want it to sit the pause out until its context ends", err)
	}
}

// When a turn comes up, a waiter of a higher priority takes it before the
// lower ones that were waiting already.
func TestHigherPriorityTakesTheNextTurn(t *testing.T) {
	l := llmlimit.New(testredis.Client(t), llmlimit.Config{RPM: 10, Period: time.Second, Prefix: testredis.Namespace(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := l.Wait(ctx, llmlimit.Call{Provider: "p"}); err != nil { // the bucket is empty now
		t.Fatal(err)
	}
	done := make(chan int, 10)
	wait := func(id, priority int) {
		if _, err := l.Wait(ctx, llmlimit.Call{Provider: "p", Priority: priority}); err != nil {
			t.Error(err)
		}
		done <- id
	}
	const lows = 8
	for i := range lows {
		go wait(i, -1)
	}
	time.Sleep(150 * time.Millisecond) // the LOW waiters are waiting for turns
	go wait(lows, 1)
	var order []int
	for range lows + 1 {
		order = append(order, <-done)
	}
	// Turns come every 100 ms; one may be on its way to a LOW waiter as
	// the HIGH one arrives.
	pos := slices.Index(order, lows)
	highStarted := 1 // at 150 ms, one LOW waiter had its turn already
	if pos > highStarted+1 {
		t.Fatalf("completion order %v: the HIGH waiter (%d) came %d of %d", order, lows, pos+1, len(order))
	}
}
