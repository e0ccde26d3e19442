package testredis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/redisconn"
)

// sentinelMaster is the name the Sentinels of StartSentinel watch.
const sentinelMaster = "testmaster"

// Sentinel is a private Redis master with replicas under Sentinels, for
// tests of failover: kill Master(tb), and the Sentinels promote a replica
// within a few seconds (a master is down after 1s of silence). Every
// process is stopped when the test ends.
type Sentinel struct {
	// Servers are the Redis data servers: Servers[0] started as the
	// master, the others as its replicas. Which is master now, ask Master.
	Servers []*Server
	// Sentinels are the redis-server --sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts one master, replicas replicas of it and sentinels
// Sentinels (a majority is the quorum), and returns once the Sentinels know
// every replica and each other, so that a failover can happen.
func StartSentinel(tb testing.TB, replicas, sentinels int) *Sentinel {
	tb.Helper()
	master := Start(tb)
	s := &Sentinel{Servers: []*Server{master}}
	for range replicas {
		s.Servers = append(s.Servers, startServer(tb, func(plain []string, _ string, _ int) ([]string, error) {
			return append(plain, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port)), nil
		}))
	}
	quorum := sentinels/2 + 1
	for range sentinels {
		s.Sentinels = append(s.Sentinels, startServer(tb, func(plain []string, dir string, port int) ([]string, error) {
			// A Sentinel rewrites its file with what it learns; a restarted
			// one starts from it, as a real one does.
			conf := filepath.Join(dir, "sentinel-"+strconv.Itoa(port)+".conf")
			if _, err := os.Stat(conf); err != nil {
				text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d\n"+
					"sentinel down-after-milliseconds %[1]s 1000\n"+
					"sentinel failover-timeout %[1]s 5000\n", sentinelMaster, master.Port, quorum)
				if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
					return nil, err
				}
			}
			return append([]string{conf, "--sentinel"}, plain...), nil
		}))
	}
	s.waitReady(tb)
	return s
}

// Addrs are the Sentinels' addresses, for redis.FailoverOptions and
// REDIS_SENTINEL_ADDRS.
func (s *Sentinel) Addrs() []string {
	var addrs []string
	for _, sn := range s.Sentinels {
		addrs = append(addrs, sn.Addr)
	}
	return addrs
}

// MasterName is the name the Sentinels know the master by
// (REDIS_SENTINEL_MASTER).
func (s *Sentinel) MasterName() string { return sentinelMaster }

// Client returns a failover client of the set, as the service makes it,
// closed when tb ends.
func (s *Sentinel) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	return newClient(tb, redisconn.Options{SentinelAddrs: s.Addrs(), SentinelMaster: sentinelMaster}).(*redis.Client)
}

func newClient(tb testing.TB, o redisconn.Options) redis.UniversalClient {
	tb.Helper()
	rdb, err := redisconn.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Master returns the server a running Sentinel names as master now.
func (s *Sentinel) Master(tb testing.TB) *Server {
	tb.Helper()
	m, err := s.master()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// AwaitFailover waits until the Sentinels name a master other than old and
// it answers as one, and returns it.
func (s *Sentinel) AwaitFailover(tb testing.TB, old *Server, timeout time.Duration) *Server {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := s.master()
		if err == nil && m != old {
			if err = isMaster(m); err == nil {
				return m
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testredis: no failover from %s within %v (last: %v, %v)", old.Addr, timeout, m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Sentinel) master() (*Server, error) {
	var lastErr error
	for _, sn := range s.Sentinels {
		if !sn.Running() {
			continue
		}
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr, MaxRetries: -1})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := c.GetMasterAddrByName(ctx, sentinelMaster).Result()
		cancel()
		_ = c.Close()
		if err != nil {
			lastErr = err
			continue
		}
		for _, srv := range s.Servers {
			if srv.Addr == addr[0]+":"+addr[1] {
				return srv, nil
			}
		}
		return nil, fmt.Errorf("testredis: Sentinel %s names an unknown master %v", sn.Addr, addr)
	}
	return nil, fmt.Errorf("testredis: no Sentinel names the master: %v", lastErr)
}

// waitReady waits until every Sentinel knows every replica, in sync with the
// master, and the other Sentinels, and says the quorum is reachable.
func (s *Sentinel) waitReady(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	ready := func() error {
		for _, sn := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr, MaxRetries: -1})
			defer c.Close()
			replicas, err := c.Replicas(ctx, sentinelMaster).Result()
			if err != nil {
				return err
			}
			up := 0
			for _, r := range replicas {
				if r["flags"] == "slave" && r["master-link-status"] == "ok" {
					up++
				}
			}
			if up != len(s.Servers)-1 {
				return fmt.Errorf("Sentinel %s sees %d replicas in sync of %d", sn.Addr, up, len(s.Servers)-1)
			}
			others, err := c.Sentinels(ctx, sentinelMaster).Result()
			if err != nil {
				return err
			}
			if len(others) != len(s.Sentinels)-1 {
				return fmt.Errorf("Sentinel %s knows %d other Sentinels of %d", sn.Addr, len(others), len(s.Sentinels)-1)
			}
			if err := c.CkQuorum(ctx, sentinelMaster).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	waitFor(tb, "the Sentinels to know the set", 30*time.Second, ready)
}

// isMaster checks that srv answers as a master.
func isMaster(srv *Server) error {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	role, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		return err
	}
	if role[0] != "master" {
		return fmt.Errorf("%s is a %v", srv.Addr, role[0])
	}
	return nil
}

// Cluster is a private Redis Cluster. Every process is stopped when the
// test ends.
type Cluster struct {
	// Servers are every node, masters first as redis-cli --cluster create
	// assigned them; after a failover ask MasterOf.
	Servers []*Server
}

// StartCluster starts masters cluster nodes without replicas (three at
// least, as Redis requires), joins them with redis-cli --cluster create, and
// returns once every node says cluster_state:ok.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	return StartClusterWithReplicas(tb, masters, 0)
}

// StartClusterWithReplicas is StartCluster with replicas replicas of each
// master, which take over a dead master's slots: a node is failing after
// 2s of silence (cluster-node-timeout), and a replica is promoted soon
// after.
func StartClusterWithReplicas(tb testing.TB, masters, replicas int) *Cluster {
	tb.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		tb.Fatalf("testredis: redis-cli not found (%v): install Redis (e.g. apt-get install redis-tools)", err)
	}
	c := &Cluster{}
	for range masters * (1 + replicas) {
		c.Servers = append(c.Servers, startServer(tb, func(plain []string, _ string, _ int) ([]string, error) {
			// nodes.conf lands in the server's own --dir, and a restarted
			// node rejoins from it (empty, since nothing else is kept).
			return append(plain, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000"), nil
		}))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	out, err := exec.Command("redis-cli", append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")...).CombinedOutput()
	if err != nil {
		tb.Fatalf("testredis: redis-cli --cluster create: %v\n%s", err, out)
	}
	waitFor(tb, "cluster_state:ok on every node", 30*time.Second, func() error {
		for _, srv := range c.Servers {
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
			info, err := rdb.ClusterInfo(context.Background()).Result()
			_ = rdb.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Servers))) {
				return fmt.Errorf("%s: %s", srv.Addr, info)
			}
		}
		if replicas > 0 {
			// A replica must have synced to be elected.
			for _, srv := range c.Servers {
				rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
				info, err := rdb.Info(context.Background(), "replication").Result()
				_ = rdb.Close()
				if err != nil {
					return err
				}
				if strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up") {
					return fmt.Errorf("replica %s not in sync", srv.Addr)
				}
			}
		}
		return nil
	})
	return c
}

// MasterOf returns the running node serving key's slot as master now.
func (c *Cluster) MasterOf(tb testing.TB, key string) *Server {
	tb.Helper()
	for _, srv := range c.Servers {
		if !srv.Running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		defer rdb.Close()
		ctx := context.Background()
		slot, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			tb.Fatal(err)
		}
		shards, err := rdb.ClusterSlots(ctx).Result()
		if err != nil {
			continue
		}
		for _, s := range shards {
			if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
				for _, cand := range c.Servers {
					if cand.Addr == s.Nodes[0].Addr {
						return cand
					}
				}
			}
		}
	}
	tb.Fatalf("testredis: no running node knows the master of %q", key)
	return nil
}

// Addrs are the nodes' addresses, for redis.ClusterOptions and
// REDIS_CLUSTER_ADDRS.
func (c *Cluster) Addrs() []string {
	var addrs []string
	for _, srv := range c.Servers {
		addrs = append(addrs, srv.Addr)
	}
	return slices.Clip(addrs)
}

// Client returns a client of the cluster, as the service makes it, closed
// when tb ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	return newClient(tb, redisconn.Options{ClusterAddrs: c.Addrs()}).(*redis.ClusterClient)
}

func waitFor(tb testing.TB, what string, timeout time.Duration, ready func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testredis: waited %v for %s: %v", timeout, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
