package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/bounds"

	"github.com/feedbackloop/feedbackloop/viewer"
)

// ProjectMember gives a user a role in a project.
type ProjectMember struct {
	ent.Schema
}

// Mixin of the ProjectMember.
func (ProjectMember) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the ProjectMember.
func (ProjectMember) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").Immutable(),
		field.Int("user_id").Immutable(),
		field.Enum("role").
			GoType(viewer.Role("")).
			Annotations(entgql.Type("Role")),
		field.Enum("digest").
			NamedValues("None", "NONE", "Daily", "DAILY", "Weekly", "WEEKLY").
			Default("NONE").
			Comment("The member's email digest of the project: NONE, DAILY or WEEKLY (setDigest; the member's own choice).").
			Annotations(entgql.Type("DigestFrequency")),
		field.String("digest_email").
			Optional().
			Nillable().
			Validate(lengthBetween(3, bounds.EmailBytes)).
			Comment("Where the member's digests go; none: no digest is sent. Shown to the member alone.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("digest_sent_at").
			Optional().
			Nillable().
			Comment("The end of the period the last digest covered (or when the member chose one): the next covers from here.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the ProjectMember.
func (ProjectMember) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("members").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
		edge.From("user", User.Type).
			Ref("memberships").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the ProjectMember: one membership per user and project; the
// privacy filters look memberships up by user.
func (ProjectMember) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "user_id").Unique(),
		index.Fields("user_id", "project_id"),
		// The digest scheduler's scan: members with a digest, by due time.
		index.Fields("digest", "digest_sent_at"),
	}
}

// Annotations of the ProjectMember.
func (ProjectMember) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the ProjectMember: see access.ProjectMemberPolicy.
func (ProjectMember) Policy() ent.Policy {
	return access.ProjectMemberPolicy()
}

// Hooks of the ProjectMember.
func (ProjectMember) Hooks() []ent.Hook {
	return []ent.Hook{access.KeepAnOwner()}
}
