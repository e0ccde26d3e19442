package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/feedbackloop/feedbackloop/access"
)

// TaskStatusChange is one change of a task's status, kept so that velocity
// (tasks completed per week, cycle times) can be computed: a row for the
// task's creation (from_status null) and one for every later change,
// written by velocity.StatusHistory in the transaction of the change,
// whichever path makes it. Rows go with their task.
type TaskStatusChange struct {
	ent.Schema
}

// Fields of the TaskStatusChange.
func (TaskStatusChange) Fields() []ent.Field {
	return []ent.Field{
		field.Int("task_id").
			Immutable(),
		field.Int("project_id").
			Immutable().
			Comment("The task's project, so that a project's history is read from one index."),
		field.Enum("from_status").
			Values("TODO", "IN_PROGRESS", "BLOCKED", "DONE").
			Optional().
			Nillable().
			Immutable().
			Comment("The status before the change; null when the task was created (or, for tasks created before history was kept, when it was first recorded)."),
		field.Enum("to_status").
			Values("TODO", "IN_PROGRESS", "BLOCKED", "DONE").
			Immutable(),
		field.Time("changed_at").
			Immutable().
			Default(now),
		field.Int("changed_by").
			Optional().
			Nillable().
			Immutable().
			Comment("The user whose action changed the status; null for the system (GitHub's webhook, seeds). Not a foreign key: history outlives users."),
	}
}

// Edges of the TaskStatusChange.
func (TaskStatusChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("task", Task.Type).
			Ref("status_changes").
			Field("task_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the TaskStatusChange: velocity reads a project's moves to one
// status in a time window, then each completed task's first move to
// IN_PROGRESS.
func (TaskStatusChange) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "to_status", "changed_at"),
		index.Fields("task_id", "to_status", "changed_at"),
	}
}

// Annotations of the TaskStatusChange.
func (TaskStatusChange) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the TaskStatusChange: only the system writes the history (the
// hook, on behalf of whoever changed the task) and reads it (velocity's
// SQL, after checking the viewer may see the project).
func (TaskStatusChange) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}
