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

// Adjustment is one change to the plan suggested by the analysis of a feedback.
type Adjustment struct {
	ent.Schema
}

// Fields of the Adjustment.
func (Adjustment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("feedback_id").
			Immutable(),
		field.Int("task_id").
			Optional().
			Nillable(),
		field.Enum("adjustment_type").
			NamedValues(
				"TaskPriority", "TASK_PRIORITY",
				"TaskDescription", "TASK_DESCRIPTION",
				"TaskStatus", "TASK_STATUS",
				"NewTask", "NEW_TASK",
				"RemoveTask", "REMOVE_TASK",
				"TaskEstimate", "TASK_ESTIMATE",
				"General", "GENERAL",
			).
			Annotations(entgql.Type("AdjustmentType")),
		field.Text("description").
			Validate(lengthBetween(1, 2000)),
		field.Text("original_value").
			Optional().
			Nillable().
			Comment("What the task held when the analysis was stored, read from the task (its title for REMOVE_TASK; null for NEW_TASK and GENERAL). Applying compares the task with it."),
		field.Text("claimed_original_value").
			Optional().
			Nillable().
			Comment("What the analysis said the task held, when that differs from originalValue: the model misread the task, or the task changed while it thought. Information only; nothing checks against it.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Text("new_value").
			Optional().
			Nillable(),
		field.Text("reasoning").
			Optional().
			Nillable(),
		field.Enum("status").
			NamedValues(
				"Proposed", "PROPOSED",
				"Applied", "APPLIED",
				"Rejected", "REJECTED",
			).
			Default("PROPOSED").
			Comment("A suggestion is PROPOSED until someone applies it to the plan or rejects it.").
			Annotations(entgql.Type("AdjustmentStatus")),
		field.Int("version").
			Default(1).
			Comment("Incremented on every decision (apply, reject, revert)."),
		field.Int("decided_by_id").
			Optional().
			Nillable().
			Comment("Who applied or rejected the suggestion (for an apply by an auto-apply rule, the rule's author)."),
		field.Int("auto_apply_rule_id").
			Optional().
			Nillable().
			Comment("The auto-apply rule that applied the suggestion; null when a person decided (or the rule was deleted since)."),
		field.Time("decided_at").
			Optional().
			Nillable(),
		field.Text("reason").
			Optional().
			Nillable().
			Validate(lengthBetween(0, 1000)).
			Comment("Why it was rejected (or applied), in the decider's words."),
		field.Text("applied_from").
			Optional().
			Nillable().
			Comment("The task's value the apply replaced, so that a revert can restore it.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Text("removed_task").
			Optional().
			Nillable().
			Comment("A JSON snapshot of the task REMOVE_TASK deleted.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("position").
			Comment("Order of the suggestion in the analysis; unique per feedback so a re-delivered job cannot store it twice.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("score").
			Default(0).
			Comment("Up votes minus down votes (voteAdjustment), kept with every vote in its transaction.").
			Annotations(entgql.OrderField("SCORE")),
		field.Float("confidence").Optional().Nillable().Min(0).Max(1).Comment("The model's (or the built-in rules') confidence in the suggestion, 0 to 1: a claim, validated on the way in; null for suggestions made before confidence existed.").Annotations(entgql.OrderField("CONFIDENCE")),
		field.Time("created_at").
			Immutable().
			Default(now),
	}
}

// Edges of the Adjustment.
func (Adjustment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("feedback", Feedback.Type).
			Ref("adjustments").
			Field("feedback_id").
			Unique().
			Required().
			Immutable(),
		edge.To("task", Task.Type).
			Field("task_id").
			Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("comments", Comment.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipWhereInput),
			),
		edge.To("votes", AdjustmentVote.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipAll),
			),
		edge.To("decided_by", User.Type).
			Field("decided_by_id").
			Unique().
			Annotations(
				entsql.OnDelete(entsql.SetNull),
				entgql.Skip(entgql.SkipWhereInput),
			),
		edge.To("auto_apply_rule", AutoApplyRule.Type).
			Field("auto_apply_rule_id").
			Unique().
			Annotations(
				entsql.OnDelete(entsql.SetNull),
				entgql.Skip(entgql.SkipWhereInput),
			),
	}
}

// Indexes of the Adjustment.
func (Adjustment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("feedback_id", "position").Unique(),
		// projectInsights reads each feedback's suggestions from this index
		// alone (an index-only scan), never from the table.
		index.Fields("feedback_id").
			Annotations(entsql.IncludeColumns("adjustment_type", "status", "task_id")),
		index.Fields("task_id"),
		index.Fields("status"),
	}
}

// Annotations of the Adjustment: Project.adjustments pages through them.
func (Adjustment) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the Adjustment: see access.AdjustmentPolicy.
func (Adjustment) Policy() ent.Policy {
	return access.AdjustmentPolicy()
}

// Hooks of the Adjustment.
func (Adjustment) Hooks() []ent.Hook {
	return []ent.Hook{bumpVersion()}
}
