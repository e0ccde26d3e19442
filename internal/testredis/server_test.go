package testredis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

// privateClient connects to s without retries, so that a stopped server
// shows at once.
func privateClient(t *testing.T, s *testredis.Server) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestServerStopKillRestart(t *testing.T) {
	ctx := context.Background()
	s := testredis.Start(t)
	addr := s.Addr
	if s.URL != "redis://"+s.Addr+"/0" {
		t.Errorf("URL %q does not match Addr %q", s.URL, s.Addr)
	}
	if !s.Running() {
		t.Fatal("Running() = false after Start")
	}
	rdb := privateClient(t, s)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	refused := func(when string) {
		t.Helper()
		if s.Running() {
			t.Errorf("Running() = true %s", when)
		}
		// A fresh client: the old one's pooled connection may still look open.
		err := privateClient(t, s).Ping(ctx).Err()
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("PING %s: %v, want connection refused", when, err)
		}
	}
	s.Stop(t)
	refused("after Stop")
	s.Stop(t) // idempotent
	s.Kill(t) // a no-op on a stopped server
	refused("after a second Stop and a Kill")

	s.Restart(t)
	if s.Addr != addr || !s.Running() {
		t.Fatalf("after Restart: addr %s (was %s), running %v", s.Addr, addr, s.Running())
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart, same client: %v", err)
	}
	if n, err := rdb.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k after Restart = %d, %v; a restarted server must start empty", n, err)
	}

	s.Kill(t)
	refused("after Kill")
	s.Restart(t)
	if err := privateClient(t, s).Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Kill and Restart: %v", err)
	}
}

// Servers started at the same time get their own ports and data.
func TestServersInParallelAreSeparate(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	live := map[string]string{} // address → name of the running server given it
	claim := func(t *testing.T, s *testredis.Server, name string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if other, taken := live[s.Addr]; taken {
			t.Fatalf("%s given to both %s and %s", s.Addr, other, name)
		}
		live[s.Addr] = name
		t.Cleanup(func() { mu.Lock(); delete(live, s.Addr); mu.Unlock() })
	}
	owner := func(t *testing.T, s *testredis.Server) string {
		t.Helper()
		v, err := privateClient(t, s).Get(ctx, "owner").Result()
		if err != nil {
			t.Fatalf("GET owner on %s: %v", s.Addr, err)
		}
		return v
	}
	// Runs throughout, so every other server overlaps at least this one
	// however the parallel tests are scheduled.
	base := testredis.Start(t)
	claim(t, base, "base")
	if err := privateClient(t, base).Set(ctx, "owner", "base", 0).Err(); err != nil {
		t.Fatal(err)
	}
	t.Run("group", func(t *testing.T) {
		for i := range 3 {
			name := fmt.Sprint("server ", i)
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				s := testredis.Start(t)
				claim(t, s, name)
				if err := privateClient(t, s).Set(ctx, "owner", name, 0).Err(); err != nil {
					t.Fatal(err)
				}
				if got := owner(t, s); got != name {
					t.Errorf("%s holds the data of %s", name, got)
				}
				if got := owner(t, base); got != "base" {
					t.Errorf("base holds the data of %s", got)
				}
			})
		}
	})
}
