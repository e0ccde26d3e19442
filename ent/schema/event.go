package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/feedbackloop/feedbackloop/access"
)

// Event is the transactional outbox: every change subscribers see is written
// here in the same transaction as the change, and relayed to Redis pub/sub
// in ID order (see the outbox package). IDs grow in commit order.
type Event struct {
	ent.Schema
}

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Immutable().
			Comment("Not a foreign key: a project's events outlive it until pruned."),
		field.String("kind").
			Immutable(),
		field.Int("object_id").
			Immutable(),
		field.Int("version").
			Immutable(),
		field.Int("actor_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The user whose action caused the change; null for the system."),
		field.JSON("payload", json.RawMessage{}).
			Immutable().
			Comment("A snapshot of what subscribers select."),
		field.JSON("trace_context", map[string]string{}).
			Optional().
			Immutable().
			Comment("The W3C trace context of the change, so that its publication joins the change's trace."),
		field.Time("created_at").
			Immutable().
			Default(now),
	}
}

// Indexes of the Event: replay reads a project's events after a cursor;
// pruning reads by age.
func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "id"),
		index.Fields("created_at"),
	}
}

// Annotations of the Event.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("outbox_events"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the Event: only the system reads and writes the outbox.
func (Event) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}

// OutboxCursor is where the relay stopped: the last event it published.
type OutboxCursor struct {
	ent.Schema
}

// Fields of the OutboxCursor.
func (OutboxCursor) Fields() []ent.Field {
	return []ent.Field{
		field.Int("last_event_id"),
		field.Time("updated_at").
			Default(now).
			UpdateDefault(now),
	}
}

// Annotations of the OutboxCursor.
func (OutboxCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the OutboxCursor.
func (OutboxCursor) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}
