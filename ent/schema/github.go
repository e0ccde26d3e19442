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

// GitHubRepository is the GitHub repository a project links (see the
// integrations/github package): applied NEW_TASK suggestions open issues
// there, and closing such an issue marks its task DONE. Its token and
// webhook secret are stored sealed and never read back.
type GitHubRepository struct {
	ent.Schema
}

// Fields of the GitHubRepository.
func (GitHubRepository) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Unique().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("owner").
			Validate(lengthBetween(1, 100)),
		field.String("repo").
			Validate(lengthBetween(1, 100)),
		field.String("token").
			Sensitive().
			Comment("The access token issues are opened with, sealed with WEBHOOK_SECRET_KEY.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("webhook_secret").
			Sensitive().
			Comment("The secret GitHub signs its webhook deliveries with (X-Hub-Signature-256), sealed.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("linked_at").
			Default(now).
			UpdateDefault(now),
	}
}

// Edges of the GitHubRepository.
func (GitHubRepository) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("github_repository").
			Field("project_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the GitHubRepository: webhooks find the projects linking a
// repository.
func (GitHubRepository) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("owner", "repo"),
	}
}

// Annotations of the GitHubRepository.
func (GitHubRepository) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("github_repositories"),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the GitHubRepository: see access.GitHubRepositoryPolicy.
func (GitHubRepository) Policy() ent.Policy {
	return access.GitHubRepositoryPolicy()
}

// GitHubIssue is the issue an applied NEW_TASK suggestion's task is to
// have: written by the worker's GitHub dispatcher from the outbox, once
// per task, and sent until GitHub answers.
type GitHubIssue struct {
	ent.Schema
}

// Fields of the GitHubIssue.
func (GitHubIssue) Fields() []ent.Field {
	return []ent.Field{
		field.Int("task_id").
			Unique().
			Immutable().
			Comment("The task (not an edge: a deleted task leaves its issue's row, and the issue is skipped)."),
		field.Int("project_id").
			Immutable(),
		field.String("owner").
			Immutable(),
		field.String("repo").
			Immutable(),
		field.Enum("status").
			NamedValues(
				"Pending", "PENDING",
				"Created", "CREATED",
				"Skipped", "SKIPPED",
				"Failed", "FAILED",
			).
			Default("PENDING"),
		field.Int("attempt_count").
			Default(0),
		field.Time("next_attempt_at").
			Optional().
			Nillable(),
		field.Int("number").
			Optional().
			Nillable(),
		field.String("error").
			Optional().
			Nillable(),
		field.String("closed_delivery").
			Optional().
			Nillable().
			Comment("The X-GitHub-Delivery of the last close handled: its redelivery changes nothing, even if the task was reopened since."),
		field.Time("created_at").
			Immutable().
			Default(now),
	}
}

// Indexes of the GitHubIssue: due issues; an issue's webhook finds its task.
func (GitHubIssue) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("owner", "repo", "number"),
	}
}

// Annotations of the GitHubIssue.
func (GitHubIssue) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("github_issues"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the GitHubIssue.
func (GitHubIssue) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}

// GitHubCursor is where the GitHub dispatcher stopped reading the outbox.
type GitHubCursor struct {
	ent.Schema
}

// Fields of the GitHubCursor.
func (GitHubCursor) Fields() []ent.Field {
	return []ent.Field{
		field.Int("last_event_id"),
		field.Time("updated_at").
			Default(now).
			UpdateDefault(now),
	}
}

// Annotations of the GitHubCursor.
func (GitHubCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("github_cursors"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the GitHubCursor.
func (GitHubCursor) Policy() ent.Policy {
	return access.SystemOnlyPolicy()
}
