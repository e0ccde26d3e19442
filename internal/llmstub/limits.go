package llmstub

import (
	"net/http"
	"sync"
	"time"
)

// Limits is a provider account's rate limits as providers describe them:
// buckets of Requests and of Tokens per Period, full at first and refilled
// continuously. A reply that would overdraw either is answered 429 instead.
// Zero means no limit.
type Limits struct {
	Requests, Tokens int
	Period           time.Duration

	mu                sync.Mutex
	reqLeft, tokLeft  float64
	last              time.Time
	refused, answered int
}

// Wrap returns a Responder that answers with next within the limits, the
// tokens being the usage next's reply reports.
func (l *Limits) Wrap(next Responder) Responder {
	return func(req Request) Reply {
		reply := next(req)
		if !l.admit(reply.tokens()) {
			return Status(http.StatusTooManyRequests, "Rate limit reached (llmstub)")
		}
		return reply
	}
}

func (l *Limits) admit(tokens int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.last.IsZero() {
		l.reqLeft, l.tokLeft = float64(l.Requests), float64(l.Tokens)
	} else {
		elapsed := float64(now.Sub(l.last)) / float64(l.Period)
		l.reqLeft = min(float64(l.Requests), l.reqLeft+elapsed*float64(l.Requests))
		l.tokLeft = min(float64(l.Tokens), l.tokLeft+elapsed*float64(l.Tokens))
	}
	l.last = now
	if (l.Requests > 0 && l.reqLeft < 1) || (l.Tokens > 0 && l.tokLeft < float64(tokens)) {
		l.refused++
		return false
	}
	l.reqLeft--
	l.tokLeft -= float64(tokens)
	l.answered++
	return true
}

// Refused is how many requests were answered 429.
func (l *Limits) Refused() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused
}

// Answered is how many requests were let through.
func (l *Limits) Answered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answered
}
