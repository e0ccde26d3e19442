package dispatch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/text"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// KindWebhook is the outbox event written when the dispatcher disables an
// endpoint. Payload: DisabledPayload. Subscriptions skip it; the
// dispatcher delivers it as WEBHOOK_DISABLED to the project's other
// endpoints.
const KindWebhook = "webhook"

// DisabledPayload is a KindWebhook event's payload.
type DisabledPayload struct {
	WebhookID int `json:"webhookId"`
	// Host is the endpoint's host: not its URL, which may be a secret
	// (Slack's are) the other endpoints must not learn.
	Host   string `json:"host"`
	Reason string `json:"reason"`
}

// message is what an outbox event becomes for endpoints: its type, the
// Standard body's data, and the Slack message.
type message struct {
	typ   webhooks.EventType
	data  map[string]any
	slack webhooks.SlackMessage
}

// id is a message's webhook-id: the same for every endpoint, attempt and
// redelivery of one event.
func messageID(eventID int) string { return "msg_" + strconv.Itoa(eventID) }

// translate turns an outbox event into a message; ok is false for events
// no endpoint is sent (memberships, credentials, a feedback being
// processed).
func translate(e outbox.Event, projectName string) (message, bool, error) {
	project := gid.Encode(e.ProjectID)
	ctxLine := []string{fmt.Sprintf("Project *%s*", projectName), "Event " + messageID(e.ID)}
	switch e.Kind {
	case outbox.KindFeedback:
		var p outbox.FeedbackPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.Feedback == nil {
			return message{}, false, fmt.Errorf("decode feedback event %d: %v", e.ID, err)
		}
		fb := p.Feedback
		var typ webhooks.EventType
		switch {
		case fb.Status == feedback.StatusCompleted:
			typ = webhooks.AnalysisCompleted
		case fb.Status == feedback.StatusFailed:
			typ = webhooks.AnalysisFailed
		case fb.Status == feedback.StatusPending && p.PreviousStatus == "":
			typ = webhooks.FeedbackSubmitted
		default:
			return message{}, false, nil
		}
		data := map[string]any{"projectId": project, "feedback": feedbackData(fb)}
		m := message{typ: typ, data: data, slack: webhooks.SlackMessage{Context: ctxLine}}
		switch typ {
		case webhooks.AnalysisCompleted:
			m.slack.Title = "Analysis completed"
			m.slack.Text = fmt.Sprintf("%s\n\n%d suggestion(s) to review.", deref(fb.Summary, "(no summary)"), len(fb.Edges.Adjustments))
		case webhooks.AnalysisFailed:
			m.slack.Title = "Analysis failed"
			m.slack.Text = "The analysis of this feedback failed: " + deref(fb.Error, "no reason given") +
				"\nRetry it with retryFeedback once the cause is fixed."
		default:
			m.slack.Title = "Feedback submitted"
			m.slack.Text = "New feedback."
		}
		m.slack.Text += "\n\n> " + text.Truncate(fb.FeedbackText, 500)
		m.slack.Context = append(m.slack.Context, "Feedback "+gid.Encode(fb.ID))
		return m, true, nil
	case outbox.KindAdjustment:
		var p outbox.AdjustmentPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.Adjustment == nil {
			return message{}, false, fmt.Errorf("decode adjustment event %d: %v", e.ID, err)
		}
		a := p.Adjustment
		var typ webhooks.EventType
		switch a.Status {
		case adjustment.StatusApplied:
			typ = webhooks.SuggestionApplied
		case adjustment.StatusRejected:
			typ = webhooks.SuggestionRejected
		default:
			typ = webhooks.SuggestionReverted
		}
		by := "the system"
		if p.Actor != nil {
			by = deref(p.Actor.Name, p.Actor.Subject)
		}
		return message{typ: typ, data: map[string]any{"projectId": project, "suggestion": suggestionData(a)},
			slack: webhooks.SlackMessage{
				Title:   map[webhooks.EventType]string{webhooks.SuggestionApplied: "Suggestion applied", webhooks.SuggestionRejected: "Suggestion rejected", webhooks.SuggestionReverted: "Suggestion reverted"}[typ],
				Text:    fmt.Sprintf("*%s* (%s), %s by %s.", a.Description, a.AdjustmentType, strings.ToLower(strings.TrimPrefix(string(typ), "SUGGESTION_")), by),
				Context: append(ctxLine, "Suggestion "+gid.Encode(a.ID)),
			}}, true, nil
	case outbox.KindTask:
		var p outbox.TaskPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.Task == nil {
			return message{}, false, fmt.Errorf("decode task event %d: %v", e.ID, err)
		}
		typ := map[string]webhooks.EventType{outbox.Created: webhooks.TaskCreated, outbox.Updated: webhooks.TaskUpdated,
			outbox.Deleted: webhooks.TaskDeleted}[p.Change]
		if typ == "" {
			return message{}, false, nil
		}
		t := p.Task
		return message{typ: typ, data: map[string]any{"projectId": project, "task": map[string]any{
			"id": gid.Encode(t.ID), "title": t.Title, "status": t.Status, "priority": t.Priority, "version": t.Version}}}, true, nil
	case KindWebhook:
		var p DisabledPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return message{}, false, fmt.Errorf("decode webhook event %d: %w", e.ID, err)
		}
		return message{typ: webhooks.WebhookDisabled, data: map[string]any{"projectId": project, "webhook": map[string]any{
			"id": gid.Encode(p.WebhookID), "host": p.Host, "reason": p.Reason}}}, true, nil
	}
	return message{}, false, nil
}

func feedbackData(fb *ent.Feedback) map[string]any {
	d := map[string]any{"id": gid.Encode(fb.ID), "status": fb.Status, "feedbackText": fb.FeedbackText,
		"summary": fb.Summary, "error": fb.Error, "version": fb.Version}
	if fb.TaskID != nil {
		d["taskId"] = gid.Encode(*fb.TaskID)
	}
	if fb.Status == feedback.StatusCompleted {
		s := make([]map[string]any, 0, len(fb.Edges.Adjustments))
		for _, a := range fb.Edges.Adjustments {
			s = append(s, suggestionData(a))
		}
		d["suggestions"] = s
	}
	return d
}

func suggestionData(a *ent.Adjustment) map[string]any {
	d := map[string]any{"id": gid.Encode(a.ID), "feedbackId": gid.Encode(a.FeedbackID), "type": a.AdjustmentType,
		"description": a.Description, "status": a.Status, "newValue": a.NewValue}
	if a.TaskID != nil {
		d["taskId"] = gid.Encode(*a.TaskID)
	}
	return d
}

// body renders m for an endpoint of kind.
func (m message) body(kind webhooks.Kind, at time.Time) ([]byte, error) {
	if kind == webhooks.Slack {
		return webhooks.SlackBody(m.slack)
	}
	return json.Marshal(webhooks.Envelope{Type: m.typ.Name(), Timestamp: at.UTC(), Data: m.data})
}

func deref(s *string, otherwise string) string {
	if s == nil || *s == "" {
		return otherwise
	}
	return *s
}
