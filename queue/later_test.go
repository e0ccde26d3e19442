package queue_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/queue"
)

// A job that waits (Later) gives its slot back: with one slot, another job
// runs meanwhile. Its waits are not failures: it waits more times than it
// may fail and is neither dead-lettered nor told it may not wait, until it
// finishes.
func TestLaterFreesTheSlotAndIsNotAFailure(t *testing.T) {
	ctx := context.Background()
	const maxRetry, waits = 1, 4
	c, cfg := newQueue(t, maxRetry)
	cfg.Concurrency = 1
	var deadLettered atomic.Bool
	cfg.OnDeadLetter = func(context.Context, queue.Job, error) { deadLettered.Store(true) }
	var mu sync.Mutex
	var order []int
	var runs atomic.Int64
	var refused atomic.Bool
	start(t, c, cfg, func(ctx context.Context, j queue.Job) error {
		mu.Lock()
		order = append(order, j.FeedbackID)
		mu.Unlock()
		if j.FeedbackID != 1 {
			return nil
		}
		if !queue.CanRunLater(ctx) {
			refused.Store(true)
		}
		if runs.Add(1) <= waits {
			return queue.Later(10*time.Millisecond, errors.New("the provider asked to wait"))
		}
		return nil
	})
	if err := c.Enqueue(ctx, queue.Job{FeedbackID: 1}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitForWithin(t, 10*time.Second, "the waiting job's first run", func() bool { return runs.Load() >= 1 })
	if err := c.Enqueue(ctx, queue.Job{FeedbackID: 2}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitForWithin(t, 30*time.Second, "the waiting job to finish", func() bool { return runs.Load() == waits+1 })
	mu.Lock()
	defer mu.Unlock()
	second := -1
	for i, id := range order {
		if id == 2 {
			second = i
		}
	}
	if second < 0 || second == len(order)-1 {
		t.Fatalf("runs in order %v: job 2 must run while job 1 waits, before its last run", order)
	}
	if deadLettered.Load() || refused.Load() {
		t.Fatalf("waits counted as failures: dead-lettered %v, CanRunLater refused %v", deadLettered.Load(), refused.Load())
	}
}

// A job on its last retry may not wait: asynq would dead-letter it.
func TestCanRunLaterIsFalseOnTheLastRetry(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 1)
	got := make(chan bool, 2)
	var runs atomic.Int64
	start(t, c, cfg, func(ctx context.Context, _ queue.Job) error {
		got <- queue.CanRunLater(ctx)
		if runs.Add(1) == 1 {
			return errors.New("a failure")
		}
		return nil
	})
	if err := c.Enqueue(ctx, queue.Job{FeedbackID: 1}); err != nil {
		t.Fatal(err)
	}
	if first, last := <-got, <-got; !first || last {
		t.Fatalf("CanRunLater on the first run %v, on the last retry %v; want true, false", first, last)
	}
	if queue.CanRunLater(ctx) {
		t.Fatal("CanRunLater outside a job must be false")
	}
}
