package events_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/outbox"
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

func receive(t *testing.T, s *events.Subscription) *events.Message {
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
	return nil
}

func expectNone(t *testing.T, s *events.Subscription) {
	t.Helper()
	select {
	case e := <-s.C():
		t.Fatalf("unexpected event %+v", e.Event)
	case <-time.After(100 * time.Millisecond):
	}
}

func publish(t testing.TB, pub *events.Publisher, batch ...outbox.Event) {
	t.Helper()
	if err := pub.PublishBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func ev(id, project int) outbox.Event {
	return outbox.Event{ID: id, ProjectID: project, Kind: outbox.KindFeedback, ObjectID: 7, Version: id,
		Payload: json.RawMessage(`{"feedback":{"id":7}}`), At: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

// An event reaches the subscribers of its project on every bus, and only
// them.
func TestEventsReachTheirProjectsSubscribersOnEveryBus(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	busA, _ := newBus(t, ch, 8)
	busB, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)

	onA := busA.Subscribe(3)
	onB := busB.Subscribe(3)
	alsoOnB := busB.Subscribe(3)
	other := busA.Subscribe(4)
	if n := busB.Subscribers(); n != 2 {
		t.Fatalf("busB.Subscribers() = %d, want 2", n)
	}
	sent := ev(11, 3)
	publish(t, pub, sent)
	for name, s := range map[string]*events.Subscription{"onA": onA, "onB": onB, "alsoOnB": alsoOnB} {
		got := receive(t, s)
		if got.ID != sent.ID || got.ProjectID != 3 || got.Kind != sent.Kind || string(got.Payload) != string(sent.Payload) || !got.At.Equal(sent.At) {
			t.Errorf("%s received %+v, want %+v", name, got.Event, sent)
		}
	}
	expectNone(t, other)
}

// Subscribers of one bus share one decoded snapshot per event.
func TestSnapshotsAreDecodedOncePerEvent(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)
	a, b := bus.Subscribe(1), bus.Subscribe(1)
	publish(t, pub, ev(1, 1))
	decodes := 0
	decode := func(e outbox.Event) (any, error) { decodes++; return string(e.Payload), nil }
	ma, mb := receive(t, a), receive(t, b)
	va, _ := ma.Snapshot(decode)
	vb, _ := mb.Snapshot(decode)
	if decodes != 1 || va != vb || ma != mb {
		t.Fatalf("%d decodes for one event (same message: %v)", decodes, ma == mb)
	}
}

func TestEventsArriveInPublishOrder(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 128)
	pub := events.NewPublisher(testredis.Client(t), ch)
	s := bus.Subscribe(1)
	var batch []outbox.Event
	for id := 1; id <= 100; id++ {
		batch = append(batch, ev(id, 1))
	}
	publish(t, pub, batch...)
	for id := 1; id <= 100; id++ {
		if got := receive(t, s); got.ID != id {
			t.Fatalf("event %d arrived as %d", id, got.ID)
		}
	}
}

// A subscriber that does not read must neither block the others nor grow
// without bound: it loses events and is told to resync.
func TestSlowSubscriberIsToldToResyncAndBlocksNobody(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	// The fast subscriber may get an event before the slow one is offered
	// it (subscribers are served in no set order), so the test waits for
	// each dispatch to finish: otherwise the slow one, drained below, would
	// have room for the last event.
	dispatched := make(chan struct{}, 5)
	bus := events.NewBus(events.BusConfig{Redis: testredis.NamedClient(t, "bus-"+ch), Channel: ch, Buffer: 2,
		OnDispatch: func(int, int) { dispatched <- struct{}{} }})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Shutdown(context.Background()) })
	pub := events.NewPublisher(testredis.Client(t), ch)
	slow := bus.Subscribe(1)
	fast := bus.Subscribe(1)

	for id := 1; id <= 5; id++ {
		publish(t, pub, ev(id, 1))
		if got := receive(t, fast); got.ID != id {
			t.Fatalf("fast subscriber got event %d, want %d", got.ID, id)
		}
		<-dispatched
	}
	select {
	case <-slow.Resync():
	case <-time.After(5 * time.Second):
		t.Fatal("the slow subscriber was not told to resync")
	}
	if got := receive(t, slow); got.ID != 1 {
		t.Fatalf("slow subscriber's first buffered event is %d, want 1", got.ID)
	}
	if got := receive(t, slow); got.ID != 2 {
		t.Fatalf("slow subscriber's second buffered event is %d, want 2", got.ID)
	}
	expectNone(t, slow)
}

func TestBusResubscribesAfterLosingItsConnection(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)
	s := bus.Subscribe(1)

	if n := testredis.KillClients(t, "bus-"+ch); n == 0 {
		t.Fatal("found no connection of the bus to kill")
	}
	select {
	case <-s.Resync():
	case <-time.After(10 * time.Second):
		t.Fatal("subscribers were not told to resync after the reconnection")
	}
	// The subscription is back: a later event arrives.
	publish(t, pub, ev(4, 1))
	if got := receive(t, s); got.ID != 4 {
		t.Fatalf("after reconnecting got %+v", got.Event)
	}
}

func TestMalformedMessagesAreIgnored(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 8)
	s := bus.Subscribe(1)
	rdb := testredis.Client(t)
	for _, junk := range []string{"not json", `{"id":0,"projectId":1}`, `[]`} {
		if err := rdb.Publish(context.Background(), ch, junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, events.NewPublisher(rdb, ch), ev(9, 1))
	if got := receive(t, s); got.ID != 9 {
		t.Fatalf("got %+v after junk", got.Event)
	}
}

func TestCloseAndShutdownCloseSubscriptions(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	rdb := testredis.Client(t)
	bus := events.NewBus(events.BusConfig{Redis: rdb, Channel: ch})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := bus.Subscribe(1), bus.Subscribe(2)
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
	if _, ok := <-bus.Subscribe(1).C(); ok {
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
		s := bus.Subscribe(1)
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
		publish(b, pub, ev(i+1, 1))
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

// A subscription to kinds gets the events of those kinds in every project
// (project 0 included: events about no project), and nothing else.
func TestKindSubscriptionsSpanProjects(t *testing.T) {
	ch := "ev-" + testredis.Namespace(t)
	bus, _ := newBus(t, ch, 8)
	pub := events.NewPublisher(testredis.Client(t), ch)
	access := bus.SubscribeKinds(outbox.KindAccess, "credential")
	project := bus.Subscribe(3)
	kinded := func(id, project int, kind string) outbox.Event {
		e := ev(id, project)
		e.Kind = kind
		return e
	}
	publish(t, pub, kinded(1, 3, outbox.KindAccess), ev(2, 3), kinded(3, 9, "credential"), kinded(4, 0, "credential"))
	for _, want := range []int{1, 3, 4} {
		if got := receive(t, access); got.ID != want {
			t.Fatalf("kind subscriber got event %d, want %d", got.ID, want)
		}
	}
	expectNone(t, access)
	for _, want := range []int{1, 2} {
		if got := receive(t, project); got.ID != want {
			t.Fatalf("project subscriber got event %d, want %d", got.ID, want)
		}
	}
	access.Close()
	access.Close() // twice is fine
	if _, ok := <-access.C(); ok {
		t.Fatal("a closed kind subscription still delivers")
	}
	publish(t, pub, kinded(5, 3, outbox.KindAccess))
	if got := receive(t, project); got.ID != 5 {
		t.Fatalf("project subscriber got %d after the kind subscriber left", got.ID)
	}
}
