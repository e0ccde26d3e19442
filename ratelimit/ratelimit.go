// Package ratelimit keeps the budgets clients spend, shared by every API
// instance through Redis: a request budget priced by query cost, as GitHub's
// GraphQL API prices it, and a model-spend budget of feedback submissions per
// client and per project. Budgets are GCRA buckets (go-redis/redis_rate):
// they refill continuously, so "5,000 points per hour" allows a burst of
// 5,000 and then about 1.4 points a second.
//
// A client is the caller's user (every API key of a user shares the user's
// budget) or, when there is no identity to go by (a refused credential, open
// mode's shared local admin), its network address.
//
// When Redis cannot be reached the request budget lets requests through: a
// short outage must not stop the API. The submission budgets are then
// counted from where the submissions are stored (a SubmissionLog, which the
// domain supplies: PostgreSQL's feedback rows), as a sliding window of
// SubmissionWindow, so intake goes on and model spend stays metered; only
// when that store cannot answer either is a submission refused
// (ErrUnavailable). Both say so in the log (at most every 10 seconds) and
// in feedbackloop_rate_limit_decisions_total.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Config sets the budgets. Zero values take the defaults.
type Config struct {
	// Points a client may spend per Window on requests (RATE_LIMIT_POINTS,
	// RATE_LIMIT_WINDOW).
	Points int
	Window time.Duration
	// Feedback submissions (submitFeedback, retryFeedback) per hour, per
	// client and per project.
	SubmissionsPerClient  int
	SubmissionsPerProject int
	// Comments written or edited (addComment, editComment) per minute, per
	// client (COMMENT_LIMIT_PER_MINUTE).
	CommentsPerMinute int
	// Prefix namespaces the Redis keys, so that deployments (and tests)
	// sharing a Redis server keep apart budgets.
	Prefix string
	// ByAddress keys every caller by its network address, for open mode,
	// where everyone is the same local admin.
	ByAddress bool
	Logger    *slog.Logger
	Metrics   *metrics.Metrics // optional
}

// The defaults.
const (
	DefaultPoints                = 5000
	DefaultWindow                = time.Hour
	DefaultSubmissionsPerClient  = 60
	DefaultSubmissionsPerProject = 600
	DefaultCommentsPerMinute     = 20
	DefaultPrefix                = "feedbackloop"
	// SubmissionWindow is the period of the submission budgets.
	SubmissionWindow = time.Hour
)

func (c Config) withDefaults() Config {
	if c.Points <= 0 {
		c.Points = DefaultPoints
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.SubmissionsPerClient <= 0 {
		c.SubmissionsPerClient = DefaultSubmissionsPerClient
	}
	if c.SubmissionsPerProject <= 0 {
		c.SubmissionsPerProject = DefaultSubmissionsPerProject
	}
	if c.CommentsPerMinute <= 0 {
		c.CommentsPerMinute = DefaultCommentsPerMinute
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Logger = logctx.Logger(c.Logger)
	return c
}

// Limiter spends budgets. It is safe for concurrent use.
type Limiter struct {
	cfg      Config
	gcra     *redis_rate.Limiter
	requests redis_rate.Limit
	perUser  redis_rate.Limit
	perProj  redis_rate.Limit
	comments redis_rate.Limit
	warned   atomic.Int64 // unix nanoseconds of the last "Redis unreachable" log line
}

// New returns a limiter keeping its budgets in rdb.
func New(rdb redis.UniversalClient, cfg Config) *Limiter {
	cfg = cfg.withDefaults()
	return &Limiter{
		cfg:      cfg,
		gcra:     redis_rate.NewLimiter(rdb),
		requests: redis_rate.Limit{Rate: cfg.Points, Burst: cfg.Points, Period: cfg.Window},
		perUser:  redis_rate.Limit{Rate: cfg.SubmissionsPerClient, Burst: cfg.SubmissionsPerClient, Period: SubmissionWindow},
		perProj:  redis_rate.Limit{Rate: cfg.SubmissionsPerProject, Burst: cfg.SubmissionsPerProject, Period: SubmissionWindow},
		comments: redis_rate.PerMinute(cfg.CommentsPerMinute),
	}
}

// Points is the request budget per window.
func (l *Limiter) Points() int { return l.cfg.Points }

// Status is a budget's state after a request was priced.
type Status struct {
	// Known is false when Redis could not be asked: then only Limit and
	// Cost are set.
	Known     bool
	Allowed   bool
	Limit     int
	Cost      int
	Remaining int
	Used      int
	// ResetAt is when the budget is full again.
	ResetAt time.Time
	// RetryAfter is how long to wait before the request would be allowed
	// (zero when allowed).
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, as the
// Retry-After header and the retryAfter extension give it.
func (s Status) RetryAfterSeconds() int {
	return int((s.RetryAfter + time.Second - 1) / time.Second)
}

// Budgets, as named in errors, logs and metrics.
const (
	BudgetRequests           = "requests"
	BudgetClientSubmissions  = "client_submissions"
	BudgetProjectSubmissions = "project_submissions"
	BudgetClientComments     = "client_comments"
)

// Spend charges cost points of the request budget to the client of ctx.
// A cost above the whole budget is charged as the whole budget, so a
// request that the budget could never allow waits for a full budget
// instead. When Redis cannot be asked, Spend lets the request through.
func (l *Limiter) Spend(ctx context.Context, cost int) Status {
	cost = max(cost, 1)
	st := Status{Limit: l.cfg.Points, Cost: cost, Allowed: true}
	res, err := l.gcra.AllowN(ctx, l.key("req", clientOf(ctx, l.cfg.ByAddress)), l.requests, min(cost, l.cfg.Points))
	if err != nil {
		l.unreachable(ctx, BudgetRequests, "failed_open", err)
		recordTo(ctx, st)
		return st
	}
	st = status(res, cost, time.Now())
	l.record(BudgetRequests, st.Allowed)
	recordTo(ctx, st)
	return st
}

// LimitedError is a request refused because a budget is spent.
type LimitedError struct {
	Budget string // BudgetClientSubmissions, ...
	Status Status
}

func (e *LimitedError) Error() string {
	if e.Budget == BudgetClientComments {
		return fmt.Sprintf("you have written or edited %d comments within a minute, the most allowed; retry in %d seconds",
			e.Status.Limit, e.Status.RetryAfterSeconds())
	}
	what := "you have submitted"
	if e.Budget == BudgetProjectSubmissions {
		what = "this project has received"
	}
	return fmt.Sprintf("%s %d feedback submissions within an hour, the most allowed; retry in %d seconds",
		what, e.Status.Limit, e.Status.RetryAfterSeconds())
}

// ErrUnavailable is returned by SpendSubmission when Redis cannot be
// reached: the caller then counts the submission from its SubmissionLog
// (SpendSubmissionFrom), or refuses it with this message.
var ErrUnavailable = errors.New("the submission budget cannot be checked right now (Redis is unreachable); retry in a few seconds")

// SpendSubmission charges one feedback submission to the client of ctx and
// to the project. It returns a *LimitedError when either budget is spent,
// and ErrUnavailable when Redis cannot be asked: model spend is never
// unmetered, so the caller must then count it with SpendSubmissionFrom.
// The client's budget is charged first, so a client cannot use up a
// project's budget beyond its own.
func (l *Limiter) SpendSubmission(ctx context.Context, projectID int) error {
	checks := []bucket{
		{BudgetClientSubmissions, l.key("sub", clientOf(ctx, l.cfg.ByAddress)), l.perUser},
		{BudgetProjectSubmissions, l.key("subp", "project:"+strconv.Itoa(projectID)), l.perProj},
	}
	for i, c := range checks {
		res, err := l.gcra.Allow(ctx, c.key, c.limit)
		if err != nil {
			l.unreachable(ctx, c.budget, decisionDeferred, err)
			l.refund(ctx, checks[:i])
			return ErrUnavailable
		}
		st := status(res, 1, time.Now())
		l.record(c.budget, st.Allowed)
		if !st.Allowed {
			l.refund(ctx, checks[:i])
			return &LimitedError{Budget: c.budget, Status: st}
		}
	}
	return nil
}

// SpendComment charges one comment written or edited to the client of ctx.
// It returns a *LimitedError when the client's comments of the last minute
// used up its budget. Comments cost no model calls, so while Redis cannot
// be asked they are let through, as requests are.
func (l *Limiter) SpendComment(ctx context.Context) error {
	res, err := l.gcra.Allow(ctx, l.key("com", clientOf(ctx, l.cfg.ByAddress)), l.comments)
	if err != nil {
		l.unreachable(ctx, BudgetClientComments, "failed_open", err)
		return nil
	}
	st := status(res, 1, time.Now())
	l.record(BudgetClientComments, st.Allowed)
	if !st.Allowed {
		return &LimitedError{Budget: BudgetClientComments, Status: st}
	}
	return nil
}

// SubmissionLog is the record of the submissions made, kept where they are
// stored, that the submission budgets are counted from when Redis cannot be
// asked. A submission is charged to the user who made it (every API key of a
// user, and in open mode every caller, is that user) and to its project.
//
// The log must answer from the transaction that will store the submission,
// with concurrent submissions of the same user or to the same project held
// off until it ends, or two instances could both find a budget's last
// submission free.
type SubmissionLog interface {
	// NthLatestByUser returns when the nth latest submission user made at
	// or after since was made; ok is false when there were fewer than n.
	NthLatestByUser(ctx context.Context, user, n int, since time.Time) (at time.Time, ok bool, err error)
	// NthLatestInProject is NthLatestByUser for the project's submissions,
	// whoever made them.
	NthLatestInProject(ctx context.Context, project, n int, since time.Time) (at time.Time, ok bool, err error)
}

// SpendSubmissionFrom charges one feedback submission by user to project's
// budgets as SpendSubmission does, counting from log instead of Redis: it
// returns a *LimitedError when the user, or the project, already made as
// many submissions within the last SubmissionWindow as its budget allows.
// Its RetryAfter is when the oldest of those leaves the window. The sliding
// window is at least as strict as the GCRA bucket (which refills during the
// hour), so a client refused by Redis is refused here too.
func (l *Limiter) SpendSubmissionFrom(ctx context.Context, log SubmissionLog, user, projectID int) error {
	now := time.Now()
	since := now.Add(-SubmissionWindow)
	checks := []struct {
		budget string
		limit  int
		nth    func(context.Context, int, int, time.Time) (time.Time, bool, error)
		key    int
	}{
		{BudgetClientSubmissions, l.cfg.SubmissionsPerClient, log.NthLatestByUser, user},
		{BudgetProjectSubmissions, l.cfg.SubmissionsPerProject, log.NthLatestInProject, projectID},
	}
	for _, c := range checks {
		at, full, err := c.nth(ctx, c.key, c.limit, since)
		if err != nil {
			if l.cfg.Metrics != nil {
				l.cfg.Metrics.RateLimit(c.budget, "failed_closed")
			}
			return err
		}
		l.recordFallback(c.budget, !full)
		if full {
			// When the limit-th latest leaves the window, one is free.
			retry := max(at.Add(SubmissionWindow).Sub(now), time.Second)
			return &LimitedError{Budget: c.budget, Status: Status{
				Known: true, Limit: c.limit, Cost: 1, Used: c.limit, ResetAt: now.Add(retry), RetryAfter: retry}}
		}
	}
	return nil
}

// refund gives back the submission the budgets before a refusing one were
// charged: a submission refused for its project's budget is not counted
// against its client. A negative cost moves a GCRA bucket back; the bucket
// never holds more than its burst.
func (l *Limiter) refund(ctx context.Context, charged []bucket) {
	for _, c := range charged {
		_, _ = l.gcra.AllowN(context.WithoutCancel(ctx), c.key, c.limit, -1)
	}
}

// bucket is one budget of one client (or project) in Redis.
type bucket struct {
	budget, key string
	limit       redis_rate.Limit
}

func (l *Limiter) key(budget, client string) string {
	return l.cfg.Prefix + ":" + budget + ":" + client
}

func status(res *redis_rate.Result, cost int, now time.Time) Status {
	st := Status{
		Known:   true,
		Allowed: res.Allowed > 0,
		Limit:   res.Limit.Burst,
		Cost:    cost,
		ResetAt: now.Add(max(res.ResetAfter, 0)),
	}
	// What is spent is how far the bucket is from full, in points, counting
	// a point being refilled as spent. (The script's own remaining count
	// truncates a float, which is a point short right after a charge.)
	perPoint := float64(res.Limit.Period) / float64(res.Limit.Rate)
	spent := int(math.Ceil(float64(max(res.ResetAfter, 0))/perPoint - 1e-6))
	st.Remaining = min(max(st.Limit-spent, 0), st.Limit)
	st.Used = st.Limit - st.Remaining
	if !st.Allowed {
		st.RetryAfter = max(res.RetryAfter, time.Millisecond)
	}
	return st
}

func (l *Limiter) record(budget string, allowed bool) {
	if l.cfg.Metrics == nil {
		return
	}
	decision := "allowed"
	if !allowed {
		decision = "limited"
	}
	l.cfg.Metrics.RateLimit(budget, decision)
}

// decisionDeferred is a submission Redis could not count, handed to the
// caller's SubmissionLog, whose count records the decision.
const decisionDeferred = "deferred_to_database"

// recordFallback records a submission decision counted from the
// SubmissionLog while Redis is unreachable.
func (l *Limiter) recordFallback(budget string, allowed bool) {
	if l.cfg.Metrics == nil {
		return
	}
	decision := "counted_allowed"
	if !allowed {
		decision = "counted_limited"
	}
	l.cfg.Metrics.RateLimit(budget, decision)
}

// unreachable records a decision taken without Redis, logging it at most
// every 10 seconds so an outage does not flood the log.
func (l *Limiter) unreachable(ctx context.Context, budget, decision string, err error) {
	if l.cfg.Metrics != nil && decision != decisionDeferred {
		l.cfg.Metrics.RateLimit(budget, decision)
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	now := time.Now().UnixNano()
	last := l.warned.Load()
	if now-last < int64(10*time.Second) || !l.warned.CompareAndSwap(last, now) {
		return
	}
	l.cfg.Logger.WarnContext(ctx, "rate limiter cannot reach Redis: requests are let through, feedback submissions are counted from the database until it is back",
		"budget", budget, "decision", decision, "err", err)
}

// Clients.

type addressKey struct{}

// withAddress records the network address requests of ctx come from.
func withAddress(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, addressKey{}, Address(r))
}

// Address is the client address a request is keyed by when it has no
// identity: the TCP peer's IP (X-Forwarded-For is not trusted), an IPv6
// address by its /64 network, which one host usually has whole.
func Address(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// AddressOf returns the address recorded on ctx by the middleware, or "".
func AddressOf(ctx context.Context) string {
	a, _ := ctx.Value(addressKey{}).(string)
	return a
}

// ClientKey names the client of a viewer coming from address: its user, or
// the address when there is no viewer or byAddress is set.
func ClientKey(v *viewer.Viewer, address string, byAddress bool) string {
	if v != nil && !byAddress {
		return "user:" + strconv.Itoa(v.UserID)
	}
	return "ip:" + address
}

func clientOf(ctx context.Context, byAddress bool) string {
	v := viewer.FromContext(ctx)
	if v == nil {
		if st := stateOf(ctx); st != nil {
			v = st.viewer
		}
	}
	return ClientKey(v, AddressOf(ctx), byAddress)
}
