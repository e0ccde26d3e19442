package queue_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/queue"
)

// checkQueueOn enqueues, inspects and consumes jobs through clients of a
// topology: the producer and the consumer each with their own, as separate
// processes would.
func checkQueueOn(t *testing.T, newClient func() redis.UniversalClient) {
	ctx := context.Background()
	opts := queue.Options{Name: "feedback", MaxRetry: 1}
	producer, _ := newQueueOn(t, newClient(), opts)
	consumer, cfg := newQueueOn(t, newClient(), opts)
	var log testutil.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		// asynq's own background work (heartbeats, forwarding, recovery)
		// reports its Redis errors here: a CROSSSLOT would show.
		for _, line := range log.Lines() {
			if strings.Contains(line, "level=ERROR") && strings.Contains(line, "component=asynq") {
				t.Errorf("asynq logged an error: %s", line)
			}
		}
	})
	const n = 20
	for id := 1; id <= n; id++ {
		if err := producer.Enqueue(ctx, queue.Job{FeedbackID: id, Key: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := producer.Enqueue(ctx, queue.Job{FeedbackID: 1, Key: "k"}); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("duplicate Enqueue = %v", err)
	}
	if st, err := producer.State(ctx, queue.Job{FeedbackID: 3, Key: "k"}); err != nil || st.Name != "pending" {
		t.Fatalf("State = %+v, %v", st, err)
	}
	if d, err := producer.Depth(ctx); err != nil || d.Pending != n {
		t.Fatalf("Depth = %+v, %v", d, err)
	}
	var mu sync.Mutex
	seen := map[int]int{}
	start(t, consumer, cfg, func(_ context.Context, j queue.Job) error {
		mu.Lock()
		defer mu.Unlock()
		seen[j.FeedbackID]++
		switch {
		case j.FeedbackID == n && seen[j.FeedbackID] == 1:
			return errors.New("fails once") // the retry path too
		case j.FeedbackID == n-1 && seen[j.FeedbackID] == 1:
			return queue.Permanent(errors.New("gives up")) // and dead letters
		}
		return nil
	})
	testutil.WaitFor(t, "every job", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == n && seen[n] == 2 })
	dead := queue.Job{FeedbackID: n - 1, Key: "k"}
	testutil.WaitFor(t, "a dead letter", func() bool {
		st, err := producer.State(ctx, dead)
		return err == nil && st.DeadLettered()
	})
	if err := producer.Rerun(ctx, dead); err != nil {
		t.Fatalf("Rerun of a dead letter: %v", err)
	}
	testutil.WaitFor(t, "the dead letter run again", func() bool { mu.Lock(); defer mu.Unlock(); return seen[n-1] == 2 })
	testutil.WaitFor(t, "an empty queue", func() bool {
		d, err := producer.Depth(ctx)
		return err == nil && d == queue.Depth{}
	})
	mu.Lock()
	defer mu.Unlock()
	for id, runs := range seen {
		if runs != 1 && id < n-1 {
			t.Errorf("job %d ran %d times", id, runs)
		}
	}
}

func TestQueueOverSentinel(t *testing.T) {
	set := testredis.StartSentinel(t, 1, 3)
	checkQueueOn(t, func() redis.UniversalClient { return set.Client(t) })
}

// asynq keeps each queue's keys under one hash tag ({feedback}), so its
// scripts run on a Cluster.
func TestQueueOverCluster(t *testing.T) {
	c := testredis.StartCluster(t, 3)
	checkQueueOn(t, func() redis.UniversalClient { return c.Client(t) })
}

// A Sentinel failover in the middle of work loses no job that the replicas
// had: the consumer goes on from the promoted replica, jobs running at the
// kill finish or run again (at least once, as always), and the producer's
// enqueues succeed again once the new master answers. The gap is logged.
func TestQueueSurvivesASentinelFailover(t *testing.T) {
	set := testredis.StartSentinel(t, 2, 3)
	producerRedis := set.Client(t)
	checkQueueFailover(t, producerRedis, set.Client(t), func() {
		// Replication is asynchronous: a job only the old master had is
		// lost with it. WAIT until both replicas have everything so far.
		waitReplicated(t, producerRedis, "replicated", 2)
	}, func() {
		set.Master(t).Kill(t)
	})
}

// The same on a Cluster whose master holding the queue (every key of a
// queue shares its hash tag) dies and its replica takes over.
func TestQueueSurvivesAClusterFailover(t *testing.T) {
	ctx := context.Background()
	c := testredis.StartClusterWithReplicas(t, 3, 1)
	producerRedis := c.Client(t)
	checkQueueFailover(t, producerRedis, c.Client(t), func() {
		master, err := producerRedis.MasterForKey(ctx, "{feedback}")
		if err != nil {
			t.Fatal(err)
		}
		waitReplicated(t, master, "{feedback}replicated", 1)
	}, func() {
		c.MasterOf(t, "{feedback}").Kill(t)
	})
}

// waitReplicated writes key on rdb's master and waits until replicas have
// it, and so everything written before.
func waitReplicated(t *testing.T, rdb *redis.Client, key string, replicas int64) {
	t.Helper()
	ctx := context.Background()
	conn := rdb.Conn()
	defer conn.Close()
	if err := conn.Incr(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Wait(ctx, int(replicas), 5*time.Second).Result(); err != nil || n != replicas {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
}

func checkQueueFailover(t *testing.T, producerRedis, consumerRedis redis.UniversalClient, replicate, kill func()) {
	ctx := context.Background()
	opts := queue.Options{Name: "feedback", MaxRetry: 25}
	producer, _ := newQueueOn(t, producerRedis, opts)
	consumer, cfg := newQueueOn(t, consumerRedis, opts)

	const before = 60
	for id := 1; id <= before; id++ {
		if err := producer.Enqueue(ctx, queue.Job{FeedbackID: id, Key: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	replicate()

	var mu sync.Mutex
	runs := map[int]int{}
	var starts []time.Time
	start(t, consumer, cfg, func(ctx context.Context, j queue.Job) error {
		mu.Lock()
		runs[j.FeedbackID]++
		starts = append(starts, time.Now())
		mu.Unlock()
		select { // work that takes a while, so the kill finds some running
		case <-time.After(40 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	testutil.WaitFor(t, "some jobs done", func() bool { mu.Lock(); defer mu.Unlock(); return len(runs) >= 10 })

	kill()
	killed := time.Now()
	// New jobs keep coming, retried while Redis cannot take them, as the
	// reconciler re-queues feedback whose job could not be queued.
	var enqueued []int
	var firstEnqueued time.Duration
	stop := make(chan struct{})
	producing := make(chan struct{})
	go func() {
		defer close(producing)
		for id := before + 1; id <= before+10; {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			err := producer.Enqueue(ctx, queue.Job{FeedbackID: id, Key: "k"})
			cancel()
			if err == nil || errors.Is(err, queue.ErrDuplicate) {
				mu.Lock()
				if firstEnqueued == 0 {
					firstEnqueued = time.Since(killed)
				}
				enqueued = append(enqueued, id)
				mu.Unlock()
				id++
			}
		}
	}()
	testutil.WaitForWithin(t, 60*time.Second, "every job, and ten queued after the kill", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(enqueued) < 10 {
			return false
		}
		for id := 1; id <= before; id++ {
			if runs[id] == 0 {
				return false
			}
		}
		for _, id := range enqueued {
			if runs[id] == 0 {
				return false
			}
		}
		return true
	})
	close(stop)
	<-producing
	mu.Lock()
	defer mu.Unlock()
	var firstRun time.Duration
	for _, at := range starts {
		if at.After(killed) {
			firstRun = at.Sub(killed)
			break
		}
	}
	twice := 0
	for _, n := range runs {
		if n > 1 {
			twice++
		}
	}
	t.Logf("failover gap: first job started %v after the kill, first enqueue accepted after %v; %d jobs ran more than once", firstRun, firstEnqueued, twice)
}
