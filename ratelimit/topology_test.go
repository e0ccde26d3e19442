package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var topologyBudgets = ratelimit.Config{Points: 5, SubmissionsPerClient: 3, SubmissionsPerProject: 4}

// checkBudgetsOn spends the budgets of a few users and projects through two
// instances with their own clients: each budget is one key (its own slot on
// a Cluster) that both share, and the limits hold.
func checkBudgetsOn(t *testing.T, newClient func() redis.UniversalClient) {
	a, b := ratelimit.New(newClient(), topologyBudgets), ratelimit.New(newClient(), topologyBudgets)
	for user := 1; user <= 6; user++ {
		ctx := as(user, "10.0.0.1")
		for i := range 5 {
			l := []*ratelimit.Limiter{a, b}[i%2]
			if st := l.Spend(ctx, 1); !st.Known || !st.Allowed || st.Remaining != 4-i {
				t.Fatalf("user %d request %d: %+v", user, i, st)
			}
		}
		if st := b.Spend(ctx, 1); !st.Known || st.Allowed {
			t.Fatalf("user %d over budget: %+v", user, st)
		}
	}
	alice, bob := as(1, "10.0.0.1"), as(2, "10.0.0.2")
	for i := range 3 {
		if err := []*ratelimit.Limiter{a, b}[i%2].SpendSubmission(alice, 9); err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
	}
	var limited *ratelimit.LimitedError
	if err := a.SpendSubmission(alice, 9); !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetClientSubmissions {
		t.Fatalf("over the client's budget: %v", err)
	}
	if err := b.SpendSubmission(bob, 9); err != nil {
		t.Fatal(err)
	}
	if err := a.SpendSubmission(bob, 9); !errors.As(err, &limited) || limited.Budget != ratelimit.BudgetProjectSubmissions {
		t.Fatalf("over the project's budget: %v", err)
	}
}

func TestBudgetsOverSentinel(t *testing.T) {
	set := testredis.StartSentinel(t, 1, 3)
	checkBudgetsOn(t, func() redis.UniversalClient { return set.Client(t) })
}

func TestBudgetsOverCluster(t *testing.T) {
	c := testredis.StartCluster(t, 3)
	checkBudgetsOn(t, func() redis.UniversalClient { return c.Client(t) })
}

// Budgets carry over a Sentinel failover (what the replicas had): spent
// points stay spent once the replica is promoted. (Meanwhile the limiter
// answers as with Redis down, each call after about 1.75s of go-redis's dial
// retries.)
func TestBudgetsSurviveASentinelFailover(t *testing.T) {
	set := testredis.StartSentinel(t, 2, 3)
	rdb := set.Client(t)
	checkBudgetsFailover(t, rdb, func() { replicated(t, rdb) }, func() { set.Master(t).Kill(t) })
}

// The same on a Cluster whose master holding the request budget dies and
// its replica takes over.
func TestBudgetsSurviveAClusterFailover(t *testing.T) {
	c := testredis.StartClusterWithReplicas(t, 3, 1)
	rdb := c.Client(t)
	checkBudgetsFailover(t, rdb, func() {
		err := rdb.ForEachMaster(context.Background(), func(_ context.Context, node *redis.Client) error {
			replicated(t, node)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}, func() {
		c.MasterOf(t, ratelimit.DefaultPrefix+":req:"+ratelimit.ClientKey(&viewer.Viewer{UserID: 1}, "", false)).Kill(t)
	})
}

// replicated waits until every replica of the master rdb talks to has
// replayed everything it was sent.
func replicated(t *testing.T, rdb *redis.Client) {
	t.Helper()
	testutil.WaitFor(t, "the replicas to catch up", func() bool {
		info, err := rdb.Info(context.Background(), "replication").Result()
		if err != nil {
			t.Fatal(err)
		}
		var master string
		var replicas []string
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
				master = v
			}
			if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
				replicas = append(replicas, line)
			}
		}
		for _, r := range replicas {
			if !strings.Contains(r, ",offset="+master+",") {
				return false
			}
		}
		return master != "" && len(replicas) > 0
	})
}

func checkBudgetsFailover(t *testing.T, rdb redis.UniversalClient, replicate, kill func()) {
	l := ratelimit.New(rdb, topologyBudgets)
	alice := as(1, "10.0.0.1")
	l.Spend(alice, 3)
	if err := l.SpendSubmission(alice, 9); err != nil {
		t.Fatal(err)
	}
	replicate()
	kill()
	killed := time.Now()
	var st ratelimit.Status
	for st = l.Spend(alice, 1); !st.Known; st = l.Spend(alice, 1) {
		if time.Since(killed) > 30*time.Second {
			t.Fatal("budgets not metered again within 30s of the kill")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("budgets metered again %v after the kill", time.Since(killed))
	// 3 spent before the kill, 1 now.
	if !st.Allowed || st.Remaining != 1 {
		t.Fatalf("after the failover: %+v, want 1 point left of 5", st)
	}
	for range 2 {
		if err := l.SpendSubmission(alice, 9); err != nil {
			t.Fatal(err)
		}
	}
	var limited *ratelimit.LimitedError
	if err := l.SpendSubmission(alice, 9); !errors.As(err, &limited) {
		t.Fatalf("the fourth submission, the first before the kill: %v", err)
	}
}
