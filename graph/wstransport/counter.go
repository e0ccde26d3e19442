package wstransport

import (
	"errors"
	"fmt"
	"sync"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
)

// connCounter counts an instance's open connections, in all and per
// client: by address from the upgrade, then by identity once
// connection_init has authenticated it. Event streams (sse.go) count as
// connections, under the identity their request authenticated.
type connCounter struct {
	max, maxPerClient int
	metrics           *metrics.Metrics

	mu        sync.Mutex
	total     int
	perClient map[string]int
}

func (w *connCounter) open() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// slot is one counted connection or stream: the client it counts under
// ("": not counted). It is guarded by the counter's lock.
type slot struct{ client string }

// acquire counts s under client, or says why it is refused (a close code
// and its reason).
func (w *connCounter) acquire(s *slot, client string) (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.total >= w.max:
		w.refused("instance_connections")
		return closeTryAgain, fmt.Sprintf("Try again later: this instance has its maximum of %d websocket connections open", w.max)
	case w.perClient[client] >= w.maxPerClient:
		w.refused("client_connections")
		return closeTooMany, tooMany(w.maxPerClient)
	}
	w.total++
	w.perClient[client]++
	s.client = client
	return 0, ""
}

func tooMany(n int) string {
	return fmt.Sprintf("Too many connections: at most %d websocket connections per client, event streams (SSE) included; close some (one websocket carries many subscriptions)", n)
}

// rekey moves s's count to client, unless client has its maximum already.
func (w *connCounter) rekey(s *slot, client string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.client == client || s.client == "" {
		return nil
	}
	if w.perClient[client] >= w.maxPerClient {
		w.refused("client_connections")
		return errors.New(tooMany(w.maxPerClient))
	}
	w.dropLocked(s.client)
	w.perClient[client]++
	s.client = client
	return nil
}

func (w *connCounter) release(s *slot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.client == "" {
		return
	}
	w.total--
	w.dropLocked(s.client)
	s.client = ""
}

func (w *connCounter) dropLocked(client string) {
	if w.perClient[client]--; w.perClient[client] <= 0 {
		delete(w.perClient, client)
	}
}

func (w *connCounter) refused(reason string) {
	if w.metrics != nil {
		w.metrics.WebsocketRefused(reason)
	}
}
