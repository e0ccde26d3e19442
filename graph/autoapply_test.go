package graph_test

import (
	"fmt"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

// Rules are checked before they are stored (no REMOVE_TASK, a confidence
// from 0 to 1, at most 10 a project), the dry run's window is bounded, and
// the dry run counts what the project's rules, or those given, would have
// applied.
func TestAutoApplyRulesOverTheAPI(t *testing.T) {
	e := newSecureEnv(t)
	owner := bearer(t, "aa-owner")
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, owner, `mutation { createProject(input: {name: "aa"}) { id } }`, nil, &p)
	project := p.CreateProject.ID
	create := `mutation($p: ID!, $k: [AdjustmentType!]!, $c: Float!) { createAutoApplyRule(input: {projectID: $p, rule: {kinds: $k, minConfidence: $c}}) { id kinds minConfidence } }`
	for name, vars := range map[string]map[string]any{
		"REMOVE_TASK":     {"p": project, "k": []string{"TASK_PRIORITY", "REMOVE_TASK"}, "c": 0.5},
		"no kinds":        {"p": project, "k": []string{}, "c": 0.5},
		"confidence 1.5":  {"p": project, "k": []string{"TASK_PRIORITY"}, "c": 1.5},
		"confidence -0.1": {"p": project, "k": []string{"TASK_PRIORITY"}, "c": -0.1},
	} {
		checkOutcome(t, name, gqltest.PostAs(t, e.url, owner, create, vars), graph.CodeBadUserInput)
	}
	var rule struct {
		CreateAutoApplyRule struct {
			ID    string
			Kinds []string
		}
	}
	e.as(t, owner, create, map[string]any{"p": project, "k": []string{"TASK_PRIORITY", "TASK_ESTIMATE", "TASK_PRIORITY"}, "c": 0.8}, &rule)
	if k := rule.CreateAutoApplyRule.Kinds; len(k) != 2 || k[0] != "TASK_PRIORITY" || k[1] != "TASK_ESTIMATE" {
		t.Errorf("kinds %v, want [TASK_PRIORITY TASK_ESTIMATE]", k)
	}

	// Suggestions of the last days: two the rule matches, one below it.
	sys := accesstest.System()
	fb := e.client.Feedback.Create().SetProjectID(dbID(t, project)).SetFeedbackText("f").SetStatus(feedback.StatusCompleted).SaveX(sys)
	for i, s := range []struct {
		typ adjustment.AdjustmentType
		c   float64
	}{{adjustment.AdjustmentTypeTaskPriority, 0.9}, {adjustment.AdjustmentTypeTaskEstimate, 0.8}, {adjustment.AdjustmentTypeTaskPriority, 0.7}, {adjustment.AdjustmentTypeTaskStatus, 1}} {
		e.client.Adjustment.Create().SetFeedbackID(fb.ID).SetPosition(i).SetAdjustmentType(s.typ).SetDescription("d").SetConfidence(s.c).ExecX(sys)
	}
	dry := `query($p: ID!, $d: Int!, $r: [AutoApplyRuleInput!]) { autoApplyDryRun(projectID: $p, days: $d, rules: $r) { suggestions wouldApply proposed byRule } }`
	var got struct {
		AutoApplyDryRun struct {
			Suggestions, WouldApply, Proposed int
			ByRule                            []int
		}
	}
	e.as(t, owner, dry, map[string]any{"p": project, "d": 30}, &got)
	if d := got.AutoApplyDryRun; d.Suggestions != 4 || d.WouldApply != 2 || d.Proposed != 2 || len(d.ByRule) != 1 || d.ByRule[0] != 2 {
		t.Errorf("dry run of the project's rule: %+v; want 4 suggestions, 2 would apply", d)
	}
	e.as(t, owner, dry, map[string]any{"p": project, "d": 1, "r": []map[string]any{{"kinds": []string{"TASK_STATUS", "TASK_PRIORITY"}, "minConfidence": 0.75}}}, &got)
	if d := got.AutoApplyDryRun; d.WouldApply != 2 || len(d.ByRule) != 1 {
		t.Errorf("dry run of a rule given: %+v; want 2 would apply", d)
	}
	for _, days := range []int{0, 91} {
		checkOutcome(t, fmt.Sprintf("days %d", days), gqltest.PostAs(t, e.url, owner, dry, map[string]any{"p": project, "d": days}), graph.CodeBadUserInput)
	}

	for i := 1; i < 10; i++ {
		e.as(t, owner, create, map[string]any{"p": project, "k": []string{"GENERAL"}, "c": 1}, &rule)
	}
	checkOutcome(t, "an eleventh rule", gqltest.PostAs(t, e.url, owner, create, map[string]any{"p": project, "k": []string{"GENERAL"}, "c": 1}), graph.CodeBadUserInput)
}
