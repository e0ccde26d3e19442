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
)

// Comment is a member's remark on a feedback or on a suggestion
// (adjustment): exactly one of the two. Deleting a comment deletes its row.
type Comment struct {
	ent.Schema
}

// Fields of the Comment.
func (Comment) Fields() []ent.Field {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.Int("project_id").
			Immutable().
			Comment("The project of the feedback or suggestion, kept so that access and events need no join.").
			Annotations(hidden),
		field.Int("feedback_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The feedback commented on; null for a comment on a suggestion."),
		field.Int("adjustment_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The suggestion commented on; null for a comment on a feedback."),
		field.Int("author_id").
			Optional().
			Nillable().
			Immutable().
			Annotations(hidden),
		field.Text("body").
			Validate(lengthBetween(1, bounds.MaxCommentChars)).
			Comment("The text, 1 to 5,000 characters; @subject names a member."),
		field.Int("version").
			Default(1).
			Comment("Incremented on every edit; events carry it."),
		field.Time("created_at").
			Immutable().
			Default(now),
		field.Time("edited_at").
			Optional().
			Nillable().
			Comment("When the body was last changed; null if never."),
	}
}

// Edges of the Comment.
func (Comment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("comments").
			Field("project_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("feedback", Feedback.Type).
			Ref("comments").
			Field("feedback_id").
			Unique().
			Immutable(),
		edge.From("adjustment", Adjustment.Type).
			Ref("comments").
			Field("adjustment_id").
			Unique().
			Immutable(),
		edge.To("author", User.Type).
			Field("author_id").
			Unique().
			Immutable().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("mentions", User.Type).
			Comment("The project members the body names as @subject when it was written."),
	}
}

// Indexes of the Comment: a thread's page, by ID.
func (Comment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("feedback_id", "id"),
		index.Fields("adjustment_id", "id"),
		index.Fields("project_id"),
	}
}

// Annotations of the Comment.
func (Comment) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Hooks of the Comment.
func (Comment) Hooks() []ent.Hook {
	return []ent.Hook{trimFields("body"), bumpVersion()}
}

// Policy of the Comment: see access.CommentPolicy.
func (Comment) Policy() ent.Policy {
	return access.CommentPolicy()
}

// AdjustmentVote is one member's up or down vote on a suggestion.
type AdjustmentVote struct {
	ent.Schema
}

// Fields of the AdjustmentVote.
func (AdjustmentVote) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").Immutable(),
		field.Int("adjustment_id").Immutable(),
		field.Int("user_id").Immutable(),
		field.Int("value").
			Validate(intBetween(-1, 1)).
			Comment("+1 (UP) or -1 (DOWN); no row: no vote."),
		field.Time("created_at").Immutable().Default(now),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Edges of the AdjustmentVote.
func (AdjustmentVote) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("adjustment", Adjustment.Type).
			Ref("votes").
			Field("adjustment_id").
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

// Indexes of the AdjustmentVote: one vote per user and suggestion.
func (AdjustmentVote) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("adjustment_id", "user_id").Unique(),
		index.Fields("project_id"),
	}
}

// Annotations of the AdjustmentVote: not in the GraphQL schema (Adjustment
// has score and viewerVote).
func (AdjustmentVote) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the AdjustmentVote: see access.VotePolicy.
func (AdjustmentVote) Policy() ent.Policy {
	return access.VotePolicy()
}
