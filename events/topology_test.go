package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/outbox"
)

// startBusOn starts a Bus on rdb.
func startBusOn(t *testing.T, rdb redis.UniversalClient, channel string) *events.Bus {
	t.Helper()
	bus := events.NewBus(events.BusConfig{Redis: rdb, Channel: channel, Buffer: 1024, PingEvery: 200 * time.Millisecond})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Shutdown(context.Background()) })
	return bus
}

// checkBusOn publishes batches as the relay does, through clients of a
// topology, to two buses with their own clients, and checks that project
// and kind subscribers get every event once and in order.
func checkBusOn(t *testing.T, newClient func() redis.UniversalClient) {
	ch := "feedbackloop:feedback-events"
	busA, busB := startBusOn(t, newClient(), ch), startBusOn(t, newClient(), ch)
	pub := events.NewPublisher(newClient(), ch)
	subs := map[string]*events.Subscription{"project on A": busA.Subscribe(1), "project on B": busB.Subscribe(1), "kind on B": busB.SubscribeKinds(outbox.KindFeedback)}
	const n = 300
	for first := 1; first <= n; first += 30 {
		var batch []outbox.Event
		for id := first; id < first+30; id++ {
			batch = append(batch, ev(id, 1))
		}
		publish(t, pub, batch...)
	}
	for name, s := range subs {
		for id := 1; id <= n; id++ {
			if got := receive(t, s); got.ID != id {
				t.Fatalf("%s: event %d arrived as %d: out of order", name, id, got.ID)
			}
		}
		expectNone(t, s)
	}
}

func TestBusOverSentinel(t *testing.T) {
	set := testredis.StartSentinel(t, 1, 3)
	checkBusOn(t, func() redis.UniversalClient { return set.Client(t) })
}

// On a Cluster the events of a batch must still arrive in order, although
// a batch's plain PUBLISHes would each go to any node.
func TestBusOverCluster(t *testing.T) {
	c := testredis.StartCluster(t, 3)
	checkBusOn(t, func() redis.UniversalClient { return c.Client(t) })
}

// When the Sentinel master dies, the bus re-subscribes on the promoted
// replica and tells its subscribers to resync (events published meanwhile
// were lost to it), and events flow again.
func TestBusSurvivesASentinelFailover(t *testing.T) {
	set := testredis.StartSentinel(t, 2, 3)
	ch := "feedbackloop:feedback-events"
	bus := startBusOn(t, set.Client(t), ch)
	pub := events.NewPublisher(set.Client(t), ch)
	sub := bus.Subscribe(1)
	publish(t, pub, ev(1, 1))
	if got := receive(t, sub); got.ID != 1 {
		t.Fatalf("got %d", got.ID)
	}
	old := set.Master(t)
	old.Kill(t)
	killed := time.Now()
	// The relay retries a batch until it is published.
	defer keepPublishing(pub, 20*time.Millisecond)()
	awaitEventsAfterFailover(t, sub, killed)
}

// When a Cluster moves the channel's slot to another master (resharding,
// or a replica's promotion), the old master ends the bus's sharded
// subscription; the bus subscribes again where the slot lives now and
// subscribers resync.
func TestBusFollowsTheChannelsSlotAcrossTheCluster(t *testing.T) {
	ctx := context.Background()
	c := testredis.StartCluster(t, 3)
	ch := "feedbackloop:feedback-events"
	bus := startBusOn(t, c.Client(t), ch)
	pub := events.NewPublisher(c.Client(t), ch)
	sub := bus.Subscribe(1)
	publish(t, pub, ev(1, 1))
	if got := receive(t, sub); got.ID != 1 {
		t.Fatalf("got %d", got.ID)
	}

	admin := c.Client(t)
	slot, err := admin.ClusterKeySlot(ctx, ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	var src, dst *redis.Client
	var srcID, dstID string
	for _, srv := range c.Servers {
		node := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { node.Close() })
		id, err := node.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatal(err)
		}
		owns := node.ClusterCountKeysInSlot(ctx, int(slot)).Err() == nil && node.Do(ctx, "SPUBLISH", ch, "{}").Err() == nil
		switch {
		case owns && src == nil:
			src, srcID = node, id
		case !owns && dst == nil:
			dst, dstID = node, id
		}
	}
	for _, step := range []struct {
		node *redis.Client
		args []any
	}{
		{dst, []any{"CLUSTER", "SETSLOT", slot, "IMPORTING", srcID}},
		{src, []any{"CLUSTER", "SETSLOT", slot, "MIGRATING", dstID}},
		{dst, []any{"CLUSTER", "SETSLOT", slot, "NODE", dstID}},
		{src, []any{"CLUSTER", "SETSLOT", slot, "NODE", dstID}},
	} {
		if err := step.node.Do(ctx, step.args...).Err(); err != nil {
			t.Fatalf("%v: %v", step.args, err)
		}
	}
	select {
	case <-sub.Resync():
	case <-time.After(10 * time.Second):
		t.Fatal("subscribers were not told to resync after the slot moved")
	}
	publish(t, pub, ev(2, 1))
	if got := receive(t, sub); got.ID != 2 {
		t.Fatalf("after the move got %d", got.ID)
	}
}

// A failover that leaves the old master running (SENTINEL FAILOVER, for
// maintenance; or a partition) demotes it to a replica: the bus must not
// stay on it unaware of the events published meanwhile. go-redis moves
// commands to the new master at once but leaves subscriptions where they
// are; the old master delivers nothing published on the new one until the
// Sentinels reconfigure it (they notice it within their 10s INFO period)
// and, doing so, close its clients' connections: the bus re-subscribes and
// its subscribers resync. So events arrive up to about 10s late, none lost.
func TestBusSurvivesAManualSentinelFailover(t *testing.T) {
	ctx := context.Background()
	set := testredis.StartSentinel(t, 2, 3)
	ch := "feedbackloop:feedback-events"
	bus := startBusOn(t, set.Client(t), ch)
	pub := events.NewPublisher(set.Client(t), ch)
	sub := bus.Subscribe(1)
	publish(t, pub, ev(1, 1))
	if got := receive(t, sub); got.ID != 1 {
		t.Fatalf("got %d", got.ID)
	}
	old := set.Master(t)
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: set.Addrs()[0]})
	defer sentinel.Close()
	if err := sentinel.Failover(ctx, set.MasterName()).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	defer keepPublishing(pub, 10*time.Millisecond)()
	set.AwaitFailover(t, old, 30*time.Second)
	t.Logf("failed over after %v", time.Since(start))
	// Every event is delivered, or the subscriber is told to resync.
	want := 2
	deadline := time.After(30 * time.Second)
	for want < 400 {
		select {
		case <-sub.Resync():
			t.Logf("resync after %v (at event %d)", time.Since(start), want)
			return
		case e := <-sub.C():
			if e.ID != want {
				t.Fatalf("event %d arrived as %d without a resync: events were lost silently", want, e.ID)
			}
			want++
		case <-deadline:
			t.Fatalf("event %d not delivered within 30s, and no resync", want)
		}
	}
}

// When the Cluster master holding the channel dies and its replica takes
// over, the bus subscribes on the replica and subscribers resync; events
// flow again.
func TestBusSurvivesAClusterFailover(t *testing.T) {
	c := testredis.StartClusterWithReplicas(t, 3, 1)
	ch := "feedbackloop:feedback-events"
	bus := startBusOn(t, c.Client(t), ch)
	pub := events.NewPublisher(c.Client(t), ch)
	sub := bus.Subscribe(1)
	publish(t, pub, ev(1, 1))
	if got := receive(t, sub); got.ID != 1 {
		t.Fatalf("got %d", got.ID)
	}
	victim := c.MasterOf(t, ch)
	victim.Kill(t)
	killed := time.Now()
	defer keepPublishing(pub, 20*time.Millisecond)()
	awaitEventsAfterFailover(t, sub, killed)
}

// awaitEventsAfterFailover waits for the first event after the master was
// killed (never event 1 again) and for the resync that tells subscribers
// events may have been lost meanwhile.
func awaitEventsAfterFailover(t *testing.T, sub *events.Subscription, killed time.Time) {
	t.Helper()
	resynced := false
	for {
		select {
		case <-sub.Resync():
			resynced = true
			continue
		case e := <-sub.C():
			if e.ID < 2 {
				t.Fatalf("event %d again", e.ID)
			}
			t.Logf("failover gap (kill to first event delivered after it): %v (event %d)", time.Since(killed), e.ID)
		case <-time.After(30 * time.Second):
			t.Fatal("no event within 30s of killing the master")
		}
		break
	}
	if !resynced {
		select {
		case <-sub.Resync():
		case <-time.After(time.Second):
			t.Fatal("subscribers were not told to resync after the failover")
		}
	}
}

// keepPublishing publishes events 2, 3, … every interval, each until it is
// taken, as the outbox relay retries a batch, until the returned function
// is called.
func keepPublishing(pub *events.Publisher, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		for id := 2; ; {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if pub.PublishBatch(ctx, []outbox.Event{ev(id, 1)}) == nil {
				id++
			}
			cancel()
		}
	}()
	return func() { close(done) }
}
