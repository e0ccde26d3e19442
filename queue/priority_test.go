package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/queue"
)

// A job goes to its priority's queue; NORMAL keeps the bare name, the only
// queue of versions before priorities (docs/configuration.md, QUEUE_NAME).
func TestPriorityPicksTheJobsQueue(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.Client(t)
	opts := queue.Options{Name: "q-" + testredis.Namespace(t)}
	c, _ := newQueueOn(t, rdb, opts)
	ins := asynq.NewInspectorFromRedisClient(rdb)
	for i, tc := range []struct {
		p     queue.Priority
		queue string
	}{{queue.High, opts.Name + ":high"}, {queue.Normal, opts.Name}, {queue.Low, opts.Name + ":low"}} {
		j := queue.Job{FeedbackID: i + 1, Priority: tc.p}
		if err := c.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
		if _, err := ins.GetTaskInfo(tc.queue, j.ID()); err != nil {
			t.Errorf("priority %d: job not in queue %s: %v", tc.p, tc.queue, err)
		}
	}
	if d, err := c.Depth(ctx); err != nil || d.Pending != 3 {
		t.Fatalf("Depth = %+v, %v; want the 3 jobs of all priorities", d, err)
	}
}

// asynq keeps task IDs unique per queue only: a job waiting at one priority
// must still make the same job at another priority a duplicate, and State
// must find it whatever priority it is asked with.
func TestDuplicatesSpanPriorities(t *testing.T) {
	ctx := context.Background()
	c, _ := newQueue(t, 3)
	job := queue.Job{FeedbackID: 42, Key: "k", Priority: queue.Normal}
	if err := c.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	for _, p := range []queue.Priority{queue.Low, queue.High} {
		again := job
		again.Priority = p
		if err := c.Enqueue(ctx, again); !errors.Is(err, queue.ErrDuplicate) {
			t.Errorf("Enqueue at priority %d of a job waiting at NORMAL = %v, want ErrDuplicate", p, err)
		}
		if err := c.Rerun(ctx, again); !errors.Is(err, queue.ErrDuplicate) {
			t.Errorf("Rerun at priority %d of a job waiting at NORMAL = %v, want ErrDuplicate", p, err)
		}
		if st, err := c.State(ctx, again); err != nil || st.Name != "pending" {
			t.Errorf("State at priority %d = %+v, %v; want pending", p, st, err)
		}
	}
	if d, err := c.Depth(ctx); err != nil || d.Pending != 1 {
		t.Fatalf("Depth = %+v, %v; want the one job", d, err)
	}
}

// A retry (Rerun at LOW) of a job dead-lettered at NORMAL replaces it.
func TestRerunReplacesADeadLetterOfAnotherPriority(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.Client(t)
	opts := queue.Options{Name: "q-" + testredis.Namespace(t)}
	c, _ := newQueueOn(t, rdb, opts)
	job := queue.Job{FeedbackID: 7, Key: "k"}
	if err := c.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := asynq.NewInspectorFromRedisClient(rdb).ArchiveTask(opts.Name, job.ID()); err != nil {
		t.Fatal(err)
	}
	job.Priority = queue.Low
	if err := c.Rerun(ctx, job); err != nil {
		t.Fatalf("Rerun = %v", err)
	}
	if d, err := c.Depth(ctx); err != nil || d != (queue.Depth{Pending: 1}) {
		t.Fatalf("Depth = %+v, %v; want only the fresh job", d, err)
	}
	if _, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(opts.Name+":low", job.ID()); err != nil {
		t.Fatalf("fresh job not at LOW: %v", err)
	}
}

// Under a steady HIGH load (every HIGH job run queues another, so HIGH is
// never empty) LOW jobs still run, and HIGH ones run more often. One
// consumer slot, so runs are in order.
func TestLowProgressesUnderSteadyHighLoad(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 3)
	cfg.Concurrency = 1
	cfg.PollInterval = 0
	const lows = 10
	for i := range 5 {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: 1000 + i, Priority: queue.High}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range lows {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: 1 + i, Priority: queue.Low}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu                sync.Mutex
		highRuns, lowRuns int
		next              = 2000
	)
	start(t, c, cfg, func(ctx context.Context, j queue.Job) error {
		mu.Lock()
		defer mu.Unlock()
		if j.Priority == queue.High {
			highRuns++
			next++
			return c.Enqueue(ctx, queue.Job{FeedbackID: next, Priority: queue.High})
		}
		lowRuns++
		return nil
	})
	testutil.WaitFor(t, "all LOW jobs to run under the HIGH load", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return lowRuns == lows
	})
	mu.Lock()
	defer mu.Unlock()
	// Weights 6:1 make about 60 HIGH runs for 10 LOW ones; fewer HIGH
	// than LOW runs would mean the weights are not applied.
	if highRuns < lows {
		t.Fatalf("%d HIGH runs while %d LOW ones ran; want HIGH preferred", highRuns, lowRuns)
	}
}
