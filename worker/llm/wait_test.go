package llm_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// mayWait is a request whose job may give its slot back.
func mayWait() analysis.Request {
	req := analysistest.Request()
	req.MayWaitLater = true
	return req
}

// A backoff longer than the Hold is not slept in place when the job may
// wait later: the analysis returns how long to wait. A short one is slept.
func TestLongBackoffIsReturnedAsAWait(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		return llmstub.Status(http.StatusTooManyRequests, "slow down").WithHeader("Retry-After", "30")
	})
	rec := &recorder{}
	a := newLLM(t, stub, rec, 5*time.Second)
	_, err := a.Analyze(context.Background(), mayWait())
	var wait *analysis.WaitError
	if !errors.As(err, &wait) || wait.After != 30*time.Second {
		t.Fatalf("Analyze = %v; want a WaitError of the Retry-After's 30s", err)
	}
	if len(rec.got()) != 0 || stub.Calls() != 1 {
		t.Fatalf("slept %v over %d calls; want no sleep after the one call", rec.got(), stub.Calls())
	}
	// A job that may not wait later sits the backoff out, as before.
	if _, err := a.Analyze(context.Background(), analysistest.Request()); errors.As(err, &wait) || len(rec.got()) == 0 {
		t.Fatalf("Analyze = %v after sleeping %v; want the backoff slept in place", err, rec.got())
	}
}

// A provider's pause, set after another worker's 429, is not sat out by a
// job that may wait later: it gets the time left, and the provider is not
// called.
func TestPauseLongerThanTheHoldIsReturnedAsAWait(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.ToolCall("record_analysis", analysistest.Good) })
	rdb := testredis.Client(t)
	limits := llmlimit.Config{Prefix: testredis.Namespace(t)}
	llmlimit.New(rdb, limits).Pause(context.Background(), "openai", 20*time.Second)
	a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) { c.Redis, c.Limits = rdb, limits })
	_, err := a.Analyze(context.Background(), mayWait())
	var wait *analysis.WaitError
	if !errors.As(err, &wait) || wait.After <= 15*time.Second || wait.After > 20*time.Second {
		t.Fatalf("Analyze = %v; want a WaitError of the pause's time left", err)
	}
	if stub.Calls() != 0 {
		t.Fatalf("%d calls during the pause", stub.Calls())
	}
}

// The model calls of a job's earlier runs count: a job that made two calls
// before it waited, with three attempts allowed, makes one more before it
// gives up.
func TestEarlierRunsCountTowardTheAttempts(t *testing.T) {
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply { return llmstub.Status(http.StatusInternalServerError, "down") })
	a := newLLM(t, stub, &recorder{}, 5*time.Second)
	req := analysistest.Request()
	req.EarlierCalls = 2
	if _, err := a.Analyze(context.Background(), req); !analysis.Unavailable(err) {
		t.Fatalf("Analyze = %v; want the provider unavailable", err)
	}
	if stub.Calls() != 1 {
		t.Fatalf("%d calls; want the one attempt left of three", stub.Calls())
	}
}

// InFlight bounds the calls in flight, whatever the number of analyses.
func TestInFlightBoundsConcurrentCalls(t *testing.T) {
	var now, most atomic.Int64
	stub := llmstub.New(t, func(llmstub.Request) llmstub.Reply {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		now.Add(-1)
		return llmstub.ToolCall("record_analysis", analysistest.Good)
	})
	slots := semaphore.NewWeighted(2)
	a := newLLM(t, stub, &recorder{}, 5*time.Second, func(c *llm.Config) { c.InFlight = slots })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Analyze(context.Background(), analysistest.Request()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most.Load() != 2 {
		t.Fatalf("at most %d calls in flight; want 2", most.Load())
	}
}
