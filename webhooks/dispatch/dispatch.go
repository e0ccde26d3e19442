// Package dispatch delivers the outbox to webhook endpoints, from the
// worker, never from a request. A dispatch step reads the outbox past its
// own cursor and writes, in one transaction with the cursor's move, one
// delivery per event and matching endpoint; a send step claims due
// deliveries, posts them (webhooks.Send) and records each attempt, retrying
// with backoff until a day has passed. An endpoint whose deliveries have
// all failed for a day is disabled, and its project told (an outbox event
// that the project's other endpoints are sent as WEBHOOK_DISABLED).
//
// Every worker process runs a Dispatcher. Dispatch steps take a
// transaction-level advisory lock, so they run one at a time; sends claim
// their deliveries with FOR UPDATE SKIP LOCKED and a lease, so workers
// share them and none is sent twice at once.
package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/event"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/internal/background"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/notify"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// Config configures a Dispatcher.
type Config struct {
	Client *ent.Client
	// HTTP sends the deliveries: webhooks.NewClient, which refuses private
	// addresses unless WEBHOOK_ALLOW_PRIVATE.
	HTTP   *http.Client
	Logger *slog.Logger
	// Secrets opens the endpoints' stored signing secrets
	// (WEBHOOK_SECRET_KEY; nil: stored as they are).
	Secrets *webhooks.Sealer
	// Now is the clock (default time.Now); tests move it a day ahead.
	Now func() time.Time
	// PollEvery is how often the dispatcher looks for events and due
	// deliveries (default 1s).
	PollEvery time.Duration
	// RetryBase and RetryMax shape the backoff between attempts (defaults
	// 30s and 1h: about 30 attempts in a day).
	RetryBase, RetryMax time.Duration
	// Concurrency bounds the sends in flight (default 8).
	Concurrency int
	// NotifyOwners has a disabling also owe the project's OWNERs an email
	// (notify.WebhookDisabled), sent by the notify.Sender; set when
	// SMTP_URL is.
	NotifyOwners bool
}

// Defaults of Config.
const (
	defaultPollEvery   = time.Second
	defaultRetryBase   = 30 * time.Second
	defaultRetryMax    = time.Hour
	defaultConcurrency = 8
	eventBatch         = 500
	sendBatch          = 50
)

// lockKey is the advisory lock dispatch steps hold: "fl-whdsp".
const lockKey = 0x666c2d7768647370

// Dispatcher delivers the outbox to webhooks.
type Dispatcher struct {
	cfg  Config
	loop *background.Loop
}

// New returns a Dispatcher; Start runs it, or tests call DispatchOnce and
// SendDue themselves.
func New(cfg Config) *Dispatcher {
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
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = webhooks.NewClient(false)
	}
	return &Dispatcher{cfg: cfg}
}

// Start runs the dispatcher in the background until Shutdown: it reads
// the outbox on while a batch comes back full, then sends what is due.
func (d *Dispatcher) Start(ctx context.Context) {
	d.loop = background.Start(access.SystemContext(ctx), d.cfg.PollEvery, d.cfg.Logger, "webhook dispatch",
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
		return fmt.Errorf("webhook dispatcher: %w", err)
	}
	return nil
}

// DispatchOnce turns the outbox's events past the cursor (at most a batch)
// into deliveries, and moves the cursor, in one transaction. It returns
// how many events it read. The first dispatch of a database starts where
// its first endpoint was made (after the newest event when there is none):
// endpoints are sent what happens after they exist, even what happened
// before the first dispatch ran.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	return store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) (int, error) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
			return 0, fmt.Errorf("lock the webhook dispatcher: %w", err)
		}
		cursor, err := tx.WebhookCursor.Query().Only(ctx)
		if ent.IsNotFound(err) {
			start, err := d.firstCursor(ctx, tx)
			if err != nil {
				return 0, err
			}
			return 0, tx.WebhookCursor.Create().SetLastEventID(start).Exec(ctx)
		}
		if err != nil {
			return 0, err
		}
		rows, err := tx.Event.Query().Where(event.IDGT(cursor.LastEventID)).Order(ent.Asc(event.FieldID)).Limit(eventBatch).All(ctx)
		if err != nil || len(rows) == 0 {
			return 0, err
		}
		projectIDs := map[int]bool{}
		for _, r := range rows {
			projectIDs[r.ProjectID] = true
		}
		ids := make([]int, 0, len(projectIDs))
		for id := range projectIDs {
			ids = append(ids, id)
		}
		// An endpoint matches an event of its project, or of any project
		// of its organisation.
		ps, err := tx.Project.Query().Where(project.IDIn(ids...)).
			Select(project.FieldID, project.FieldName, project.FieldOrganizationID).All(ctx)
		if err != nil {
			return 0, err
		}
		names, orgOf := map[int]string{}, map[int]int{}
		orgIDs := make([]int, 0, len(ps))
		for _, p := range ps {
			names[p.ID], orgOf[p.ID] = p.Name, p.OrganizationID
			orgIDs = append(orgIDs, p.OrganizationID)
		}
		hooks, err := tx.Webhook.Query().
			Where(webhook.Or(webhook.ProjectIDIn(ids...), webhook.OrganizationIDIn(orgIDs...)), webhook.Enabled(true)).
			All(ctx)
		if err != nil {
			return 0, err
		}
		byProject, byOrg := map[int][]*ent.Webhook{}, map[int][]*ent.Webhook{}
		for _, h := range hooks {
			if h.ProjectID != nil {
				byProject[*h.ProjectID] = append(byProject[*h.ProjectID], h)
			} else if h.OrganizationID != nil {
				byOrg[*h.OrganizationID] = append(byOrg[*h.OrganizationID], h)
			}
		}
		now := d.cfg.Now().UTC()
		var creates []*ent.WebhookDeliveryCreate
		for _, r := range rows {
			targets := append(slices.Clip(byProject[r.ProjectID]), byOrg[orgOf[r.ProjectID]]...)
			if len(targets) == 0 {
				continue
			}
			e := outbox.Event{ID: r.ID, ProjectID: r.ProjectID, Kind: r.Kind, ObjectID: r.ObjectID, Payload: r.Payload, At: r.CreatedAt}
			m, ok, err := translate(e, names[r.ProjectID])
			if err != nil {
				d.cfg.Logger.WarnContext(ctx, "undecodable event not delivered to webhooks", "event_id", r.ID, "err", err)
				continue
			}
			if !ok {
				continue
			}
			for _, h := range targets {
				if !subscribed(h, m.typ) || r.CreatedAt.Before(h.CreatedAt) {
					continue
				}
				body, err := m.body(h.Kind, r.CreatedAt)
				if err != nil {
					return 0, err
				}
				creates = append(creates, tx.WebhookDelivery.Create().
					SetWebhookID(h.ID).
					SetEventID(r.ID).
					SetEventType(m.typ).
					SetMessageID(messageID(r.ID)).
					SetBody(body).
					SetNextAttemptAt(now).
					SetRetryUntil(now.Add(webhooks.RetryFor)))
			}
		}
		if len(creates) > 0 {
			err := tx.WebhookDelivery.CreateBulk(creates...).
				OnConflictColumns(webhookdelivery.FieldWebhookID, webhookdelivery.FieldEventID).
				DoNothing().
				Exec(ctx)
			if err != nil {
				return 0, fmt.Errorf("write webhook deliveries: %w", err)
			}
		}
		newest := rows[len(rows)-1].ID
		if err := tx.WebhookCursor.UpdateOne(cursor).SetLastEventID(newest).Exec(ctx); err != nil {
			return 0, err
		}
		return len(rows), nil
	})
}

func subscribed(h *ent.Webhook, t webhooks.EventType) bool {
	for _, e := range h.Events {
		if e == t {
			return true
		}
	}
	return false
}

// SendDue sends the deliveries that are due (at most a batch), each once,
// and records the attempts. It returns how many it sent.
func (d *Dispatcher) SendDue(ctx context.Context) (int, error) {
	ctx = access.SystemContext(ctx)
	now := d.cfg.Now().UTC()
	// Claim: push the due deliveries' next attempt past the longest send,
	// so that other workers skip them meanwhile (and take them over if this
	// one dies).
	claimed, err := store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) ([]*ent.WebhookDelivery, error) {
		due, err := tx.WebhookDelivery.Query().
			Where(webhookdelivery.StatusEQ(webhookdelivery.StatusPending), webhookdelivery.NextAttemptAtLTE(now),
				webhookdelivery.HasWebhookWith(webhook.Enabled(true))).
			Order(ent.Asc(webhookdelivery.FieldNextAttemptAt)).
			Limit(sendBatch).
			ForUpdate(sql.WithLockAction(sql.SkipLocked), sql.WithLockTables(webhookdelivery.Table)).
			WithWebhook().
			All(ctx)
		if err != nil || len(due) == 0 {
			return nil, err
		}
		ids := make([]int, len(due))
		for i, dl := range due {
			ids[i] = dl.ID
		}
		lease := now.Add(2 * webhooks.Timeout)
		if err := tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...)).SetNextAttemptAt(lease).Exec(ctx); err != nil {
			return nil, err
		}
		return due, nil
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, d.cfg.Concurrency)
		mu    sync.Mutex
		first error
	)
	for _, dl := range claimed {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			h := dl.Edges.Webhook
			var a webhooks.Attempt
			if secret, err := d.cfg.Secrets.Open(h.Secret); err != nil {
				msg := err.Error()
				a = webhooks.Attempt{At: d.cfg.Now().UTC().Truncate(time.Microsecond), Error: &msg}
			} else {
				a = webhooks.Send(ctx, d.cfg.HTTP, webhooks.Endpoint{URL: h.URL, Kind: h.Kind, Secret: secret}, dl.MessageID, dl.Body, d.cfg.Now())
			}
			if err := d.record(ctx, dl, a); err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(claimed), first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// record stores an attempt: DELIVERED on success; otherwise the next
// attempt after a backoff, or FAILED once the delivery's day is over. It
// keeps the endpoint's failing_since, and disables an endpoint that has
// failed for a day, telling its project.
func (d *Dispatcher) record(ctx context.Context, dl *ent.WebhookDelivery, a webhooks.Attempt) error {
	now := d.cfg.Now().UTC()
	_, err := store.InTx(ctx, d.cfg.Client, func(tx *ent.Tx) (struct{}, error) {
		update := tx.WebhookDelivery.UpdateOneID(dl.ID).
			AddAttemptCount(1).
			AppendAttempts([]webhooks.Attempt{a}).
			SetNillableResponseCode(a.ResponseCode).
			SetDurationMs(a.DurationMs).
			SetNillableError(a.Error)
		if a.ResponseCode == nil {
			update.ClearResponseCode()
		}
		if a.Error == nil {
			update.ClearError()
		}
		hook, err := tx.Webhook.Query().Where(webhook.ID(dl.WebhookID)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return struct{}{}, nil // deleted meanwhile, with its deliveries
		}
		if err != nil {
			return struct{}{}, err
		}
		if a.OK() {
			if err := update.SetStatus(webhookdelivery.StatusDelivered).ClearNextAttemptAt().Exec(ctx); err != nil {
				return struct{}{}, err
			}
			if hook.FailingSince != nil {
				return struct{}{}, tx.Webhook.UpdateOne(hook).ClearFailingSince().Exec(ctx)
			}
			return struct{}{}, nil
		}
		next := now.Add(backoff.Delay(dl.AttemptCount, d.cfg.RetryBase, d.cfg.RetryMax))
		if !now.Before(dl.RetryUntil) {
			update.SetStatus(webhookdelivery.StatusFailed).ClearNextAttemptAt()
		} else {
			update.SetNextAttemptAt(minTime(next, dl.RetryUntil))
		}
		if err := update.Exec(ctx); err != nil {
			return struct{}{}, err
		}
		switch {
		case hook.FailingSince == nil:
			return struct{}{}, tx.Webhook.UpdateOne(hook).SetFailingSince(a.At).Exec(ctx)
		case hook.Enabled && now.Sub(*hook.FailingSince) >= webhooks.RetryFor:
			return struct{}{}, d.disable(ctx, tx, hook, a)
		}
		return struct{}{}, nil
	})
	return err
}

// firstCursor is where the first dispatch starts: before the events made
// since the first endpoint was, or after the newest event if none is.
func (d *Dispatcher) firstCursor(ctx context.Context, tx *ent.Tx) (int, error) {
	first, err := tx.Webhook.Query().Order(ent.Asc(webhook.FieldCreatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return outbox.Latest(ctx, d.cfg.Client)
	}
	if err != nil {
		return 0, err
	}
	return outbox.LatestBefore(ctx, d.cfg.Client, first.CreatedAt)
}

// disable turns an endpoint off after a day of failures and writes the
// event that tells its project, and the emails to its OWNERs.
func (d *Dispatcher) disable(ctx context.Context, tx *ent.Tx, hook *ent.Webhook, last webhooks.Attempt) error {
	reason := fmt.Sprintf("every delivery has failed since %s (the last: %s); fix the endpoint, then enable it again with updateWebhook(input: {enabled: true})",
		hook.FailingSince.UTC().Format(time.RFC3339), deref(last.Error, "no answer"))
	if err := tx.Webhook.UpdateOne(hook).SetEnabled(false).SetDisabledReason(reason).Exec(ctx); err != nil {
		return err
	}
	if hook.ProjectID == nil {
		// An organisation's endpoint: no project's event to tell it by.
		d.cfg.Logger.WarnContext(ctx, "webhook disabled after a day of failed deliveries", "webhook_id", hook.ID, "organization_id", hook.OrganizationID)
		return nil
	}
	e, err := outbox.New(*hook.ProjectID, KindWebhook, hook.ID, 1, nil, DisabledPayload{WebhookID: hook.ID, Host: hostOf(hook.URL), Reason: reason})
	if err != nil {
		return err
	}
	outbox.Record(tx, e)
	told := 0
	if d.cfg.NotifyOwners {
		// In the disabling's transaction: told once, and not lost.
		if told, err = notify.WebhookDisabled(ctx, tx, *hook.ProjectID, hook.ID, hostOf(hook.URL), reason); err != nil {
			return err
		}
	}
	d.cfg.Logger.WarnContext(ctx, "webhook disabled after a day of failed deliveries", "webhook_id", hook.ID, "project_id", *hook.ProjectID,
		"owners_emailed", told)
	return nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
