package digest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/store"
)

// Periods of the frequencies: a digest is due this long after the end of
// the last one's period.
var Periods = map[projectmember.Digest]time.Duration{
	projectmember.DigestDaily:  24 * time.Hour,
	projectmember.DigestWeekly: 7 * 24 * time.Hour,
}

// DefaultPollEvery is how often the scheduler looks for due digests.
const DefaultPollEvery = 5 * time.Minute

// claimBatch bounds the digests one round claims (the rest wait a round).
const claimBatch = 50

// Config configures a Scheduler.
type Config struct {
	Client *ent.Client
	Mailer Mailer
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests move it ahead.
	Now func() time.Time
	// PollEvery is how often the scheduler looks (default DefaultPollEvery).
	PollEvery time.Duration
}

// Scheduler sends the digests that are due. Each worker runs one; a
// member's digest is claimed with its row (FOR UPDATE SKIP LOCKED, then its
// period moved on) before it is sent, so one worker sends it. A send that
// fails gives the claim back and the next round tries again; a worker that
// dies between claim and send loses that one digest (at most once per
// period, never twice).
type Scheduler struct {
	cfg  Config
	stop context.CancelFunc
	done chan struct{}
}

// NewScheduler returns a Scheduler; Start runs it, or tests call RunOnce.
func NewScheduler(cfg Config) *Scheduler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = DefaultPollEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, done: make(chan struct{})}
}

// Start runs the scheduler in the background until Shutdown.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.stop = context.WithCancel(access.SystemContext(context.WithoutCancel(ctx)))
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.WarnContext(ctx, "digests: a round failed; trying again next round", "err", err)
			}
			if backoff.Sleep(ctx, s.cfg.PollEvery) != nil {
				return
			}
		}
	}()
}

// Shutdown stops the scheduler and waits for the round in flight, or for
// ctx to end.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	if s.stop == nil {
		return nil
	}
	s.stop()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("digest scheduler: shutdown: %w", ctx.Err())
	}
}

type claim struct {
	member *ent.ProjectMember
	since  time.Time // the previous end of period
}

// RunOnce sends the digests due now (at most a batch) and returns how many
// it sent. Members without an address are never due; periods with nothing
// new are consumed without a message.
func (s *Scheduler) RunOnce(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	now := s.cfg.Now().UTC().Truncate(time.Microsecond) // as PostgreSQL stores it
	claims, err := s.claim(ctx, now)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, c := range claims {
		m := c.member
		err := s.send(ctx, c, now)
		switch {
		case err == errEmpty:
		case err != nil:
			s.cfg.Logger.WarnContext(ctx, "digest not sent; it is tried again next round",
				"member", m.ID, "project", m.ProjectID, "err", err)
			if rerr := s.release(ctx, c, now); rerr != nil {
				return sent, rerr
			}
		default:
			sent++
		}
	}
	return sent, nil
}

var errEmpty = fmt.Errorf("nothing new")

func (s *Scheduler) send(ctx context.Context, c claim, now time.Time) error {
	m := c.member
	d, err := Build(ctx, s.cfg.Client, m.ProjectID, m.UserID, string(m.Digest), c.since, now)
	if err != nil {
		return err
	}
	if d.Empty() {
		return errEmpty
	}
	msg, err := Render(d)
	if err != nil {
		return err
	}
	return s.cfg.Mailer.Send(ctx, *m.DigestEmail, msg)
}

// claim moves the due members' periods on to now, in one transaction that
// other workers' claims skip.
func (s *Scheduler) claim(ctx context.Context, now time.Time) ([]claim, error) {
	return store.InTx(ctx, s.cfg.Client, func(tx *ent.Tx) ([]claim, error) {
		var due []*ent.ProjectMember
		due, err := tx.ProjectMember.Query().
			Where(projectmember.DigestEmailNotNil(), projectmember.Or(
				dueAt(projectmember.DigestDaily, now), dueAt(projectmember.DigestWeekly, now))).
			Order(ent.Asc(projectmember.FieldDigestSentAt), ent.Asc(projectmember.FieldID)).
			Limit(claimBatch).
			ForUpdate(sql.WithLockAction(sql.SkipLocked)).
			All(ctx)
		if err != nil || len(due) == 0 {
			return nil, err
		}
		claims := make([]claim, len(due))
		ids := make([]int, len(due))
		for i, m := range due {
			since := m.CreatedAt
			if m.DigestSentAt != nil {
				since = *m.DigestSentAt
			}
			claims[i], ids[i] = claim{m, since}, m.ID
		}
		if err := tx.ProjectMember.Update().Where(projectmember.IDIn(ids...)).SetDigestSentAt(now).Exec(ctx); err != nil {
			return nil, err
		}
		return claims, nil
	})
}

func dueAt(f projectmember.Digest, now time.Time) func(*sql.Selector) {
	return projectmember.And(projectmember.DigestEQ(f), projectmember.Or(
		projectmember.DigestSentAtIsNil(), projectmember.DigestSentAtLTE(now.Add(-Periods[f]))))
}

// release gives a claim back, unless something moved the period since.
func (s *Scheduler) release(ctx context.Context, c claim, now time.Time) error {
	return s.cfg.Client.ProjectMember.Update().
		Where(projectmember.ID(c.member.ID), projectmember.DigestSentAt(now)).
		SetDigestSentAt(c.since).Exec(ctx)
}
