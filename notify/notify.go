// Package notify is the email the service owes single members, apart from
// digests: a project's OWNERs told that the webhook dispatcher disabled one
// of its endpoints, and members told that a comment mentions them.
//
// What is owed is written as a Notification row in the transaction of what
// it tells (WebhookDisabled, Mentioned), never sent from a request. Each
// worker runs a Sender, which claims due rows (FOR UPDATE SKIP LOCKED) and
// marks them SENT before it sends: a notification is mailed at most once.
// A send that fails gives the row back with a backoff, for a day; a worker
// that dies between claim and send loses that one message (never twice).
// Whether the member may still be told, and where, is decided when it is
// sent: the member's digest address on their membership, an OWNER for a
// disabled endpoint, any role for a mention.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/comment"
	"github.com/feedbackloop/feedbackloop/ent/notification"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/internal/background"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// RetryFor is how long a notification that fails to send is tried again.
const RetryFor = 24 * time.Hour

// Defaults of Config, and the claim's batch.
const (
	DefaultPollEvery = 5 * time.Second
	defaultRetryBase = time.Minute
	defaultRetryMax  = time.Hour
	claimBatch       = 50
)

// WebhookDisabled records, in tx, that the project's OWNERs who have a
// digest address are to be told that the dispatcher disabled an endpoint.
// It returns how many are to be told. The caller disables the endpoint in
// the same transaction, once: so each disabling is told once.
func WebhookDisabled(ctx context.Context, tx *ent.Tx, projectID, webhookID int, host, reason string) (int, error) {
	ctx = access.SystemContext(ctx)
	ms, err := tx.ProjectMember.Query().
		Where(projectmember.ProjectID(projectID), projectmember.DigestEmailNotNil()).
		Order(ent.Asc(projectmember.FieldID)).
		All(ctx)
	if err != nil {
		return 0, err
	}
	detail := map[string]string{"webhookId": strconv.Itoa(webhookID), "host": host, "reason": reason}
	now := time.Now().UTC()
	var creates []*ent.NotificationCreate
	for _, m := range ms {
		// An organisation's OWNERs and ADMINs are OWNERs of its projects
		// whatever their membership's role says: RoleIn knows.
		role, ok, err := access.RoleIn(ctx, tx.Client(), &viewer.Viewer{UserID: m.UserID}, projectID)
		if err != nil {
			return 0, err
		}
		if !ok || role != viewer.Owner {
			continue
		}
		creates = append(creates, tx.Notification.Create().
			SetKind(notification.KindWebhookDisabled).SetProjectID(projectID).SetUserID(m.UserID).
			SetDetail(detail).SetNextAttemptAt(now))
	}
	if len(creates) == 0 {
		return 0, nil
	}
	return len(creates), tx.Notification.CreateBulk(creates...).Exec(ctx)
}

// Mentioned records, in tx, that the members mentioned by a comment are
// to be told, except its author. A member is told once per comment:
// edits that mention them again add nothing. The mentions are bounded by
// the comment's (bounds.MaxCommentMentions).
func Mentioned(ctx context.Context, tx *ent.Tx, c *ent.Comment, mentioned []int) error {
	ctx = access.SystemContext(ctx)
	now := time.Now().UTC()
	var creates []*ent.NotificationCreate
	for _, uid := range mentioned {
		if c.AuthorID != nil && *c.AuthorID == uid {
			continue // nobody is told of their own words
		}
		creates = append(creates, tx.Notification.Create().
			SetKind(notification.KindMention).SetProjectID(c.ProjectID).SetUserID(uid).
			SetCommentID(c.ID).SetNextAttemptAt(now))
	}
	if len(creates) == 0 {
		return nil
	}
	return tx.Notification.CreateBulk(creates...).
		OnConflictColumns(notification.FieldCommentID, notification.FieldUserID).
		DoNothing().
		Exec(ctx)
}

// Config configures a Sender.
type Config struct {
	Client *ent.Client
	// Mailer sends the messages (the digests' SMTP, from SMTP_URL).
	Mailer digest.Mailer
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollEvery is how often the sender looks for due notifications
	// (default DefaultPollEvery).
	PollEvery time.Duration
	// RetryBase and RetryMax shape the backoff after a failed send
	// (defaults 1m and 1h).
	RetryBase, RetryMax time.Duration
}

// Sender mails the notifications that are due.
type Sender struct {
	cfg  Config
	loop *background.Loop
}

// NewSender returns a Sender; Start runs it, or tests call SendDue.
func NewSender(cfg Config) *Sender {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = DefaultPollEvery
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = defaultRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = defaultRetryMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg}
}

// Start runs the sender in the background until Shutdown.
func (s *Sender) Start(ctx context.Context) {
	s.loop = background.Start(access.SystemContext(ctx), s.cfg.PollEvery, s.cfg.Logger, "notifications",
		func(ctx context.Context) (bool, error) {
			n, err := s.SendDue(ctx)
			return err == nil && n == claimBatch, err
		})
}

// Shutdown stops the sender and waits for the round in flight, or for ctx
// to end.
func (s *Sender) Shutdown(ctx context.Context) error {
	if err := s.loop.Shutdown(ctx); err != nil {
		return fmt.Errorf("notification sender: %w", err)
	}
	return nil
}

// SendDue sends the notifications due now (at most a batch), each at most
// once, and returns how many it claimed.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	now := s.cfg.Now().UTC().Truncate(time.Microsecond) // as PostgreSQL stores it
	claimed, err := store.InTx(ctx, s.cfg.Client, func(tx *ent.Tx) ([]*ent.Notification, error) {
		due, err := tx.Notification.Query().
			Where(notification.StatusEQ(notification.StatusPending), notification.NextAttemptAtLTE(now)).
			Order(ent.Asc(notification.FieldNextAttemptAt), ent.Asc(notification.FieldID)).
			Limit(claimBatch).
			ForUpdate(sql.WithLockAction(sql.SkipLocked)).
			All(ctx)
		if err != nil || len(due) == 0 {
			return nil, err
		}
		ids := make([]int, len(due))
		for i, n := range due {
			ids[i] = n.ID
		}
		// SENT before sending: at most once.
		err = tx.Notification.Update().Where(notification.IDIn(ids...)).
			SetStatus(notification.StatusSent).SetSentAt(now).ClearNextAttemptAt().Exec(ctx)
		return due, err
	})
	if err != nil {
		return 0, err
	}
	var first error
	for _, n := range claimed {
		if err := s.send(ctx, n, now); err != nil && first == nil {
			first = err
		}
	}
	return len(claimed), first
}

// errDrop is a notification its member may no longer be sent.
type errDrop struct{ why string }

func (e errDrop) Error() string { return e.why }

func (s *Sender) send(ctx context.Context, n *ent.Notification, claimedAt time.Time) error {
	to, msg, err := s.compose(ctx, n)
	if err == nil {
		err = s.cfg.Mailer.Send(ctx, to, msg)
	}
	var drop errDrop
	switch {
	case err == nil:
		return nil
	case errors.As(err, &drop):
		return s.settle(ctx, n, claimedAt, func(u *ent.NotificationUpdateOne) {
			u.SetStatus(notification.StatusDropped).SetError(drop.why).ClearSentAt()
		})
	}
	msg2 := err.Error()
	next := claimedAt.Add(backoff.Delay(n.AttemptCount+1, s.cfg.RetryBase, s.cfg.RetryMax))
	failed := !next.Before(n.CreatedAt.Add(RetryFor))
	s.cfg.Logger.WarnContext(ctx, "notification not sent", "notification", n.ID, "kind", n.Kind,
		"project", n.ProjectID, "user", n.UserID, "gave_up", failed, "err", err)
	return s.settle(ctx, n, claimedAt, func(u *ent.NotificationUpdateOne) {
		u.AddAttemptCount(1).SetError(msg2).ClearSentAt()
		if failed {
			u.SetStatus(notification.StatusFailed)
		} else {
			u.SetStatus(notification.StatusPending).SetNextAttemptAt(next)
		}
	})
}

// settle records what became of a claimed notification, unless another
// worker took it over meanwhile (it would have a newer claim).
func (s *Sender) settle(ctx context.Context, n *ent.Notification, claimedAt time.Time, set func(*ent.NotificationUpdateOne)) error {
	u := s.cfg.Client.Notification.UpdateOneID(n.ID).
		Where(notification.StatusEQ(notification.StatusSent), notification.SentAt(claimedAt))
	set(u)
	err := u.Exec(ctx)
	if ent.IsNotFound(err) {
		return nil // deleted with its project, member or comment
	}
	return err
}

// compose decides, now, whether and where n is sent, and writes it.
func (s *Sender) compose(ctx context.Context, n *ent.Notification) (string, digest.Message, error) {
	client := s.cfg.Client
	m, err := client.ProjectMember.Query().
		Where(projectmember.ProjectID(n.ProjectID), projectmember.UserID(n.UserID)).
		WithProject().
		Only(ctx)
	if ent.IsNotFound(err) {
		return "", digest.Message{}, errDrop{"no longer a member of the project"}
	}
	if err != nil {
		return "", digest.Message{}, err
	}
	if m.DigestEmail == nil {
		return "", digest.Message{}, errDrop{"no digest address"}
	}
	role, ok, err := access.RoleIn(ctx, client, &viewer.Viewer{UserID: n.UserID}, n.ProjectID)
	if err != nil {
		return "", digest.Message{}, err
	}
	switch {
	case !ok:
		return "", digest.Message{}, errDrop{"may no longer see the project"}
	case n.Kind == notification.KindWebhookDisabled && role != viewer.Owner:
		return "", digest.Message{}, errDrop{"no longer an OWNER of the project"}
	}
	project := m.Edges.Project.Name
	var msg digest.Message
	switch n.Kind {
	case notification.KindWebhookDisabled:
		msg, err = renderWebhookDisabled(project, n.Detail)
	case notification.KindMention:
		c, cerr := client.Comment.Query().Where(comment.ID(*n.CommentID)).WithAuthor().Only(ctx)
		if ent.IsNotFound(cerr) {
			return "", digest.Message{}, errDrop{"the comment is deleted"}
		}
		if cerr != nil {
			return "", digest.Message{}, cerr
		}
		msg, err = renderMention(project, c)
	default:
		return "", digest.Message{}, errDrop{"unknown kind " + string(n.Kind)}
	}
	return *m.DigestEmail, msg, err
}
