// Package graph serves the GraphQL API: resolvers over the ent client, the
// HTTP handler with its transports, and the error model clients see.
package graph

import (
	"log/slog"
	"sync/atomic"

	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/discussion"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// Resolver is the root of the resolvers gqlgen generates. It holds the
// dependencies resolvers share; it is built once by New.
type Resolver struct {
	client   *ent.Client
	pipeline *pipeline.Pipeline
	bus      *events.Bus
	planner  *plan.Planner
	// discussion writes comments and votes.
	discussion *discussion.Service
	logger     *slog.Logger
	limiter    *ratelimit.Limiter // nil: no budgets
	members    *membershipCache
	// defaultIssuer is the issuer addProjectMember names when its input
	// does not (Config.DefaultIssuer).
	defaultIssuer string
	// budgetCfg is the projects' model budget and the price table's
	// currency (Config.Budget).
	budgetCfg spend.Budget
	// webhooksPerProject bounds a project's webhook endpoints.
	webhooksPerProject int
	// digestsSending is whether this deployment sends digests (Config.DigestsSending).
	digestsSending bool
	webhookSecrets *webhooks.Sealer
	// compare names the models compareAnalyses may run (Config.Compare).
	compare compare.Settings

	// admitted, when set, runs while a subscription is admitted, before
	// its stream is in place (beforeStream): tests commit a membership
	// change in that window (export_test.go).
	admitted atomic.Pointer[func()]
}
