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

// APIKey lets a server or script act as the user who created it, or, when
// it names a project, with one role on that project only. Only a SHA-256
// hash of the secret is stored.
type APIKey struct {
	ent.Schema
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			Validate(lengthBetween(1, 100)),
		field.String("prefix").
			Immutable().
			Comment("The secret's first characters, to recognise the key in lists."),
		field.Bytes("hash").
			Unique().
			Immutable().
			Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("user_id").
			Immutable(),
		field.Int("project_id").
			Optional().
			Nillable().
			Immutable(),
		field.Enum("role").
			GoType(viewer.Role("")).
			Optional().
			Nillable().
			Immutable().
			Annotations(entgql.Type("Role")),
		field.Time("created_at").
			Immutable().
			Default(now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("last_used_at").
			Optional().
			Nillable(),
		field.Time("expires_at").
			Optional().
			Nillable().
			Immutable(),
		field.Time("revoked_at").
			Optional().
			Nillable(),
		field.Bytes("admin_key_fingerprint").
			Optional().
			Immutable().
			Sensitive().
			Comment("For a key the ADMIN_API_KEY made: that ADMIN_API_KEY's fingerprint, so that rotating it revokes the key.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).
			Ref("api_keys").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
		edge.From("project", Project.Type).
			Ref("api_keys").
			Field("project_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "created_at"),
		index.Fields("project_id"),
	}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Type("ApiKey"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the APIKey: see access.APIKeyPolicy.
func (APIKey) Policy() ent.Policy {
	return access.APIKeyPolicy()
}
