package llmstub

import (
	"net/http"
	"sync"
	"time"
)

// Window is a provider's "requests per minute" read most strictly: a
// request that would make more than Requests answered within any Period
// (a sliding window, not a bucket that may start full or refill early) is
// answered 429 at once, and is not counted. Zero Requests means no limit.
type Window struct {
	Requests int
	Period   time.Duration

	mu      sync.Mutex
	times   []time.Time // the admitted requests within the last Period, oldest first
	refused int
}

// Wrap returns a Responder that answers with next while within the
// window, else with 429 without calling next.
func (w *Window) Wrap(next Responder) Responder {
	return func(req Request) Reply {
		if !w.admit(time.Now()) {
			return Status(http.StatusTooManyRequests, "Rate limit reached: requests per window (llmstub)")
		}
		return next(req)
	}
}

func (w *Window) admit(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.Requests <= 0 {
		return true
	}
	cut := 0
	for cut < len(w.times) && !w.times[cut].After(now.Add(-w.Period)) {
		cut++
	}
	w.times = w.times[cut:]
	if len(w.times) >= w.Requests {
		w.refused++
		return false
	}
	w.times = append(w.times, now)
	return true
}

// Refused is how many requests were answered 429.
func (w *Window) Refused() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused
}
