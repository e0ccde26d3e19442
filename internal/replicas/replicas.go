// Package replicas reads from PostgreSQL read replicas (hot standbys) when a
// caller asks for it: it watches each replica's lag, routes marked reads to
// one that is close enough and has replayed the caller's last write, and
// sends everything else to the primary. It knows databases, not the data
// model.
package replicas

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// DefaultMaxLag is how far behind the primary a replica may be and still
// get reads (DATABASE_REPLICA_MAX_LAG).
const DefaultMaxLag = 5 * time.Second

// DefaultWait is how long a read waits for a replica to replay the caller's
// last write before it goes to the primary instead.
const DefaultWait = 100 * time.Millisecond

const (
	// A replica is checked every checkEvery. One that refuses connections
	// or fails leaves the reads at once; one that is merely slow (a check
	// timing out) leaves them once it has not answered for silenceLimit,
	// so that one slow answer on a busy machine does not take it out.
	checkEvery   = 250 * time.Millisecond
	checkTimeout = 500 * time.Millisecond
	silenceLimit = 750 * time.Millisecond
	// waitPoll is how often a waiting read asks the replicas again.
	waitPoll = 10 * time.Millisecond
	// recheckAfter is how long a check waits before asking a replica that
	// was just short of the primary again.
	recheckAfter = 20 * time.Millisecond
)

// Config says where the replicas are and how they are used.
type Config struct {
	Primary *sql.DB
	URLs    []string // the replicas, postgres:// URLs
	Pool    postgres.Pool
	Options []postgres.Option // as for the primary (tracing)
	MaxLag  time.Duration     // 0: DefaultMaxLag
	Wait    time.Duration     // 0: DefaultWait
	Metrics *metrics.Metrics  // optional
	Logger  *slog.Logger
}

// Set is the primary and its replicas, with a monitor that keeps each
// replica's state.
type Set struct {
	cfg      Config
	replicas []*replica
	epoch    time.Time // the monotonic clock caught-up times count from
	next     atomic.Uint32
	// newest is the newest primary position this process has read: a
	// read asked to wait for a later one goes to the primary at once
	// rather than poll replicas for a position that may not exist.
	newest atomic.Uint64
	// primaryUntil (since epoch) sends every read to the primary while a
	// write's position could not be recorded for other instances.
	primaryUntil atomic.Int64
	stop         context.CancelFunc
	done         sync.WaitGroup
}

type replica struct {
	name string // host:port, for logs and metrics
	db   *sql.DB
	// answering: the last check did not fail (it got an answer from a
	// server in recovery, or timed out), and answered is when it last got
	// one.
	answering atomic.Bool
	answered  atomic.Int64
	replayed  atomic.Uint64 // pg_last_wal_replay_lsn() at the last check
	// caughtUp is when (since the set's epoch) the primary's WAL position
	// was last read before the replica was found to have replayed it: the
	// replica holds every commit made before that time.
	caughtUp atomic.Int64
	serving  atomic.Bool // last state logged
	mu       sync.Mutex
	samples  []sample // the primary's recent positions, oldest first
}

// Open opens a pool per replica and starts watching them. A replica that
// does not answer yet is used once it does; Open fails only on a bad URL.
func Open(ctx context.Context, cfg Config) (*Set, error) {
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{cfg: cfg, epoch: time.Now()}
	for i, dsn := range cfg.URLs {
		u, err := url.Parse(dsn)
		if err != nil || u.Host == "" {
			s.Close()
			return nil, fmt.Errorf("DATABASE_REPLICA_URLS: replica %d is not a postgres://user@host:port/name URL", i+1)
		}
		db, err := postgres.Open(ctx, dsn, cfg.Pool, append(cfg.Options[:len(cfg.Options):len(cfg.Options)], postgres.WithoutCheck())...)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("DATABASE_REPLICA_URLS: %w", err)
		}
		r := &replica{name: u.Host, db: db}
		r.caughtUp.Store(-int64(cfg.MaxLag) - 1) // not caught up until checked
		s.replicas = append(s.replicas, r)
	}
	// The first check before Open returns, so reads use the replicas from
	// the start.
	s.checkAll(ctx)
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	for _, r := range s.replicas {
		s.done.Add(1)
		go s.watch(mctx, r)
	}
	return s, nil
}

// Close stops the monitor and closes the replicas' pools (not the primary).
func (s *Set) Close() error {
	if s.stop != nil {
		s.stop()
	}
	s.done.Wait()
	var errs []error
	for _, r := range s.replicas {
		errs = append(errs, r.db.Close())
	}
	return errors.Join(errs...)
}

func (s *Set) watch(ctx context.Context, r *replica) {
	defer s.done.Done()
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.check(ctx, r)
		}
	}
}

func (s *Set) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range s.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); s.check(ctx, r) }()
	}
	wg.Wait()
}

// sample is the primary's WAL position at a time.
type sample struct {
	at  time.Duration // since the set's epoch
	pos LSN
}

// check reads the primary's WAL position, then the replica's replay
// position. Comparing positions rather than replay timestamps keeps an idle
// primary's replica at no lag: now() - pg_last_xact_replay_timestamp()
// grows while nothing is written. The replica is compared with every
// primary position of the last MaxLag, not the latest alone: on a busy
// primary a replica is always a little behind the latest, and caught up
// with the one sampled a check earlier.
func (s *Set) check(ctx context.Context, r *replica) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	asked := s.now()
	primary, primaryErr := s.PrimaryPosition(ctx)
	if primaryErr == nil {
		r.mu.Lock()
		r.samples = append(r.samples, sample{asked, primary})
		// Older than twice the max lag: the replica is out of reads
		// anyway until it replays a newer one.
		for len(r.samples) > 1 && asked-r.samples[0].at > 2*s.cfg.MaxLag+checkEvery {
			r.samples = r.samples[1:]
		}
		r.mu.Unlock()
	}
	var recovering bool
	var pos LSN
	ask := func() error {
		var replayed sql.NullString
		err := r.db.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text`).Scan(&recovering, &replayed)
		if err == nil && replayed.Valid {
			pos, err = ParseLSN(replayed.String)
		}
		return err
	}
	err := ask()
	if err == nil && recovering && primaryErr == nil && pos < primary {
		// Asked right after the primary, a replica that follows closely is
		// often a few milliseconds short of it: ask once more, so that its
		// lag is measured to this check and not the one before.
		select {
		case <-ctx.Done():
		case <-time.After(recheckAfter):
			err = ask()
		}
	}
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled):
		return // shutting down
	case err != nil && ctx.Err() != nil:
		// Slow: out of reads after silenceLimit without an answer.
	case err != nil:
		s.down(r, fmt.Sprintf("does not answer: %v", err))
	case !recovering:
		s.down(r, "is not a standby (promoted?): pg_is_in_recovery() is false")
	default:
		r.replayed.Store(uint64(pos))
		r.answered.Store(int64(s.now()))
		r.answering.Store(true)
		r.mu.Lock()
		// The newest primary position the replica has replayed: it holds
		// every commit made before that sample was taken.
		for i := len(r.samples) - 1; i >= 0; i-- {
			if pos >= r.samples[i].pos {
				if at := time.Duration(r.caughtUp.Load()); r.samples[i].at > at {
					r.caughtUp.Store(int64(r.samples[i].at))
				}
				r.samples = r.samples[i:]
				break
			}
		}
		r.mu.Unlock()
	}
	s.report(r)
}

// down takes r out of reads until its next good check.
func (s *Set) down(r *replica, why string) {
	if r.answering.Swap(false) {
		s.cfg.Logger.Warn("read replica taken out of reads", "replica", r.name, "reason", why)
	}
}

// report updates r's metrics and logs when it starts or stops getting
// reads.
func (s *Set) report(r *replica) {
	now := s.now()
	lag := r.lag(now)
	serving := s.serving(r, now)
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ReplicaState(r.name, max(lag, 0), serving)
	}
	if r.serving.Swap(serving) != serving {
		if serving {
			s.cfg.Logger.Info("read replica gets reads", "replica", r.name, "lag", lag)
		} else if r.answering.Load() {
			s.cfg.Logger.Warn("read replica taken out of reads: it lags or answers slowly", "replica", r.name, "lag", lag, "max_lag", s.cfg.MaxLag,
				"last_answer", now-time.Duration(r.answered.Load()))
		}
	}
}

func (s *Set) now() time.Duration { return time.Since(s.epoch) }

func (r *replica) lag(now time.Duration) time.Duration { return now - time.Duration(r.caughtUp.Load()) }

// serving reports whether r may get reads now: its last check did not
// fail, it answered within silenceLimit, and it had caught up with the
// primary no longer than MaxLag ago. Both are measured now, not at the
// check, so a replica that stops replaying leaves the reads as soon as it
// is MaxLag behind.
func (s *Set) serving(r *replica, now time.Duration) bool {
	return r.answering.Load() && now-time.Duration(r.answered.Load()) <= silenceLimit && r.lag(now) <= s.cfg.MaxLag
}

// PrimaryPosition is the primary's current WAL position: every transaction
// committed before the call ends at or before it.
func (s *Set) PrimaryPosition(ctx context.Context) (LSN, error) {
	var text string
	// The insert position, not the write position: an asynchronous
	// commit's record may still be in WAL buffers past the latter.
	if err := s.cfg.Primary.QueryRowContext(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&text); err != nil {
		return 0, err
	}
	pos, err := ParseLSN(text)
	if err == nil {
		storeMax(&s.newest, uint64(pos))
	}
	return pos, err
}

// UnrecordedWrite sends this process's reads to the primary for as long
// as a write whose position could not be recorded in Redis might still be
// missing from a replica (MaxLag and a second): its caller, or a removed
// member, must not read past it here. Other instances cannot be told.
func (s *Set) UnrecordedWrite() {
	storeMax(&s.primaryUntil, int64(s.now()+s.cfg.MaxLag+time.Second))
}

// Where a read went.
const (
	TargetPrimary = "primary"

	ReasonReplica         = "replica"
	ReasonCaughtUp        = "caught_up"
	ReasonNoReplica       = "no_replica"
	ReasonBehind          = "behind"
	ReasonPositionUnknown = "position_unknown"
	ReasonReplicaFailed   = "replica_failed"
)

// ForRead returns ctx marked to read from a replica that serves and has
// replayed position after (the caller's last write; 0: none known),
// waiting up to Config.Wait for one to catch up; else ctx marked for the
// primary. Every statement of the operation then reads from the same
// server, so the operation sees one point in time.
func (s *Set) ForRead(ctx context.Context, after LSN) context.Context {
	now := s.now()
	if now < time.Duration(s.primaryUntil.Load()) {
		return s.toPrimary(ctx, ReasonPositionUnknown)
	}
	if after > LSN(s.newest.Load()) {
		// Newer than any position read here: written through another
		// instance a moment ago, or made up. The primary has it, if anyone.
		return s.toPrimary(ctx, ReasonBehind)
	}
	var candidates []*replica
	for _, r := range s.replicas {
		if s.serving(r, now) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		return s.toPrimary(ctx, ReasonNoReplica)
	}
	if r := s.pick(candidates, after); r != nil {
		return s.to(ctx, r, ReasonReplica)
	}
	wait, cancel := context.WithTimeout(ctx, s.cfg.Wait)
	defer cancel()
	for {
		var wg sync.WaitGroup
		for _, r := range candidates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var text sql.NullString
				if err := r.db.QueryRowContext(wait, `SELECT pg_last_wal_replay_lsn()::text`).Scan(&text); err == nil && text.Valid {
					if pos, err := ParseLSN(text.String); err == nil {
						storeMax(&r.replayed, uint64(pos))
					}
				}
			}()
		}
		wg.Wait()
		if r := s.pick(candidates, after); r != nil {
			return s.to(ctx, r, ReasonCaughtUp)
		}
		select {
		case <-wait.Done():
			return s.toPrimary(ctx, ReasonBehind)
		case <-time.After(waitPoll):
		}
	}
}

// pick returns one of candidates that has replayed after, taking turns.
func (s *Set) pick(candidates []*replica, after LSN) *replica {
	start := int(s.next.Add(1) % uint32(len(candidates)))
	for i := range candidates {
		r := candidates[(start+i)%len(candidates)]
		if LSN(r.replayed.Load()) >= after {
			return r
		}
	}
	return nil
}

// storeMax raises v to n unless it holds more already.
func storeMax[T int64 | uint64](v interface {
	Load() T
	CompareAndSwap(old, new T) bool
}, n T) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// ReadFromPrimary marks ctx for the primary, recording why.
func (s *Set) ReadFromPrimary(ctx context.Context, reason string) context.Context {
	return s.toPrimary(ctx, reason)
}

func (s *Set) to(ctx context.Context, r *replica, reason string) context.Context {
	s.record(r.name, reason)
	return context.WithValue(ctx, routeKey{}, r)
}

func (s *Set) toPrimary(ctx context.Context, reason string) context.Context {
	s.record(TargetPrimary, reason)
	return Primary(ctx)
}

func (s *Set) record(target, reason string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ReadRouted(target, reason)
	}
}

type routeKey struct{}

// Primary returns ctx marked to read from the primary, whatever ctx said
// before: for reads that must see the latest state, such as credentials
// and memberships checked for access.
func Primary(ctx context.Context) context.Context {
	if r, _ := ctx.Value(routeKey{}).(*replica); r == nil {
		return ctx // unmarked already
	}
	return context.WithValue(ctx, routeKey{}, (*replica)(nil))
}

// routed is the replica ctx is marked for, or nil for the primary.
func routed(ctx context.Context) *replica {
	r, _ := ctx.Value(routeKey{}).(*replica)
	return r
}

// LSN is a position in PostgreSQL's write-ahead log (pg_lsn).
type LSN uint64

// ParseLSN reads a position in PostgreSQL's text form, such as 0/3000148.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(strings.TrimSpace(s), "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not a WAL position: want two hexadecimal numbers such as 0/3000148", s)
	}
	return LSN(h<<32 | l), nil
}

// String is PostgreSQL's text form of the position.
func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }
