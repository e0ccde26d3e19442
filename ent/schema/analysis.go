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
	"github.com/feedbackloop/feedbackloop/compare"
)

// Analysis is one run of a feedback's analysis by one provider and model:
// the primary one, whose suggestions are the feedback's adjustments, or a
// comparison run (compareAnalyses, COMPARE_SAMPLE_RATE), whose suggestions
// are claims stored with it and never applied.
type Analysis struct {
	ent.Schema
}

// Fields of the Analysis.
func (Analysis) Fields() []ent.Field {
	internal := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.Int("feedback_id").
			Immutable(),
		field.Int("project_id").
			Immutable().
			Comment("The feedback's project, kept for the privacy filter and projectInsights.").
			Annotations(internal),
		field.Bool("primary").
			StorageKey("is_primary").
			Default(false).
			Immutable().
			Comment("True for the analysis whose suggestions are the feedback's adjustments; false for a comparison run."),
		field.String("provider").
			MaxLen(100).
			Comment("The provider asked (openai, anthropic, ollama, googleai or builtin)."),
		field.String("model").
			MaxLen(255),
		field.Enum("status").
			NamedValues(
				"Pending", "PENDING",
				"Completed", "COMPLETED",
				"Failed", "FAILED",
			).
			Default("PENDING").
			Annotations(entgql.Type("AnalysisStatus")),
		field.Int("latency_ms").
			Optional().
			Nillable().
			NonNegative().
			Comment("How long the analyzer took to answer, in milliseconds; null until it did, and for a reused analysis."),
		field.Int("input_tokens").
			Optional().
			Nillable().
			NonNegative(),
		field.Int("output_tokens").
			Optional().
			Nillable().
			NonNegative(),
		field.Float("estimated_cost").
			Optional().
			Nillable().
			Min(0).
			Comment("What the run is estimated to have cost by the price table (LLM_PRICES), in its currency; null without a price or tokens."),
		field.Text("summary").
			Optional().
			Nillable(),
		field.Text("error").
			Optional().
			Nillable().
			Comment("Why the run failed, in words fit for the user."),
		field.JSON("suggestions", []compare.Claim{}).
			Optional().
			Comment("The suggestions the run made, as claims: for reading and comparing, never applied.").
			Annotations(internal),
		field.Int("dropped_suggestions").
			Default(0),
		field.Int("requested_by_id").
			Optional().
			Nillable().
			Immutable().
			Comment("Who asked for the comparison; null for the primary analysis and sampled comparisons.").
			Annotations(internal),
		field.Time("created_at").
			Immutable().
			Default(now),
		field.Time("completed_at").
			Optional().
			Nillable(),
	}
}

// Edges of the Analysis.
func (Analysis) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("feedback", Feedback.Type).
			Ref("analyses").
			Field("feedback_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the Analysis.
func (Analysis) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("feedback_id"),
		// projectInsights: a project's analyses in a window.
		index.Fields("project_id", "created_at"),
	}
}

// Annotations of the Analysis.
func (Analysis) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Table: "analyses"},
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
	}
}

// Policy of the Analysis: see access.AnalysisPolicy.
func (Analysis) Policy() ent.Policy {
	return access.AnalysisPolicy()
}
