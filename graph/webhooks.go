package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/organization"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/store"
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

// orZero is *id, or 0 for nil.
func orZero(id *int) int {
	if id == nil {
		return 0
	}
	return *id
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

// createWebhook registers an endpoint of a project or of an organisation,
// within the owner's limit (WEBHOOKS_PER_PROJECT for either): the owner's
// row is locked while its endpoints are counted, so two concurrent
// creations cannot both pass the last free place.
func (r *Resolver) createWebhook(ctx context.Context, in model.CreateWebhookInput) (*model.CreateWebhookPayload, error) {
	problems := webhookProblems(in.Kind, &in.URL, in.Events, true)
	if (in.ProjectID == nil) == (in.OrganizationID == nil) {
		problems = append(problems, &InputError{Field: "input.projectID", Problem: "name exactly one of projectID (the project's endpoint) and organizationID (an endpoint of every project of the organisation)"})
	}
	if err := reportAll(ctx, problems); err != nil {
		return nil, err
	}
	var projectID, orgID int
	field, owner := "input.projectID", "project"
	if in.ProjectID != nil {
		projectID = *in.ProjectID
		if err := r.mustSeeProject(ctx, projectID, field); err != nil {
			return nil, err
		}
	} else {
		orgID = *in.OrganizationID
		field, owner = "input.organizationID", "organisation"
	}
	if err := access.RequireWebhookOwner(ctx, r.client, projectID, orgID); err != nil {
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
		var mine predicate.Webhook
		create := tx.Webhook.Create()
		if projectID != 0 {
			_, err = tx.Project.Query().Where(project.ID(projectID)).ForUpdate().OnlyID(sys)
			mine = webhook.ProjectID(projectID)
			create.SetProjectID(projectID)
		} else {
			_, err = tx.Organization.Query().Where(organization.ID(orgID)).ForUpdate().OnlyID(sys)
			mine = webhook.OrganizationID(orgID)
			create.SetOrganizationID(orgID)
		}
		if err != nil {
			return nil, err
		}
		n, err := tx.Webhook.Query().Where(mine).Count(sys)
		if err != nil {
			return nil, err
		}
		if n >= r.webhooksPerProject {
			return nil, &InputError{Field: field, Problem: fmt.Sprintf(
				"the %s has %d webhooks, the most it may have (WEBHOOKS_PER_PROJECT): delete one first", owner, n)}
		}
		return create.
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
		if err := access.RequireWebhookOwner(ctx, r.client, orZero(hook.ProjectID), orZero(hook.OrganizationID)); err != nil {
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
