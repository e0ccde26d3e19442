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
)

// Notification is an email owed to one member (see the notify package):
// written in the transaction of what it tells (an endpoint disabled, a
// comment mentioning the member), sent later by the workers. Who receives
// it and where are decided again when it is sent.
type Notification struct {
	ent.Schema
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").
			NamedValues(
				"WebhookDisabled", "WEBHOOK_DISABLED",
				"Mention", "MENTION",
			).
			Immutable(),
		field.Int("project_id").
			Immutable(),
		field.Int("user_id").
			Immutable().
			Comment("The member told."),
		field.Int("comment_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The comment of a MENTION."),
		field.JSON("detail", map[string]string{}).
			Optional().
			Immutable().
			Comment("What a WEBHOOK_DISABLED says: the endpoint's id, host and the reason."),
		field.Enum("status").
			NamedValues(
				"Pending", "PENDING",
				"Sent", "SENT",
				"Failed", "FAILED",
				"Dropped", "DROPPED",
			).
			Default("PENDING").
			Comment("SENT is set when a worker takes it, before it sends; DROPPED: the member may no longer be told (no role, no address)."),
		field.Int("attempt_count").
			Default(0),
		field.String("error").
			Optional().
			Nillable().
			Comment("Why the last attempt failed."),
		field.Time("next_attempt_at").
			Optional().
			Nillable().
			Comment("When the next attempt is due; null once SENT, FAILED or DROPPED."),
		field.Time("created_at").
			Immutable().
			Default(now),
		field.Time("sent_at").
			Optional().
			Nillable(),
	}
}

// Edges of the Notification: it goes with its project, member and comment.
func (Notification) Edges() []ent.Edge {
	cascade := entsql.OnDelete(entsql.Cascade)
	return []ent.Edge{
		edge.To("project", Project.Type).
			Field("project_id").
			Unique().
			Required().
			Immutable().
			Annotations(cascade),
		edge.To("user", User.Type).
			Field("user_id").
			Unique().
			Required().
			Immutable().
			Annotations(cascade),
		edge.To("comment", Comment.Type).
			Field("comment_id").
			Unique().
			Immutable().
			Annotations(cascade),
	}
}

// Indexes of the Notification: the sender reads the due ones; a comment
// mentions a member once, however often it is edited.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("comment_id", "user_id").
			Unique(),
	}
}

// Annotations of the Notification: not in the API.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the Notification: the system's alone.
func (Notification) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}
