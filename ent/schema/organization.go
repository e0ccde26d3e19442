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
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Organization owns projects. Its OWNERs and ADMINs administer every project
// in it (as a project OWNER would); its MEMBERs see only the projects that
// grant them a role.
type Organization struct {
	ent.Schema
}

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			Validate(lengthBetween(1, 255)),
		field.Int("personal_user_id").
			Optional().
			Nillable().
			Unique().
			Immutable().
			Comment("The user whose personal organisation this is (their projects go here unless they name another); null for a shared one.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Edge{
		// Paged like every other connection; the privacy filter keeps the
		// projects the caller may see.
		edge.To("projects", Project.Type).
			Annotations(
				entsql.OnDelete(entsql.Restrict),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
			),
		edge.To("members", OrganizationMember.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden),
		// The organisation's own endpoints, sent the events of all its
		// projects; seen by its OWNERs and ADMINs only.
		edge.To("webhooks", Webhook.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
			),
	}
}

// Annotations of the Organization: a Relay node (node(id:) answers its
// members, as every other query does), changed through hand-written
// mutations only.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the Organization: see access.OrganizationPolicy.
func (Organization) Policy() ent.Policy {
	return access.OrganizationPolicy()
}

// Hooks of the Organization.
func (Organization) Hooks() []ent.Hook {
	return []ent.Hook{trimFields("name"), access.OrgOwnerOnCreate(), access.KeepPersonalOrganizations()}
}

// OrganizationMember gives a user a role in an organisation.
type OrganizationMember struct {
	ent.Schema
}

// Mixin of the OrganizationMember.
func (OrganizationMember) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the OrganizationMember.
func (OrganizationMember) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Immutable(),
		field.Int("user_id").Immutable(),
		field.Enum("role").GoType(viewer.OrgRole("")),
	}
}

// Edges of the OrganizationMember.
func (OrganizationMember) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("members").
			Field("organization_id").
			Unique().
			Required().
			Immutable(),
		edge.To("user", User.Type).
			Field("user_id").
			Unique().
			Required().
			Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the OrganizationMember: one membership per user and
// organisation; the privacy filters look them up by user.
func (OrganizationMember) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "user_id").Unique(),
		index.Fields("user_id", "role", "organization_id"),
	}
}

// Annotations of the OrganizationMember.
func (OrganizationMember) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the OrganizationMember: see access.OrganizationMemberPolicy.
func (OrganizationMember) Policy() ent.Policy {
	return access.OrganizationMemberPolicy()
}

// Hooks of the OrganizationMember.
func (OrganizationMember) Hooks() []ent.Hook {
	return []ent.Hook{access.KeepAnOrgOwner()}
}
