// Package pricing is what each field of the API costs, for the complexity
// limit and the request budget: gqlgen's complexity functions for the
// schema. The checks before execution (graph/doclimit) price operations
// with them.
package pricing

import (
	"time"

	"entgo.io/contrib/entgql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/model"
)

// Complexity prices a connection at its page size times what each item
// selects, so that nested pages of 100 cost what they will cost the
// database.
func Complexity(maxNodes int) generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Projects = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.ProjectOrder, _ *ent.ProjectWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Tasks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.TaskOrder, _ *ent.TaskWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Feedbacks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.FeedbackOrder, _ *ent.FeedbackWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Nodes = func(child int, ids []int) int {
		// More than maxNodes is refused by the resolver, naming the argument.
		return 1 + min(max(len(ids), 1), maxNodes)*child
	}
	// One insights answer costs as much database time as hundreds of rows.
	c.Query.ProjectInsights = func(child int, _ int, _ *time.Time, _ *time.Time) int {
		return InsightsCost + child
	}
	// A search of the project's feedback (by trigrams or embeddings), then
	// the page.
	c.Feedback.Similar = func(child int, first int, _ model.Similarity) int {
		return SimilarCost + max(first, 1)*child
	}
	c.Project.Tasks = c.Query.Tasks
	c.Project.Feedbacks = c.Query.Feedbacks
	c.Project.Adjustments = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.AdjustmentOrder, _ *ent.AdjustmentWhereInput) int {
		return pageCost(child, first, last)
	}
	comments := func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int) int {
		return pageCost(child, first, last)
	}
	c.Feedback.Comments = comments
	c.Adjustment.Comments = comments
	// A project has at most WEBHOOKS_PER_PROJECT webhooks: priced at the default, 10.
	c.Project.Webhooks = func(child int) int { return 1 + 10*child }
	c.Webhook.Deliveries = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.WebhookDeliveryOrder) int {
		return pageCost(child, first, last)
	}
	return c
}

// InsightsCost is what projectInsights costs before its fields: about 35
// ms of PostgreSQL time for 10,000 feedback, like a large page.
const InsightsCost = 500

// SimilarCost is what Feedback.similar costs before its items: an index
// search of the project's feedback by trigrams, or a comparison of at most
// reuse.MaxSemanticCandidates embeddings.
const SimilarCost = 20

func pageCost(child int, first, last *int) int {
	n := 1
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return 1 + max(n, 1)*child
}
