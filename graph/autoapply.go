package graph

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/autoapplyrule"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/viewer"
)

const manageAutoApply = "manage auto-apply rules"

// autoApplyRuleProblems checks a rule, field naming it ("input.rule",
// "rules[2]"), and returns its kinds without repeats.
func autoApplyRuleProblems(field string, in *model.AutoApplyRuleInput) ([]string, []error) {
	var ps []error
	var kinds []string
	if len(in.Kinds) == 0 {
		ps = append(ps, &InputError{Field: field + ".kinds", Problem: "must name at least one kind of suggestion"})
	}
	for _, t := range in.Kinds {
		k, ok := suggestion.ByType(t)
		if !ok || !plan.AutoApplicable(k) {
			ps = append(ps, &InputError{Field: field + ".kinds", Problem: fmt.Sprintf("cannot include %s: a rule applies only what a revert can undo, and a removed task cannot be restored", t)})
			break
		}
		if !slices.Contains(kinds, string(t)) {
			kinds = append(kinds, string(t))
		}
	}
	if c := in.MinConfidence; math.IsNaN(c) || c < 0 || c > 1 {
		ps = append(ps, &InputError{Field: field + ".minConfidence", Problem: "must be from 0 to 1"})
	}
	return kinds, ps
}

// createAutoApplyRule adds a rule to a project's policy, within
// plan.MaxAutoApplyRules: the project's row is locked while its rules are
// counted, so two concurrent creations cannot both take the last place.
func (r *Resolver) createAutoApplyRule(ctx context.Context, in model.CreateAutoApplyRuleInput) (*ent.AutoApplyRule, error) {
	if err := r.mustSeeProject(ctx, in.ProjectID, "input.projectID"); err != nil {
		return nil, err
	}
	if err := access.Require(ctx, r.client, in.ProjectID, viewer.Owner, autoapplyrule.Label, manageAutoApply); err != nil {
		return nil, err
	}
	kinds, ps := autoApplyRuleProblems("input.rule", in.Rule)
	if err := reportAll(ctx, ps); err != nil {
		return nil, err
	}
	author, err := ruleAuthor(ctx)
	if err != nil {
		return nil, err
	}
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.AutoApplyRule, error) {
		sys := access.SystemContext(ctx)
		if _, err := tx.Project.Query().Where(project.ID(in.ProjectID)).ForUpdate().OnlyID(sys); err != nil {
			return nil, err
		}
		n, err := tx.AutoApplyRule.Query().Where(autoapplyrule.ProjectID(in.ProjectID)).Count(sys)
		if err != nil {
			return nil, err
		}
		if n >= plan.MaxAutoApplyRules {
			return nil, &InputError{Field: "input.projectID", Problem: fmt.Sprintf(
				"the project has %d auto-apply rules, the most it may have: change or delete one instead", n)}
		}
		return tx.AutoApplyRule.Create().
			SetProjectID(in.ProjectID).
			SetKinds(kinds).
			SetMinConfidence(in.Rule.MinConfidence).
			SetAuthorID(author).
			Save(ctx)
	})
}

// ruleAuthor is the person a rule is recorded as set by: the caller, who
// must be a person (an admin key or a project key is no one to answer
// for it).
func ruleAuthor(ctx context.Context) (int, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.UserID == 0 {
		return 0, &access.ForbiddenError{Action: "set auto-apply rules without acting as a person"}
	}
	return v.UserID, nil
}

// updateAutoApplyRule changes a rule; the caller becomes its author.
func (r *Resolver) updateAutoApplyRule(ctx context.Context, id int, in model.AutoApplyRuleInput) (*ent.AutoApplyRule, error) {
	rule, err := r.client.AutoApplyRule.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &NotFoundError{Field: "id", Type: "AutoApplyRule"}
	}
	if err != nil {
		return nil, err
	}
	if err := access.Require(ctx, r.client, rule.ProjectID, viewer.Owner, autoapplyrule.Label, manageAutoApply); err != nil {
		return nil, err
	}
	kinds, ps := autoApplyRuleProblems("input", &in)
	if err := reportAll(ctx, ps); err != nil {
		return nil, err
	}
	author, err := ruleAuthor(ctx)
	if err != nil {
		return nil, err
	}
	return r.client.AutoApplyRule.UpdateOne(rule).
		SetKinds(kinds).
		SetMinConfidence(in.MinConfidence).
		SetAuthorID(author).
		Save(ctx)
}

// deleteAutoApplyRule deletes a rule; what it applied stays applied.
func (r *Resolver) deleteAutoApplyRule(ctx context.Context, id int) (int, error) {
	rule, err := r.client.AutoApplyRule.Get(ctx, id)
	if ent.IsNotFound(err) {
		return 0, &NotFoundError{Field: "id", Type: "AutoApplyRule"}
	}
	if err != nil {
		return 0, err
	}
	return id, r.client.AutoApplyRule.DeleteOne(rule).Exec(ctx)
}

// autoApplyDryRun counts what the project's rules, or the rules given,
// would have applied of the last days' suggestions.
func (r *Resolver) autoApplyDryRun(ctx context.Context, projectID int, days int, given []*model.AutoApplyRuleInput) (*model.AutoApplyDryRun, error) {
	if err := r.mustSeeProject(ctx, projectID, "projectID"); err != nil {
		return nil, err
	}
	if err := access.Require(ctx, r.client, projectID, viewer.Owner, autoapplyrule.Label, "try auto-apply rules"); err != nil {
		return nil, err
	}
	var ps []error
	if days < 1 || days > plan.MaxDryRunDays {
		ps = append(ps, &InputError{Field: "days", Problem: fmt.Sprintf("must be from 1 to %d", plan.MaxDryRunDays)})
	}
	if len(given) > plan.MaxAutoApplyRules {
		ps = append(ps, &InputError{Field: "rules", Problem: fmt.Sprintf("may hold at most %d rules, as a project may", plan.MaxAutoApplyRules)})
	}
	var rules []*ent.AutoApplyRule
	if given != nil && len(ps) == 0 {
		for i, in := range given {
			kinds, more := autoApplyRuleProblems(fmt.Sprintf("rules[%d]", i), in)
			ps = append(ps, more...)
			rules = append(rules, &ent.AutoApplyRule{Kinds: kinds, MinConfidence: in.MinConfidence})
		}
	}
	if err := reportAll(ctx, ps); err != nil {
		return nil, err
	}
	if given == nil {
		var err error
		rules, err = r.client.AutoApplyRule.Query().Where(autoapplyrule.ProjectID(projectID)).Order(ent.Asc(autoapplyrule.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
	}
	d, err := r.planner.DryRun(ctx, projectID, rules, time.Now().UTC().AddDate(0, 0, -days))
	if err != nil {
		return nil, err
	}
	return &model.AutoApplyDryRun{Since: d.Since, Suggestions: d.Suggestions, WouldApply: d.WouldApply,
		Applied: d.Applied, Rejected: d.Rejected, Proposed: d.Proposed, ByRule: d.ByRule}, nil
}

// autoApplyRuleKinds shows a rule's kinds as the API's enum.
func autoApplyRuleKinds(rule *ent.AutoApplyRule) []adjustment.AdjustmentType {
	out := make([]adjustment.AdjustmentType, len(rule.Kinds))
	for i, k := range rule.Kinds {
		out[i] = adjustment.AdjustmentType(k)
	}
	return out
}
