// Package llmlimit keeps model calls within a provider account's limits,
// shared by every worker through Redis: requests per minute and tokens per
// minute (GCRA buckets, go-redis/redis_rate, as ratelimit/ keeps the
// request budgets), and a pause every caller waits out after the provider
// answered 429 or asked for a Retry-After.
//
// A call waits for its turn (Wait) instead of being sent and refused. Its
// tokens are an estimate made before the call; Done corrects the account
// with the usage the provider reports: tokens over-estimated are given
// back, tokens under-estimated are owed, and the next call to that provider
// from any worker pays them before it is sent.
//
// The buckets hold one second's worth of their limit: providers enforce
// their per-minute limits over shorter periods too (OpenAI says so), so
// calls are spread evenly rather than sent a minute's worth at once. A
// call costing more tokens than that collects them over several turns.
//
// When Redis cannot be reached, calls go ahead unmetered (the provider's
// own 429s still slow the caller that gets them), and that is logged at most
// every 10 seconds.
package llmlimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
)

// Config sets the limits of one provider account.
type Config struct {
	// RPM and TPM are requests and tokens per Period (LLM_MAX_RPM,
	// LLM_MAX_TPM); 0 means no limit.
	RPM, TPM int
	// Period is a minute; tests shorten it.
	Period time.Duration
	// Prefix namespaces the Redis keys (the deployment's RATE_LIMIT_PREFIX).
	Prefix string
	Logger *slog.Logger
}

// warnEvery spaces the "Redis unreachable" log lines.
const warnEvery = 10 * time.Second

// skipAfterFailure is how long calls go unmetered after Redis failed,
// without asking it again: each attempt to reach a Redis that is down
// costs the call its dial time.
const skipAfterFailure = 2 * time.Second

// Limiter meters the calls to providers. It is safe for concurrent use.
type Limiter struct {
	cfg     Config
	rdb     redis.UniversalClient
	gcra    *redis_rate.Limiter
	reqs    redis_rate.Limit
	tokens  redis_rate.Limit
	warned  atomic.Int64 // unix nanoseconds of the last "Redis unreachable" line
	failed  atomic.Int64 // unix nanoseconds of the last Redis failure
	timeNow func() time.Time
}

// New returns a limiter keeping its accounts in rdb.
func New(rdb redis.UniversalClient, cfg Config) *Limiter {
	if cfg.Period <= 0 {
		cfg.Period = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		cfg: cfg, rdb: rdb, gcra: redis_rate.NewLimiter(rdb), timeNow: time.Now,
		reqs:   redis_rate.Limit{Rate: cfg.RPM, Burst: max(1, cfg.RPM/60), Period: cfg.Period},
		tokens: redis_rate.Limit{Rate: cfg.TPM, Burst: max(1, cfg.TPM/60), Period: cfg.Period},
	}
}

// Ticket is a call admitted by Wait, to be settled with Done.
type Ticket struct {
	provider string
	charged  int // tokens charged to the bucket; 0 when unmetered
}

// Call is a model call asking for its turn.
type Call struct {
	Provider string
	// Tokens is the call's estimated cost in tokens.
	Tokens int
	// Priority orders the waiters of one provider: when a turn comes up,
	// those of a higher priority ask for it first (Low -1, Normal 0, High
	// 1; others are clamped).
	Priority int
	// Hold is the longest pause (see Pause) Wait sits out: a longer one
	// is returned as a *BusyError, so that the caller can give its place
	// up meanwhile. Zero sits out any pause.
	Hold time.Duration
}

// BusyError says that the provider asked every caller to wait longer than
// the call's Hold.
type BusyError struct {
	Provider string
	Left     time.Duration // until the pause ends
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s asked every caller to wait %s", e.Provider, e.Left.Round(time.Second))
}

// turnLag delays a waiter's next try for a turn by this much per priority
// below High, so that when a turn comes up the higher priorities, woken
// earlier, take it. Turns are not lost: the buckets keep a second's worth.
const turnLag = 25 * time.Millisecond

// Wait returns when c may go to its provider: after any pause the provider
// asked for, and once the request and token budgets allow it. It returns
// ctx's error if ctx ends first, and a *BusyError if the pause is longer
// than c.Hold; Redis errors let the call go.
func (l *Limiter) Wait(ctx context.Context, c Call) (Ticket, error) {
	t := Ticket{provider: c.Provider}
	if l.down() {
		return t, nil
	}
	if err := l.waitPause(ctx, c); err != nil {
		return t, err
	}
	lag := time.Duration(1-min(1, max(-1, c.Priority))) * turnLag
	if l.cfg.RPM > 0 {
		if err := l.take(ctx, l.key(c.Provider, "rpm"), l.reqs, 1, lag); err != nil {
			return t, err
		}
	}
	if l.cfg.TPM > 0 && c.Tokens > 0 {
		if err := l.payOwed(ctx, c.Provider, lag); err != nil {
			return t, err
		}
		if err := l.take(ctx, l.key(c.Provider, "tpm"), l.tokens, c.Tokens, lag); err != nil {
			return t, err
		}
		t.charged = c.Tokens
	}
	return t, nil
}

// payOwed pays, with every other waiter, the tokens calls used beyond their
// estimates, one bucketful at a time, before any of them collects its own:
// the provider has counted them already. The token bucket cannot hold them
// (a GCRA bucket holds at most its burst), hence the separate count.
func (l *Limiter) payOwed(ctx context.Context, provider string, lag time.Duration) error {
	key := l.key(provider, "owed")
	for {
		owed, err := l.rdb.Get(ctx, key).Int64()
		if errors.Is(err, redis.Nil) || (err == nil && owed <= 0) {
			return nil
		}
		var part int64
		if err == nil {
			part, err = l.claim(ctx, key, owed)
		}
		if err != nil {
			if l.unreachable(ctx, err) {
				return ctx.Err()
			}
			return nil
		}
		if err := l.take(ctx, l.key(provider, "tpm"), l.tokens, int(part), lag); err != nil {
			return err
		}
	}
}

// claim takes up to a bucketful of the owed tokens for this waiter to pay.
// Waiters claim concurrently: each owns what the count held before its own
// decrement, and gives back what it took beyond that.
func (l *Limiter) claim(ctx context.Context, key string, owed int64) (int64, error) {
	chunk := min(owed, int64(l.tokens.Burst))
	left, err := l.rdb.DecrBy(ctx, key, chunk).Result()
	if err != nil {
		return 0, err
	}
	owned := min(chunk, max(0, left+chunk))
	if excess := chunk - owned; excess > 0 {
		err = l.rdb.IncrBy(context.WithoutCancel(ctx), key, excess).Err()
	}
	return owned, err
}

// take collects n units from a bucket, as many as it holds at each turn,
// waiting for it to refill (plus lag) in between: a call may cost more than
// the bucket holds at once. It gives up (letting the call go) when Redis
// fails.
func (l *Limiter) take(ctx context.Context, key string, limit redis_rate.Limit, n int, lag time.Duration) error {
	for n > 0 {
		res, err := l.gcra.AllowAtMost(ctx, key, limit, n)
		if err != nil {
			if l.unreachable(ctx, err) {
				return ctx.Err()
			}
			return nil
		}
		n -= res.Allowed
		if n > 0 && res.Allowed == 0 {
			if err := backoff.Sleep(ctx, max(res.RetryAfter, time.Millisecond)+lag); err != nil {
				return err
			}
		}
	}
	return nil
}

// Done settles a call with the tokens the provider says it used (used < 0:
// unknown, the estimate stands). Tokens over-estimated are given back;
// tokens under-estimated are owed, paid by the next call to the provider.
func (l *Limiter) Done(ctx context.Context, t Ticket, used int) {
	if t.charged == 0 || used < 0 || used == t.charged || l.down() {
		return
	}
	ctx = context.WithoutCancel(ctx) // the account must be right even if the job ended
	var err error
	if used < t.charged {
		// A negative cost moves the GCRA bucket back; it never holds more
		// than its burst.
		_, err = l.gcra.AllowN(ctx, l.key(t.provider, "tpm"), l.tokens, used-t.charged)
	} else {
		// Owed, paid by the next calls (payOwed); forgotten after a
		// Period without calls, when the provider's account is full again.
		key := l.key(t.provider, "owed")
		pipe := l.rdb.TxPipeline()
		pipe.IncrBy(ctx, key, int64(used-t.charged))
		pipe.Expire(ctx, key, l.cfg.Period)
		_, err = pipe.Exec(ctx)
	}
	if err != nil {
		l.unreachable(ctx, err)
	}
}

// Pause holds every caller's calls to provider for d (a Retry-After, or a
// backoff after a 429). A longer pause already set stands.
func (l *Limiter) Pause(ctx context.Context, provider string, d time.Duration) {
	if d <= 0 || l.down() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	key := l.key(provider, "paused")
	left, err := l.rdb.PTTL(ctx, key).Result()
	if err == nil && left >= d {
		return
	}
	if err == nil {
		err = l.rdb.Set(ctx, key, strconv.FormatInt(l.timeNow().Add(d).UnixMilli(), 10), d).Err()
	}
	if err != nil {
		l.unreachable(ctx, err)
	}
}

// waitPause waits until no pause is set for c's provider, or returns a
// *BusyError if the pause lasts longer than c.Hold.
func (l *Limiter) waitPause(ctx context.Context, c Call) error {
	key := l.key(c.Provider, "paused")
	for {
		left, err := l.rdb.PTTL(ctx, key).Result()
		if err != nil {
			if l.unreachable(ctx, err) {
				return ctx.Err()
			}
			return nil
		}
		if left <= 0 { // -2: no key, -1: no expiry (never set so)
			return nil
		}
		if c.Hold > 0 && left > c.Hold {
			return &BusyError{Provider: c.Provider, Left: left}
		}
		if err := backoff.Sleep(ctx, left); err != nil {
			return err
		}
	}
}

func (l *Limiter) key(provider, what string) string {
	return l.cfg.Prefix + ":llm:" + provider + ":" + what // {prefix}:llm:openai:rpm
}

// down reports whether Redis failed moments ago.
func (l *Limiter) down() bool {
	return l.timeNow().UnixNano()-l.failed.Load() < int64(skipAfterFailure)
}

// unreachable reports whether err is ctx ending (the caller then stops);
// otherwise it logs, at most every warnEvery, that Redis cannot be asked.
func (l *Limiter) unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	now := l.timeNow().UnixNano()
	l.failed.Store(now)
	last := l.warned.Load()
	if now-last < int64(warnEvery) || !l.warned.CompareAndSwap(last, now) {
		return false
	}
	l.cfg.Logger.WarnContext(ctx, "the model call limiter cannot reach Redis: calls go ahead unmetered until it is back",
		"err", err)
	return false
}
