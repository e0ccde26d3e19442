package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/event"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/internal/tracing"
)

// Publisher sends events to every API instance (events.Publisher).
type Publisher interface {
	PublishBatch(ctx context.Context, events []Event) error
}

// RelayConfig configures a Relay.
type RelayConfig struct {
	DB          *sql.DB
	Client      *ent.Client
	DatabaseURL string // for the LISTEN connection
	Publisher   Publisher
	Logger      *slog.Logger
	// PollEvery is how often a standby tries to take over, and how often the
	// relay looks for events when no notification arrives (default 1s).
	PollEvery time.Duration
	// Retention is how long events are kept for replay (default 24h);
	// PruneEvery is how often older ones are deleted, in batches (default 1m).
	Retention, PruneEvery time.Duration
	// OnPublished, when set, is told how many events were published and the
	// relay's lag (newest event ID minus the last published), for metrics.
	OnPublished func(n int, lag int)
	// Tracing, when set, makes each event's publication a span of the trace
	// of the change that made it.
	Tracing trace.TracerProvider
}

// Defaults of RelayConfig.
const (
	DefaultRetention = 24 * time.Hour
	defaultPollEvery = time.Second
	defaultPrune     = time.Minute
	batchSize        = 500
	pruneBatch       = 1000
)

// relayLockKey is the session advisory lock the active relay holds:
// "fl-relay" as an integer. Every process runs a Relay; one holds the lock
// and relays, the others wait to take over when it dies.
const relayLockKey = 0x666c2d72656c6179

// Relay publishes the outbox to Redis in ID order, one process at a time.
type Relay struct {
	cfg    RelayConfig
	stop   context.CancelFunc
	done   chan struct{}
	leader sync.Mutex // held while this process relays
	active bool
}

// NewRelay returns a Relay; Start runs it.
func NewRelay(cfg RelayConfig) *Relay {
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = defaultPollEvery
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = defaultPrune
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{cfg: cfg, done: make(chan struct{})}
}

// Start runs the relay in the background until Shutdown.
func (r *Relay) Start(ctx context.Context) error {
	ctx, r.stop = context.WithCancel(access.SystemContext(context.WithoutCancel(ctx)))
	go func() {
		defer close(r.done)
		r.run(ctx)
	}()
	return nil
}

// Shutdown stops relaying (another process takes over) and waits for the
// relay to stop or ctx to end.
func (r *Relay) Shutdown(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	r.stop()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outbox relay: shutdown: %w", ctx.Err())
	}
}

// Active reports whether this process is the one relaying.
func (r *Relay) Active() bool {
	r.leader.Lock()
	defer r.leader.Unlock()
	return r.active
}

func (r *Relay) setActive(a bool) {
	r.leader.Lock()
	defer r.leader.Unlock()
	r.active = a
}

// run waits for the relay lock, relays while it holds it, and starts over
// when it loses its connection.
func (r *Relay) run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		err := r.lead(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			if failures == 1 {
				r.cfg.Logger.WarnContext(ctx, "outbox relay interrupted; retrying", "err", err)
			}
		} else {
			failures = 0
		}
		if backoff.Sleep(ctx, max(r.cfg.PollEvery, backoff.Delay(failures, 100*time.Millisecond, 5*time.Second))) != nil {
			return
		}
	}
}

// lead takes the relay lock if it is free and relays until ctx ends or the
// connection fails. It returns nil when another process holds the lock.
func (r *Relay) lead(ctx context.Context) error {
	conn, err := r.cfg.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", int64(relayLockKey)).Scan(&got); err != nil {
		return err
	}
	if !got {
		return nil // a standby: try again later
	}
	// The lock lives as long as this session; closing conn ends both.
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", int64(relayLockKey))
	}()
	r.setActive(true)
	defer r.setActive(false)
	r.cfg.Logger.InfoContext(ctx, "relaying the outbox")

	wake := make(chan struct{}, 1)
	if r.cfg.DatabaseURL != "" {
		listener := pq.NewListener(r.cfg.DatabaseURL, 100*time.Millisecond, 5*time.Second, nil)
		defer listener.Close()
		if err := listener.Listen(notifyChannel); err != nil {
			return fmt.Errorf("listen for outbox notifications: %w", err)
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-listener.Notify:
					if !ok {
						return
					}
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		}()
	}

	last, err := r.cursor(ctx)
	if err != nil {
		return err
	}
	poll := time.NewTicker(r.cfg.PollEvery)
	defer poll.Stop()
	prune := time.NewTicker(r.cfg.PruneEvery)
	defer prune.Stop()
	for {
		// The lock's session must stay alive: checking it also notices a
		// lost connection, after which another process may relay.
		if err := conn.PingContext(ctx); err != nil {
			return fmt.Errorf("relay connection lost: %w", err)
		}
		for {
			n, err := r.relayBatch(ctx, &last)
			if err != nil {
				return err
			}
			if n < batchSize {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
		case <-prune.C:
			if err := r.prune(ctx, last); err != nil {
				r.cfg.Logger.WarnContext(ctx, "could not prune old events", "err", err)
			}
		}
	}
}

// cursor reads where the previous relay stopped. The first relay of a
// database starts at the beginning: every event was written since the
// outbox was created, and the retention bounds them.
func (r *Relay) cursor(ctx context.Context) (int, error) {
	c, err := r.cfg.Client.OutboxCursor.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return 0, r.cfg.Client.OutboxCursor.Create().SetLastEventID(0).Exec(ctx)
	}
	if err != nil {
		return 0, err
	}
	return c.LastEventID, nil
}

// relayBatch publishes the events after *last and moves the cursor past
// them. A crash between the two re-publishes the batch: delivery is at
// least once, and subscribers drop IDs they have seen.
func (r *Relay) relayBatch(ctx context.Context, last *int) (int, error) {
	rows, err := r.cfg.Client.Event.Query().
		Where(event.IDGT(*last)).
		Order(ent.Asc(event.FieldID)).
		Limit(batchSize).
		All(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	batch := make([]Event, len(rows))
	var spans []trace.Span
	for i, row := range rows {
		batch[i] = fromRow(row)
		if r.cfg.Tracing != nil && len(row.TraceContext) > 0 {
			_, span := r.cfg.Tracing.Tracer("github.com/feedbackloop/feedbackloop/outbox").Start(
				tracing.Extract(ctx, row.TraceContext), "outbox.publish", trace.WithSpanKind(trace.SpanKindProducer),
				trace.WithAttributes(attribute.Int("outbox.event_id", row.ID), attribute.String("outbox.kind", row.Kind),
					attribute.Int("outbox.project_id", row.ProjectID)))
			spans = append(spans, span)
		}
	}
	err = r.cfg.Publisher.PublishBatch(ctx, batch)
	for _, span := range spans {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "publish failed")
		}
		span.End()
	}
	if err != nil {
		return 0, fmt.Errorf("publish events: %w", err)
	}
	newest := batch[len(batch)-1].ID
	r.cfg.Logger.DebugContext(ctx, "relayed events", "first", batch[0].ID, "last", newest, "count", len(batch))
	if _, err := r.cfg.Client.OutboxCursor.Update().SetLastEventID(newest).Save(ctx); err != nil {
		return 0, fmt.Errorf("move the outbox cursor: %w", err)
	}
	*last = newest
	if r.cfg.OnPublished != nil {
		latest, err := Latest(ctx, r.cfg.Client)
		if err == nil {
			r.cfg.OnPublished(len(batch), latest-newest)
		}
	}
	return len(batch), nil
}

// prune deletes events older than the retention, in bounded batches, never
// one not yet published.
func (r *Relay) prune(ctx context.Context, last int) error {
	cutoff := time.Now().Add(-r.cfg.Retention)
	for ctx.Err() == nil {
		ids, err := r.cfg.Client.Event.Query().
			Where(event.CreatedAtLT(cutoff), event.IDLTE(last)).
			Order(ent.Asc(event.FieldID)).
			Limit(pruneBatch).
			IDs(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := r.cfg.Client.Event.Delete().Where(event.IDIn(ids...)).Exec(ctx); err != nil {
			return err
		}
		if len(ids) < pruneBatch {
			return nil
		}
	}
	return ctx.Err()
}
