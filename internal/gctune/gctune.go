// Package gctune sets the garbage collector's target (GOGC) from the live
// heap. A GraphQL request allocates much and keeps little, so while the
// live heap is small a high GOGC saves much CPU for little memory; once the
// live heap is large (thousands of open websockets), the same GOGC would
// keep several times the live data in garbage. A Policy keeps the garbage
// the heap may hold within Headroom, between Min and Max.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Policy says how GOGC follows the live heap.
type Policy struct {
	Min, Max int           // bounds of GOGC, e.g. 100 (Go's default) and 400
	Headroom uint64        // bytes of garbage allowed above the live heap, at most
	Interval time.Duration // how often the live heap is read
}

// Percent is the GOGC for a live heap of live bytes: the largest within
// [Min, Max] that lets the heap grow by at most Headroom before a
// collection (Max while the live heap is at most Headroom*100/Max).
func (p Policy) Percent(live uint64) int {
	if live == 0 {
		return p.Max
	}
	pct := p.Headroom * 100 / live
	return int(min(max(pct, uint64(p.Min)), uint64(p.Max)))
}

const liveHeap = "/gc/heap/live:bytes"

// Run sets GOGC now and then every Interval until ctx ends; it then leaves
// the last setting. Run it only when GOGC is not set by the operator.
func (p Policy) Run(ctx context.Context) {
	sample := []metrics.Sample{{Name: liveHeap}}
	current := -1
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		var live uint64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		if pct := p.Percent(live); pct != current {
			debug.SetGCPercent(pct)
			current = pct
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
