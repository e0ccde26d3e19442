package testredis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// The Sentinels promote a replica when the master dies, and what the
// replicas had acknowledged is there.
func TestSentinelFailsOver(t *testing.T) {
	ctx := context.Background()
	set := testredis.StartSentinel(t, 2, 3)
	rdb := set.Client(t)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Wait(ctx, 2, time.Second).Result(); err != nil || n != 2 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	old := set.Master(t)
	if old != set.Servers[0] {
		t.Fatalf("master is %s, want the first server %s", old.Addr, set.Servers[0].Addr)
	}
	old.Kill(t)
	start := time.Now()
	m := set.AwaitFailover(t, old, 30*time.Second)
	t.Logf("promoted %s after %v", m.Addr, time.Since(start))
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after failover GET = %q, %v", v, err)
	}
}

// A cluster's client reaches every node's slots.
func TestClusterServesEverySlot(t *testing.T) {
	ctx := context.Background()
	c := testredis.StartCluster(t, 3)
	rdb := c.Client(t)
	for i := range 30 {
		if err := rdb.Set(ctx, fmt.Sprint("key", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	for _, srv := range c.Servers {
		size, err := privateClient(t, srv).DBSize(ctx).Result()
		if err != nil || size == 0 {
			t.Fatalf("node %s holds %d keys (%v): the keys are not spread", srv.Addr, size, err)
		}
		total += size
	}
	if total != 30 {
		t.Fatalf("%d keys in all, want 30", total)
	}
}
