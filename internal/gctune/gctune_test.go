package gctune

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentKeepsTheHeadroom(t *testing.T) {
	p := Policy{Min: 100, Max: 400, Headroom: 64 << 20}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{1 << 20, 400},
		{16 << 20, 400}, // 4 x 16 MiB = the headroom
		{32 << 20, 200},
		{48 << 20, 133},
		{64 << 20, 100},
		{1 << 30, 100}, // never below Min
	} {
		if got := p.Percent(c.live); got != c.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// gogc reads the collector's current target.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// Run lowers GOGC when the live heap grows past what Headroom allows at
// Max, and raises it again when the heap shrinks.
func TestRunFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Policy{Min: 100, Max: 400, Headroom: 16 << 20, Interval: 5 * time.Millisecond}.Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for gogc() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC is %d, want %d", what, gogc(), want)
			}
			runtime.GC() // the live heap is measured by collections
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("small heap", 400)
	held := make([][]byte, 64) // 64 MiB live: 16 MiB of headroom is 25%, below Min
	for i := range held {
		held[i] = make([]byte, 1<<20)
		held[i][0] = 1
	}
	waitFor("64 MiB live", 100)
	runtime.KeepAlive(held) // and no longer
	waitFor("heap released", 400)
}
