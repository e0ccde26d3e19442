package events_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// newBus starts a Bus on its own connection pool, as a separate process
// would have, named so that the test can find and kill its connections.
func newBus(t testing.TB, channel string, buffer int) (*events.Bus, *redis.Client) {
	t.Helper()
	rdb := testredis.NamedClient(t, "bus-"+channel)
	bus := events.NewBus(events.BusConfig{Redis: rdb, Channel: channel, Buffer: buffer, PingEvery: 200 * time.Millisecond})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bus.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return bus, rdb
}

func receive(t *testing.T, s *events.Subscription) events.Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return events.Event{}
}

func expectNone(t *testing.T, s *events.Subscription) {
	t.Helper()
	select {
	case e := <-s.C():
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestEventsReachMatchingSubscribersOfEveryBus(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	busA, _ := newBus(t, ch, 8)
	busB, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)

	all := busA.Subscribe(events.Filter{})
	byFeedback := busB.Subscribe(events.Filter{FeedbackID: 7})
	byProject := busB.Subscribe(events.Filter{ProjectID: 3})
	other := busA.Subscribe(events.Filter{FeedbackID: 8})
	if n := busB.Subscribers(); n != 2 {
		t.Fatalf("busB.Subscribers() = %d, want 2", n)
	}

	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	sent := events.Event{FeedbackID: 7, ProjectID: 3, Status: "FAILED", PreviousStatus: "PROCESSING", Version: 3, At: at, Error: "model timed out"}
	if err := pub.Publish(context.Background(), sent); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*events.Subscription{"all": all, "byFeedback": byFeedback, "byProject": byProject} {
		if got := receive(t, s); got != sent {
			t.Errorf("%s received %+v, want %+v", name, got, sent)
		}
	}
	expectNone(t, other)
}

func TestPublishRejectsIncompleteEvents(t *testing.T) {
	pub := events.NewPublisher(testredis.Client(t), "ev-"+testredis.Namespace(t))
	if err := pub.Publish(context.Background(), events.Event{Status: "PENDING"}); err == nil {
		t.Fatal("an event without a feedback ID was published")
	}
}

func TestEventsArriveInPublishOrder(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 128)
	pub := events.NewPublisher(testredis.Client(t), ch)
	s := bus.Subscribe(events.Filter{FeedbackID: 1})
	for v := 1; v <= 100; v++ {
		if err := pub.Publish(context.Background(), events.Event{FeedbackID: 1, ProjectID: 1, Status: "PENDING", Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	for v := 1; v <= 100; v++ {
		if got := receive(t, s); got.Version != v {
			t.Fatalf("event %d has version %d", v, got.Version)
		}
	}
}

// A subscriber that does not read must neither block the others nor grow
// without bound: it loses events and is told to resync.
func TestSlowSubscriberIsToldToResyncAndBlocksNobody(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 2)
	pub := events.NewPublisher(testredis.Client(t), ch)
	slow := bus.Subscribe(events.Filter{})
	fast := bus.Subscribe(events.Filter{})

	for v := 1; v <= 5; v++ {
		if err := pub.Publish(context.Background(), events.Event{FeedbackID: 1, ProjectID: 1, Status: "PENDING", Version: v}); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, fast); got.Version != v {
			t.Fatalf("fast subscriber got version %d, want %d", got.Version, v)
		}
	}
	select {
	case <-slow.Resync():
	case <-time.After(5 * time.Second):
		t.Fatal("the slow subscriber was not told to resync")
	}
	if got := receive(t, slow); got.Version != 1 {
		t.Fatalf("slow subscriber's first buffered event has version %d, want 1", got.Version)
	}
	if got := receive(t, slow); got.Version != 2 {
		t.Fatalf("slow subscriber's second buffered event has version %d, want 2", got.Version)
	}
	expectNone(t, slow)
}

func TestBusResubscribesAfterLosingItsConnection(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)
	s := bus.Subscribe(events.Filter{})

	if n := testredis.KillClients(t, "bus-"+ch); n == 0 {
		t.Fatal("found no connection of the bus to kill")
	}
	select {
	case <-s.Resync():
	case <-time.After(10 * time.Second):
		t.Fatal("subscribers were not told to resync after the reconnection")
	}
	// The subscription is back: a later event arrives.
	if err := pub.Publish(context.Background(), events.Event{FeedbackID: 4, ProjectID: 1, Status: "COMPLETED", Version: 3}); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, s); got.FeedbackID != 4 || got.Version != 3 {
		t.Fatalf("after reconnecting got %+v", got)
	}
}

func TestCloseAndShutdownCloseSubscriptions(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	rdb := testredis.Client(t)
	bus := events.NewBus(events.BusConfig{Redis: rdb, Channel: ch})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := bus.Subscribe(events.Filter{}), bus.Subscribe(events.Filter{})
	a.Close()
	a.Close() // idempotent
	if _, ok := <-a.C(); ok {
		t.Fatal("closed subscription delivered an event")
	}
	if n := bus.Subscribers(); n != 1 {
		t.Fatalf("Subscribers() = %d after one Close, want 1", n)
	}
	if err := bus.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-b.C(); ok {
		t.Fatal("subscription still open after Shutdown")
	}
	b.Close() // after Shutdown: no panic
	if _, ok := <-bus.Subscribe(events.Filter{}).C(); ok {
		t.Fatal("Subscribe after Shutdown returned an open subscription")
	}
}

func TestStartFailsClearlyWithoutRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := events.NewBus(events.BusConfig{Redis: rdb, Channel: "x"}).Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "is Redis reachable") {
		t.Fatalf("Start without Redis: %v", err)
	}
}

// BenchmarkFanOut1000 measures how long an event takes from Publish until
// all of 1,000 subscribers of one Bus (one per websocket client in the API)
// have it, through a real Redis.
func BenchmarkFanOut1000(b *testing.B) {
	const subscribers = 1000
	ch := "ev-" + testredis.Namespace(b)
	bus, _ := newBus(b, ch, 16)
	pub := events.NewPublisher(testredis.Client(b), ch)

	// Long-lived readers, like the API's subscription goroutines; the last
	// one to receive an event reports it.
	var remaining atomic.Int64
	all := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for range subscribers {
		s := bus.Subscribe(events.Filter{ProjectID: 1})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range s.C() {
				if remaining.Add(-1) == 0 {
					all <- struct{}{}
				}
			}
		}()
	}
	b.Cleanup(func() { bus.Shutdown(context.Background()); wg.Wait() })
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		remaining.Store(subscribers)
		start := time.Now()
		if err := pub.Publish(context.Background(), events.Event{FeedbackID: 1, ProjectID: 1, Status: "PROCESSING", Version: i + 1}); err != nil {
			b.Fatal(err)
		}
		<-all
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	var total time.Duration
	worst := time.Duration(0)
	for _, l := range latencies {
		total += l
		worst = max(worst, l)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(len(latencies)), "µs/event-to-all")
	b.ReportMetric(float64(worst.Microseconds()), "µs-max")
}
