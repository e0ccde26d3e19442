// Package outbox is the service's transactional outbox: every change that
// subscribers see (a feedback's status, a task, a decision on a suggestion,
// a membership) is written as an event row in the same transaction as the
// change, and a Relay publishes the rows to Redis pub/sub in order. So an
// event exists exactly when its change committed, and is never lost after the
// commit; subscribers that missed some replay them from the table by cursor.
//
// Event IDs grow in commit order: each transaction writes its events last,
// just before it commits, holding a transaction-level advisory lock, so no
// transaction can commit a smaller ID after a larger one became visible. The
// relay therefore reads "id > last published" without gaps.
package outbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/event"
	"github.com/feedbackloop/feedbackloop/internal/tracing"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Kinds of events.
const (
	// KindFeedback: a feedback's status changed. Payload: FeedbackPayload.
	KindFeedback = "feedback"
	// KindTask: a task was created, changed or deleted. Payload: TaskPayload.
	KindTask = "task"
	// KindAdjustment: a suggestion was applied, rejected or reverted.
	// Payload: AdjustmentPayload.
	KindAdjustment = "adjustment"
	// KindComment: a comment was written, edited or deleted. Payload:
	// CommentPayload.
	KindComment = "comment"
	// KindVote: a suggestion's score changed (someone voted, changed or
	// withdrew a vote). Payload: AdjustmentPayload, with the new score.
	KindVote = "vote"
	// KindAccess: a member was added, changed or removed; live
	// subscriptions re-check their access. Payload: AccessPayload.
	KindAccess = "access"
	// KindCredential: an API key was revoked; websockets opened with it
	// close. Its project is the key's, or 0 for a key of no project.
	// Payload: CredentialPayload.
	KindCredential = "credential"
)

// Event is one row of the outbox.
type Event struct {
	ID        int             `json:"id"`
	ProjectID int             `json:"projectId"`
	Kind      string          `json:"kind"`
	ObjectID  int             `json:"objectId"`
	Version   int             `json:"version"`
	ActorID   *int            `json:"actorId,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	At        time.Time       `json:"at"`
	// TraceContext is the trace of the change that made the event, so that
	// its publication and delivery join that trace.
	TraceContext map[string]string `json:"traceContext,omitempty"`
}

// Payloads, as written to the table and published. They hold snapshots of
// what subscribers select, so a subscriber is answered without reading the
// database.
type (
	FeedbackPayload struct {
		Feedback       *ent.Feedback `json:"feedback"` // with its adjustments once COMPLETED
		PreviousStatus string        `json:"previousStatus,omitempty"`
		Actor          *ent.User     `json:"actor,omitempty"`
	}
	TaskPayload struct {
		Change string    `json:"change"` // CREATED, UPDATED or DELETED
		Task   *ent.Task `json:"task"`   // after the change; before it for DELETED
		Actor  *ent.User `json:"actor,omitempty"`
	}
	AdjustmentPayload struct {
		Adjustment *ent.Adjustment `json:"adjustment"`
		Actor      *ent.User       `json:"actor,omitempty"`
	}
	CommentPayload struct {
		Change  string       `json:"change"`  // CREATED, EDITED or DELETED
		Comment *ent.Comment `json:"comment"` // after the change; before it for DELETED
		Actor   *ent.User    `json:"actor,omitempty"`
	}
	AccessPayload struct {
		UserID int `json:"userId"`
	}
	CredentialPayload struct {
		APIKeyID int `json:"apiKeyId"`
	}
)

// Task and comment changes.
const (
	Created = "CREATED"
	Updated = "UPDATED"
	Deleted = "DELETED"
	// Edited is a comment's new body (tasks are UPDATED).
	Edited = "EDITED"
)

// New builds an event; payload is encoded as JSON.
func New(projectID int, kind string, objectID, version int, actorID *int, payload any) (Event, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("outbox: encode %s event: %w", kind, err)
	}
	return Event{ProjectID: projectID, Kind: kind, ObjectID: objectID, Version: version, ActorID: actorID, Payload: raw}, nil
}

// Actor is who an event made in ctx names as its actor: the viewer's user
// ID and a snapshot of the user as far as the viewer knows it; nil for the
// system.
func Actor(ctx context.Context) (*int, *ent.User) {
	v := viewer.FromContext(ctx)
	if v == nil || v.UserID == 0 {
		return nil, nil
	}
	u := &ent.User{ID: v.UserID, Subject: v.Subject}
	if v.Name != "" {
		u.Name = &v.Name
	}
	return &v.UserID, u
}

// lockKey is the advisory lock writers hold while writing their events:
// "fl-outbox" as an integer.
const lockKey = 0x666c2d6f7574626f

// notifyChannel is the PostgreSQL channel the relay listens on.
const notifyChannel = "feedbackloop_outbox"

// Record adds e to tx's outbox. It is written when tx commits, after every
// other statement of tx and in the order recorded; if writing it fails, the
// transaction does not commit.
func Record(tx *ent.Tx, e Event) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := write(ctx, tx, e); err != nil {
				return err
			}
			return next.Commit(ctx, tx)
		})
	})
}

func write(ctx context.Context, tx *ent.Tx, e Event) error {
	ctx = access.SystemContext(ctx)
	// The lock is held until the commit: transactions write events one
	// after another, so IDs become visible in increasing order (re-entrant
	// within tx). The notification is delivered at the commit, and those of
	// one transaction are merged, so it is sent with the lock: one round
	// trip fewer per transaction.
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1), pg_notify($2, '')", int64(lockKey), notifyChannel); err != nil {
		return fmt.Errorf("outbox: lock: %w", err)
	}
	create := tx.Event.Create()
	if tc := tracing.Inject(ctx); len(tc) > 0 {
		create.SetTraceContext(tc)
	}
	err := create.
		SetProjectID(e.ProjectID).
		SetKind(e.Kind).
		SetObjectID(e.ObjectID).
		SetVersion(e.Version).
		SetNillableActorID(e.ActorID).
		SetPayload(e.Payload).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("outbox: write %s event: %w", e.Kind, err)
	}
	return nil
}

// Cursor is the opaque position of an event, which a client passes back as
// a subscription's after to resume after it.
func Cursor(id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("event:" + strconv.Itoa(id)))
}

// ErrBadCursor is returned for a cursor this API did not issue.
var ErrBadCursor = errors.New("not a cursor this API issued")

// ParseCursor returns the event ID inside a cursor.
func ParseCursor(s string) (int, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(s) > 40 {
		return 0, ErrBadCursor
	}
	num, ok := strings.CutPrefix(string(raw), "event:")
	id, err := strconv.Atoi(num)
	if !ok || err != nil || id < 0 || strconv.Itoa(id) != num {
		return 0, ErrBadCursor
	}
	return id, nil
}

// ErrExpired is returned by Replay for a cursor older than the events kept.
var ErrExpired = errors.New("cursor older than retention; re-query and subscribe again")

// Replay returns a project's events after the event after, in order, at
// most limit of them. A cursor whose event was pruned is ErrExpired.
func Replay(ctx context.Context, client *ent.Client, projectID, after, limit int) ([]Event, error) {
	ctx = access.SystemContext(ctx)
	if after > 0 {
		// The cursor's own event is kept as long as the events after it;
		// if it is gone, some of those may be gone too.
		exists, err := client.Event.Query().Where(event.ID(after)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, ErrExpired
		}
	}
	rows, err := client.Event.Query().
		Where(event.ProjectID(projectID), event.IDGT(after)).
		Order(ent.Asc(event.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// Latest is the ID of the newest event, 0 if none: where a subscription
// without a cursor starts.
func Latest(ctx context.Context, client *ent.Client) (int, error) {
	id, err := client.Event.Query().Order(ent.Desc(event.FieldID)).FirstID(access.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return id, err
}

// LatestBefore is the ID of the newest event written before t, 0 if none:
// where a reader that serves what happens after something made at t starts.
func LatestBefore(ctx context.Context, client *ent.Client, t time.Time) (int, error) {
	id, err := client.Event.Query().Where(event.CreatedAtLT(t)).Order(ent.Desc(event.FieldID)).FirstID(access.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return id, err
}

func fromRow(r *ent.Event) Event {
	return Event{ID: r.ID, ProjectID: r.ProjectID, Kind: r.Kind, ObjectID: r.ObjectID, Version: r.Version,
		ActorID: r.ActorID, Payload: r.Payload, At: r.CreatedAt, TraceContext: r.TraceContext}
}
