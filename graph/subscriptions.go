package graph

import (
	"context"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Subscriptions listen on the process's event bus and use PostgreSQL as the
// source of truth: the first event of feedbackStatusChanged is read from the
// database, and whenever the bus says events may have been missed (Redis
// reconnected, or this client fell behind) the current state is read again.
// Events are sent only when their version is newer than the last one sent,
// so clients see each state once and in order.

// feedbackEvents streams the status of one feedback until it finishes.
func (r *Resolver) feedbackEvents(ctx context.Context, id int) (<-chan *model.FeedbackStatusEvent, error) {
	notFound := func(err error) error {
		if ent.IsNotFound(err) {
			return &NotFoundError{Field: "id", Type: "Feedback"}
		}
		return err
	}
	// The first read checks access and names the project; the second, once
	// subscribed, is the state to start from, so no event falls between.
	fb, err := r.client.Feedback.Get(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	sub := r.bus.Subscribe(events.Filter{FeedbackID: id, ProjectID: fb.ProjectID})
	current, err := r.client.Feedback.Get(ctx, id)
	if err != nil {
		sub.Close()
		return nil, notFound(err)
	}
	out := make(chan *model.FeedbackStatusEvent, 1)
	go func() {
		defer close(out)
		defer sub.Close()
		last := 0
		// send reports whether the stream goes on.
		send := func(e *model.FeedbackStatusEvent) bool {
			if e.Version <= last {
				return true
			}
			last = e.Version
			select {
			case out <- e:
			case <-ctx.Done():
				return false
			}
			return e.Status != feedback.StatusCompleted && e.Status != feedback.StatusFailed
		}
		if !send(snapshot(current)) {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C():
				if !ok {
					return
				}
				if e.Kind == events.KindAccess {
					if !r.stillAllowed(ctx, e) {
						return
					}
					continue
				}
				if !send(fromBus(e)) {
					return
				}
			case <-sub.Resync():
				fb, err := r.client.Feedback.Get(ctx, id)
				if ent.IsNotFound(err) {
					return
				}
				if err != nil {
					r.logger.WarnContext(ctx, "resync of a feedback subscription failed", "feedback_id", id, "err", err)
					continue
				}
				if !send(snapshot(fb)) {
					return
				}
			}
		}
	}()
	return out, nil
}

// resyncMargin widens the window of a project resync to absorb clock skew
// between the processes that stamp updated_at.
const resyncMargin = 5 * time.Second

// projectEvents streams every status change of the feedback of a project.
func (r *Resolver) projectEvents(ctx context.Context, projectID int) (<-chan *model.FeedbackStatusEvent, error) {
	sub := r.bus.Subscribe(events.Filter{ProjectID: projectID})
	exists, err := r.client.Project.Query().Where(project.ID(projectID)).Exist(ctx)
	if err != nil || !exists {
		sub.Close()
		if err == nil {
			err = &NotFoundError{Field: "projectID", Type: "Project"}
		}
		return nil, err
	}
	since := time.Now().Add(-resyncMargin)
	out := make(chan *model.FeedbackStatusEvent, 1)
	go func() {
		defer close(out)
		defer sub.Close()
		last := map[int]int{} // feedback ID -> last version sent
		send := func(e *model.FeedbackStatusEvent) bool {
			if e.Version <= last[e.FeedbackID] {
				return true
			}
			last[e.FeedbackID] = e.Version
			select {
			case out <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C():
				if !ok {
					return
				}
				if e.Kind == events.KindAccess {
					if !r.stillAllowed(ctx, e) {
						return
					}
					continue
				}
				if !send(fromBus(e)) {
					return
				}
			case <-sub.Resync():
				if !r.stillAllowed(ctx, events.Event{Kind: events.KindAccess, ProjectID: projectID}) {
					return
				}
				resyncAt := time.Now()
				changed, err := r.client.Feedback.Query().
					Where(feedback.ProjectID(projectID), feedback.UpdatedAtGTE(since)).
					Order(ent.Asc(feedback.FieldUpdatedAt)).
					All(ctx)
				if err != nil {
					r.logger.WarnContext(ctx, "resync of a project subscription failed", "project_id", projectID, "err", err)
					continue
				}
				for _, fb := range changed {
					if !send(snapshot(fb)) {
						return
					}
				}
				since = resyncAt.Add(-resyncMargin)
			}
		}
	}()
	return out, nil
}

// stillAllowed re-checks, after a membership change in a project, whether
// the subscriber may still see it; a subscription that may not ends. A
// project-scoped API key carries the role it authenticated with, so a change
// to its owner's membership ends its subscriptions: the client reconnects
// and authenticates again.
func (r *Resolver) stillAllowed(ctx context.Context, e events.Event) bool {
	v := viewer.FromContext(ctx)
	if v == nil {
		return false
	}
	if v.Scope != nil {
		return e.UserID != v.UserID
	}
	ok, err := r.client.Project.Query().Where(project.ID(e.ProjectID)).Exist(ctx)
	if err != nil {
		r.logger.WarnContext(ctx, "could not re-check a subscriber's access; keeping it", "project_id", e.ProjectID, "err", err)
		return true
	}
	return ok
}

// snapshot is the event for a feedback's stored state.
func snapshot(fb *ent.Feedback) *model.FeedbackStatusEvent {
	return &model.FeedbackStatusEvent{
		FeedbackID: fb.ID,
		Status:     fb.Status,
		Version:    fb.Version,
		At:         fb.UpdatedAt,
		Error:      fb.Error,
		Feedback:   fb,
	}
}

func fromBus(e events.Event) *model.FeedbackStatusEvent {
	out := &model.FeedbackStatusEvent{
		FeedbackID: e.FeedbackID,
		Status:     feedback.Status(e.Status),
		Version:    e.Version,
		At:         e.At,
	}
	if e.PreviousStatus != "" {
		prev := feedback.Status(e.PreviousStatus)
		out.PreviousStatus = &prev
	}
	if e.Error != "" {
		out.Error = &e.Error
	}
	return out
}
