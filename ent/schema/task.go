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
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/velocity"
)

// Task is a unit of work in a project.
type Task struct {
	ent.Schema
}

// Mixin of the Task.
func (Task) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the Task.
func (Task) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.String("title").
			Validate(lengthBetween(1, 255)).
			Annotations(entgql.OrderField("TITLE")),
		field.Text("description").
			Optional().
			Nillable().
			Validate(lengthBetween(0, 10000)),
		field.Enum("status").
			NamedValues(
				"Todo", "TODO",
				"InProgress", "IN_PROGRESS",
				"Blocked", "BLOCKED",
				"Done", "DONE",
			).
			Default("TODO").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("priority").
			Default(0).
			Validate(intBetween(0, 5)).
			Annotations(entgql.OrderField("PRIORITY")),
		field.Float("estimated_hours").
			Optional().
			Nillable().
			Validate(hoursUpTo(bounds.MaxEstimatedHours)),
		field.Int("github_issue_number").
			Optional().
			Nillable().
			Comment("The GitHub issue opened for the task (its project linked a repository when a NEW_TASK suggestion created it).").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.String("github_issue_url").
			Optional().
			Nillable().
			Comment("The GitHub issue's page.").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.Int("version").
			Default(1).
			Comment("Incremented on every change, so clients and conflict checks can tell the task changed.").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Task.
func (Task) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("tasks").
			Field("project_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		edge.To("status_changes", TaskStatusChange.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipAll),
			),
	}
}

// Indexes of the Task. A project's page of tasks is read from an index
// that starts with project_id and then follows the page's order, ID last
// as the tie-break, so that a page reads only its own rows however many
// tasks the project has: by ID (the default order), by creation and by
// priority. (project_id, status) counts and filters a project's tasks by
// status from the index alone.
func (Task) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "id"),
		index.Fields("project_id", "created_at"),
		index.Fields("project_id", "priority", "id"),
		index.Fields("project_id", "status"),
		index.Fields("status"),
	}
}

// Hooks of the Task.
func (Task) Hooks() []ent.Hook {
	return []ent.Hook{trimFields("title"), bumpVersion(), outbox.TaskChanges(), velocity.StatusHistory()}
}

// Annotations of the Task.
func (Task) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy of the Task: see access.TaskPolicy.
func (Task) Policy() ent.Policy {
	return access.TaskPolicy()
}
