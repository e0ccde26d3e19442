// Package testredis connects tests to the Redis server named by
// TEST_REDIS_URL (default: the local server) and keeps tests apart by
// namespace: every test gets a unique prefix for its queue names and channels,
// and the keys under it are deleted when the test ends.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
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
	return NamedClient(tb, "")
}

// NamedClient is Client with a connection name, so that KillClients can
// find its connections.
func NamedClient(tb testing.TB, name string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("testredis: TEST_REDIS_URL: %v", err)
	}
	opts.ClientName = name
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("testredis: Redis at %s does not answer (%v); start it (see docs/architecture.md, Running the tests)", opts.Addr, err)
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

// KillClients closes, server side, every connection of the clients named
// name, as a Redis restart or a network failure would, without disturbing
// anyone else's connections. It returns how many it closed.
func KillClients(tb testing.TB, name string) int {
	tb.Helper()
	ctx := context.Background()
	admin := Client(tb)
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		tb.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		var id int64
		if _, err := fmt.Sscanf(line, "id=%d", &id); err != nil {
			tb.Fatalf("testredis: parse CLIENT LIST line %q: %v", line, err)
		}
		if err := admin.ClientKillByFilter(ctx, "ID", fmt.Sprint(id)).Err(); err != nil {
			tb.Fatal(err)
		}
		killed++
	}
	return killed
}
