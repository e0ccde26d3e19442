package queue_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/queue"
)

func newQueue(t *testing.T, maxRetry int) (*queue.Client, queue.ServerConfig) {
	t.Helper()
	return newQueueOn(t, testredis.Client(t), queue.Options{Name: "q-" + testredis.Namespace(t), MaxRetry: maxRetry})
}

// newQueueOn is newQueue for a test that also reaches the queue through rdb.
func newQueueOn(t *testing.T, rdb redis.UniversalClient, opts queue.Options) (*queue.Client, queue.ServerConfig) {
	t.Helper()
	c := queue.NewClient(rdb, opts)
	t.Cleanup(func() { c.Close() })
	return c, queue.ServerConfig{
		Concurrency: 2,
		RetryBase:   10 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second,
	}
}

func start(t *testing.T, c *queue.Client, cfg queue.ServerConfig, h queue.Handler) *queue.Server {
	t.Helper()
	s := c.NewServer(cfg, h)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(s.Shutdown) })
	return s
}

// A queue that never had a job is empty, not an error (asynq creates
// queues with their first job), so /metrics works on a fresh deployment.
func TestDepthOfANewQueueIsZero(t *testing.T) {
	c, _ := newQueue(t, 3)
	if d, err := c.Depth(context.Background()); err != nil || d != (queue.Depth{}) {
		t.Fatalf("Depth = %+v, %v; want zero and no error", d, err)
	}
}

func TestEnqueueDeduplicatesByJobID(t *testing.T) {
	ctx := context.Background()
	c, _ := newQueue(t, 3)
	job := queue.Job{FeedbackID: 42, Attempt: 0}
	if err := c.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := c.Enqueue(ctx, job); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("second Enqueue = %v, want ErrDuplicate", err)
	}
	if err := c.Enqueue(ctx, queue.Job{FeedbackID: 42, Attempt: 1}); err != nil {
		t.Fatalf("next attempt's job: %v", err)
	}
	st, err := c.State(ctx, job)
	if err != nil || st.Name != "pending" || st.DeadLettered() {
		t.Fatalf("State = %+v, %v", st, err)
	}
	d, err := c.Depth(ctx)
	if err != nil || d.Pending != 2 {
		t.Fatalf("Depth = %+v, %v", d, err)
	}
	if _, err := c.State(ctx, queue.Job{FeedbackID: 7}); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("State of unknown job = %v", err)
	}
}

// A job's key is part of its ID: jobs of two feedback rows that share an
// ID (another database's, or one restored from a backup) are distinct, and
// neither a keyed nor an old keyless job (its ID without a key) shadows the
// other.
func TestJobsOfRowsSharingAFeedbackIDAreDistinct(t *testing.T) {
	ctx := context.Background()
	c, _ := newQueue(t, 3)
	old := queue.Job{FeedbackID: 42}
	mine := queue.Job{FeedbackID: 42, Key: "5f0c8a9e-9d6b-4c1e-8f7a-0b1c2d3e4f50"}
	theirs := queue.Job{FeedbackID: 42, Key: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}
	for _, j := range []queue.Job{old, mine, theirs} {
		if err := c.Enqueue(ctx, j); err != nil {
			t.Fatalf("Enqueue(%+v) = %v; want it queued beside the others", j, err)
		}
	}
	if err := c.Enqueue(ctx, mine); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("the same keyed job again = %v, want ErrDuplicate", err)
	}
	if old.ID() != "feedback-42-0" || mine.ID() == theirs.ID() {
		t.Errorf("IDs %s, %s, %s", old.ID(), mine.ID(), theirs.ID())
	}
}

// Rerun replaces a dead-lettered job of the same ID with a fresh one, and
// leaves a live one alone.
func TestRerunReplacesOnlyADeadLetter(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.Client(t)
	opts := queue.Options{Name: "q-" + testredis.Namespace(t), MaxRetry: 3}
	c, _ := newQueueOn(t, rdb, opts)
	job := queue.Job{FeedbackID: 7, Key: "5f0c8a9e-9d6b-4c1e-8f7a-0b1c2d3e4f50"}
	if err := c.Rerun(ctx, job); err != nil {
		t.Fatalf("Rerun of a job the queue does not hold = %v", err)
	}
	if err := c.Rerun(ctx, job); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("Rerun of a pending job = %v, want ErrDuplicate", err)
	}
	if err := asynq.NewInspectorFromRedisClient(rdb).ArchiveTask(opts.Name, job.ID()); err != nil {
		t.Fatal(err)
	}
	if err := c.Rerun(ctx, job); err != nil {
		t.Fatalf("Rerun of a dead-lettered job = %v", err)
	}
	d, err := c.Depth(ctx)
	if err != nil || d.Pending != 1 || d.Archived != 0 {
		t.Fatalf("Depth = %+v, %v; want the one job pending again", d, err)
	}
}

func TestServerRunsJobsAndForgetsFinishedOnes(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 3)
	var mu sync.Mutex
	seen := map[int]int{}
	start(t, c, cfg, func(_ context.Context, j queue.Job) error {
		mu.Lock()
		defer mu.Unlock()
		seen[j.FeedbackID]++
		return nil
	})
	for id := 1; id <= 5; id++ {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: id}); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "5 jobs", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 5 })
	mu.Lock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %d ran %d times", id, n)
		}
	}
	mu.Unlock()
	// A finished job is gone, so the same ID can be queued again later.
	testutil.WaitFor(t, "job 1 forgotten", func() bool {
		_, err := c.State(ctx, queue.Job{FeedbackID: 1})
		return errors.Is(err, queue.ErrNotFound)
	})
	if err := c.Enqueue(ctx, queue.Job{FeedbackID: 1}); err != nil {
		t.Fatalf("re-enqueue after completion: %v", err)
	}
}

func TestFailingJobIsRetriedThenDeadLettered(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 2)
	var runs atomic.Int32
	dead := make(chan error, 1)
	cfg.OnDeadLetter = func(_ context.Context, j queue.Job, err error) {
		if j.FeedbackID == 9 {
			dead <- err
		}
	}
	start(t, c, cfg, func(context.Context, queue.Job) error {
		runs.Add(1)
		return errors.New("database unavailable")
	})
	job := queue.Job{FeedbackID: 9}
	if err := c.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-dead:
		if err == nil || err.Error() != "database unavailable" {
			t.Errorf("dead-letter error = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("job was not dead-lettered")
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("job ran %d times, want 1 + MaxRetry(2) = 3", n)
	}
	testutil.WaitFor(t, "archived state", func() bool {
		st, err := c.State(ctx, job)
		return err == nil && st.DeadLettered() && st.LastErr == "database unavailable"
	})
	if err := c.Enqueue(ctx, job); !errors.Is(err, queue.ErrDuplicate) {
		t.Errorf("enqueue of a dead-lettered job ID = %v, want ErrDuplicate", err)
	}
}

func TestPermanentAndCorruptJobsAreDeadLetteredAtOnceWithoutBlockingTheQueue(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.Client(t)
	opts := queue.Options{Name: "q-" + testredis.Namespace(t), MaxRetry: 5}
	c, cfg := newQueueOn(t, rdb, opts)
	cfg.Concurrency = 1
	var mu sync.Mutex
	var deadIDs []int
	cfg.OnDeadLetter = func(_ context.Context, j queue.Job, _ error) {
		mu.Lock()
		defer mu.Unlock()
		deadIDs = append(deadIDs, j.FeedbackID)
	}
	var poisonRuns atomic.Int32
	done := make(chan int, 10)
	start(t, c, cfg, func(_ context.Context, j queue.Job) error {
		if j.FeedbackID == 1 {
			poisonRuns.Add(1)
			return queue.Permanent(errors.New("feedback no longer exists"))
		}
		done <- j.FeedbackID
		return nil
	})
	// A payload no job could have: written straight through asynq.
	raw := asynq.NewClientFromRedisClient(rdb)
	if _, err := raw.Enqueue(asynq.NewTask("feedback:analyze", []byte("{not json")), asynq.Queue(opts.Name), asynq.TaskID("corrupt")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2, 3} {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: id}); err != nil {
			t.Fatal(err)
		}
	}
	for got := map[int]bool{}; len(got) < 2; {
		select {
		case id := <-done:
			got[id] = true
		case <-time.After(20 * time.Second):
			t.Fatal("healthy jobs did not run behind the poison ones")
		}
	}
	testutil.WaitFor(t, "two dead letters", func() bool {
		d, err := c.Depth(ctx)
		return err == nil && d.Archived == 2
	})
	if n := poisonRuns.Load(); n != 1 {
		t.Errorf("permanent failure ran %d times, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deadIDs) != 1 || deadIDs[0] != 1 {
		t.Errorf("OnDeadLetter got %v, want [1] (the corrupt job has no feedback to fail)", deadIDs)
	}
}

func TestShutdownPutsUnfinishedJobsBack(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 3)
	cfg.ShutdownTimeout = 300 * time.Millisecond
	started := make(chan struct{}, 1)
	s := c.NewServer(cfg, func(ctx context.Context, _ queue.Job) error {
		started <- struct{}{}
		<-ctx.Done() // a job that would outlive the shutdown
		return ctx.Err()
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	job := queue.Job{FeedbackID: 5}
	if err := c.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	<-started
	s.Shutdown()
	st, err := c.State(ctx, job)
	if err != nil || (st.Name != "pending" && st.Name != "retry") {
		t.Fatalf("after shutdown the job is %+v (%v), want it back on the queue", st, err)
	}
	// Another consumer picks it up.
	ran := make(chan struct{})
	start(t, c, cfg, func(context.Context, queue.Job) error { close(ran); return nil })
	select {
	case <-ran:
	case <-time.After(20 * time.Second):
		t.Fatal("returned job never ran again")
	}
}
