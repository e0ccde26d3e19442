package redisconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/redisconn"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

func TestNewRefusesAmbiguousOptions(t *testing.T) {
	for _, c := range []struct {
		o    redisconn.Options
		want string
	}{
		{redisconn.Options{}, "exactly one topology"},
		{redisconn.Options{URL: "redis://a:1/0", ClusterAddrs: []string{"b:2"}}, "exactly one topology"},
		{redisconn.Options{SentinelAddrs: []string{"a:1"}}, "name of the master"},
		{redisconn.Options{ClusterAddrs: []string{"a:1"}, DB: 2}, "database 0 only"},
		{redisconn.Options{URL: "redis://u:p@a:1/0", Password: "q"}, "both in the URL and apart"},
		{redisconn.Options{URL: "http://a"}, "redis://"},
	} {
		if _, err := redisconn.New(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", c.o, err, c.want)
		}
	}
}

func ping(o redisconn.Options) error {
	rdb, err := redisconn.New(o)
	if err != nil {
		return err
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return redisconn.Ping(ctx, rdb)
}

// Ping fails while a Sentinel set has no master, until a replica is
// promoted.
func TestPingFollowsTheSentinelMaster(t *testing.T) {
	set := testredis.StartSentinel(t, 1, 3)
	o := redisconn.Options{SentinelAddrs: set.Addrs(), SentinelMaster: set.MasterName()}
	if err := ping(o); err != nil {
		t.Fatal(err)
	}
	old := set.Master(t)
	old.Kill(t)
	if err := ping(o); err == nil {
		t.Fatal("Ping succeeded with the master dead")
	}
	set.AwaitFailover(t, old, 30*time.Second)
	if err := ping(o); err != nil {
		t.Fatalf("after the failover: %v", err)
	}
}

// On a Cluster, Ping fails when any master is down: its slots are
// unserved.
func TestPingChecksEveryClusterMaster(t *testing.T) {
	c := testredis.StartCluster(t, 3)
	o := redisconn.Options{ClusterAddrs: c.Addrs()[:1]}
	if err := ping(o); err != nil {
		t.Fatal(err)
	}
	c.Servers[2].Kill(t)
	if err := ping(o); err == nil {
		t.Fatal("Ping succeeded with a master dead")
	}
	if err := ping(redisconn.Options{URL: "redis://" + c.Servers[0].Addr + "/0"}); err != nil {
		t.Fatalf("a single node: %v", err)
	}
}
