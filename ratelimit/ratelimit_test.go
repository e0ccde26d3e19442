package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// newLimiter returns a limiter on the shared test Redis, in a namespace of
// its own unless prefix names one.
func newLimiter(t testing.TB, prefix string, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	if prefix == "" {
		prefix = "rl-" + testredis.Namespace(t)
	}
	cfg.Prefix = prefix
	return ratelimit.New(testredis.Client(t), cfg)
}

// as is a context for a request of user id (0: none) from address.
func as(id int, address string) context.Context {
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	r.RemoteAddr = address + ":1234"
	var ctx context.Context
	// The middleware records the address; run a request through it to get
	// a context as the API sees it.
	ratelimit.New(nil, ratelimit.Config{}).Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), r)
	ctx = context.WithoutCancel(ctx)
	if id != 0 {
		ctx = viewer.NewContext(ctx, &viewer.Viewer{UserID: id})
	}
	return ctx
}

func TestBudgetIsSpentAndRefills(t *testing.T) {
	// 3 points per 3 seconds: one point back every second.
	l := newLimiter(t, "", ratelimit.Config{Points: 3, Window: 3 * time.Second})
	ctx := as(7, "10.0.0.1")
	for i := 1; i <= 3; i++ {
		st := l.Spend(ctx, 1)
		if !st.Known || !st.Allowed || st.Remaining != 3-i || st.Used != i || st.Limit != 3 || st.Cost != 1 {
			t.Fatalf("request %d: %+v", i, st)
		}
		if until := time.Until(st.ResetAt); until <= 0 || until > 3*time.Second {
			t.Errorf("request %d resets in %v", i, until)
		}
	}
	st := l.Spend(ctx, 1)
	if st.Allowed || st.RetryAfter <= 0 || st.RetryAfter > time.Second || st.RetryAfterSeconds() != 1 || st.Remaining != 0 {
		t.Fatalf("over budget: %+v", st)
	}
	// Another client has a budget of its own.
	if st := l.Spend(as(8, "10.0.0.1"), 1); !st.Allowed {
		t.Fatalf("another user was refused: %+v", st)
	}
	time.Sleep(st.RetryAfter)
	if st := l.Spend(ctx, 1); !st.Allowed {
		t.Fatalf("still refused after RetryAfter: %+v", st)
	}
}

func TestCostAboveTheBudgetWaitsForAFullBudget(t *testing.T) {
	l := newLimiter(t, "", ratelimit.Config{Points: 10, Window: time.Hour})
	ctx := as(1, "10.0.0.1")
	if st := l.Spend(ctx, 50); !st.Allowed || st.Remaining != 0 || st.Cost != 50 {
		t.Fatalf("a cost above the budget, on a full budget: %+v", st)
	}
	if st := l.Spend(ctx, 1); st.Allowed {
		t.Fatalf("allowed after spending the whole budget: %+v", st)
	}
}

func TestInstancesShareABudget(t *testing.T) {
	prefix := "rl-" + testredis.Namespace(t)
	a := newLimiter(t, prefix, ratelimit.Config{Points: 4})
	b := newLimiter(t, prefix, ratelimit.Config{Points: 4})
	ctx := as(3, "10.0.0.1")
	a.Spend(ctx, 3)
	if st := b.Spend(ctx, 1); !st.Allowed || st.Remaining != 0 {
		t.Fatalf("second instance: %+v", st)
	}
	if st := a.Spend(ctx, 1); st.Allowed {
		t.Fatalf("first instance allowed a request over the shared budget: %+v", st)
	}
}

func TestAnonymousAndOpenModeCallersAreKeyedByAddress(t *testing.T) {
	for _, c := range []struct {
		v         *viewer.Viewer
		addr      string
		byAddress bool
		want      string
	}{
		{nil, "10.0.0.1", false, "ip:10.0.0.1"},
		{&viewer.Viewer{UserID: 5}, "10.0.0.1", false, "user:5"},
		{&viewer.Viewer{UserID: 5}, "10.0.0.1", true, "ip:10.0.0.1"},
	} {
		if got := ratelimit.ClientKey(c.v, c.addr, c.byAddress); got != c.want {
			t.Errorf("ClientKey(%v, %s, %v) = %s, want %s", c.v, c.addr, c.byAddress, got, c.want)
		}
	}
	for remote, want := range map[string]string{
		"192.0.2.7:5000":                 "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5000":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:5000":    "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:5000":        "192.0.2.7",
		"not an address":                 "not an address",
		"[2001:db8:9:9:3:4:5:6]:5000":    "2001:db8:9:9::/64",
		"127.0.0.1:1":                    "127.0.0.1",
		"[::1]:8080":                     "::/64",
		"[fe80::1%eth0]:8080":            "fe80::1%eth0",
		"[2001:db8:1:2::abcd]:5000":      "2001:db8:1:2::/64",
		"[2001:0db8:0001:0002::1]:65535": "2001:db8:1:2::/64",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		if got := ratelimit.Address(r); got != want {
			t.Errorf("Address(%s) = %s, want %s", remote, got, want)
		}
	}
	// Open mode: two callers on one address share its budget, whatever
	// their (shared) identity says.
	l := newLimiter(t, "", ratelimit.Config{Points: 2, ByAddress: true})
	l.Spend(as(1, "10.0.0.9"), 2)
	if st := l.Spend(as(2, "10.0.0.9"), 1); st.Allowed {
		t.Fatalf("same address, budget spent, but allowed: %+v", st)
	}
	if st := l.Spend(as(1, "10.0.0.10"), 1); !st.Allowed {
		t.Fatalf("another address was refused: %+v", st)
	}
}

func TestSubmissionBudgets(t *testing.T) {
	l := newLimiter(t, "", ratelimit.Config{SubmissionsPerClient: 3, SubmissionsPerProject: 5})
	alice, bob := as(1, "10.0.0.1"), as(2, "10.0.0.2")
	for i := 0; i < 3; i++ {
		if err := l.SpendSubmission(alice, 100); err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
	}
	var limited *ratelimit.LimitedError
	err := l.SpendSubmission(alice, 100)
	if !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetClientSubmissions || limited.Status.RetryAfterSeconds() < 1 {
		t.Fatalf("fourth submission of one client: %v", err)
	}
	if !strings.Contains(err.Error(), "you have submitted 3 feedback submissions within an hour") {
		t.Errorf("message: %v", err)
	}
	// The project has taken 3 of its 5: Bob gets 2 more in, then the
	// project's budget is spent, for him as for anyone.
	for i := 0; i < 2; i++ {
		if err := l.SpendSubmission(bob, 100); err != nil {
			t.Fatalf("Bob's submission %d: %v", i, err)
		}
	}
	err = l.SpendSubmission(bob, 100)
	if !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetProjectSubmissions {
		t.Fatalf("sixth submission to one project: %v", err)
	}
	if err := l.SpendSubmission(bob, 101); err != nil {
		t.Fatalf("another project: %v", err)
	}
}

// Comments: a per-minute budget per client; with Redis down they are let
// through, as requests are.
func TestCommentBudget(t *testing.T) {
	l := newLimiter(t, "", ratelimit.Config{CommentsPerMinute: 2})
	alice, bob := as(1, "10.0.0.1"), as(2, "10.0.0.2")
	for i := range 2 {
		if err := l.SpendComment(alice); err != nil {
			t.Fatalf("comment %d: %v", i, err)
		}
	}
	var limited *ratelimit.LimitedError
	err := l.SpendComment(alice)
	if !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetClientComments || limited.Status.Limit != 2 ||
		limited.Status.RetryAfterSeconds() < 1 || limited.Status.RetryAfterSeconds() > 30 {
		t.Fatalf("third comment within a minute: %v", err)
	}
	if !strings.Contains(err.Error(), "2 comments within a minute") {
		t.Errorf("message: %v", err)
	}
	if err := l.SpendComment(bob); err != nil {
		t.Fatalf("another client: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testredis.FreePort(t)), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	down := ratelimit.New(rdb, ratelimit.Config{CommentsPerMinute: 1})
	for i := range 3 {
		if err := down.SpendComment(alice); err != nil {
			t.Fatalf("comment %d with Redis down: %v", i, err)
		}
	}
}

// With Redis down, requests are let through and SpendSubmission hands the
// submission to the caller's SubmissionLog (ErrUnavailable), recording no
// decision of its own: the log's count decides.
func TestRedisDownFailsOpenForRequestsAndDefersSubmissions(t *testing.T) {
	logs := &testutil.Buffer{}
	m := metrics.New()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testredis.FreePort(t)), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	l := ratelimit.New(rdb, ratelimit.Config{Points: 10, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: m})
	ctx := as(1, "10.0.0.1")
	for i := 0; i < 3; i++ {
		if st := l.Spend(ctx, 1); !st.Allowed || st.Known || st.Limit != 10 {
			t.Fatalf("request with Redis down: %+v", st)
		}
		if err := l.SpendSubmission(ctx, 1); !errors.Is(err, ratelimit.ErrUnavailable) {
			t.Fatalf("submission with Redis down: %v", err)
		}
	}
	if n := strings.Count(logs.String(), "rate limiter cannot reach Redis"); n != 1 {
		t.Errorf("%d log lines about Redis, want 1 (at most one per 10s):\n%s", n, logs)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `feedbackloop_rate_limit_decisions_total{budget="requests",decision="failed_open"} 3`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
	if strings.Contains(rec.Body.String(), `decision="failed_closed"`) {
		t.Errorf("a submission handed to the log was recorded as refused:\n%s", rec.Body)
	}
}

// submissionLog is a SubmissionLog over a list, as the database keeps it.
type submissionLog []struct {
	user, project int
	at            time.Time
}

func (s submissionLog) nth(match func(user, project int) bool, n int, since time.Time) (time.Time, bool, error) {
	var times []time.Time
	for _, e := range s {
		if match(e.user, e.project) && !e.at.Before(since) {
			times = append(times, e.at)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return b.Compare(a) })
	if len(times) < n {
		return time.Time{}, false, nil
	}
	return times[n-1], true, nil
}

func (s submissionLog) NthLatestByUser(_ context.Context, user, n int, since time.Time) (time.Time, bool, error) {
	return s.nth(func(u, _ int) bool { return u == user }, n, since)
}

func (s submissionLog) NthLatestInProject(_ context.Context, project, n int, since time.Time) (time.Time, bool, error) {
	return s.nth(func(_, p int) bool { return p == project }, n, since)
}

// Counted from the log, a budget is a sliding window of SubmissionWindow:
// what is older does not count, and a refusal says when the oldest counted
// submission leaves the window.
func TestSpendSubmissionFromCountsTheLog(t *testing.T) {
	m := metrics.New()
	l := ratelimit.New(testredis.Client(t), ratelimit.Config{SubmissionsPerClient: 2, SubmissionsPerProject: 3, Metrics: m})
	ctx := context.Background()
	now := time.Now()
	log := submissionLog{
		{user: 1, project: 10, at: now.Add(-2 * time.Hour)}, // out of the window
		{user: 1, project: 10, at: now.Add(-50 * time.Minute)},
	}
	if err := l.SpendSubmissionFrom(ctx, log, 1, 10); err != nil {
		t.Fatalf("second submission in the window: %v", err)
	}
	log = append(log, submissionLog{{user: 1, project: 10, at: now.Add(-10 * time.Minute)}}...)
	var limited *ratelimit.LimitedError
	err := l.SpendSubmissionFrom(ctx, log, 1, 10)
	if !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetClientSubmissions {
		t.Fatalf("third by the user: %v", err)
	}
	// The older of the two leaves the window in 10 minutes.
	if s := limited.Status.RetryAfterSeconds(); s < 599 || s > 601 || limited.Status.Limit != 2 ||
		!strings.Contains(err.Error(), "you have submitted 2 feedback submissions within an hour") {
		t.Fatalf("refusal %v (retry after %ds, limit %d)", err, s, limited.Status.Limit)
	}
	// Another user is refused by the project's budget.
	log = append(log, submissionLog{{user: 2, project: 10, at: now.Add(-5 * time.Minute)}}...)
	err = l.SpendSubmissionFrom(ctx, log, 3, 10)
	if !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetProjectSubmissions ||
		!strings.Contains(err.Error(), "this project has received 3") {
		t.Fatalf("fourth in the project: %v", err)
	}
	if err := l.SpendSubmissionFrom(ctx, log, 3, 11); err != nil {
		t.Fatalf("another project: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`feedbackloop_rate_limit_decisions_total{budget="client_submissions",decision="counted_limited"} 1`,
		`feedbackloop_rate_limit_decisions_total{budget="project_submissions",decision="counted_limited"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestMiddlewareHeaders(t *testing.T) {
	l := newLimiter(t, "", ratelimit.Config{Points: 5})
	// The handler prices an operation of cost 2 when asked to, and
	// otherwise answers without pricing anything (as a document that does
	// not parse is answered).
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			ratelimit.Identify(r.Context(), &viewer.Viewer{UserID: 42})
		}
		if r.URL.Query().Get("price") != "" {
			if st := l.Spend(r.Context(), 2); !st.Allowed {
				_, _ = w.Write([]byte(`{"errors":[{"extensions":{"code":"RATE_LIMITED"}}]}`))
				return
			}
		}
		w.WriteHeader(http.StatusBadRequest)
	}))
	do := func(query, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/query?"+query, nil)
		r.RemoteAddr = "10.1.1.1:999"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	check := func(rec *httptest.ResponseRecorder, status, remaining, used int) {
		t.Helper()
		hd := rec.Header()
		if rec.Code != status || hd.Get("X-RateLimit-Limit") != "5" || hd.Get("X-RateLimit-Remaining") != strconv.Itoa(remaining) ||
			hd.Get("X-RateLimit-Used") != strconv.Itoa(used) {
			t.Fatalf("status %d, headers %v; want %d, remaining %d, used %d", rec.Code, hd, status, remaining, used)
		}
		reset, err := strconv.ParseInt(hd.Get("X-RateLimit-Reset"), 10, 64)
		if err != nil || reset < time.Now().Unix() || reset > time.Now().Add(time.Hour+time.Second).Unix() {
			t.Fatalf("X-RateLimit-Reset %q", hd.Get("X-RateLimit-Reset"))
		}
	}
	check(do("price=1", ""), 400, 3, 2) // priced: 2 points
	check(do("", ""), 400, 2, 3)        // not priced: 1 point
	check(do("price=1", ""), 400, 0, 5)
	rec := do("price=1", "")
	check(rec, 429, 0, 5)
	if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra < 1 {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	// A response not refused for its budget keeps its status.
	if rec := do("", ""); rec.Code != 400 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("unpriced request over budget: %d %v", rec.Code, rec.Header())
	}
	// An identified user has a budget of its own, whatever its address.
	check(do("", "Bearer x"), 400, 4, 1)
}

// BenchmarkSpend is the limiter's cost per request: one round trip to
// Redis running the GCRA script.
func BenchmarkSpend(b *testing.B) {
	l := newLimiter(b, "", ratelimit.Config{Points: 1 << 30})
	ctx := as(1, "10.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st := l.Spend(ctx, 1); !st.Allowed {
			b.Fatal(st)
		}
	}
}

// BenchmarkSpendParallel is Spend from many goroutines, as a busy instance
// calls it.
func BenchmarkSpendParallel(b *testing.B) {
	l := newLimiter(b, "", ratelimit.Config{Points: 1 << 30})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := as(1, "10.0.0.1")
		for pb.Next() {
			l.Spend(ctx, 1)
		}
	})
}
