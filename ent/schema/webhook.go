package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// Webhook is an endpoint the events of a project, or of every project of an
// organisation, are delivered to (see the webhook and webhook/dispatch
// packages): exactly one of project_id and organization_id is set. Only the
// project's OWNERs (the organisation's OWNERs and ADMINs) see and manage
// it: its URL may itself be a secret (Slack's are).
type Webhook struct {
	ent.Schema
}

// Fields of the Webhook.
func (Webhook) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The project whose events the endpoint is sent; null for an organisation's endpoint."),
		field.Int("organization_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The organisation whose projects' events the endpoint is sent; null for a project's endpoint."),
		field.String("url").
			Validate(lengthBetween(1, 2048)),
		field.Enum("kind").
			GoType(webhooks.Kind("")).
			Default(string(webhooks.Standard)).
			Immutable().
			Annotations(entgql.Type("WebhookKind")),
		field.JSON("events", []webhooks.EventType{}).
			Comment("The event types delivered to the endpoint.").
			Annotations(entgql.Type("[WebhookEventType!]")),
		field.Bool("enabled").
			Default(true),
		field.String("disabled_reason").
			Optional().
			Nillable().
			Comment("Why the service disabled the endpoint (a day of failed deliveries); cleared when it is enabled again."),
		field.Time("failing_since").
			Optional().
			Nillable().
			Comment("The first failed attempt since the last successful one."),
		field.String("secret").
			Sensitive().
			Immutable().
			Comment("The signing secret (whsec_…), shown once at creation.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Mixin of the Webhook.
func (Webhook) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Edges of the Webhook.
func (Webhook) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("webhooks").
			Field("project_id").
			Unique().
			Immutable(),
		edge.From("organization", Organization.Type).
			Ref("webhooks").
			Field("organization_id").
			Unique().
			Immutable(),
		edge.To("deliveries", WebhookDelivery.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the Webhook.
func (Webhook) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id"),
		index.Fields("organization_id"),
	}
}

// Annotations of the Webhook: exactly one owner, a project or an
// organisation.
func (Webhook) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Checks(map[string]string{
			"webhook_one_owner": "(project_id IS NULL) <> (organization_id IS NULL)",
		}),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the Webhook: see access.WebhookPolicy.
func (Webhook) Policy() ent.Policy {
	return access.WebhookPolicy()
}

// WebhookDelivery is one event's message to one endpoint, with every
// attempt at delivering it.
type WebhookDelivery struct {
	ent.Schema
}

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("webhook_id").
			Immutable(),
		field.Int("event_id").
			Immutable().
			Comment("The outbox event delivered."),
		field.String("event_type").
			GoType(webhooks.EventType("")).
			Immutable().
			Annotations(entgql.Type("WebhookEventType")),
		field.String("message_id").
			Immutable().
			Comment("The webhook-id header: the same for every attempt and redelivery."),
		field.Bytes("body").
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").
			NamedValues(
				"Pending", "PENDING",
				"Delivered", "DELIVERED",
				"Failed", "FAILED",
			).
			Default("PENDING"),
		field.Int("attempt_count").
			Default(0),
		field.Int("response_code").
			Optional().
			Nillable().
			Comment("The last attempt's HTTP status; null when no answer came."),
		field.Int("duration_ms").
			Optional().
			Nillable().
			Comment("How long the last attempt took, in milliseconds."),
		field.String("error").
			Optional().
			Nillable().
			Comment("Why the last attempt failed."),
		field.JSON("attempts", []webhooks.Attempt{}).
			Optional().
			Comment("Every attempt, oldest first.").
			Annotations(entgql.Type("[WebhookAttempt!]")),
		field.Time("next_attempt_at").
			Optional().
			Nillable().
			Comment("When the next attempt is due; null once DELIVERED or FAILED."),
		field.Time("retry_until").
			Comment("Attempts stop after this (a day after the event, or after a redelivery).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("created_at").
			Immutable().
			Default(now).
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the WebhookDelivery.
func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("webhook", Webhook.Type).
			Ref("deliveries").
			Field("webhook_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the WebhookDelivery: the sender reads due deliveries; a
// webhook's page reads its deliveries; one event is delivered once per
// endpoint.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("webhook_id", "event_id").
			Unique(),
	}
}

// Annotations of the WebhookDelivery.
func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the WebhookDelivery: see access.WebhookDeliveryPolicy.
func (WebhookDelivery) Policy() ent.Policy {
	return access.WebhookDeliveryPolicy()
}

// WebhookCursor is where the webhook dispatcher stopped reading the outbox:
// the last event it made deliveries of.
type WebhookCursor struct {
	ent.Schema
}

// Fields of the WebhookCursor.
func (WebhookCursor) Fields() []ent.Field {
	return []ent.Field{
		field.Int("last_event_id"),
		field.Time("updated_at").
			Default(now).
			UpdateDefault(now),
	}
}

// Annotations of the WebhookCursor.
func (WebhookCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the WebhookCursor.
func (WebhookCursor) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}
