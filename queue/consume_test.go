package queue_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/queue"
)

// An idle consumer takes a new job at its next look at the queue, every
// PollInterval; shutting down an idle consumer does not wait for a look.
func TestIdleConsumerTakesNewJobs(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 3)
	var ran atomic.Int64
	s := c.NewServer(cfg, func(context.Context, queue.Job) error { ran.Add(1); return nil })
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // idle: the consumer has looked and found nothing
	for id := 1; id <= 3; id++ {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: id}); err != nil {
			t.Fatal(err)
		}
		testutil.WaitForWithin(t, 10*time.Second, "the job to run", func() bool { return ran.Load() == int64(id) })
	}
	stopped := make(chan struct{})
	go func() { s.Shutdown(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown of an idle consumer hangs")
	}
	s.Shutdown() // again: nothing happens
}

// Several idle consumers share the jobs: each runs once.
func TestIdleConsumersShareTheJobs(t *testing.T) {
	ctx := context.Background()
	c, cfg := newQueue(t, 3)
	var mu sync.Mutex
	runs := map[int][]int{} // job → consumers that ran it
	for consumer := range 3 {
		start(t, c, cfg, func(_ context.Context, j queue.Job) error {
			mu.Lock()
			defer mu.Unlock()
			runs[j.FeedbackID] = append(runs[j.FeedbackID], consumer)
			return nil
		})
	}
	time.Sleep(200 * time.Millisecond)
	for id := 1; id <= 30; id++ {
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: id}); err != nil {
			t.Fatal(err)
		}
		if id%10 == 0 {
			time.Sleep(50 * time.Millisecond) // and idle again
		}
	}
	testutil.WaitForWithin(t, 10*time.Second, "30 jobs", func() bool { mu.Lock(); defer mu.Unlock(); return len(runs) == 30 })
	mu.Lock()
	defer mu.Unlock()
	for id, by := range runs {
		if len(by) != 1 {
			t.Errorf("job %d ran %d times (consumers %v)", id, len(by), by)
		}
	}
}

// A consumer whose connections are cut (a Redis restart, a network
// failure) reconnects and takes the jobs queued after.
func TestConsumersSurviveALostConnection(t *testing.T) {
	ctx := context.Background()
	name := "wake-" + testredis.Namespace(t)
	rdb := testredis.NamedClient(t, name)
	c, cfg := newQueueOn(t, rdb, queue.Options{Name: "q-" + testredis.Namespace(t)})
	var mu sync.Mutex
	var ran []int
	start(t, c, cfg, func(_ context.Context, j queue.Job) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, j.FeedbackID)
		return nil
	})
	time.Sleep(200 * time.Millisecond)
	if n := testredis.KillClients(t, name); n < 1 {
		t.Fatalf("killed %d connections, want the client's and the consumer's", n)
	}
	id := 0
	testutil.WaitForWithin(t, 20*time.Second, "a job after the connections were cut", func() bool {
		id++
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: id}); err != nil {
			t.Logf("enqueue %d: %v", id, err) // the client reconnects on the next try
		}
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return len(ran) > 0
	})
	testutil.WaitForWithin(t, 10*time.Second, "every job", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ran) >= id-1 // the last Enqueue may have failed on a cut connection
	})
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(ran)
	if len(slices.Compact(slices.Clone(ran))) != len(ran) {
		t.Errorf("a job ran twice: %v", ran)
	}
}

// BenchmarkPickUp measures how long a job waits for an idle consumer:
// from Enqueue returning to the handler starting. Each job is queued when
// the consumer has been idle for a while (a random pause of up to 50 ms),
// so that pick-ups fall anywhere between two looks at the queue.
func BenchmarkPickUp(b *testing.B) {
	ctx := context.Background()
	c := queue.NewClient(testredis.Client(b), queue.Options{Name: "q-" + testredis.Namespace(b)})
	defer c.Close()
	started := make(chan time.Time, 1)
	s := c.NewServer(queue.ServerConfig{Concurrency: 4}, func(context.Context, queue.Job) error {
		started <- time.Now()
		return nil
	})
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown()
	time.Sleep(200 * time.Millisecond)
	var waits []time.Duration
	for i := 0; b.Loop(); i++ {
		time.Sleep(time.Duration(i*7919%50) * time.Millisecond)
		if err := c.Enqueue(ctx, queue.Job{FeedbackID: i + 1}); err != nil {
			b.Fatal(err)
		}
		queued := time.Now()
		select {
		case at := <-started:
			waits = append(waits, at.Sub(queued))
		case <-time.After(10 * time.Second):
			b.Fatal("the job did not start")
		}
	}
	slices.Sort(waits)
	b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(waits[len(waits)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(waits[len(waits)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkIdleConsumer reports the Redis commands per second an idle
// consumer sends (on a private Redis, so that nothing else counts): its
// looks at the queue (one per PollInterval), asynq's checks for due
// retries, heartbeats.
func BenchmarkIdleConsumer(b *testing.B) {
	srv := testredis.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	c := queue.NewClient(rdb, queue.Options{Name: "idle"})
	defer c.Close()
	s := c.NewServer(queue.ServerConfig{Concurrency: 4}, func(context.Context, queue.Job) error { return nil })
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown()
	processed := func() float64 {
		info, err := rdb.Info(context.Background(), "stats").Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				n, _ := strconv.ParseFloat(v, 64)
				return n
			}
		}
		b.Fatal("no total_commands_processed in INFO stats")
		return 0
	}
	time.Sleep(time.Second) // past start-up
	var total float64
	var idle time.Duration
	for b.Loop() {
		before, t0 := processed(), time.Now()
		time.Sleep(2 * time.Second)
		total += processed() - before - 1 // the INFO itself
		idle += time.Since(t0)
	}
	b.ReportMetric(total/idle.Seconds(), "cmds/s")
}
