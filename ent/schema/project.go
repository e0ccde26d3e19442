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

// Project groups tasks and the feedback given on them.
type Project struct {
	ent.Schema
}

// Mixin of the Project.
func (Project) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the Project.
func (Project) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			Validate(lengthBetween(1, 255)).
			Annotations(entgql.OrderField("NAME")),
		field.Text("description").
			Optional().
			Nillable().
			Validate(lengthBetween(0, 10000)),
		field.Enum("status").
			NamedValues(
				"Active", "ACTIVE",
				"OnHold", "ON_HOLD",
				"Completed", "COMPLETED",
				"Archived", "ARCHIVED",
			).
			Default("ACTIVE").
			Annotations(entgql.OrderField("STATUS")),
		field.Bool("viewers_may_comment").
			Default(true).
			Comment("Whether VIEWERs may comment on the project's feedback and suggestions; EDITORs and OWNERs always may. Only an OWNER changes it."),
		field.Int("organization_id").
			Immutable().
			Comment("The organisation owning the project; its OWNERs and ADMINs administer it. Set on creation (the creator's personal organisation unless named).").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Project.
func (Project) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("projects").
			Field("organization_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("tasks", Task.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		edge.To("feedbacks", Feedback.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		edge.To("members", ProjectMember.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		edge.To("comments", Comment.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipAll),
			),
		edge.To("api_keys", APIKey.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipAll),
			),
		edge.To("webhooks", Webhook.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
			),
		edge.To("auto_apply_rules", AutoApplyRule.Type).
			Comment("The rules of the project's auto-apply policy (none: off).").
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
			),
		edge.To("github_repository", GitHubRepository.Type).
			Unique().
			Comment("The GitHub repository linked (linkGitHubRepository); null when none is.").
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
			),
	}
}

// Indexes of the Project.
func (Project) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status"),
		index.Fields("organization_id"),
	}
}

// Hooks of the Project.
func (Project) Hooks() []ent.Hook {
	return []ent.Hook{trimFields("name"), access.OrganizationOnCreate(), access.OwnerOnCreate()}
}

// Annotations of the Project.
func (Project) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy of the Project: see access.ProjectPolicy.
func (Project) Policy() ent.Policy {
	return access.ProjectPolicy()
}
