package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
)

// BusConfig configures a Bus.
type BusConfig struct {
	Redis   redis.UniversalClient
	Channel string
	Logger  *slog.Logger // optional
	// Buffer is how many events a subscriber may fall behind before events
	// are dropped for it and it is told to resync (default 64).
	Buffer int
	// PingEvery is how long the subscription may stay silent before the
	// connection is checked with a PING (default 5s), so a half-open
	// connection is noticed and replaced.
	PingEvery time.Duration
	// OnDispatch, when set, is told of every event delivered and how many
	// subscribers fell behind on it (for metrics).
	OnDispatch func(subscribers, resynced int)
}

// Bus fans the events of one Redis subscription out to local subscribers,
// by project. Start it before use and Shutdown it when done.
type Bus struct {
	cfg    BusConfig
	logger *slog.Logger

	mu       sync.RWMutex
	projects map[int]map[*Subscription]struct{}
	kinds    map[string]map[*Subscription]struct{} // subscribers to a kind in every project
	count    int
	closed   bool

	psMu   sync.Mutex // guards pubsub, which run replaces when a Cluster drops it
	pubsub *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
}

// NewBus returns a Bus; Start subscribes it.
func NewBus(cfg BusConfig) *Bus {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 64
	}
	if cfg.PingEvery <= 0 {
		cfg.PingEvery = 5 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{cfg: cfg, logger: logger, projects: make(map[int]map[*Subscription]struct{}),
		kinds: make(map[string]map[*Subscription]struct{}), done: make(chan struct{})}
}

// Start subscribes to the channel and returns once Redis confirmed the
// subscription, so every event published after Start returns is delivered.
// The Bus then re-subscribes by itself after any disconnection.
func (b *Bus) Start(ctx context.Context) error {
	ps := b.subscribe(ctx)
	if _, err := ps.ReceiveTimeout(ctx, 10*time.Second); err != nil {
		_ = ps.Close()
		return fmt.Errorf("events: subscribe to Redis channel %q: %w (is Redis reachable?)", b.cfg.Channel, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.pubsub, b.cancel = ps, cancel
	go b.run(runCtx)
	return nil
}

// Shutdown closes the Redis subscription and every local subscription (their
// channels are closed). It returns when the receive loop has stopped or ctx
// ends.
func (b *Bus) Shutdown(ctx context.Context) error {
	if b.cancel != nil {
		b.cancel()
		b.psMu.Lock()
		_ = b.pubsub.Close() // unblocks a pending receive
		b.psMu.Unlock()
		select {
		case <-b.done:
		case <-ctx.Done():
			return fmt.Errorf("events: shutdown: %w", ctx.Err())
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, subs := range b.projects {
		for s := range subs {
			close(s.c)
		}
	}
	for s := range b.kindSubscriptions() {
		close(s.c)
	}
	b.projects = map[int]map[*Subscription]struct{}{}
	b.kinds = map[string]map[*Subscription]struct{}{}
	b.count = 0
	return nil
}

// kindSubscriptions is every subscription to kinds, once.
func (b *Bus) kindSubscriptions() map[*Subscription]struct{} {
	all := map[*Subscription]struct{}{}
	for _, subs := range b.kinds {
		maps.Copy(all, subs)
	}
	return all
}

// Subscribers is the number of open local subscriptions.
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.count
}

// Subscribe returns a subscription to the events of a project. Close it
// when done. On a shut-down Bus it returns a subscription whose channel is
// closed.
func (b *Bus) Subscribe(projectID int) *Subscription {
	s := &Subscription{bus: b, project: projectID, c: make(chan *Message, b.cfg.Buffer), resync: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.c)
		return s
	}
	subs := b.projects[projectID]
	if subs == nil {
		subs = make(map[*Subscription]struct{})
		b.projects[projectID] = subs
	}
	subs[s] = struct{}{}
	b.count++
	return s
}

// SubscribeKinds returns a subscription to the events of the given kinds
// in every project, such as membership changes, which concern whoever holds
// a credential wherever it is used. Name at least one kind; close it when
// done.
func (b *Bus) SubscribeKinds(kinds ...string) *Subscription {
	s := &Subscription{bus: b, kinds: kinds, c: make(chan *Message, b.cfg.Buffer), resync: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.c)
		return s
	}
	for _, kind := range kinds {
		subs := b.kinds[kind]
		if subs == nil {
			subs = make(map[*Subscription]struct{})
			b.kinds[kind] = subs
		}
		subs[s] = struct{}{}
	}
	return s
}

// subscribe subscribes to the channel: a sharded channel on a Cluster
// (see sharded).
func (b *Bus) subscribe(ctx context.Context) *redis.PubSub {
	if sharded(b.cfg.Redis) {
		return b.cfg.Redis.SSubscribe(ctx, b.cfg.Channel)
	}
	return b.cfg.Redis.Subscribe(ctx, b.cfg.Channel)
}

// resubscribe replaces the subscription with a new one, on the node that
// serves the channel now. go-redis re-subscribes by itself after a lost
// connection, on the same node; this is for a Cluster that moved the
// channel's slot (a failover, resharding) and so ended the subscription
// while the connection lives on.
func (b *Bus) resubscribe(ctx context.Context) {
	if c, ok := b.cfg.Redis.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
	b.psMu.Lock()
	defer b.psMu.Unlock()
	if ctx.Err() != nil {
		return // Shutdown closed the subscription
	}
	_ = b.pubsub.Close()
	b.pubsub = b.subscribe(ctx)
}

func (b *Bus) run(ctx context.Context) {
	defer close(b.done)
	b.psMu.Lock()
	ps := b.pubsub
	b.psMu.Unlock()
	failures := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.cfg.PingEvery)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				// Silence: make sure the connection is alive. A dead one
				// fails this or the next receive and is replaced.
				_ = ps.Ping(ctx)
				continue
			}
			if failures == 0 {
				b.logger.WarnContext(ctx, "event subscription lost; reconnecting", "channel", b.cfg.Channel, "err", err)
			}
			failures++
			if c, ok := b.cfg.Redis.(*redis.ClusterClient); ok {
				// The node may be gone for good (a replica took over):
				// reconnect to the slot's master as the Cluster says now.
				c.ReloadState(ctx)
			}
			if backoff.Sleep(ctx, backoff.Delay(failures, 100*time.Millisecond, 2*time.Second)) != nil {
				return
			}
			// An error from Redis itself (MOVED, CLUSTERDOWN) leaves the
			// connection up but not subscribed: subscribe anew.
			var rerr redis.Error
			if errors.As(err, &rerr) {
				b.resubscribe(ctx)
				ps = b.current()
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				// Start consumed the first confirmation, so this one follows
				// a reconnection: events may have been missed meanwhile.
				b.logger.InfoContext(ctx, "event subscription restored; subscribers resync", "channel", b.cfg.Channel, "after_failures", failures)
				failures = 0
				b.resyncAll()
			case "sunsubscribe":
				// Only a Cluster ends a sharded subscription (the Bus never
				// does): the channel's slot moved to another master.
				b.logger.WarnContext(ctx, "event subscription ended by the Redis Cluster; subscribing where the channel lives now", "channel", b.cfg.Channel)
				b.resubscribe(ctx)
				ps = b.current()
			}
		case *redis.Message:
			e := &Message{}
			if err := json.Unmarshal([]byte(m.Payload), &e.Event); err != nil || e.ID == 0 {
				b.logger.WarnContext(ctx, "ignoring malformed event", "channel", b.cfg.Channel, "err", err)
				continue
			}
			b.dispatch(e)
		}
	}
}

func (b *Bus) current() *redis.PubSub {
	b.psMu.Lock()
	defer b.psMu.Unlock()
	return b.pubsub
}

// dispatch hands e to the subscribers of its project without ever waiting:
// a subscriber whose buffer is full loses the event and is told to resync.
func (b *Bus) dispatch(e *Message) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	resynced := 0
	subs := b.projects[e.ProjectID]
	for s := range subs {
		if !s.offer(e) {
			resynced++
		}
	}
	for s := range b.kinds[e.Kind] {
		s.offer(e)
	}
	if b.cfg.OnDispatch != nil {
		b.cfg.OnDispatch(len(subs), resynced)
	}
}

func (b *Bus) resyncAll() {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, subs := range b.projects {
		for s := range subs {
			s.signalResync()
		}
	}
	for s := range b.kindSubscriptions() {
		s.signalResync()
	}
}

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(s.kinds) > 0 {
		if _, ok := b.kinds[s.kinds[0]][s]; !ok {
			return // closed already
		}
		for _, kind := range s.kinds {
			delete(b.kinds[kind], s)
			if len(b.kinds[kind]) == 0 {
				delete(b.kinds, kind)
			}
		}
		close(s.c)
		return
	}
	subs := b.projects[s.project]
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(b.projects, s.project)
	}
	b.count--
	close(s.c)
}

// Subscription receives the events of one project, or of some kinds.
type Subscription struct {
	bus     *Bus
	project int
	kinds   []string // set for SubscribeKinds
	c       chan *Message
	resync  chan struct{}
}

// offer hands e on without waiting; a subscriber whose buffer is full
// loses it and is told to resync (false).
func (s *Subscription) offer(e *Message) bool {
	select {
	case s.c <- e:
		return true
	default:
		s.signalResync()
		return false
	}
}

// C delivers events in the order Redis delivered them (the outbox's ID
// order). It is closed by Close and when the Bus shuts down.
func (s *Subscription) C() <-chan *Message { return s.c }

// Resync receives a value when events may have been missed (a reconnection,
// or this subscriber fell behind): the receiver should replay the outbox
// after the last event it saw.
func (s *Subscription) Resync() <-chan struct{} { return s.resync }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() { s.bus.remove(s) }

func (s *Subscription) signalResync() {
	select {
	case s.resync <- struct{}{}:
	default: // one pending signal is enough
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
