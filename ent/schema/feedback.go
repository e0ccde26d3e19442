package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/feedbackloop/feedbackloop/access"
)

// Feedback is a user's comment on a project (optionally on one of its tasks)
// and the state of its analysis.
type Feedback struct {
	ent.Schema
}

// Mixin of the Feedback.
func (Feedback) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the Feedback.
func (Feedback) Fields() []ent.Field {
	// Fields below feedback_text are owned by the pipeline, so no generic
	// mutation input exposes them.
	readOnly := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	internal := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.Int("project_id").
			Immutable(),
		field.Int("task_id").
			Optional().
			Nillable(),
		field.Int("submitted_by_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The authenticated user who submitted the feedback.").
			Annotations(readOnly),
		field.String("user_name").
			Optional().
			Nillable().
			Validate(lengthBetween(0, 255)),
		field.Text("feedback_text").
			Validate(lengthBetween(1, 10000)),
		field.Enum("status").
			NamedValues(
				"Pending", "PENDING",
				"Processing", "PROCESSING",
				"Completed", "COMPLETED",
				"Failed", "FAILED",
			).
			Default("PENDING").
			Annotations(entgql.OrderField("STATUS"), readOnly),
		field.Int("version").
			Default(1).
			Comment("Incremented on every status change; events carry it so clients can order and de-duplicate them.").
			Annotations(readOnly),
		field.Text("summary").
			Optional().
			Nillable().
			Annotations(readOnly),
		field.Text("error").
			Optional().
			Nillable().
			Comment("Why the analysis failed, in words fit for the user.").
			Annotations(readOnly),
		field.Int("attempts").
			Default(0).
			Comment("How many times a worker has started processing this feedback.").
			Annotations(readOnly),
		field.String("provider").
			Optional().
			Nillable().
			Comment("The analyzer that produced the result (openai, anthropic, ollama, googleai or builtin).").
			Annotations(readOnly),
		field.String("model").
			Optional().
			Nillable().
			Annotations(readOnly),
		field.Text("fallback_reason").
			Optional().
			Nillable().
			Comment("Why a fallback provider produced the result instead of the first configured one (LLM_FALLBACK).").
			Annotations(readOnly),
		field.Int("input_tokens").
			Optional().
			Nillable().
			NonNegative().
			Comment("Input (prompt) tokens of the feedback's analyses, as the provider reported them: every model call, repairs included, and a failed analysis's added to its retry's; null when none was reported. 0 for the built-in rules.").
			Annotations(readOnly),
		field.Int("output_tokens").
			Optional().
			Nillable().
			NonNegative().
			Comment("Output (completion) tokens of the feedback's analyses, counted as inputTokens are; null when none was reported.").
			Annotations(readOnly),
		field.Float("estimated_cost").
			Optional().
			Nillable().
			Min(0).
			Comment("What the feedback's analyses are estimated to have cost by the price table (LLM_PRICES) when each was stored, in its currency (LLM_PRICE_CURRENCY); null when no analysis of it had a price and tokens.").
			Annotations(readOnly),
		field.Int("dropped_suggestions").
			Default(0).
			Comment("Suggestions of the model's answer left out: invalid, or about a task deleted before the analysis was stored.").
			Annotations(readOnly),
		field.Strings("dropped_reasons").
			Optional().
			Comment("Why they were left out (at most 10).").
			Annotations(readOnly),
		field.Time("processed_at").
			Optional().
			Nillable().
			Annotations(readOnly),
		field.String("lease_owner").
			Optional().
			Nillable().
			Comment("The job that currently holds the processing lease.").
			Annotations(internal),
		field.Time("leased_until").
			Optional().
			Nillable().
			Comment("A PROCESSING row whose lease has passed belongs to a dead worker and is re-queued.").
			Annotations(internal),
		// Who retried the feedback last, and when: with submitted_by_id
		// and created_at, the record the submission budgets are counted
		// from when Redis cannot be asked (see pipeline.Submissions).
		field.Int("retried_by_id").
			Optional().
			Nillable().
			Comment("The user who retried the feedback last.").
			Annotations(internal),
		field.Time("retried_at").
			Optional().
			Nillable().
			Comment("When the feedback was retried last.").
			Annotations(internal),
		field.UUID("job_key", uuid.UUID{}).
			Default(uuid.New).
			Immutable().
			Comment("A random key in the IDs of this row's jobs, so that no job made for another row with this ID (in a database restored from a backup, or in another deployment sharing the queue) can shadow or claim it.").
			// Rows stored by SQL alone (and those that predate the column)
			// get one from the database.
			Annotations(internal, entsql.Default("gen_random_uuid()")),
		// Reuse of analyses (see package reuse): the text in the form that
		// decides whether two feedback say the same thing, its hash for exact
		// lookups, and what the analysis saw besides the text. Sensitive keeps
		// them out of JSON, so of the events' snapshots: the text is there
		// already, and readers normalise it again when they need to.
		field.Text("normalized_text").
			Optional().
			Sensitive().
			Nillable().
			Comment("feedback_text normalised (text.Normalize): compared for reuse and similarity (pg_trgm).").
			Annotations(internal),
		field.String("normalized_text_hash").
			Optional().
			Sensitive().
			Nillable().
			MaxLen(64).
			Comment("Hex SHA-256 of normalized_text, for exact lookups (the text may be too long for a B-tree).").
			Annotations(internal),
		field.String("state_fingerprint").
			Optional().
			Sensitive().
			Nillable().
			MaxLen(64).
			Comment("What the stored analysis saw besides the text: project, tasks, target task, instructions (analysis.StateFingerprint).").
			Annotations(internal),
		// Semantic neighbours (FEEDBACK_REUSE_SEMANTIC): the text's
		// embedding, float32s little-endian, and the model that made it
		// (vectors of different models do not compare).
		field.Bytes("embedding").
			Optional().
			Sensitive().
			Comment("The normalised text's embedding (little-endian float32s), when embeddings are on.").
			Annotations(internal),
		field.String("embedding_model").
			Optional().
			Nillable().
			Sensitive().
			MaxLen(255).
			Comment("The model that made embedding.").
			Annotations(internal),
		field.Int("reused_from_id").
			Optional().
			Nillable().
			Comment("The feedback whose analysis this one reuses instead of asking the model (the original, never a reuse itself).").
			Annotations(internal),
	}
}

// Edges of the Feedback.
func (Feedback) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("feedbacks").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
		edge.To("task", Task.Type).
			Field("task_id").
			Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("submitted_by", User.Type).
			Field("submitted_by_id").
			Unique().
			Immutable().
			Annotations(
				entsql.OnDelete(entsql.SetNull),
				entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		// The analysis was reused from another feedback of the project;
		// reuses lists the feedback that reused this one's.
		edge.To("reuses", Feedback.Type).
			// Unbounded and of no use to clients: not in the API.
			Annotations(entsql.OnDelete(entsql.SetNull), entgql.Skip(entgql.SkipAll)).
			From("reused_from").
			Field("reused_from_id").
			Unique().
			Comment("The feedback whose analysis this one reuses instead of a new one (the original analysis); null when it was analysed itself.").
			Annotations(
				entsql.OnDelete(entsql.SetNull),
				entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		edge.To("adjustments", Adjustment.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		edge.To("comments", Comment.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		// Its analyses: the primary one and comparison runs
		// (compareAnalyses), bounded by compare.MaxRunsPerFeedback.
		edge.To("analyses", Analysis.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the Feedback.
func (Feedback) Indexes() []ent.Index {
	return []ent.Index{
		// A project's page of feedback, by ID (the default order) or age.
		index.Fields("project_id", "id"),
		index.Fields("project_id", "created_at"),
		index.Fields("task_id"),
		// The reconciler scans unfinished feedback by status and age.
		index.Fields("status", "updated_at"),
		// The submission budgets, counted from the rows while Redis is
		// down: a user's latest submissions, and the latest retries (few,
		// so the partial index stays small).
		index.Fields("submitted_by_id", "created_at"),
		index.Fields("retried_at").
			Annotations(entsql.IndexWhere("retried_at IS NOT NULL")),
		// A project's model spend this month (LLM_PROJECT_MONTHLY_BUDGET),
		// over the analyses that have a cost only.
		index.Fields("project_id", "processed_at").
			Annotations(entsql.IndexWhere("estimated_cost IS NOT NULL")),
		// Reuse: an analysed feedback of the project with the same state
		// and the same text, and near ones by trigrams (pg_trgm).
		index.Fields("project_id", "state_fingerprint", "normalized_text_hash").
			Annotations(entsql.IndexWhere("state_fingerprint IS NOT NULL")),
		index.Fields("normalized_text").
			Annotations(entsql.IndexType("GIN"), entsql.OpClass("gin_trgm_ops")),
	}
}

// Hooks of the Feedback.
func (Feedback) Hooks() []ent.Hook {
	return []ent.Hook{trimFields("feedback_text", "user_name")}
}

// Annotations of the Feedback.
func (Feedback) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
	}
}

// Policy of the Feedback: see access.FeedbackPolicy.
func (Feedback) Policy() ent.Policy {
	return access.FeedbackPolicy()
}
