// Package outboxtest reads the outbox in tests: what a change wrote, in
// order, straight from the table.
package outboxtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/outbox"
)

// Tail follows one project's events from the moment it is created.
type Tail struct {
	tb        testing.TB
	client    *ent.Client
	projectID int
	last      int
}

// NewTail starts following projectID's events after the newest event.
func NewTail(tb testing.TB, client *ent.Client, projectID int) *Tail {
	tb.Helper()
	last, err := outbox.Latest(access.SystemContext(context.Background()), client)
	if err != nil {
		tb.Fatal(err)
	}
	return &Tail{tb: tb, client: client, projectID: projectID, last: last}
}

// Next returns the project's next event, waiting for it if need be (the
// guard timeout only turns a hang into a failure).
func (t *Tail) Next() outbox.Event {
	t.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := outbox.Replay(context.Background(), t.client, t.projectID, t.last, 1)
		if err != nil {
			t.tb.Fatal(err)
		}
		if len(page) == 1 {
			t.last = page[0].ID
			return page[0]
		}
		if time.Now().After(deadline) {
			t.tb.Fatal("no event within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Pending returns the project's events written so far and not yet returned.
func (t *Tail) Pending() []outbox.Event {
	t.tb.Helper()
	page, err := outbox.Replay(context.Background(), t.client, t.projectID, t.last, 10_000)
	if err != nil {
		t.tb.Fatal(err)
	}
	if len(page) > 0 {
		t.last = page[len(page)-1].ID
	}
	return page
}

// Feedback decodes the payload of a feedback event.
func Feedback(tb testing.TB, e outbox.Event) outbox.FeedbackPayload {
	tb.Helper()
	var p outbox.FeedbackPayload
	if e.Kind != outbox.KindFeedback {
		tb.Fatalf("event %d is a %s event, want feedback", e.ID, e.Kind)
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil || p.Feedback == nil {
		tb.Fatalf("event %d: payload %s: %v", e.ID, e.Payload, err)
	}
	return p
}
