package testredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
)

func TestPrivateServerStopsAndRestarts(t *testing.T) {
	a, b := testredis.Start(t), testredis.Start(t)
	if a.Addr == b.Addr {
		t.Fatal("two servers share an address")
	}
	rdb := redis.NewClient(&redis.Options{Addr: a.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	a.Kill(t)
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("a killed server answered")
	}
	a.Restart(t)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if n, _ := rdb.Exists(ctx, "k").Result(); n != 0 {
		t.Error("a restarted server kept data it should not persist")
	}
}
