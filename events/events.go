// Package events carries the outbox's events between processes over Redis
// pub/sub.
//
// The outbox relay publishes with a Publisher. Each API process runs one Bus:
// a single Redis subscription whose events it decodes once and fans out in
// memory to the local subscribers of the event's project (one per GraphQL
// subscription), so websocket clients never cost a Redis connection each.
//
// Pub/sub delivers at most once: events published while a process is
// disconnected are lost to it. The Bus therefore tells subscribers to resync
// whenever it re-subscribes after a disconnection and whenever a subscriber
// fell behind and an event was dropped; a subscriber resyncs by replaying the
// outbox after the last event it saw, so it misses nothing and, dropping
// event IDs it has seen, gets nothing twice.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/outbox"
)

// Publisher publishes events on a Redis channel.
type Publisher struct {
	rdb     redis.UniversalClient
	channel string
	sharded bool
}

// NewPublisher returns a Publisher for channel.
func NewPublisher(rdb redis.UniversalClient, channel string) *Publisher {
	return &Publisher{rdb: rdb, channel: channel, sharded: sharded(rdb)}
}

// sharded reports whether events go over sharded pub/sub (SPUBLISH,
// SSUBSCRIBE: Redis 7), as they do on a Redis Cluster. There a plain
// PUBLISH may be sent to any node, and the nodes forward it to each other:
// the events of one batch, sent to different nodes, would reach a
// subscriber out of order. A sharded channel lives on the master of its
// slot alone, which then sees every event, in order, and spares the other
// nodes the forwarding.
func sharded(rdb redis.UniversalClient) bool {
	_, ok := rdb.(*redis.ClusterClient)
	return ok
}

// PublishBatch sends events, in order, to every Bus subscribed to the
// channel, in one round trip.
func (p *Publisher) PublishBatch(ctx context.Context, batch []outbox.Event) error {
	pipe := p.rdb.Pipeline()
	for _, e := range batch {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("events: encode event %d: %w", e.ID, err)
		}
		if p.sharded {
			pipe.SPublish(ctx, p.channel, b)
		} else {
			pipe.Publish(ctx, p.channel, b)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("events: publish on %q: %w", p.channel, err)
	}
	return nil
}

// Message is one event as the Bus delivers it: the same value reaches every
// subscriber of its project, and its snapshot is decoded once for all.
type Message struct {
	outbox.Event
	once     sync.Once
	snapshot any
	err      error
}

// Snapshot returns the event's payload decoded by decode; the first caller
// decodes, the others share the result. Treat it as read-only.
func (m *Message) Snapshot(decode func(outbox.Event) (any, error)) (any, error) {
	m.once.Do(func() { m.snapshot, m.err = decode(m.Event) })
	return m.snapshot, m.err
}
