// Package webhooks sends signed HTTP notifications to the endpoints projects
// register: the Standard Webhooks signature (webhook-id, webhook-timestamp,
// webhook-signature), Slack's Block Kit messages, and a client whose dialer
// refuses private addresses after DNS resolution (server-side request
// forgery). It knows HTTP, not the data model: the dispatcher
// (webhook/dispatch) decides what to send and when.
package webhooks

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Kind is how an endpoint is spoken to.
type Kind string

// Kinds of endpoints.
const (
	// Standard: a JSON body signed as the Standard Webhooks specification says.
	Standard Kind = "STANDARD"
	// Slack: a Block Kit message to a Slack incoming-webhook URL (unsigned:
	// the URL is the secret).
	Slack Kind = "SLACK"
)

// Values lists the kinds (ent's enum).
func (Kind) Values() []string { return []string{string(Standard), string(Slack)} }

// MarshalGQL writes the kind as a GraphQL enum value.
func (k Kind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads a GraphQL enum value.
func (k *Kind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || (Kind(s) != Standard && Kind(s) != Slack) {
		return fmt.Errorf("%v is not a WebhookKind: use STANDARD or SLACK", v)
	}
	*k = Kind(s)
	return nil
}

// EventType is a kind of event an endpoint may subscribe to.
type EventType string

// Event types. Their wire names (the body's "type") are Name's.
const (
	FeedbackSubmitted  EventType = "FEEDBACK_SUBMITTED"
	AnalysisCompleted  EventType = "ANALYSIS_COMPLETED"
	AnalysisFailed     EventType = "ANALYSIS_FAILED"
	SuggestionApplied  EventType = "SUGGESTION_APPLIED"
	SuggestionRejected EventType = "SUGGESTION_REJECTED"
	SuggestionReverted EventType = "SUGGESTION_REVERTED"
	TaskCreated        EventType = "TASK_CREATED"
	TaskUpdated        EventType = "TASK_UPDATED"
	TaskDeleted        EventType = "TASK_DELETED"
	// WebhookDisabled: one of the project's endpoints was disabled after a
	// day of failed deliveries (sent to the project's other endpoints).
	WebhookDisabled EventType = "WEBHOOK_DISABLED"
)

// EventTypes lists every event type.
var EventTypes = []EventType{FeedbackSubmitted, AnalysisCompleted, AnalysisFailed, SuggestionApplied,
	SuggestionRejected, SuggestionReverted, TaskCreated, TaskUpdated, TaskDeleted, WebhookDisabled}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Name is the type's wire name in a body: "analysis.completed".
func (t EventType) Name() string {
	b := []byte(string(t))
	for i, c := range b {
		switch {
		case c == '_':
			b[i] = '.'
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// MarshalGQL writes the type as a GraphQL enum value.
func (t EventType) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(t))) }

// UnmarshalGQL reads a GraphQL enum value.
func (t *EventType) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !EventType(s).Valid() {
		return fmt.Errorf("%v is not a WebhookEventType", v)
	}
	*t = EventType(s)
	return nil
}

// DefaultPerProject is how many endpoints a project may have unless
// WEBHOOKS_PER_PROJECT says otherwise.
const DefaultPerProject = 10

// SlackEvents are the event types a Slack endpoint is sent.
var SlackEvents = []EventType{AnalysisCompleted, AnalysisFailed, SuggestionApplied}

// RetryFor is how long a delivery is retried (from its event, or from a
// redelivery), and how long an endpoint may fail before it is disabled.
const RetryFor = 24 * time.Hour
