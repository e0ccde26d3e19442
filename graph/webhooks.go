package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// webhookProblems checks a webhook's URL and events, nil meaning not set.
func webhookProblems(kind webhooks.Kind, url *string, events []webhooks.EventType, eventsSet bool) []error {
	var ps []error
	if url != nil {
		*url = strings.TrimSpace(*url)
		check(&ps, "input.url", webhook.URLValidator, url)
		if len(ps) == 0 {
			if err := webhooks.CheckURL(*url); err != nil {
				ps = append(ps, &InputError{Field: "input.url", Problem: err.Error()})
			}
		}
	}
	if eventsSet {
		switch {
		case len(events) == 0:
			ps = append(ps, &InputError{Field: "input.events", Problem: "must name at least one event type"})
		case kind == webhooks.Slack:
			for _, e := range events {
				if !slices.Contains(webhooks.SlackEvents, e) {
					ps = append(ps, &InputError{Field: "input.events",
						Problem: fmt.Sprintf("a SLACK webhook is sent ANALYSIS_COMPLETED, ANALYSIS_FAILED and SUGGESTION_APPLIED only, not %s", e)})
					break
				}
			}
		}
	}
	return ps
}

// distinct returns events without repeats, in their first order.
func distinct(events []webhooks.EventType) []webhooks.EventType {
	out := make([]webhooks.EventType, 0, len(events))
	for _, e := range events {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// createWebhook registers an endpoint, within the project's limit: the
// project's row is locked while its endpoints are counted, so two
// concurrent creations cannot both pass the last free place.
func (r *Resolver) createWebhook(ctx context.Context, in model.CreateWebhookInput) (*model.CreateWebhookPayload, error) {
	if err := reportAll(ctx, webhookProblems(in.Kind, &in.URL, in.Events, true)); err != nil {
		return nil, err
	}
	if err := r.mustSeeProject(ctx, in.ProjectID, "input.projectID"); err != nil {
		return nil, err
	}
	if err := access.Require(ctx, r.client, in.ProjectID, viewer.Owner, webhook.Label, "manage webhooks"); err != nil {
		return nil, err
	}
	secret, err := webhooks.NewSecret()
	if err != nil {
		return nil, err
	}
	stored, err := r.webhookSecrets.Seal(secret)
	if err != nil {
		return nil, err
	}
	hook, err := store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.Webhook, error) {
		sys := access.SystemContext(ctx)
		if _, err := tx.Project.Query().Where(project.ID(in.ProjectID)).ForUpdate().OnlyID(sys); err != nil {
			return nil, err
		}
		n, err := tx.Webhook.Query().Where(webhook.ProjectID(in.ProjectID)).Count(sys)
		if err != nil {
			return nil, err
		}
		if n >= r.webhooksPerProject {
			return nil, &InputError{Field: "input.projectID", Problem: fmt.Sprintf(
				"the project has %d webhooks, the most it may have (WEBHOOKS_PER_PROJECT): delete one first", n)}
		}
		return tx.Webhook.Create().
			SetProjectID(in.ProjectID).
			SetURL(in.URL).
			SetKind(in.Kind).
			SetEvents(distinct(in.Events)).
			SetSecret(stored).
			Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	out := &model.CreateWebhookPayload{Webhook: hook}
	if hook.Kind != webhooks.Slack {
		out.Secret = &secret
	}
	return out, nil
}

// updateWebhook changes an endpoint. Enabling it clears what the service
// noted when it disabled it.
func (r *Resolver) updateWebhook(ctx context.Context, id int, in model.UpdateWebhookInput) (*ent.Webhook, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.Webhook, error) {
		// Members who are not OWNERs cannot see webhooks; they learn the
		// role they lack, as for every other change, before the input is judged.
		hook, err := tx.Webhook.Get(access.SystemContext(ctx), id)
		if err != nil {
			return nil, err
		}
		if err := access.Require(ctx, r.client, hook.ProjectID, viewer.Owner, webhook.Label, "manage webhooks"); err != nil {
			return nil, err
		}
		if err := reportAll(ctx, webhookProblems(hook.Kind, in.URL, in.Events, in.Events != nil)); err != nil {
			return nil, err
		}
		update := tx.Webhook.UpdateOne(hook)
		if in.URL != nil {
			update.SetURL(*in.URL)
		}
		if in.Events != nil {
			update.SetEvents(distinct(in.Events))
		}
		if in.Enabled != nil {
			update.SetEnabled(*in.Enabled)
			if *in.Enabled {
				update.ClearDisabledReason().ClearFailingSince()
			}
		}
		return update.Save(ctx)
	})
}

// redeliverWebhook sends a delivery's message again as soon as the worker
// can, and retries it for another day.
func (r *Resolver) redeliverWebhook(ctx context.Context, id int) (*ent.WebhookDelivery, error) {
	now := time.Now().UTC()
	return r.client.WebhookDelivery.UpdateOneID(id).
		SetStatus(webhookdelivery.StatusPending).
		SetNextAttemptAt(now).
		SetRetryUntil(now.Add(webhooks.RetryFor)).
		Save(ctx)
}
