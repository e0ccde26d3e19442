// Package discussion is what members say about feedback and suggestions:
// comments (written, edited, deleted, with @subject mentions of members)
// and votes on suggestions. Every change runs in one transaction with its
// event in the outbox, so projectEvents sees each exactly when it commits.
// Who may do what is decided by the privacy policies (access.CommentPolicy,
// access.VotePolicy); this package runs the changes as the caller.
package discussion

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/adjustmentvote"
	"github.com/feedbackloop/feedbackloop/ent/comment"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/notify"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// ErrNotFound is a comment, feedback or suggestion that does not exist or
// that the caller may not see.
var ErrNotFound = errors.New("not found")

// Service writes comments and votes.
type Service struct {
	client *ent.Client
	notify bool
}

// New returns a Service over client. With notifyMentions (SMTP_URL is
// set), a comment that mentions members owes each an email
// (notify.Mentioned), written with the comment.
func New(client *ent.Client, notifyMentions bool) *Service {
	return &Service{client: client, notify: notifyMentions}
}

// Target is what a comment is about: exactly one of the two.
type Target struct {
	FeedbackID   *int
	AdjustmentID *int
}

// Add writes a comment by the caller on target.
func (s *Service) Add(ctx context.Context, target Target, body string) (*ent.Comment, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, access.ErrUnauthenticated
	}
	return store.InTx(ctx, s.client, func(tx *ent.Tx) (*ent.Comment, error) {
		create := tx.Comment.Create().SetAuthorID(v.UserID).SetBody(body)
		var projectID int
		switch {
		case target.FeedbackID != nil:
			fb, err := tx.Feedback.Get(ctx, *target.FeedbackID)
			if err != nil {
				return nil, notFound(err)
			}
			projectID = fb.ProjectID
			create.SetFeedbackID(fb.ID)
		case target.AdjustmentID != nil:
			a, err := tx.Adjustment.Query().Where(adjustment.ID(*target.AdjustmentID)).WithFeedback().Only(ctx)
			if err != nil {
				return nil, notFound(err)
			}
			projectID = a.Edges.Feedback.ProjectID
			create.SetAdjustmentID(a.ID)
		default:
			return nil, errors.New("discussion: a comment needs a feedback or a suggestion")
		}
		mentions, err := members(ctx, tx, projectID, body)
		if err != nil {
			return nil, err
		}
		c, err := create.SetProjectID(projectID).AddMentionIDs(mentions...).Save(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.mentioned(ctx, tx, c, mentions); err != nil {
			return nil, err
		}
		return c, record(ctx, tx, outbox.Created, c)
	})
}

// Edit replaces the body of one of the caller's comments (and its
// mentions) and sets editedAt.
func (s *Service) Edit(ctx context.Context, id int, body string) (*ent.Comment, error) {
	return store.InTx(ctx, s.client, func(tx *ent.Tx) (*ent.Comment, error) {
		c, err := tx.Comment.Query().Where(comment.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return nil, notFound(err)
		}
		mentions, err := members(ctx, tx, c.ProjectID, body)
		if err != nil {
			return nil, err
		}
		c, err = tx.Comment.UpdateOne(c).SetBody(body).SetEditedAt(now()).ClearMentions().AddMentionIDs(mentions...).Save(ctx)
		if err != nil {
			return nil, err
		}
		// Members the edit mentions anew are told; the others were already.
		if err := s.mentioned(ctx, tx, c, mentions); err != nil {
			return nil, err
		}
		return c, record(ctx, tx, outbox.Edited, c)
	})
}

// Delete deletes a comment (the caller's own, or any as an OWNER) and
// returns it as it was.
func (s *Service) Delete(ctx context.Context, id int) (*ent.Comment, error) {
	return store.InTx(ctx, s.client, func(tx *ent.Tx) (*ent.Comment, error) {
		c, err := tx.Comment.Query().Where(comment.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return nil, notFound(err)
		}
		if err := tx.Comment.DeleteOne(c).Exec(ctx); err != nil {
			return nil, err
		}
		c.Version++ // the deletion is the comment's last change
		return c, record(ctx, tx, outbox.Deleted, c)
	})
}

func (s *Service) mentioned(ctx context.Context, tx *ent.Tx, c *ent.Comment, mentions []int) error {
	if !s.notify {
		return nil
	}
	return notify.Mentioned(ctx, tx, c, mentions)
}

func record(ctx context.Context, tx *ent.Tx, change string, c *ent.Comment) error {
	actorID, actor := outbox.Actor(ctx)
	e, err := outbox.New(c.ProjectID, outbox.KindComment, c.ID, c.Version, actorID,
		outbox.CommentPayload{Change: change, Comment: c, Actor: actor})
	if err != nil {
		return err
	}
	outbox.Record(tx, e)
	return nil
}

// Vote sets the caller's vote on a suggestion: +1 (up), -1 (down) or 0 (no
// vote), and the suggestion's score with it. It returns the suggestion as
// the vote left it. A vote that changes nothing writes nothing.
func (s *Service) Vote(ctx context.Context, adjustmentID, value int) (*ent.Adjustment, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, access.ErrUnauthenticated
	}
	if value < -1 || value > 1 {
		return nil, errors.New("discussion: a vote is -1, 0 or +1")
	}
	return store.InTx(ctx, s.client, func(tx *ent.Tx) (*ent.Adjustment, error) {
		// The suggestion's row lock orders its votes: each reads the vote
		// it replaces and moves the score by the difference.
		a, err := tx.Adjustment.Query().Where(adjustment.ID(adjustmentID)).WithFeedback().ForUpdate().Only(ctx)
		if err != nil {
			return nil, notFound(err)
		}
		old, err := tx.AdjustmentVote.Query().
			Where(adjustmentvote.AdjustmentID(a.ID), adjustmentvote.UserID(v.UserID)).
			Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		before := 0
		if old != nil {
			before = old.Value
		}
		projectID := a.Edges.Feedback.ProjectID
		switch {
		case value == before:
			if old == nil {
				// Nothing to write, but the caller must still be allowed
				// to vote: access.VotePolicy asks for a member.
				if err := access.Require(ctx, tx.Client(), projectID, viewer.Reader, adjustment.Label, "vote on suggestions"); err != nil {
					return nil, err
				}
			}
			return a, nil
		case value == 0:
			err = tx.AdjustmentVote.DeleteOne(old).Exec(ctx)
		case old == nil:
			err = tx.AdjustmentVote.Create().SetProjectID(projectID).SetAdjustmentID(a.ID).SetUserID(v.UserID).SetValue(value).Exec(ctx)
		default:
			err = tx.AdjustmentVote.UpdateOne(old).SetValue(value).Exec(ctx)
		}
		if err != nil {
			return nil, err
		}
		// The score is the suggestion's own column, written here rather
		// than through ent's update, which is a decision (EDITOR, and a new
		// version) that a vote is not.
		if _, err := tx.ExecContext(ctx, `UPDATE adjustments SET score = score + $1 WHERE id = $2`, value-before, a.ID); err != nil {
			return nil, err
		}
		a, err = tx.Adjustment.Get(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		actorID, actor := outbox.Actor(ctx)
		e, err := outbox.New(projectID, outbox.KindVote, a.ID, a.Version, actorID, outbox.AdjustmentPayload{Adjustment: a, Actor: actor})
		if err != nil {
			return nil, err
		}
		outbox.Record(tx, e)
		return a, nil
	})
}

// ViewerVote is the caller's vote on each of adjustments: +1, -1, or
// absent (no vote), in one query.
func (s *Service) ViewerVote(ctx context.Context, adjustments []int) (map[int]int, error) {
	v := viewer.FromContext(ctx)
	out := map[int]int{}
	if v == nil || len(adjustments) == 0 {
		return out, nil
	}
	votes, err := s.client.AdjustmentVote.Query().
		Where(adjustmentvote.UserID(v.UserID), adjustmentvote.AdjustmentIDIn(adjustments...)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, vote := range votes {
		out[vote.AdjustmentID] = vote.Value
	}
	return out, nil
}

// members resolves the @subject mentions of body to the users of those
// subjects who are members of project. Unknown subjects stay plain text.
func members(ctx context.Context, tx *ent.Tx, projectID int, body string) ([]int, error) {
	subjects := Mentions(body)
	if len(subjects) == 0 {
		return nil, nil
	}
	return tx.User.Query().
		Where(user.SubjectIn(subjects...), user.HasMembershipsWith(projectmember.ProjectID(projectID))).
		IDs(access.SystemContext(ctx))
}

// Mentions returns the distinct subjects body names as @subject, in order,
// at most bounds.MaxCommentMentions. A mention starts with @ at the start
// of the text or after a character that is not a letter or digit (so
// "mail@example.com" mentions nobody) and runs to the next space; trailing
// punctuation (".,;:!?)]}'\"") is not part of it, so "thanks @alice." names
// alice. A subject with spaces cannot be mentioned.
func Mentions(body string) []string {
	var out []string
	for i := 0; i < len(body); {
		at := strings.IndexByte(body[i:], '@')
		if at < 0 {
			break
		}
		at += i
		i = at + 1
		if strings.HasPrefix(body[at+1:], "@") {
			continue // "@@ada": the second @ starts the mention
		}
		if at > 0 {
			prev, _ := utf8.DecodeLastRuneInString(body[:at])
			if unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				continue
			}
		}
		end := strings.IndexFunc(body[at+1:], unicode.IsSpace)
		if end < 0 {
			end = len(body) - at - 1
		}
		subject := strings.TrimRight(body[at+1:at+1+end], ".,;:!?)]}'\"")
		i = at + 1 + end
		if subject == "" || utf8.RuneCountInString(subject) > 255 || slices.Contains(out, subject) {
			continue
		}
		out = append(out, subject)
		if len(out) == bounds.MaxCommentMentions {
			break
		}
	}
	return out
}

func notFound(err error) error {
	if ent.IsNotFound(err) {
		return ErrNotFound
	}
	return err
}

// now is the clock of editedAt: UTC at PostgreSQL's precision, as the
// schema's.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
