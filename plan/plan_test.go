package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/outbox/outboxtest"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "plan", &dbTemplate) }

// world is a project with one task and a COMPLETED feedback, decided on by
// an EDITOR.
type world struct {
	t       *testing.T
	client  *ent.Client
	planner *plan.Planner
	ctx     context.Context // the editor's
	project int
	task    *ent.Task
	fb      *ent.Feedback
	events  *outboxtest.Tail
	pos     int
}

func newWorld(t *testing.T) *world {
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	sys := accesstest.System()
	editor := client.User.Create().SetSubject("editor").SaveX(sys)
	p := client.Project.Create().SetName("P").SaveX(sys)
	client.ProjectMember.Create().SetProjectID(p.ID).SetUserID(editor.ID).SetRole(viewer.Editor).ExecX(sys)
	tk := client.Task.Create().SetProjectID(p.ID).SetTitle("Checkout").SetPriority(2).SetDescription("old words").
		SetEstimatedHours(4).SaveX(sys)
	fb := client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("f").SetStatus(feedback.StatusCompleted).SaveX(sys)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: editor.ID, Subject: "editor", Kind: viewer.User})
	return &world{t: t, client: client, planner: plan.New(client), ctx: ctx, project: p.ID, task: tk, fb: fb,
		events: outboxtest.NewTail(t, client, p.ID)}
}

// suggest stores a proposed suggestion of typ about the world's task.
func (w *world) suggest(typ adjustment.AdjustmentType, original, newValue *string) *ent.Adjustment {
	w.t.Helper()
	kind, _ := suggestion.ByType(typ)
	c := w.client.Adjustment.Create().SetFeedbackID(w.fb.ID).SetPosition(w.pos).SetAdjustmentType(typ).
		SetDescription("do it").SetNillableOriginalValue(original).SetNillableNewValue(newValue)
	if kind.TargetsTask {
		c.SetTaskID(w.task.ID)
	}
	w.pos++
	return c.SaveX(accesstest.System())
}

func (w *world) reloadTask() *ent.Task {
	w.t.Helper()
	t, err := w.client.Task.Get(accesstest.System(), w.task.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

func ptr(s string) *string { return &s }

// Applying each kind of suggestion changes the plan as the table says, and
// announces the task change and the decision, in that order.
func TestApplyEveryKind(t *testing.T) {
	cases := []struct {
		typ           adjustment.AdjustmentType
		original, new *string
		check         func(w *world, r plan.Result)
	}{
		{adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5"), func(w *world, r plan.Result) {
			if got := w.reloadTask(); got.Priority != 5 || got.Version != 2 || r.Task.Priority != 5 {
				w.t.Errorf("priority %d version %d", got.Priority, got.Version)
			}
			if r.Adjustment.AppliedFrom == nil || *r.Adjustment.AppliedFrom != "2" {
				w.t.Errorf("applied from %v", r.Adjustment.AppliedFrom)
			}
		}},
		{adjustment.AdjustmentTypeTaskStatus, ptr("todo"), ptr("IN_PROGRESS"), func(w *world, r plan.Result) {
			if got := w.reloadTask(); got.Status != task.StatusInProgress {
				w.t.Errorf("status %s", got.Status)
			}
		}},
		{adjustment.AdjustmentTypeTaskDescription, ptr("old words"), ptr("new words"), func(w *world, r plan.Result) {
			if got := w.reloadTask(); got.Description == nil || *got.Description != "new words" {
				w.t.Errorf("description %v", got.Description)
			}
		}},
		{adjustment.AdjustmentTypeTaskEstimate, ptr("4"), ptr("12.5"), func(w *world, r plan.Result) {
			if got := w.reloadTask(); got.EstimatedHours == nil || *got.EstimatedHours != 12.5 {
				w.t.Errorf("estimate %v", got.EstimatedHours)
			}
		}},
		{adjustment.AdjustmentTypeNewTask, nil, ptr("Pricing page"), func(w *world, r plan.Result) {
			if r.Task == nil || r.Task.Title != "Pricing page" || r.Task.ProjectID != w.project || r.Adjustment.TaskID == nil || *r.Adjustment.TaskID != r.Task.ID {
				w.t.Errorf("created %+v, adjustment links %v", r.Task, r.Adjustment.TaskID)
			}
		}},
		{adjustment.AdjustmentTypeRemoveTask, nil, nil, func(w *world, r plan.Result) {
			if _, err := w.client.Task.Get(accesstest.System(), w.task.ID); !ent.IsNotFound(err) {
				w.t.Errorf("the task is still there: %v", err)
			}
			var snap plan.RemovedTask
			if r.Adjustment.RemovedTask == nil || json.Unmarshal([]byte(*r.Adjustment.RemovedTask), &snap) != nil ||
				snap.ID != w.task.ID || snap.Title != "Checkout" || snap.Priority != 2 {
				w.t.Errorf("snapshot %v", r.Adjustment.RemovedTask)
			}
		}},
		{adjustment.AdjustmentTypeGeneral, nil, nil, func(w *world, r plan.Result) {
			if got := w.reloadTask(); got.Version != 1 || r.Task != nil {
				w.t.Errorf("advice changed the task: version %d", got.Version)
			}
		}},
	}
	for _, c := range cases {
		t.Run(string(c.typ), func(t *testing.T) {
			w := newWorld(t)
			a := w.suggest(c.typ, c.original, c.new)
			results, err := w.planner.Apply(w.ctx, []int{a.ID}, false)
			if err != nil {
				t.Fatal(err)
			}
			r := results[0]
			if r.Adjustment.Status != adjustment.StatusApplied || r.Adjustment.DecidedAt == nil || r.Adjustment.DecidedByID == nil || r.Adjustment.Version != 2 {
				t.Errorf("decision %+v", r.Adjustment)
			}
			c.check(w, r)
			var kinds []string
			for _, e := range w.events.Pending() {
				kinds = append(kinds, e.Kind)
				if e.ActorID == nil || *e.ActorID != *r.Adjustment.DecidedByID {
					t.Errorf("event %d names actor %v", e.ID, e.ActorID)
				}
			}
			want := []string{outbox.KindTask, outbox.KindAdjustment}
			if c.typ == adjustment.AdjustmentTypeGeneral {
				want = want[1:]
			}
			if !equal(kinds, want) {
				t.Errorf("events %v, want %v", kinds, want)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Someone changed the task after the analysis: applying is a conflict
// naming the current value, unless forced.
func TestConflictAndForce(t *testing.T) {
	w := newWorld(t)
	a := w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5"))
	w.client.Task.UpdateOne(w.task).SetPriority(3).ExecX(accesstest.System())
	_, err := w.planner.Apply(w.ctx, []int{a.ID}, false)
	var conflict *plan.ConflictError
	if !errors.As(err, &conflict) || conflict.Current == nil || *conflict.Current != "3" || conflict.Expected != "2" || conflict.Field != task.FieldPriority {
		t.Fatalf("want a conflict naming 3, got %v (%+v)", err, conflict)
	}
	if got := w.reloadTask(); got.Priority != 3 {
		t.Fatalf("a conflicting apply changed the task: %d", got.Priority)
	}
	if len(w.events.Pending()) != 0 {
		t.Fatal("a refused apply wrote events")
	}
	if _, err := w.planner.Apply(w.ctx, []int{a.ID}, true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	if got := w.reloadTask(); got.Priority != 5 {
		t.Fatalf("forced apply: priority %d", got.Priority)
	}
	// A deleted task is a conflict too.
	w2 := newWorld(t)
	b := w2.suggest(adjustment.AdjustmentTypeTaskStatus, nil, ptr("DONE"))
	w2.client.Task.DeleteOne(w2.task).ExecX(accesstest.System())
	if _, err := w2.planner.Apply(w2.ctx, []int{b.ID}, true); !errors.As(err, &conflict) {
		t.Fatalf("applying to a deleted task: %v", err)
	}
}

// Reverting restores the field, or deletes the created task, when nothing
// changed it since; otherwise it is a conflict.
func TestRevert(t *testing.T) {
	for _, c := range []struct {
		typ           adjustment.AdjustmentType
		original, new *string
	}{
		{adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("5")},
		{adjustment.AdjustmentTypeTaskStatus, ptr("TODO"), ptr("DONE")},
		{adjustment.AdjustmentTypeTaskDescription, ptr("old words"), ptr("new words")},
		{adjustment.AdjustmentTypeTaskEstimate, ptr("4"), ptr("8")},
	} {
		t.Run(string(c.typ), func(t *testing.T) {
			w := newWorld(t)
			before := w.reloadTask()
			a := w.suggest(c.typ, c.original, c.new)
			if _, err := w.planner.Apply(w.ctx, []int{a.ID}, false); err != nil {
				t.Fatal(err)
			}
			r, err := w.planner.Revert(w.ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			after := w.reloadTask()
			if after.Priority != before.Priority || after.Status != before.Status || *after.Description != *before.Description ||
				*after.EstimatedHours != *before.EstimatedHours || after.Version != 3 {
				t.Errorf("after revert %+v, want the values of %+v at version 3", after, before)
			}
			if r.Adjustment.Status != adjustment.StatusProposed || r.Adjustment.DecidedAt != nil || r.Adjustment.AppliedFrom != nil {
				t.Errorf("reverted suggestion %+v", r.Adjustment)
			}
			// Applied again, then changed by hand: the revert conflicts.
			if _, err := w.planner.Apply(w.ctx, []int{a.ID}, false); err != nil {
				t.Fatal(err)
			}
			w.client.Task.UpdateOneID(w.task.ID).SetTitle("renamed").SetPriority(1).SetStatus(task.StatusBlocked).
				SetDescription("by hand").SetEstimatedHours(99).ExecX(accesstest.System())
			var conflict *plan.ConflictError
			if _, err := w.planner.Revert(w.ctx, a.ID); !errors.As(err, &conflict) {
				t.Fatalf("revert after a manual change: %v", err)
			}
		})
	}
	t.Run("NEW_TASK", func(t *testing.T) {
		w := newWorld(t)
		a := w.suggest(adjustment.AdjustmentTypeNewTask, nil, ptr("Pricing page"))
		res, err := w.planner.Apply(w.ctx, []int{a.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.planner.Revert(w.ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.client.Task.Get(accesstest.System(), res[0].Task.ID); !ent.IsNotFound(err) {
			t.Fatalf("the created task survived the revert: %v", err)
		}
		// Created again and then edited: the revert refuses.
		res, err = w.planner.Apply(w.ctx, []int{a.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		w.client.Task.UpdateOneID(res[0].Task.ID).SetPriority(4).ExecX(accesstest.System())
		var conflict *plan.ConflictError
		if _, err := w.planner.Revert(w.ctx, a.ID); !errors.As(err, &conflict) {
			t.Fatalf("revert of an edited created task: %v", err)
		}
	})
	t.Run("REMOVE_TASK and GENERAL", func(t *testing.T) {
		w := newWorld(t)
		remove := w.suggest(adjustment.AdjustmentTypeRemoveTask, nil, nil)
		advice := w.suggest(adjustment.AdjustmentTypeGeneral, nil, nil)
		if _, err := w.planner.Apply(w.ctx, []int{remove.ID, advice.ID}, false); err != nil {
			t.Fatal(err)
		}
		var state *plan.StateError
		if _, err := w.planner.Revert(w.ctx, remove.ID); !errors.As(err, &state) {
			t.Fatalf("reverting a removal: %v", err)
		}
		if r, err := w.planner.Revert(w.ctx, advice.ID); err != nil || r.Adjustment.Status != adjustment.StatusProposed {
			t.Fatalf("reverting advice: %v %+v", err, r)
		}
	})
}

// Decisions need a proposed suggestion of a COMPLETED analysis.
func TestDecisionsNeedTheRightState(t *testing.T) {
	w := newWorld(t)
	a := w.suggest(adjustment.AdjustmentTypeGeneral, nil, nil)
	reason := "not now"
	res, err := w.planner.Reject(w.ctx, a.ID, &reason)
	rejected := res.Adjustment
	if err != nil || rejected.Status != adjustment.StatusRejected || *rejected.Reason != "not now" {
		t.Fatalf("reject: %v %+v", err, rejected)
	}
	var state *plan.StateError
	if _, err := w.planner.Apply(w.ctx, []int{a.ID}, false); !errors.As(err, &state) {
		t.Fatalf("applying a rejected suggestion: %v", err)
	}
	if _, err := w.planner.Reject(w.ctx, a.ID, nil); !errors.As(err, &state) {
		t.Fatalf("rejecting twice: %v", err)
	}
	if _, err := w.planner.Revert(w.ctx, a.ID); !errors.As(err, &state) {
		t.Fatalf("reverting a rejected suggestion: %v", err)
	}
	w.client.Feedback.UpdateOne(w.fb).SetStatus(feedback.StatusProcessing).ExecX(accesstest.System())
	b := w.suggest(adjustment.AdjustmentTypeGeneral, nil, nil)
	if _, err := w.planner.Apply(w.ctx, []int{b.ID}, false); !errors.As(err, &state) {
		t.Fatalf("deciding before the analysis completed: %v", err)
	}
	if _, err := w.planner.Apply(w.ctx, []int{1 << 40}, false); !errors.Is(err, plan.ErrNotFound) {
		t.Fatalf("an unknown ID: %v", err)
	}
}

// A batch applies all of its suggestions or none.
func TestBatchIsAllOrNothing(t *testing.T) {
	w := newWorld(t)
	ok1 := w.suggest(adjustment.AdjustmentTypeTaskPriority, ptr("2"), ptr("4"))
	ok2 := w.suggest(adjustment.AdjustmentTypeNewTask, nil, ptr("Docs"))
	stale := w.suggest(adjustment.AdjustmentTypeTaskDescription, ptr("words nobody wrote"), ptr("x"))
	_, err := w.planner.Apply(w.ctx, []int{ok1.ID, ok2.ID, stale.ID}, false)
	var batch *plan.BatchError
	var conflict *plan.ConflictError
	if !errors.As(err, &batch) || batch.Index != 2 || !errors.As(err, &conflict) {
		t.Fatalf("want a conflict on suggestion 2, got %v", err)
	}
	if got := w.reloadTask(); got.Priority != 2 || got.Version != 1 {
		t.Fatalf("the batch half-applied: priority %d version %d", got.Priority, got.Version)
	}
	if n := w.client.Task.Query().CountX(accesstest.System()); n != 1 {
		t.Fatalf("%d tasks: the batch created one anyway", n)
	}
	for _, id := range []int{ok1.ID, ok2.ID} {
		if a := w.client.Adjustment.GetX(accesstest.System(), id); a.Status != adjustment.StatusProposed {
			t.Fatalf("suggestion %d is %s after a failed batch", id, a.Status)
		}
	}
	if len(w.events.Pending()) != 0 {
		t.Fatal("a failed batch wrote events")
	}
	results, err := w.planner.Apply(w.ctx, []int{ok1.ID, ok2.ID}, false)
	if err != nil || len(results) != 2 {
		t.Fatalf("the good part: %v", err)
	}
	if strconv.Itoa(w.reloadTask().Priority) != "4" {
		t.Fatal("not applied")
	}
}

// Rejecting leaves the plan as it is, whatever the kind.
func TestRejectEveryKind(t *testing.T) {
	for _, k := range suggestion.Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			w := newWorld(t)
			a := w.suggest(k.Type, ptr("2"), ptr("3"))
			res, err := w.planner.Reject(w.ctx, a.ID, ptr("not now"))
			r := res.Adjustment
			if err != nil || r.Status != adjustment.StatusRejected || r.DecidedByID == nil || *r.Reason != "not now" {
				t.Fatalf("%v %+v", err, r)
			}
			if k.TargetsTask && (res.Task == nil || res.Task.ID != *r.TaskID) {
				t.Fatalf("the rejection's task: %+v", res.Task)
			}
			if got := w.reloadTask(); got.Version != 1 {
				t.Fatalf("rejecting changed the task (version %d)", got.Version)
			}
			if n := w.client.Task.Query().CountX(accesstest.System()); n != 1 {
				t.Fatalf("%d tasks after a rejection", n)
			}
			if evs := w.events.Pending(); len(evs) != 1 || evs[0].Kind != outbox.KindAdjustment {
				t.Fatalf("events %+v, want the decision only", evs)
			}
		})
	}
}
