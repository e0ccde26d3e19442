// Package testredis connects tests to the Redis server named by
// TEST_REDIS_URL (default: the local server) and keeps tests apart by
// namespace: every test gets a unique prefix for its queue names and channels,
// and the keys under it are deleted when the test ends.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the server used when TEST_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the shared test server's address as a redis:// URL.
func URL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Client returns a client of the shared server, closed when tb ends. It
// fails tb at once if the server does not answer, with what to do about it.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("testredis: TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("testredis: Redis at %s does not answer (%v); start it, see README", opts.Addr, err)
	}
	return rdb
}

// Namespace returns a name unique to this test run. Keys containing it are
// deleted when tb ends, so tests can share one server without seeing each
// other's queues.
func Namespace(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	ns := "t" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		opts, err := redis.ParseURL(URL())
		if err != nil {
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		iter := rdb.Scan(ctx, 0, "*"+ns+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			rdb.Unlink(ctx, keys[:n]...)
			keys = keys[n:]
		}
	})
	return ns
}
