package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Every subscription is a stream of one project's outbox events: live from
// the process's event bus, after a replay from the outbox when the client
// resumes with a cursor (or the bus says events were missed). Event IDs grow
// in commit order, so dropping IDs already sent gives each event once and in
// order. Events carry snapshots of what they describe, decoded once per event
// and shared by every subscriber: answering a subscriber reads no database.

// replayPage bounds one read of the outbox during a replay.
const replayPage = 500

// stream runs a subscription on the events of projectID after the event
// after (the newest one when after is nil). accept turns an event into what
// the client gets (ok false: nothing) and says whether the stream goes on.
// first, when set, runs once subscribed (so that nothing it reads can be
// missed by the stream) and gives what to send before any event. hidden is
// the answer when the viewer may not see the project (NOT_FOUND, naming
// what the client asked for).
func stream[T any](ctx context.Context, r *Resolver, projectID int, hidden error, after *int, first func() (out T, ok, more bool, err error),
	accept func(*events.Message) (out T, ok, more bool)) (<-chan T, error) {
	r.beforeStream()
	sub := r.bus.Subscribe(projectID)
	last := 0
	if after != nil {
		last = *after
	} else {
		// Subscribed first, so no event after this one can be missed.
		latest, err := outbox.Latest(ctx, r.client)
		if err != nil {
			sub.Close()
			return nil, err
		}
		last = latest
	}
	// Access is checked once the stream's position is fixed: a membership
	// change committed before this check is seen by it, and one committed
	// after it comes after last, so the stream re-checks it. Checked before
	// subscribing, a removal in between would go unnoticed.
	visible, err := r.canSeeProject(ctx, projectID)
	if err == nil && !visible {
		err = hidden
	}
	if err != nil {
		sub.Close()
		return nil, err
	}
	if after != nil {
		// Fail now on an expired cursor, rather than in the stream.
		if _, err := outbox.Replay(ctx, r.client, projectID, last, 1); err != nil {
			sub.Close()
			return nil, err
		}
	}
	// What the websocket transport learns from the stream: when it is in
	// place, when a value is handed over (it waits for none), and whom a
	// membership change may take it from.
	ws := wstransport.StreamOf(ctx)
	ws.Positioned()
	var (
		head       T
		sendHead   bool
		moreToCome = true
	)
	if first != nil {
		var err error
		if head, sendHead, moreToCome, err = first(); err != nil {
			sub.Close()
			return nil, err
		}
	}
	out := make(chan T, 1)
	go func() {
		defer func() {
			close(out)
			ws.Ready() // to see the end
		}()
		defer sub.Close()
		send := func(v T) bool {
			ws.Ready()
			select {
			case out <- v:
				return true
			case <-ctx.Done():
				return false
			}
		}
		// handle offers one event and reports whether the stream goes on.
		handle := func(m *events.Message) bool {
			if m.ID <= last {
				return true // seen: replayed, or delivered twice
			}
			last = m.ID
			if m.Kind == outbox.KindAccess {
				// A shared stream goes on for the members still allowed.
				return ws.Recheck(func(v *viewer.Viewer) bool { return r.stillAllowed(ctx, v, m) })
			}
			v, ok, more := accept(m)
			if ok && !send(v) {
				return false
			}
			return more
		}
		replay := func() bool {
			for {
				page, err := outbox.Replay(ctx, r.client, projectID, last, replayPage)
				if err != nil {
					if ctx.Err() == nil {
						r.logger.WarnContext(ctx, "could not replay events for a subscriber; it ends", "project_id", projectID, "err", err)
					}
					return false
				}
				for i := range page {
					if !handle(&events.Message{Event: page[i]}) {
						return false
					}
				}
				if len(page) < replayPage {
					return true
				}
			}
		}
		if sendHead && !send(head) || !moreToCome {
			return
		}
		if after != nil && !replay() {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-sub.C():
				if !ok || !handle(m) {
					return
				}
			case <-sub.Resync():
				if !replay() {
					return
				}
			}
		}
	}()
	ws.Started()
	return out, nil
}

// cursorArg parses a subscription's after argument.
func cursorArg(after *string) (*int, error) {
	if after == nil {
		return nil, nil
	}
	id, err := outbox.ParseCursor(*after)
	if err != nil {
		return nil, &InputError{Field: "after", Problem: "is not a cursor this API issued: pass the cursor of an event you received"}
	}
	return &id, nil
}

// streamError turns a stream's start-up error into what the client sees.
func streamError(err error) error {
	if errors.Is(err, outbox.ErrExpired) {
		return &InputError{Field: "after", Problem: "is a cursor older than the events kept (EVENT_RETENTION): re-query and subscribe again"}
	}
	return err
}

// feedbackEvents streams the status of one feedback until it finishes. The
// first event is its stored state, unless the client resumes after a cursor.
func (r *Resolver) feedbackEvents(ctx context.Context, id int, afterArg *string) (<-chan *model.FeedbackStatusEvent, error) {
	after, err := cursorArg(afterArg)
	if err != nil {
		return nil, err
	}
	hidden := &NotFoundError{Field: "id", Type: "Feedback"}
	fb, err := r.client.Feedback.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, hidden
	}
	if err != nil {
		return nil, err
	}
	lastVersion := 0
	var first func() (*model.FeedbackStatusEvent, bool, bool, error)
	if after == nil {
		// Read once subscribed: changes the stored state already shows are
		// dropped by version; later ones arrive as events.
		first = func() (*model.FeedbackStatusEvent, bool, bool, error) {
			latest, err := outbox.Latest(ctx, r.client)
			if err != nil {
				return nil, false, false, err
			}
			fb, err := r.client.Feedback.Get(ctx, id)
			if err != nil {
				return nil, false, false, err
			}
			e := stored(fb)
			e.Cursor = outbox.Cursor(latest)
			lastVersion = fb.Version
			return e, true, !finished(fb.Status), nil
		}
	}
	ch, err := stream(ctx, r, fb.ProjectID, hidden, after, first, func(m *events.Message) (*model.FeedbackStatusEvent, bool, bool) {
		if m.Kind != outbox.KindFeedback || m.ObjectID != id || m.Version <= lastVersion {
			return nil, false, true
		}
		e, err := r.feedbackEvent(m)
		if err != nil {
			return nil, false, true
		}
		lastVersion = e.Version
		return e, true, !finished(e.Status)
	})
	return ch, streamError(err)
}

// projectFeedbackEvents streams every status change of the feedback of a
// project.
func (r *Resolver) projectFeedbackEvents(ctx context.Context, projectID int, afterArg *string) (<-chan *model.FeedbackStatusEvent, error) {
	after, err := cursorArg(afterArg)
	if err != nil {
		return nil, err
	}
	ch, err := stream(ctx, r, projectID, &NotFoundError{Field: "projectID", Type: "Project"}, after, nil, func(m *events.Message) (*model.FeedbackStatusEvent, bool, bool) {
		if m.Kind != outbox.KindFeedback {
			return nil, false, true
		}
		e, err := r.feedbackEvent(m)
		return e, err == nil, true
	})
	return ch, streamError(err)
}

// projectEvents streams everything a board of the project needs.
func (r *Resolver) projectEvents(ctx context.Context, projectID int, afterArg *string) (<-chan model.ProjectEvent, error) {
	after, err := cursorArg(afterArg)
	if err != nil {
		return nil, err
	}
	ch, err := stream(ctx, r, projectID, &NotFoundError{Field: "projectID", Type: "Project"}, after, nil, func(m *events.Message) (model.ProjectEvent, bool, bool) {
		var (
			e   model.ProjectEvent
			err error
		)
		switch m.Kind {
		case outbox.KindFeedback:
			e, err = r.feedbackEvent(m)
		case outbox.KindTask:
			e, err = r.taskEvent(m)
		case outbox.KindAdjustment:
			e, err = r.adjustmentEvent(m)
		case outbox.KindComment:
			e, err = r.commentEvent(m)
		case outbox.KindVote:
			e, err = r.voteEvent(m)
		default:
			return nil, false, true
		}
		if err != nil {
			r.logger.Warn("undecodable event skipped", "event_id", m.ID, "kind", m.Kind, "err", err)
			return nil, false, true
		}
		return e, true, true
	})
	return ch, streamError(err)
}

// beforeStream runs the test hook set by SetAdmittedHook (export_test.go),
// if any: a subscription is being admitted and its stream is not in place.
func (r *Resolver) beforeStream() {
	if f := r.admitted.Load(); f != nil {
		(*f)()
	}
}

// stillAllowed re-checks, after a membership change in a project, whether
// subscriber v may still see it; a subscription that may not ends.
func (r *Resolver) stillAllowed(ctx context.Context, v *viewer.Viewer, m *events.Message) bool {
	return !r.concerns(v, m) || r.stillAllowedAs(ctx, v, m)
}

// concerns reports whether membership event m may change what v sees: it
// changed v's own membership (or that of the owner of v's project-scoped
// key). Nobody else's access changed, so nobody else is re-checked.
func (r *Resolver) concerns(v *viewer.Viewer, m *events.Message) bool {
	if v == nil {
		return true
	}
	if v.Admin {
		return false
	}
	p, err := accessPayload(m)
	return err != nil || p.UserID == v.UserID
}

// stillAllowedAs re-checks v's access after a membership event that
// concerns v. A project-scoped API key carries the role it authenticated
// with, so a change to its owner's membership ends its subscriptions: the
// client reconnects and authenticates again. A person is looked up once per
// event however many subscriptions they have (membershipCache).
func (r *Resolver) stillAllowedAs(ctx context.Context, v *viewer.Viewer, m *events.Message) bool {
	if v == nil || v.Scope != nil {
		return false
	}
	ok, err := r.members.visible(ctx, v, m.ProjectID, m.ID)
	if err != nil {
		r.logger.WarnContext(ctx, "could not re-check a subscriber's access; keeping it", "project_id", m.ProjectID, "err", err)
		return true
	}
	return ok
}

// accessPayload decodes a membership event, once for all its subscribers.
func accessPayload(m *events.Message) (*outbox.AccessPayload, error) {
	return snapshot(m, "access", func(*outbox.AccessPayload) bool { return true })
}

// The snapshots of events, decoded once per event and bound to the client
// so that edges beyond the snapshot can be loaded.

// snapshot decodes m's payload as a P once per event, for all its
// subscribers (events.Message.Snapshot); bind attaches its rows to the
// client and says whether the payload holds what it must.
func snapshot[P any](m *events.Message, what string, bind func(*P) bool) (*P, error) {
	v, err := m.Snapshot(func(e outbox.Event) (any, error) {
		p := new(P)
		if err := json.Unmarshal(e.Payload, p); err != nil || !bind(p) {
			return nil, fmt.Errorf("decode %s event %d: %v", what, e.ID, err)
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*P), nil
}

// attachActor binds who acted, when the event says, to the client.
func (r *Resolver) attachActor(u *ent.User) {
	if u != nil {
		u.Attach(r.client)
	}
}

func (r *Resolver) feedbackEvent(m *events.Message) (*model.FeedbackStatusEvent, error) {
	p, err := snapshot(m, "feedback", func(p *outbox.FeedbackPayload) bool {
		if p.Feedback == nil {
			return false
		}
		p.Feedback.Attach(r.client)
		for _, a := range p.Feedback.Edges.Adjustments {
			a.Attach(r.client)
		}
		r.attachActor(p.Actor)
		return true
	})
	if err != nil {
		return nil, err
	}
	e := stored(p.Feedback)
	if p.PreviousStatus != "" {
		prev := feedback.Status(p.PreviousStatus)
		e.PreviousStatus = &prev
	}
	e.By = p.Actor
	e.Cursor = outbox.Cursor(m.ID)
	e.At = m.At
	return e, nil
}

func (r *Resolver) taskEvent(m *events.Message) (*model.TaskEvent, error) {
	p, err := snapshot(m, "task", func(p *outbox.TaskPayload) bool {
		if p.Task == nil {
			return false
		}
		p.Task.Attach(r.client)
		r.attachActor(p.Actor)
		return true
	})
	if err != nil {
		return nil, err
	}
	return &model.TaskEvent{Task: p.Task, Change: model.TaskChange(p.Change), Version: m.Version, By: p.Actor, At: m.At, Cursor: outbox.Cursor(m.ID)}, nil
}

func (r *Resolver) adjustmentEvent(m *events.Message) (*model.AdjustmentEvent, error) {
	p, err := r.adjustmentSnapshot(m, "adjustment")
	if err != nil {
		return nil, err
	}
	return &model.AdjustmentEvent{Adjustment: p.Adjustment, Status: p.Adjustment.Status, By: p.Actor, At: m.At, Cursor: outbox.Cursor(m.ID)}, nil
}

// adjustmentSnapshot is the suggestion an event (a decision, a vote)
// carries.
func (r *Resolver) adjustmentSnapshot(m *events.Message, what string) (*outbox.AdjustmentPayload, error) {
	return snapshot(m, what, func(p *outbox.AdjustmentPayload) bool {
		if p.Adjustment == nil {
			return false
		}
		p.Adjustment.Attach(r.client)
		r.attachActor(p.Actor)
		return true
	})
}

func finished(s feedback.Status) bool {
	return s == feedback.StatusCompleted || s == feedback.StatusFailed
}

// stored is the event for a feedback's state.
func stored(fb *ent.Feedback) *model.FeedbackStatusEvent {
	return &model.FeedbackStatusEvent{
		FeedbackID: fb.ID,
		Status:     fb.Status,
		Version:    fb.Version,
		At:         fb.UpdatedAt,
		Error:      fb.Error,
		Feedback:   fb,
	}
}
