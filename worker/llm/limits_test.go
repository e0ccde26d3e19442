package llm_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
	"github.com/redis/go-redis/v9"
)

// limitedWorkers are two analyzers, as two worker processes would have
// them: their own Redis connections to one server, the same limits, one
// attempt per call (a 429 fails the analysis).
func limitedWorkers(t *testing.T, stub *llmstub.Server, limits llmlimit.Config) []analysis.Analyzer {
	t.Helper()
	limits.Prefix = testredis.Namespace(t)
	var workers []analysis.Analyzer
	for range 2 {
		rdb := testredis.Client(t)
		workers = append(workers, newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) {
			c.MaxAttempts = 1
			c.Redis, c.Limits = rdb, limits
		}))
	}
	return workers
}

// analyzeAll runs perWorker analyses on each worker, parallel analyses at
// a time per worker, and returns their errors.
func analyzeAll(workers []analysis.Analyzer, perWorker, parallel int) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, w := range workers {
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perWorker / parallel {
					_, err := w.Analyze(context.Background(), analysistest.Request())
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	return errs
}

func TestSharedRequestLimitKeepsWorkersUnderTheProvidersLimit(t *testing.T) {
	// The provider allows 4 requests a second (the test's minute), as a
	// bucket refilled continuously; the workers, each alone, would send
	// 12 requests at once.
	quota := &llmstub.Limits{Requests: 4, Period: time.Second}
	stub := llmstub.New(t, quota.Wrap(func(llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", analysistest.Good)
	}))
	workers := limitedWorkers(t, stub, llmlimit.Config{RPM: 4, Period: time.Second})

	errs := analyzeAll(workers, 6, 3)
	if len(errs) > 0 || quota.Refused() > 0 {
		t.Fatalf("%d requests answered 429, %d analyses failed: %v", quota.Refused(), len(errs), errs)
	}
	if quota.Answered() != 12 {
		t.Fatalf("the provider answered %d requests, want 12", quota.Answered())
	}
}

func TestRetryAfterSeenByOneWorkerHoldsTheOthers(t *testing.T) {
	var mu sync.Mutex
	var refusedAt time.Time
	var arrivals []time.Time
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		mu.Lock()
		defer mu.Unlock()
		if refusedAt.IsZero() {
			refusedAt = time.Now()
			return llmstub.Status(http.StatusTooManyRequests, "slow down").WithHeader("Retry-After", "1")
		}
		arrivals = append(arrivals, time.Now())
		return llmstub.ToolCall("record_analysis", analysistest.Good)
	})
	workers := limitedWorkers(t, stub, llmlimit.Config{}) // no RPM or TPM: the pause applies anyway

	if _, err := workers[0].Analyze(context.Background(), analysistest.Request()); err == nil {
		t.Fatal("the first worker's call succeeded; want it refused with 429")
	}
	if _, err := workers[1].Analyze(context.Background(), analysistest.Request()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// A lower bound only: the other worker's call must not reach the
	// provider before the Retry-After is over (less Redis's millisecond
	// rounding).
	if len(arrivals) != 1 || arrivals[0].Sub(refusedAt) < time.Second-20*time.Millisecond {
		t.Fatalf("the other worker's call arrived %v after the 429 with Retry-After: 1", arrivals[0].Sub(refusedAt))
	}
}

func TestReportedUsageCorrectsTheTokenEstimate(t *testing.T) {
	// Each answer uses 20,000 tokens, far more than the prompt's length
	// suggests; the provider allows 50,000 a second (the test's minute).
	quota := &llmstub.Limits{Tokens: 50_000, Period: time.Second}
	stub := llmstub.New(t, quota.Wrap(func(llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", analysistest.Good).WithUsage(15_000, 5_000)
	}))
	workers := limitedWorkers(t, stub, llmlimit.Config{TPM: 50_000, Period: time.Second})

	errs := analyzeAll(workers, 3, 1)
	if len(errs) > 0 || quota.Refused() > 0 {
		t.Fatalf("%d requests answered 429, %d analyses failed: %v", quota.Refused(), len(errs), errs)
	}
	if quota.Answered() != 6 {
		t.Fatalf("the provider answered %d requests, want 6", quota.Answered())
	}
}

func TestLimiterFailsOpenWithoutRedis(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		return llmstub.ToolCall("record_analysis", analysistest.Good)
	})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(testredis.FreePort(t)), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	logs := &testutil.Buffer{}
	a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) {
		c.Redis, c.Limits = rdb, llmlimit.Config{RPM: 1, TPM: 1, Period: time.Hour}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	for range 3 { // more than the limits allow: nothing meters them
		if _, err := a.Analyze(context.Background(), analysistest.Request()); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "cannot reach Redis"); n != 1 {
		t.Fatalf("logged %d times that Redis is unreachable, want once:\n%s", n, logs.String())
	}
}
