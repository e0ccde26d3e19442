package plan_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// policy gives the world an OWNER with a rule: TASK_PRIORITY and
// TASK_ESTIMATE at confidence 0.8 or more.
func (w *world) policy() (*ent.AutoApplyRule, *ent.User) {
	w.t.Helper()
	sys := accesstest.System()
	owner := w.client.User.Create().SetSubject("owner").SaveX(sys)
	w.client.ProjectMember.Create().SetProjectID(w.project).SetUserID(owner.ID).SetRole(viewer.Owner).ExecX(sys)
	rule := w.client.AutoApplyRule.Create().SetProjectID(w.project).SetAuthorID(owner.ID).SetMinConfidence(0.8).
		SetKinds([]string{string(adjustment.AdjustmentTypeTaskPriority), string(adjustment.AdjustmentTypeTaskEstimate)}).SaveX(sys)
	return rule, owner
}

func (w *world) confident(a *ent.Adjustment, c float64) *ent.Adjustment {
	w.t.Helper()
	return w.client.Adjustment.UpdateOne(a).SetConfidence(c).SaveX(accesstest.System())
}

func (w *world) status(a *ent.Adjustment) *ent.Adjustment {
	w.t.Helper()
	got, err := w.client.Adjustment.Get(accesstest.System(), a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// A rule applies the suggestions of its kinds at or above its threshold,
// recorded as its author's and naming it, announced like a person's apply;
// it leaves those below the threshold, of other kinds, without a confidence
// and in conflict PROPOSED; running it again applies nothing twice; and what
// it applied reverts like any apply.
func TestAutoApplyRule(t *testing.T) {
	w := newWorld(t)
	rule, owner := w.policy()
	at := w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5")), 0.8)
	estimate := w.confident(w.suggest(adjustment.AdjustmentTypeTaskEstimate, ptr("4"), ptr("8")), 0.95)
	below := w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("4")), 0.79)
	other := w.confident(w.suggest(adjustment.AdjustmentTypeTaskStatus, ptr("TODO"), ptr("DONE")), 0.99)
	unsure := w.suggest(adjustment.AdjustmentTypeTaskEstimate, ptr("4"), ptr("6")) // no confidence
	conflicted := w.confident(w.suggest(adjustment.AdjustmentTypeTaskDescription, ptr("older words"), ptr("new")), 0.9)
	rule = w.client.AutoApplyRule.UpdateOne(rule).
		SetKinds(append(rule.Kinds, string(adjustment.AdjustmentTypeTaskDescription))).SaveX(accesstest.System())

	done, err := w.planner.AutoApply(w.ctx, w.fb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Applied) != 2 || done.Conflicts != 1 {
		t.Fatalf("applied %d, conflicts %d; want 2 and 1", len(done.Applied), done.Conflicts)
	}
	for _, a := range []*ent.Adjustment{at, estimate} {
		got := w.status(a)
		if got.Status != adjustment.StatusApplied || got.DecidedByID == nil || *got.DecidedByID != owner.ID ||
			got.AutoApplyRuleID == nil || *got.AutoApplyRuleID != rule.ID {
			t.Errorf("suggestion %d: %s by %v rule %v; want APPLIED by %d rule %d", a.ID, got.Status, got.DecidedByID, got.AutoApplyRuleID, owner.ID, rule.ID)
		}
	}
	for _, a := range []*ent.Adjustment{below, other, unsure, conflicted} {
		if got := w.status(a); got.Status != adjustment.StatusProposed {
			t.Errorf("suggestion %d (%s) is %s, want PROPOSED", a.ID, a.AdjustmentType, got.Status)
		}
	}
	if tk := w.reloadTask(); tk.Priority != 5 || tk.EstimatedHours == nil || *tk.EstimatedHours != 8 {
		t.Errorf("task priority %d estimate %v; want 5 and 8", tk.Priority, tk.EstimatedHours)
	}
	var applied []int
	for _, e := range w.events.Pending() {
		if e.Kind != outbox.KindAdjustment {
			continue
		}
		var p outbox.AdjustmentPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.Adjustment == nil {
			t.Fatalf("payload %s: %v", e.Payload, err)
		}
		if p.Adjustment.Status == adjustment.StatusApplied && p.Adjustment.AutoApplyRuleID != nil {
			applied = append(applied, p.Adjustment.ID)
		}
	}
	if len(applied) != 2 || applied[0] != at.ID || applied[1] != estimate.ID {
		t.Errorf("announced applies %v, want [%d %d]", applied, at.ID, estimate.ID)
	}

	// A re-delivered job runs it again: nothing more happens.
	again, err := w.planner.AutoApply(w.ctx, w.fb.ID)
	if err != nil || len(again.Applied) != 0 {
		t.Fatalf("second run applied %d (%v)", len(again.Applied), err)
	}
	if tk := w.reloadTask(); tk.Version != 3 {
		t.Errorf("task version %d after a second run, want 3 (two applies)", tk.Version)
	}

	r, err := w.planner.Revert(w.ctx, at.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Adjustment.Status != adjustment.StatusProposed || r.Adjustment.AutoApplyRuleID != nil || r.Adjustment.DecidedByID != nil || r.Task.Priority != 2 {
		t.Errorf("reverted: %s rule %v by %v, priority %d", r.Adjustment.Status, r.Adjustment.AutoApplyRuleID, r.Adjustment.DecidedByID, r.Task.Priority)
	}
}

// A rule whose field was empty when the suggestion was made, and is not
// now, conflicts; a rule whose author is no longer an OWNER does nothing.
func TestAutoApplyRuleStrictAndAuthor(t *testing.T) {
	w := newWorld(t)
	rule, owner := w.policy()
	sys := accesstest.System()
	w.client.Task.UpdateOne(w.task).ClearEstimatedHours().ExecX(sys)
	filled := w.confident(w.suggest(adjustment.AdjustmentTypeTaskEstimate, nil, ptr("8")), 0.9)
	w.client.Task.UpdateOneID(w.task.ID).SetEstimatedHours(3).ExecX(sys)
	done, err := w.planner.AutoApply(w.ctx, w.fb.ID)
	if err != nil || len(done.Applied) != 0 || done.Conflicts != 1 || w.status(filled).Status != adjustment.StatusProposed {
		t.Fatalf("applied %d conflicts %d (%v); want a conflict", len(done.Applied), done.Conflicts, err)
	}

	p := w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5")), 0.9)
	other := w.client.User.Create().SetSubject("other owner").SaveX(sys)
	w.client.ProjectMember.Create().SetProjectID(w.project).SetUserID(other.ID).SetRole(viewer.Owner).ExecX(sys)
	w.client.ProjectMember.Update().Where(projectmember.UserID(owner.ID)).SetRole(viewer.Editor).ExecX(sys) // the author is an EDITOR now
	if done, err := w.planner.AutoApply(w.ctx, w.fb.ID); err != nil || len(done.Applied) != 0 || w.status(p).Status != adjustment.StatusProposed {
		t.Fatalf("a demoted author's rule applied %d (%v)", len(done.Applied), err)
	}
	_ = rule
}

// The dry run counts what the rules would have applied of the window's
// suggestions, by what became of them, and per rule.
func TestAutoApplyDryRun(t *testing.T) {
	w := newWorld(t)
	rule, _ := w.policy()
	sys := accesstest.System()
	w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5")), 0.9)
	rejected := w.confident(w.suggest(adjustment.AdjustmentTypeTaskEstimate, ptr("4"), ptr("8")), 0.8)
	w.client.Adjustment.UpdateOne(rejected).SetStatus(adjustment.StatusRejected).ExecX(sys)
	w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("4")), 0.5)   // below
	w.confident(w.suggest(adjustment.AdjustmentTypeTaskStatus, ptr("TODO"), ptr("DONE")), 1) // other kind
	old := w.confident(w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("3")), 0.9)
	if _, err := w.client.ExecContext(sys, "UPDATE adjustments SET created_at = $1 WHERE id = $2", time.Now().AddDate(0, 0, -10), old.ID); err != nil { // out of the window
		t.Fatal(err)
	}
	status := &ent.AutoApplyRule{Kinds: []string{string(adjustment.AdjustmentTypeTaskStatus), string(adjustment.AdjustmentTypeTaskPriority)}, MinConfidence: 0}

	d, err := w.planner.DryRun(sys, w.project, []*ent.AutoApplyRule{rule, status}, time.Now().AddDate(0, 0, -7))
	if err != nil {
		t.Fatal(err)
	}
	if d.Suggestions != 4 || d.WouldApply != 4 || d.Proposed != 3 || d.Rejected != 1 || d.Applied != 0 ||
		len(d.ByRule) != 2 || d.ByRule[0] != 2 || d.ByRule[1] != 2 {
		t.Errorf("dry run %+v; want 4 suggestions, 4 would apply (2 by each rule), 1 rejected", d)
	}
	_ = plan.MaxDryRunDays
}
