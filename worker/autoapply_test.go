package worker_test

import (
	"encoding/json"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// The worker path end to end: an OWNER's rule (TASK_PRIORITY and
// TASK_ESTIMATE at 0.8 or more) applies the model's matching suggestion as
// soon as the analysis completes, recorded as decided by the rule's author
// and naming the rule, announced on the project's events; a suggestion
// below the threshold and one of another kind stay PROPOSED; a re-delivered
// job, and completing again, apply nothing twice.
func TestWorkerAutoAppliesMatchingSuggestionsOnce(t *testing.T) {
	var e *env
	e = newEnv(t, func(llmstub.Request) llmstub.Reply {
		return toolAnswer("Login is blocking everyone",
			map[string]any{"type": "task_priority", "task_id": e.taskIDs[0], "description": "Raise the login screen's priority",
				"original_value": "1", "new_value": "4", "reasoning": "users cannot sign in", "confidence": 0.9},
			map[string]any{"type": "task_priority", "task_id": e.taskIDs[1], "description": "Raise push notifications",
				"original_value": "2", "new_value": "5", "reasoning": nil, "confidence": 0.5},
			map[string]any{"type": "task_status", "task_id": e.taskIDs[0], "description": "Mark the login screen done",
				"original_value": nil, "new_value": "done", "reasoning": nil, "confidence": 0.95})
	})
	sys := accesstest.System()
	owner := e.client.User.Create().SetSubject("policy-owner").SaveX(sys)
	e.client.ProjectMember.Create().SetProjectID(e.projectID).SetUserID(owner.ID).SetRole(viewer.Owner).ExecX(sys)
	rule := e.client.AutoApplyRule.Create().SetProjectID(e.projectID).SetAuthorID(owner.ID).SetMinConfidence(0.8).
		SetKinds([]string{string(adjustment.AdjustmentTypeTaskPriority), string(adjustment.AdjustmentTypeTaskEstimate)}).SaveX(sys)

	e.startWorker(workerOpts{})
	fb := e.submit("Nobody can log in since the last release!", &e.taskIDs[0])
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		t.Fatalf("events %v", got)
	}
	// The apply is announced after the completion.
	var announced *ent.Adjustment
	for announced == nil {
		ev := e.events.Next()
		if ev.Kind != outbox.KindAdjustment {
			continue
		}
		var p outbox.AdjustmentPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Adjustment == nil {
			t.Fatalf("payload %s: %v", ev.Payload, err)
		}
		if p.Adjustment.Status == adjustment.StatusApplied {
			announced = p.Adjustment
		}
	}

	done := e.reload(fb.ID)
	if len(done.Edges.Adjustments) != 3 {
		t.Fatalf("%d suggestions, want 3", len(done.Edges.Adjustments))
	}
	raise, below, other := done.Edges.Adjustments[0], done.Edges.Adjustments[1], done.Edges.Adjustments[2]
	if raise.Status != adjustment.StatusApplied || raise.DecidedByID == nil || *raise.DecidedByID != owner.ID ||
		raise.AutoApplyRuleID == nil || *raise.AutoApplyRuleID != rule.ID {
		t.Errorf("matching suggestion: %s by %v rule %v; want APPLIED by %d rule %d",
			raise.Status, raise.DecidedByID, raise.AutoApplyRuleID, owner.ID, rule.ID)
	}
	if announced.ID != raise.ID || announced.AutoApplyRuleID == nil || *announced.AutoApplyRuleID != rule.ID {
		t.Errorf("announced suggestion %d rule %v; want %d rule %d", announced.ID, announced.AutoApplyRuleID, raise.ID, rule.ID)
	}
	for _, a := range []*ent.Adjustment{below, other} {
		if a.Status != adjustment.StatusProposed || a.AutoApplyRuleID != nil {
			t.Errorf("suggestion %d (%s, confidence %v) is %s rule %v; want PROPOSED", a.ID, a.AdjustmentType, a.Confidence, a.Status, a.AutoApplyRuleID)
		}
	}
	login := e.client.Task.GetX(sys, e.taskIDs[0])
	if login.Priority != 4 {
		t.Errorf("login priority %d, want 4 (applied)", login.Priority)
	}
	if push := e.client.Task.GetX(sys, e.taskIDs[1]); push.Priority != 2 {
		t.Errorf("push priority %d, want 2 (unchanged)", push.Priority)
	}

	// A late redelivery of the job, then completing again: nothing more.
	if err := e.jobs.Enqueue(sys, queue.Job{FeedbackID: fb.ID, Key: fb.JobKey.String(), Attempt: 20}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the queue to drain", func() bool {
		d, err := e.jobs.Depth(sys)
		return err == nil && d.Pending == 0 && d.Active == 0 && d.Retry == 0
	})
	again, err := plan.New(e.client).AutoApply(sys, fb.ID)
	if err != nil || len(again.Applied) != 0 {
		t.Fatalf("completing again applied %d (%v)", len(again.Applied), err)
	}
	if v := e.client.Task.GetX(sys, e.taskIDs[0]).Version; v != login.Version {
		t.Errorf("login task version %d after the redelivery, want %d", v, login.Version)
	}
	for _, ev := range e.events.Pending() {
		if ev.Kind == outbox.KindAdjustment {
			t.Errorf("redelivery announced a change: %s", ev.Payload)
		}
	}
}
