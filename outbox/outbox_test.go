package outbox_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/store"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "outbox", &dbTemplate) }

// world is a database, a Redis channel with a bus on it, and a project.
type world struct {
	t       *testing.T
	db      *sql.DB
	dsn     string
	client  *ent.Client
	channel string
	bus     *events.Bus
	project int
}

func newWorld(t *testing.T) *world {
	db, dsn := dbTemplate.Open(t)
	w := &world{t: t, db: db, dsn: dsn, client: store.NewClient(db), channel: "ev-" + testredis.Namespace(t)}
	w.bus = events.NewBus(events.BusConfig{Redis: testredis.Client(t), Channel: w.channel, Buffer: 10_000})
	if err := w.bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.bus.Shutdown(context.Background()) })
	w.project = w.client.Project.Create().SetName("P").SaveX(accesstest.System()).ID
	return w
}

// relay starts a relay on its own connection pool, as another process
// would have.
func (w *world) relay(name string) *outbox.Relay {
	w.t.Helper()
	db, err := postgres.Open(context.Background(), w.dsn, postgres.Pool{MaxOpen: 4, MaxIdle: 2, MaxLifetime: time.Minute})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { db.Close() })
	r := outbox.NewRelay(outbox.RelayConfig{DB: db, Client: store.NewClient(db), DatabaseURL: w.dsn,
		Publisher: events.NewPublisher(testredis.Client(w.t), w.channel), PollEvery: 50 * time.Millisecond})
	if err := r.Start(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// write commits one event in a transaction that waits pause between
// writing its event and committing, so that concurrent writers would
// commit out of ID order if nothing ordered them.
func (w *world) write(ctx context.Context, object int, pause time.Duration) {
	tx, err := w.client.Tx(ctx)
	if err != nil {
		w.t.Error(err)
		return
	}
	e, _ := outbox.New(w.project, outbox.KindTask, object, 1, nil, map[string]int{"n": object})
	outbox.Record(tx, e)
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			time.Sleep(pause) // after the event's row, before the commit
			return next.Commit(ctx, tx)
		})
	})
	if err := tx.Commit(); err != nil {
		w.t.Error(err)
	}
}

// collect reads n distinct events from sub, dropping repeats as a resuming
// client does, and fails if an ID arrives out of order.
func collect(t *testing.T, sub *events.Subscription, n int) []int {
	t.Helper()
	var ids []int
	seen := map[int]bool{}
	last := 0
	deadline := time.After(60 * time.Second)
	for len(ids) < n {
		select {
		case m := <-sub.C():
			if seen[m.ID] {
				continue // at least once: a relay that died re-publishes
			}
			if m.ID < last {
				t.Fatalf("event %d arrived after %d", m.ID, last)
			}
			seen[m.ID], last = true, m.ID
			ids = append(ids, m.ID)
		case <-deadline:
			t.Fatalf("only %d of %d events arrived", len(ids), n)
		}
	}
	return ids
}

func (w *world) stored() []int {
	w.t.Helper()
	ids, err := w.client.Event.Query().Order(ent.Asc("id")).IDs(accesstest.System())
	if err != nil {
		w.t.Fatal(err)
	}
	return ids
}

// Transactions commit out of the order they started in; the relay still
// publishes every event, each once, in ID order, because IDs are taken in
// commit order.
func TestConcurrentWritersArePublishedInCommitOrder(t *testing.T) {
	w := newWorld(t)
	sub := w.bus.Subscribe(w.project)
	w.relay("a")
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				w.write(context.Background(), g*1000+i, time.Duration(rand.IntN(3))*time.Millisecond)
			}
		}()
	}
	wg.Wait()
	got := collect(t, sub, writers*each)
	stored := w.stored()
	if len(stored) != writers*each {
		t.Fatalf("%d events stored, want %d", len(stored), writers*each)
	}
	for i := range got {
		if got[i] != stored[i] {
			t.Fatalf("published %d at position %d, stored %d", got[i], i, stored[i])
		}
	}
}

// The process relaying dies mid-stream (its database session is killed):
// another process's relay takes over, and a client that drops repeats sees
// every event once, in order.
func TestAKilledRelayIsReplacedWithoutLoss(t *testing.T) {
	w := newWorld(t)
	sub := w.bus.Subscribe(w.project)
	a := w.relay("a")
	testutil.WaitFor(t, "relay a to lead", a.Active)
	b := w.relay("b")

	const total = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			w.write(context.Background(), i, 0)
		}
	}()
	collect(t, sub, 50) // mid-stream
	var pid int
	if err := w.db.QueryRow(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $1 AND objid = $2`, int64(0x666c2d72), int64(0x656c6179)).Scan(&pid); err != nil {
		t.Fatalf("find the relay's session: %v", err)
	}
	if _, err := w.db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "a relay to lead again", func() bool { return a.Active() || b.Active() })
	<-done
	// A resuming client: everything after the first 50, once each, in
	// order — whichever relay published it, however often.
	collect(t, sub, total-50)
}

// The request or job that made a change may end right after its commit:
// the event is in the outbox by then and is published anyway. (The old
// announce published with the caller's context and lost it.)
func TestEventArrivesWhenTheCallerGoesAwayAfterCommit(t *testing.T) {
	w := newWorld(t)
	sub := w.bus.Subscribe(w.project)
	w.relay("a")
	ctx, cancel := context.WithCancel(accesstest.System())
	client := ent.NewClient(ent.Driver(&cancelAfterCommit{Driver: entsql.OpenDB(dialect.Postgres, w.db), cancel: cancel}))
	jobs := queue.NewClient(testredis.Client(t), queue.Options{Name: "q-" + w.channel})
	p := pipeline.New(pipeline.Config{Client: client, Jobs: jobs})
	fb, err := p.Submit(ctx, pipeline.Submission{ProjectID: w.project, Text: "gone right after"})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the context was not cancelled by the commit")
	}
	m := <-sub.C()
	if m.Kind != outbox.KindFeedback || m.ObjectID != fb.ID {
		t.Fatalf("got %+v", m.Event)
	}
}

// cancelAfterCommit cancels a context as soon as a transaction committed.
type cancelAfterCommit struct {
	dialect.Driver
	cancel context.CancelFunc
}

func (d *cancelAfterCommit) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	return &cancellingTx{Tx: tx, cancel: d.cancel}, err
}

type cancellingTx struct {
	dialect.Tx
	cancel context.CancelFunc
}

// ExecContext is what the outbox writes its lock and notification with.
func (t *cancellingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, query, args...)
}

func (t *cancellingTx) Commit() error {
	err := t.Tx.Commit()
	t.cancel()
	return err
}

// Resuming after a cursor replays exactly the events after it; a cursor
// whose event was pruned is refused.
func TestReplayAndPrune(t *testing.T) {
	w := newWorld(t)
	for i := range 10 {
		w.write(context.Background(), i, 0)
	}
	ids := w.stored()
	page, err := outbox.Replay(context.Background(), w.client, w.project, ids[3], 100)
	if err != nil || len(page) != 6 || page[0].ID != ids[4] || page[5].ID != ids[9] {
		t.Fatalf("replay after the 4th: %v %+v", err, page)
	}
	if _, err := outbox.Replay(context.Background(), w.client, w.project+1, ids[3], 100); err != nil {
		t.Fatalf("another project's replay: %v", err)
	}
	// Events older than the retention go, in batches, once published.
	if _, err := w.db.Exec(`UPDATE outbox_events SET created_at = now() - interval '48 hours'`); err != nil {
		t.Fatal(err)
	}
	r := outbox.NewRelay(outbox.RelayConfig{DB: w.db, Client: w.client, Publisher: events.NewPublisher(testredis.Client(t), w.channel),
		PollEvery: 20 * time.Millisecond, PruneEvery: 20 * time.Millisecond, Retention: time.Hour})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	testutil.WaitFor(t, "old events to be pruned", func() bool { return len(w.stored()) == 0 })
	if _, err := outbox.Replay(context.Background(), w.client, w.project, ids[3], 100); err != outbox.ErrExpired {
		t.Fatalf("a pruned cursor: %v", err)
	}
	if id, err := outbox.ParseCursor(outbox.Cursor(ids[3])); err != nil || id != ids[3] {
		t.Fatalf("cursor round trip: %d %v", id, err)
	}
	for _, bad := range []string{"", "garbage", "ZXZlbnQ6LTE", outbox.Cursor(5) + "x"} {
		if _, err := outbox.ParseCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}
