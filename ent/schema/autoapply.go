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

// AutoApplyRule is one rule of a project's auto-apply policy: suggestions
// of its kinds with at least its confidence are applied by the system as
// soon as their analysis completes, when they conflict with nothing (see
// plan.Planner.AutoApply). A project has none until an OWNER writes one.
type AutoApplyRule struct {
	ent.Schema
}

// Fields of the AutoApplyRule.
func (AutoApplyRule) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Immutable(),
		field.Strings("kinds").
			Comment("The kinds of suggestion the rule applies (adjustment types, such as TASK_PRIORITY); the API shows them as AdjustmentType values.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Float("min_confidence").
			Min(0).
			Max(1).
			Comment("The least confidence a suggestion needs to be applied by the rule."),
		field.Int("author_id").
			Comment("Who set the rule (created or last changed it). Its applies are recorded as theirs, and it acts only while they are an OWNER of the project."),
	}
}

// Mixin of the AutoApplyRule.
func (AutoApplyRule) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Edges of the AutoApplyRule.
func (AutoApplyRule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("auto_apply_rules").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
		edge.To("author", User.Type).
			Field("author_id").
			Unique().
			Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.From("applied", Adjustment.Type).
			Ref("auto_apply_rule").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the AutoApplyRule.
func (AutoApplyRule) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id"),
	}
}

// Annotations of the AutoApplyRule.
func (AutoApplyRule) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the AutoApplyRule: see access.AutoApplyRulePolicy.
func (AutoApplyRule) Policy() ent.Policy {
	return access.AutoApplyRulePolicy()
}
