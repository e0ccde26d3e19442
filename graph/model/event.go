package model

import (
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
)

// FeedbackStatusEvent is one event of a feedback subscription.
type FeedbackStatusEvent struct {
	FeedbackID     int
	Status         feedback.Status
	PreviousStatus *feedback.Status
	Version        int
	At             time.Time
	Error          *string
	// Feedback is set when the event was read from the database; otherwise
	// the feedback is loaded only if the client selects it.
	Feedback *ent.Feedback `json:"-"`
}
