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
	By             *ent.User
	Cursor         string
	// Feedback is the feedback as the event saw it: a snapshot shared by
	// every subscriber of the event, or the row read from the database.
	Feedback *ent.Feedback `json:"-"`
}

// IsProjectEvent makes a status change one of projectEvents' events.
func (FeedbackStatusEvent) IsProjectEvent() {}
