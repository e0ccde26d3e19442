// Package events carries feedback status changes between processes over
// Redis pub/sub.
//
// Workers and the API publish with a Publisher. Each API process runs one Bus:
// a single Redis subscription whose events it fans out in memory to any
// number of local subscribers (one per GraphQL subscription), so websocket
// clients never cost a Redis connection each.
//
// Pub/sub delivers at most once: events published while a process is
// disconnected are lost to it. The Bus therefore tells subscribers to resync
// (re-read the current state from the database) whenever it re-subscribes
// after a disconnection and whenever a subscriber fell behind and an event was
// dropped. Versions let subscribers order events and drop duplicates.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event is one status change of one feedback, or (Kind KindAccess) a change
// of who may access a project. A feedback's Version grows by one with each
// status change, so it orders events and exposes duplicates.
type Event struct {
	Kind           string    `json:"kind,omitempty"`
	FeedbackID     int       `json:"feedbackId,omitempty"`
	ProjectID      int       `json:"projectId"`
	Status         string    `json:"status"`
	PreviousStatus string    `json:"previousStatus,omitempty"`
	Version        int       `json:"version"`
	At             time.Time `json:"at"`
	Error          string    `json:"error,omitempty"`
	// UserID is whose access changed (KindAccess).
	UserID int `json:"userId,omitempty"`
}

// Kinds of events.
const (
	KindStatus = ""       // a feedback's status changed
	KindAccess = "access" // a member was added, changed or removed: live subscriptions re-check access
)

// Publisher publishes events on a Redis channel.
type Publisher struct {
	rdb     redis.UniversalClient
	channel string
}

// NewPublisher returns a Publisher for channel.
func NewPublisher(rdb redis.UniversalClient, channel string) *Publisher {
	return &Publisher{rdb: rdb, channel: channel}
}

// Publish sends e to every Bus subscribed to the channel.
func (p *Publisher) Publish(ctx context.Context, e Event) error {
	switch {
	case e.Kind == KindAccess && e.ProjectID == 0:
		return errors.New("events: an access event needs a project ID")
	case e.Kind == KindStatus && (e.FeedbackID == 0 || e.Status == ""):
		return errors.New("events: a status event needs a feedback ID and a status")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("events: encode: %w", err)
	}
	if err := p.rdb.Publish(ctx, p.channel, b).Err(); err != nil {
		return fmt.Errorf("events: publish on %q: %w", p.channel, err)
	}
	return nil
}
