package graph

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// MutationFieldCost is what each root field of a mutation adds to the
// operation's cost: writes cost the database more than reads (GitHub
// prices a mutation at 5 points in its secondary limits).
const MutationFieldCost = 5

// operationCost prices an operation as GitHub's GraphQL API does: its
// complexity divided by 100, rounded, at least 1; mutations cost
// MutationFieldCost more per root field. A subscription costs its
// complexity once, when it starts. Parsing and validating a document not
// seen before costs doclimit.Work more.
func operationCost(oc *graphql.OperationContext) int {
	complexity := doclimit.Complexity(oc)
	cost := complexity / 100
	if complexity%100 >= 50 {
		cost++
	}
	cost = max(cost, 1) + doclimit.Work(oc)
	if oc.Operation.Operation == ast.Mutation {
		cost += MutationFieldCost * doclimit.RootFields(oc)
	}
	return cost
}

// rateLimit charges each operation's cost to its client's budget before it
// runs, and refuses it with RATE_LIMITED when the budget is spent. It runs
// after the other limits, which refuse what is too large to price.
type rateLimit struct{ limiter *ratelimit.Limiter }

var (
	_ graphql.HandlerExtension        = rateLimit{}
	_ graphql.OperationContextMutator = rateLimit{}
)

func (rateLimit) ExtensionName() string                   { return "RateLimit" }
func (rateLimit) Validate(graphql.ExecutableSchema) error { return nil }

const rateLimitStatsKey = "RateLimit"

func (x rateLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	st := x.limiter.Spend(ctx, operationCost(oc))
	oc.Stats.SetExtension(rateLimitStatsKey, st)
	if st.Allowed {
		return nil
	}
	return rateLimited(st)
}

func rateLimited(st ratelimit.Status) *gqlerror.Error {
	err := gqlerror.Errorf("rate limit exceeded: this request costs %d points, more than is left of your budget of %d; it refills continuously: retry in %d seconds",
		st.Cost, st.Limit, st.RetryAfterSeconds())
	err.Extensions = limitedExtensions(st)
	return err
}

// chargeDocument charges a document doclimit refused to its client's
// request budget (nil: no budgets).
func chargeDocument(limiter *ratelimit.Limiter) func(context.Context, int) *gqlerror.Error {
	if limiter == nil {
		return nil
	}
	return func(ctx context.Context, points int) *gqlerror.Error {
		if st := limiter.Spend(ctx, points); !st.Allowed {
			return rateLimited(st)
		}
		return nil
	}
}

func limitedExtensions(st ratelimit.Status) map[string]any {
	return map[string]any{
		"code":       CodeRateLimited,
		"retryAfter": st.RetryAfterSeconds(),
		"cost":       st.Cost,
		"limit":      st.Limit,
		"remaining":  st.Remaining,
		"resetAt":    st.ResetAt.UTC().Format(time.RFC3339),
	}
}

// rateLimitStatus answers the rateLimit field from what this operation was
// charged.
func rateLimitStatus(ctx context.Context) (*model.RateLimit, error) {
	st, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(rateLimitStatsKey).(ratelimit.Status)
	if !ok || !st.Known {
		return nil, errRateLimitUnknown
	}
	return &model.RateLimit{Limit: st.Limit, Cost: st.Cost, Remaining: st.Remaining, Used: st.Used, ResetAt: st.ResetAt.UTC().Truncate(time.Second)}, nil
}

var errRateLimitUnknown = errors.New("the rate-limit budget cannot be read right now; retry in a few seconds")

// spendSubmission charges one feedback submission to project's and the
// caller's budgets. A project the caller cannot see is not charged: the
// caller learns it does not exist instead. While Redis cannot keep the
// budgets it returns the admission that counts them from the feedback rows
// instead, in the transaction that stores the submission (nil: admitted).
func (r *Resolver) spendSubmission(ctx context.Context, projectID int, field string) (pipeline.Admission, error) {
	if r.limiter == nil {
		return nil, nil
	}
	if err := r.mustSeeProject(ctx, projectID, field); err != nil {
		return nil, err
	}
	err := r.limiter.SpendSubmission(ctx, projectID)
	if !errors.Is(err, ratelimit.ErrUnavailable) {
		return nil, err
	}
	limiter := r.limiter
	return func(ctx context.Context, s *pipeline.Submissions, user, project int) error {
		return limiter.SpendSubmissionFrom(ctx, s, user, project)
	}, nil
}
