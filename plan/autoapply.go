package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/autoapplyrule"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Limits of auto-apply policies.
const (
	// MaxAutoApplyRules is the most rules a project's policy may have.
	MaxAutoApplyRules = 10
	// MaxDryRunDays is the longest look back of a dry run.
	MaxDryRunDays = 90
)

// AutoApplicable says whether rules may name a kind: every kind whose apply
// a revert can undo. A removal cannot be reverted (its task is gone), so
// only people remove tasks.
func AutoApplicable(k suggestion.Kind) bool {
	return !(k.TargetsTask && k.Field == "")
}

// Matches says whether rule would apply a suggestion of type t with
// confidence c (nil: made without one, never applied by a rule).
func Matches(rule *ent.AutoApplyRule, t adjustment.AdjustmentType, c *float64) bool {
	return c != nil && *c >= rule.MinConfidence && slices.Contains(rule.Kinds, string(t))
}

// AutoApplied is what AutoApply did with a feedback's suggestions.
type AutoApplied struct {
	Applied []Result
	// Conflicts counts matched suggestions left PROPOSED because their task
	// changed since the analysis (or was deleted).
	Conflicts int
}

// AutoApply applies the PROPOSED suggestions of a completed feedback that
// a rule of its project's auto-apply policy matches, each as Apply applies a
// person's, in its own transaction, without force: one whose task no longer
// holds its original value is left PROPOSED. Each is recorded as decided by
// the rule's author and names the rule (the first that matches, by ID). A
// rule acts only while its author is an OWNER of the project. It runs as
// the system, once the analysis is stored; running it again (a re-delivered
// job) applies nothing twice, since only PROPOSED suggestions are applied.
func (p *Planner) AutoApply(ctx context.Context, feedbackID int) (AutoApplied, error) {
	ctx = access.SystemContext(ctx)
	var out AutoApplied
	fb, err := p.client.Feedback.Get(ctx, feedbackID)
	if err != nil {
		return out, err
	}
	if fb.Status != feedback.StatusCompleted {
		return out, nil
	}
	all, err := p.client.AutoApplyRule.Query().Where(autoapplyrule.ProjectID(fb.ProjectID)).
		WithAuthor().Order(ent.Asc(autoapplyrule.FieldID)).All(ctx)
	if err != nil || len(all) == 0 {
		return out, err
	}
	var rules []*ent.AutoApplyRule
	for _, r := range all {
		author := r.Edges.Author
		admin := author.Kind == viewer.AdminKey || author.Kind == viewer.LocalAdmin // OWNER everywhere, as their credentials are
		role, ok, err := access.RoleIn(ctx, p.client, &viewer.Viewer{UserID: author.ID, UserKind: author.Kind, Admin: admin}, fb.ProjectID)
		if err != nil {
			return out, err
		}
		if ok && role.AtLeast(viewer.Owner) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return out, nil
	}
	adjs, err := p.client.Adjustment.Query().
		Where(adjustment.FeedbackID(feedbackID), adjustment.StatusEQ(adjustment.StatusProposed), adjustment.ConfidenceNotNil()).
		Order(ent.Asc(adjustment.FieldPosition)).All(ctx)
	if err != nil {
		return out, err
	}
	for _, a := range adjs {
		kind, ok := suggestion.ByType(a.AdjustmentType)
		if !ok || !AutoApplicable(kind) {
			continue
		}
		i := slices.IndexFunc(rules, func(r *ent.AutoApplyRule) bool { return Matches(r, a.AdjustmentType, a.Confidence) })
		if i < 0 {
			continue
		}
		r, err := p.applyFor(ctx, a.ID, rules[i])
		var conflict *ConflictError
		var state *StateError
		switch {
		case errors.As(err, &conflict):
			out.Conflicts++
		case errors.As(err, &state), errors.Is(err, ErrNotFound):
			// decided meanwhile (by a person, or an earlier run)
		case err != nil:
			return out, fmt.Errorf("auto-apply suggestion %d: %w", a.ID, err)
		default:
			out.Applied = append(out.Applied, r)
		}
	}
	return out, nil
}

// DryRun is what a policy's rules would have applied of the suggestions
// made since a time, by the suggestions' kind and confidence. Whether
// each would have conflicted cannot be known after the fact; the counts are
// an upper bound.
type DryRun struct {
	Since       time.Time
	Suggestions int // made since, of every kind
	WouldApply  int // of those, matched by a rule
	// Of WouldApply, by what became of them: applied by people (or a rule),
	// rejected, still proposed.
	Applied, Rejected, Proposed int
	ByRule                      []int // WouldApply by the rule that matches first, in the rules' order
}

// DryRun reports what rules would have applied of a project's suggestions
// made since since, as the viewer of ctx sees them: one count per rule.
func (p *Planner) DryRun(ctx context.Context, projectID int, rules []*ent.AutoApplyRule, since time.Time) (DryRun, error) {
	out := DryRun{Since: since, ByRule: make([]int, len(rules))}
	base := []predicate.Adjustment{
		adjustment.HasFeedbackWith(feedback.ProjectID(projectID)),
		adjustment.CreatedAtGTE(since),
	}
	n, err := p.client.Adjustment.Query().Where(base...).Count(ctx)
	if err != nil {
		return out, err
	}
	out.Suggestions = n
	var earlier []predicate.Adjustment
	for i, r := range rules {
		var kinds []adjustment.AdjustmentType
		for _, t := range r.Kinds {
			if k, ok := suggestion.ByType(adjustment.AdjustmentType(t)); ok && AutoApplicable(k) {
				kinds = append(kinds, k.Type)
			}
		}
		match := adjustment.And(adjustment.AdjustmentTypeIn(kinds...), adjustment.ConfidenceGTE(r.MinConfidence))
		where := append(slices.Clone(base), match)
		if len(earlier) > 0 {
			where = append(where, adjustment.Not(adjustment.Or(earlier...)))
		}
		earlier = append(earlier, match)
		var counts []struct {
			Status adjustment.Status `json:"status"`
			Count  int               `json:"count"`
		}
		if err := p.client.Adjustment.Query().Where(where...).
			GroupBy(adjustment.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &counts); err != nil {
			return out, err
		}
		for _, c := range counts {
			out.ByRule[i] += c.Count
			out.WouldApply += c.Count
			switch c.Status {
			case adjustment.StatusApplied:
				out.Applied += c.Count
			case adjustment.StatusRejected:
				out.Rejected += c.Count
			default:
				out.Proposed += c.Count
			}
		}
	}
	return out, nil
}

// applyFor applies one suggestion for a rule, in its own transaction (its
// result unwrapped from it by InTx).
func (p *Planner) applyFor(ctx context.Context, id int, rule *ent.AutoApplyRule) (Result, error) {
	return store.InTx(ctx, p.client, func(tx *ent.Tx) (Result, error) { return p.apply(ctx, tx, id, false, rule) })
}
