package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// User is a person or service known by the subject of its credentials. It is
// created the first time a subject is seen (a token, or addProjectMember).
// Users are told apart by kind, issuer and subject together: a token's
// subject is an EXTERNAL user of its issuer, and the operator's identities
// are users of their own kinds, which no token can name.
type User struct {
	ent.Schema
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").
			GoType(viewer.UserKind("")).
			Default(string(viewer.External)).
			Immutable().
			Comment("EXTERNAL (a token's subject), ADMIN_KEY or LOCAL_ADMIN.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("issuer").
			Default("").
			Immutable().
			Validate(lengthBetween(0, 255)).
			Comment("The token's iss claim (\"\" when it has none); \"\" for the built-in kinds.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("subject").
			Immutable().
			Validate(lengthBetween(1, 255)).
			Comment("The JWT sub claim, or the built-in admin's name."),
		field.String("name").
			Optional().
			Nillable().
			Validate(lengthBetween(0, 255)).
			Comment("Display name from the token's name, preferred_username or email claim."),
		field.Time("created_at").
			Immutable().
			Default(now),
		field.Time("last_seen_at").
			Default(now).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the User. None is filterable from GraphQL: a where-input that
// walks user → memberships → project could probe projects the caller may not
// see, because edge predicates are plain SQL that privacy rules do not
// filter.
func (User) Edges() []ent.Edge {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Edge{
		edge.To("memberships", ProjectMember.Type).Annotations(hidden),
		edge.To("api_keys", APIKey.Type).Annotations(hidden),
		edge.From("feedbacks", Feedback.Type).Ref("submitted_by").Annotations(hidden),
		edge.From("mentioned_in", Comment.Type).Ref("mentions").Annotations(hidden),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind", "issuer", "subject").Unique(),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the User: see access.UserPolicy.
func (User) Policy() ent.Policy {
	return access.UserPolicy()
}
