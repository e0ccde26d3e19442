package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/event"
	"github.com/feedbackloop/feedbackloop/ent/githubissue"
	"github.com/feedbackloop/feedbackloop/ent/githubrepository"
	"github.com/feedbackloop/feedbackloop/internal/background"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// Config configures a Dispatcher.
type Config struct {
	Client *ent.Client
	// GitHub creates the issues (its BaseURL is GITHUB_API_URL).
	GitHub *Client
	// Secrets opens the stored tokens (WEBHOOK_SECRET_KEY).
	Secrets *webhooks.Sealer
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollEvery is how often the dispatcher looks for work (default 1s).
	PollEvery time.Duration
	// RetryBase and RetryMax shape the backoff between attempts (defaults
	// 30s and 1h); GitHub's Retry-After or rate-limit reset, when later, wins.
	RetryBase, RetryMax time.Duration
}

const (
	defaultPollEvery = time.Second
	defaultRetryBase = 30 * time.Second
	defaultRetryMax  = time.Hour
	// RetryFor is how long an issue is retried before it is FAILED.
	RetryFor   = 24 * time.Hour
	eventBatch = 500
	sendBatch  = 20
)

// lockKey is the advisory lock dispatch steps hold: "fl-ghdsp".
const lockKey = 0x666c2d6768647370

// Dispatcher opens the issues of applied NEW_TASK suggestions. Every worker
// runs one: dispatch steps (outbox → issues to open, one row per task) run
// one at a time under an advisory lock; sends claim their rows with FOR
// UPDATE SKIP LOCKED and a lease, so no issue is sent by two workers at
// once. (A worker that dies after GitHub created the issue but before it
// recorded it leaves the row to be sent again after the lease: GitHub
// offers no idempotency key for issues.)
type Dispatcher struct {
	cfg  Config
	loop *background.Loop
}

// NewDispatcher returns a Dispatcher; Start runs it, or tests call
// DispatchOnce and SendDue.
func NewDispatcher(cfg Config) *Dispatcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = defaultPollEvery
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
	if cfg.GitHub == nil {
		cfg.GitHub = &Client{}
	}
	return &Dispatcher{cfg: cfg}
}

// Start runs the dispatcher in the background until Shutdown: it reads
// the outbox on while a batch comes back full, then sends what is due.
func (d *Dispatcher) Start(ctx context.Context) {
	d.loop = background.Start(access.SystemContext(ctx), d.cfg.PollEvery, d.cfg.Logger, "GitHub issue dispatch",
		func(ctx context.Context) (bool, error) {
			n, err := d.DispatchOnce(ctx)
			if err == nil && n < eventBatch {
				_, err = d.SendDue(ctx)
			}
			return err == nil && n == eventBatch, err
		})
}

// Shutdown stops the dispatcher and waits for the sends in flight, or for
// ctx to end.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	if err := d.loop.Shutdown(ctx); err != nil {
		return fmt.Errorf("GitHub dispatcher: %w", err)
	}
	return nil
}

// DispatchOnce reads the outbox past the cursor (at most a batch) and, for
// each NEW_TASK suggestion applied in a project that links a repository,
// writes the issue to open, moving the cursor in the same transaction. The
// first dispatch of a database starts after the newest event.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	return store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) (int, error) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
			return 0, fmt.Errorf("lock the GitHub dispatcher: %w", err)
		}
		cursor, err := tx.GitHubCursor.Query().Only(ctx)
		if ent.IsNotFound(err) {
			latest, err := outbox.Latest(ctx, d.cfg.Client)
			if err != nil {
				return 0, err
			}
			return 0, tx.GitHubCursor.Create().SetLastEventID(latest).Exec(ctx)
		}
		if err != nil {
			return 0, err
		}
		rows, err := tx.Event.Query().Where(event.IDGT(cursor.LastEventID)).Order(ent.Asc(event.FieldID)).Limit(eventBatch).All(ctx)
		if err != nil || len(rows) == 0 {
			return 0, err
		}
		type want struct{ task, project int }
		var wants []want
		projects := map[int]bool{}
		for _, r := range rows {
			if r.Kind != outbox.KindAdjustment {
				continue
			}
			var p outbox.AdjustmentPayload
			if err := json.Unmarshal(r.Payload, &p); err != nil || p.Adjustment == nil {
				continue
			}
			a := p.Adjustment
			if a.AdjustmentType != adjustment.AdjustmentTypeNewTask || a.Status != adjustment.StatusApplied || a.TaskID == nil {
				continue
			}
			wants = append(wants, want{*a.TaskID, r.ProjectID})
			projects[r.ProjectID] = true
		}
		if len(wants) > 0 {
			ids := make([]int, 0, len(projects))
			for id := range projects {
				ids = append(ids, id)
			}
			repos, err := tx.GitHubRepository.Query().Where(githubrepository.ProjectIDIn(ids...)).All(ctx)
			if err != nil {
				return 0, err
			}
			linked := map[int]*ent.GitHubRepository{}
			for _, r := range repos {
				linked[r.ProjectID] = r
			}
			now := d.cfg.Now().UTC()
			var creates []*ent.GitHubIssueCreate
			for _, w := range wants {
				r := linked[w.project]
				if r == nil {
					continue
				}
				creates = append(creates, tx.GitHubIssue.Create().SetTaskID(w.task).SetProjectID(w.project).
					SetOwner(r.Owner).SetRepo(r.Repo).SetNextAttemptAt(now))
			}
			if len(creates) > 0 {
				if err := tx.GitHubIssue.CreateBulk(creates...).OnConflictColumns(githubissue.FieldTaskID).DoNothing().Exec(ctx); err != nil {
					return 0, fmt.Errorf("write GitHub issues to open: %w", err)
				}
			}
		}
		return len(rows), tx.GitHubCursor.UpdateOne(cursor).SetLastEventID(rows[len(rows)-1].ID).Exec(ctx)
	})
}

// SendDue opens the issues that are due (at most a batch), each by one
// worker, and records the outcome on the row and the task. It returns how
// many it claimed.
func (d *Dispatcher) SendDue(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	now := d.cfg.Now().UTC()
	claimed, err := store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) ([]*ent.GitHubIssue, error) {
		due, err := tx.GitHubIssue.Query().
			Where(githubissue.StatusEQ(githubissue.StatusPending), githubissue.NextAttemptAtLTE(now)).
			Order(ent.Asc(githubissue.FieldNextAttemptAt)).
			Limit(sendBatch).
			ForUpdate(sql.WithLockAction(sql.SkipLocked)).
			All(ctx)
		if err != nil || len(due) == 0 {
			return nil, err
		}
		ids := make([]int, len(due))
		for i, is := range due {
			ids[i] = is.ID
		}
		lease := now.Add(2 * Timeout)
		return due, tx.GitHubIssue.Update().Where(githubissue.IDIn(ids...)).SetNextAttemptAt(lease).Exec(ctx)
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, is := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.send(ctx, is); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(claimed), first
}

// send opens one issue and records what happened.
func (d *Dispatcher) send(ctx context.Context, is *ent.GitHubIssue) error {
	skip := func(why string) error {
		return d.cfg.Client.GitHubIssue.UpdateOne(is).SetStatus(githubissue.StatusSkipped).SetError(why).ClearNextAttemptAt().Exec(ctx)
	}
	t, err := d.cfg.Client.Task.Get(ctx, is.TaskID)
	if ent.IsNotFound(err) {
		return skip("the task was deleted before its issue was opened")
	}
	if err != nil {
		return err
	}
	repo, err := d.cfg.Client.GitHubRepository.Query().Where(githubrepository.ProjectID(is.ProjectID)).Only(ctx)
	if ent.IsNotFound(err) || (err == nil && (repo.Owner != is.Owner || repo.Repo != is.Repo)) {
		return skip("the project's repository was unlinked or changed before the issue was opened")
	}
	if err != nil {
		return err
	}
	token, err := d.cfg.Secrets.Open(repo.Token)
	if err != nil {
		return d.fail(ctx, is, "the repository's token cannot be decrypted: WEBHOOK_SECRET_KEY is unset or not the key it was stored with; restore that key, or link the repository again")
	}
	body := "Opened by Feedback Loop when a suggestion to add this task was applied."
	if t.Description != nil && *t.Description != "" {
		body = *t.Description + "\n\n---\n" + body
	}
	issue, err := d.cfg.GitHub.CreateIssue(ctx, token, is.Owner, is.Repo, t.Title, body, d.cfg.Now())
	if err == nil {
		return d.created(ctx, is, issue)
	}
	now := d.cfg.Now().UTC()
	var ae *APIError
	if errors.As(err, &ae) && !ae.Retryable() {
		return d.fail(ctx, is, err.Error())
	}
	if now.Sub(is.CreatedAt) >= RetryFor {
		return d.fail(ctx, is, "gave up after a day: "+err.Error())
	}
	wait := backoff.Delay(is.AttemptCount+1, d.cfg.RetryBase, d.cfg.RetryMax)
	if ae != nil && ae.RetryAfter > wait {
		wait = ae.RetryAfter
	}
	d.cfg.Logger.WarnContext(ctx, "GitHub issue not opened yet; retrying", "task_id", is.TaskID, "repo", is.Owner+"/"+is.Repo, "err", err, "retry_in", wait)
	return d.cfg.Client.GitHubIssue.UpdateOne(is).AddAttemptCount(1).SetError(err.Error()).SetNextAttemptAt(now.Add(wait)).Exec(ctx)
}

func (d *Dispatcher) fail(ctx context.Context, is *ent.GitHubIssue, why string) error {
	d.cfg.Logger.WarnContext(ctx, "GitHub issue not opened", "task_id", is.TaskID, "repo", is.Owner+"/"+is.Repo, "err", why)
	return d.cfg.Client.GitHubIssue.UpdateOne(is).AddAttemptCount(1).SetStatus(githubissue.StatusFailed).SetError(why).ClearNextAttemptAt().Exec(ctx)
}

// created records the issue on its row and on its task (an UPDATED task
// event, so subscribers see the link), unless the task went meanwhile.
func (d *Dispatcher) created(ctx context.Context, is *ent.GitHubIssue, issue Issue) error {
	_, err := store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) (struct{}, error) {
		if err := tx.GitHubIssue.UpdateOne(is).AddAttemptCount(1).SetStatus(githubissue.StatusCreated).
			SetNumber(issue.Number).ClearError().ClearNextAttemptAt().Exec(ctx); err != nil {
			return struct{}{}, err
		}
		err := tx.Task.UpdateOneID(is.TaskID).SetGithubIssueNumber(issue.Number).SetGithubIssueURL(issue.HTMLURL).Exec(ctx)
		if ent.IsNotFound(err) {
			return struct{}{}, nil
		}
		return struct{}{}, err
	})
	return err
}
