package wstransport

import (
	"errors"
	"fmt"
	"sync"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
)

// connCounter counts an instance's open connections, in all and per
// client: by address from the upgrade, then by identity once
// connection_init has authenticated it.
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

// acquire counts c under client, or says why it is refused.
func (w *connCounter) acquire(c *conn, client string) (int, string) {
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
	c.mu.Lock()
	c.client = client
	c.mu.Unlock()
	return 0, ""
}

func tooMany(n int) string {
	return fmt.Sprintf("Too many connections: at most %d websocket connections per client; close some (one connection carries many subscriptions)", n)
}

// rekey moves c's count to client, unless client has its maximum already.
func (w *connCounter) rekey(c *conn, client string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == client || c.client == "" {
		return nil
	}
	if w.perClient[client] >= w.maxPerClient {
		w.refused("client_connections")
		return errors.New(tooMany(w.maxPerClient))
	}
	w.dropLocked(c.client)
	w.perClient[client]++
	c.client = client
	return nil
}

func (w *connCounter) release(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == "" {
		return
	}
	w.total--
	w.dropLocked(c.client)
	c.client = ""
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
