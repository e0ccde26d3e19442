// Package plan closes the feedback loop: it applies suggestions to a
// project's plan, rejects them, and reverts applied ones. Each decision runs
// in one transaction with the task change it makes and the events that
// announce both (outbox), so every board watching the project sees exactly
// what committed.
//
// What applying a kind of suggestion does is read from the suggestion table:
// a kind that targets a task and names a field sets that field; one that
// targets a task without a field removes the task; a field without a target
// creates a task; neither is advice, acknowledged only.
//
// Who may decide is the privacy policies' business (EDITOR or OWNER); this
// package checks the suggestion's state and the plan's.
package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Planner decides on suggestions.
type Planner struct {
	client *ent.Client
	now    func() time.Time
}

// New returns a Planner.
func New(client *ent.Client) *Planner {
	return &Planner{client: client, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Result is a decided suggestion and the task it changed, as they are now
// (Task is nil when the decision left no task: advice, a removal).
type Result struct {
	Adjustment *ent.Adjustment
	Task       *ent.Task
}

// Unwrap detaches the result from the transaction that made it.
func (r Result) Unwrap() Result {
	if r.Adjustment != nil {
		r.Adjustment = r.Adjustment.Unwrap()
	}
	if r.Task != nil {
		r.Task = r.Task.Unwrap()
	}
	return r
}

// Errors of the decisions. They say what state the suggestion is in.
var (
	ErrNotFound = errors.New("no suggestion has this ID")
)

// StateError is a decision the suggestion's state does not allow.
type StateError struct{ Problem string }

func (e *StateError) Error() string { return e.Problem }

// ConflictError is an apply or revert whose task changed since: its value
// is not the one the decision expects.
type ConflictError struct {
	Field    string  // the task field, e.g. "priority"; "" when the task is gone
	Current  *string // the task's value now (nil: the task was deleted, or the field is empty)
	Expected string  // the value the suggestion was made against (or applied)
	Problem  string
}

func (e *ConflictError) Error() string { return e.Problem }

// BatchError names which suggestion of a batch failed.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("suggestion %d: %v", e.Index, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

// Apply applies the suggestions ids, in order, all or none. Without force, a
// suggestion whose task no longer holds its original value is a conflict.
func (p *Planner) Apply(ctx context.Context, ids []int, force bool) ([]Result, error) {
	results, err := store.InTx(ctx, p.client, func(tx *ent.Tx) ([]Result, error) {
		out := make([]Result, 0, len(ids))
		for i, id := range ids {
			r, err := p.apply(ctx, tx, id, force, nil)
			if err != nil {
				if len(ids) > 1 {
					err = &BatchError{Index: i, Err: err}
				}
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	})
	for i := range results {
		results[i] = results[i].Unwrap()
	}
	return results, err
}

// Reject marks a proposed suggestion REJECTED, with an optional reason. Its
// task, unchanged, comes with it, as every decision's does.
func (p *Planner) Reject(ctx context.Context, id int, reason *string) (Result, error) {
	return store.InTx(ctx, p.client, func(tx *ent.Tx) (Result, error) {
		a, err := p.proposed(ctx, tx, id)
		if err != nil {
			return Result{}, err
		}
		adj, err := p.decide(ctx, tx, a, adjustment.StatusRejected, func(u *ent.AdjustmentUpdateOne) {
			u.SetNillableReason(reason)
		})
		if err != nil || adj.TaskID == nil {
			return Result{Adjustment: adj}, err
		}
		t, err := tx.Task.Get(ctx, *adj.TaskID)
		if ent.IsNotFound(err) {
			err = nil // deleted meanwhile: no task to show
		}
		return Result{Adjustment: adj, Task: t}, err
	})
}

// Revert undoes an applied suggestion when its task still holds the applied
// value (or, for a created task, is unchanged since), and makes it PROPOSED
// again.
func (p *Planner) Revert(ctx context.Context, id int) (Result, error) {
	return store.InTx(ctx, p.client, func(tx *ent.Tx) (Result, error) {
		a, kind, err := p.load(ctx, tx, id)
		if err != nil {
			return Result{}, err
		}
		if a.Status != adjustment.StatusApplied {
			return Result{}, &StateError{Problem: fmt.Sprintf("only an APPLIED suggestion can be reverted; this one is %s", a.Status)}
		}
		var t *ent.Task
		switch {
		case kind.TargetsTask && kind.Field != "":
			if t, err = p.lockTask(ctx, tx, a); err != nil {
				return Result{}, err
			}
			current := TaskValue(t, kind.Field)
			if a.NewValue == nil || !kind.Same(current, *a.NewValue) {
				return Result{}, conflict(kind.Field, current, deref(a.NewValue), "the task's %s changed after the suggestion was applied", kind.Field)
			}
			if t, err = setField(ctx, tx, t.ID, kind.Field, a.AppliedFrom); err != nil {
				return Result{}, err
			}
		case kind.TargetsTask:
			return Result{}, &StateError{Problem: "a removed task cannot be restored by a revert; its snapshot is in removedTask"}
		case kind.Field != "":
			if a.TaskID == nil {
				return Result{}, conflict("", nil, "", "the task this suggestion created was deleted since")
			}
			created, err := tx.Task.Query().Where(task.ID(*a.TaskID)).ForUpdate().Only(ctx)
			if err != nil {
				return Result{}, err
			}
			if created.Version != 1 {
				return Result{}, conflict("", nil, "", "the task this suggestion created was changed since (version %d); change it back or delete it yourself", created.Version)
			}
			if err := tx.Task.DeleteOne(created).Exec(ctx); err != nil {
				return Result{}, err
			}
		}
		adj, err := p.record(ctx, tx, a, tx.Adjustment.UpdateOne(a).
			SetStatus(adjustment.StatusProposed).
			ClearDecidedAt().ClearDecidedByID().ClearReason().ClearAppliedFrom().ClearAutoApplyRuleID())
		return Result{Adjustment: adj, Task: t}, err
	})
}

// apply applies one suggestion in tx: a person's, or with rule set an
// auto-apply rule's, which records the rule and its author as the decider
// and treats a field that was empty when the suggestion was made, and is
// not now, as a conflict too.
func (p *Planner) apply(ctx context.Context, tx *ent.Tx, id int, force bool, rule *ent.AutoApplyRule) (Result, error) {
	a, err := p.proposed(ctx, tx, id)
	if err != nil {
		return Result{}, err
	}
	kind, _ := suggestion.ByType(a.AdjustmentType)
	decide := func(ctx context.Context, tx *ent.Tx, a *ent.Adjustment, status adjustment.Status, more func(*ent.AdjustmentUpdateOne)) (*ent.Adjustment, error) {
		return p.decide(ctx, tx, a, status, func(u *ent.AdjustmentUpdateOne) {
			if more != nil {
				more(u)
			}
			if rule != nil {
				u.SetDecidedByID(rule.AuthorID).SetAutoApplyRuleID(rule.ID)
			}
		})
	}
	switch {
	case kind.TargetsTask && kind.Field != "": // change a field
		t, err := p.lockTask(ctx, tx, a)
		if err != nil {
			return Result{}, err
		}
		current := TaskValue(t, kind.Field)
		if rule != nil && a.OriginalValue == nil && current != nil {
			return Result{}, conflict(kind.Field, current, "",
				"the task's %s is now %s; it was empty when the suggestion was made", kind.Field, show(current))
		}
		if !force && a.OriginalValue != nil && !kind.Same(current, *a.OriginalValue) {
			return Result{}, conflict(kind.Field, current, *a.OriginalValue,
				"the task's %s is now %s, not %q as when the suggestion was made: pass force: true to apply it anyway", kind.Field, show(current), *a.OriginalValue)
		}
		if a.NewValue == nil {
			return Result{}, &StateError{Problem: "the suggestion has no new value to apply"}
		}
		if t, err = setField(ctx, tx, t.ID, kind.Field, a.NewValue); err != nil {
			return Result{}, err
		}
		adj, err := decide(ctx, tx, a, adjustment.StatusApplied, func(u *ent.AdjustmentUpdateOne) {
			u.SetNillableAppliedFrom(current)
		})
		return Result{Adjustment: adj, Task: t}, err

	case kind.TargetsTask: // remove the task
		t, err := p.lockTask(ctx, tx, a)
		if err != nil {
			return Result{}, err
		}
		snapshot, err := json.Marshal(RemovedTask{ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status,
			Priority: t.Priority, EstimatedHours: t.EstimatedHours, Version: t.Version})
		if err != nil {
			return Result{}, err
		}
		if err := tx.Task.DeleteOne(t).Exec(ctx); err != nil {
			return Result{}, err
		}
		adj, err := decide(ctx, tx, a, adjustment.StatusApplied, func(u *ent.AdjustmentUpdateOne) {
			u.SetRemovedTask(string(snapshot))
		})
		return Result{Adjustment: adj}, err

	case kind.Field != "": // create a task
		if a.NewValue == nil {
			return Result{}, &StateError{Problem: "the suggestion has no title for the new task"}
		}
		t, err := tx.Task.Create().
			SetProjectID(a.Edges.Feedback.ProjectID).
			SetTitle(*a.NewValue).
			SetDescription(a.Description).
			Save(ctx)
		if err != nil {
			return Result{}, err
		}
		adj, err := decide(ctx, tx, a, adjustment.StatusApplied, func(u *ent.AdjustmentUpdateOne) {
			u.SetTaskID(t.ID)
		})
		return Result{Adjustment: adj, Task: t}, err
	}
	adj, err := decide(ctx, tx, a, adjustment.StatusApplied, nil) // advice: acknowledged
	return Result{Adjustment: adj}, err
}

// RemovedTask is what a REMOVE_TASK suggestion keeps of the task it deleted.
type RemovedTask struct {
	ID             int         `json:"id"`
	Title          string      `json:"title"`
	Description    *string     `json:"description,omitempty"`
	Status         task.Status `json:"status"`
	Priority       int         `json:"priority"`
	EstimatedHours *float64    `json:"estimatedHours,omitempty"`
	Version        int         `json:"version"`
}

// load reads a suggestion with its feedback, locking it for the decision.
func (p *Planner) load(ctx context.Context, tx *ent.Tx, id int) (*ent.Adjustment, suggestion.Kind, error) {
	a, err := tx.Adjustment.Query().Where(adjustment.ID(id)).WithFeedback().ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, suggestion.Kind{}, ErrNotFound
	}
	if err != nil {
		return nil, suggestion.Kind{}, err
	}
	if a.Edges.Feedback.Status != feedback.StatusCompleted {
		return nil, suggestion.Kind{}, &StateError{Problem: fmt.Sprintf("its feedback is %s: suggestions are decided once the analysis COMPLETED", a.Edges.Feedback.Status)}
	}
	kind, ok := suggestion.ByType(a.AdjustmentType)
	if !ok {
		return nil, suggestion.Kind{}, fmt.Errorf("plan: unknown suggestion type %s", a.AdjustmentType)
	}
	return a, kind, nil
}

// proposed loads a suggestion that is still to be decided.
func (p *Planner) proposed(ctx context.Context, tx *ent.Tx, id int) (*ent.Adjustment, error) {
	a, _, err := p.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if a.Status != adjustment.StatusProposed {
		return nil, &StateError{Problem: fmt.Sprintf("it was already decided: it is %s", a.Status)}
	}
	return a, nil
}

// lockTask locks the task a suggestion targets; a deleted one is a conflict.
func (p *Planner) lockTask(ctx context.Context, tx *ent.Tx, a *ent.Adjustment) (*ent.Task, error) {
	if a.TaskID == nil {
		return nil, conflict("", nil, "", "the task this suggestion is about was deleted")
	}
	t, err := tx.Task.Query().Where(task.ID(*a.TaskID)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, conflict("", nil, "", "the task this suggestion is about was deleted")
	}
	return t, err
}

// decide records the decision: status, who and when, plus whatever more
// sets, and announces it.
func (p *Planner) decide(ctx context.Context, tx *ent.Tx, a *ent.Adjustment, status adjustment.Status, more func(*ent.AdjustmentUpdateOne)) (*ent.Adjustment, error) {
	u := tx.Adjustment.UpdateOne(a).SetStatus(status).SetDecidedAt(p.now())
	if v := viewer.FromContext(ctx); v != nil && v.UserID != 0 {
		u.SetDecidedByID(v.UserID)
	}
	if more != nil {
		more(u)
	}
	return p.record(ctx, tx, a, u)
}

// record saves u and writes its event to the outbox.
func (p *Planner) record(ctx context.Context, tx *ent.Tx, before *ent.Adjustment, u *ent.AdjustmentUpdateOne) (*ent.Adjustment, error) {
	adj, err := u.Save(ctx)
	if err != nil {
		return nil, err
	}
	adj.Edges.Feedback = before.Edges.Feedback
	actorID, actor := outbox.Actor(ctx)
	e, err := outbox.New(before.Edges.Feedback.ProjectID, outbox.KindAdjustment, adj.ID, adj.Version, actorID,
		outbox.AdjustmentPayload{Adjustment: adj, Actor: actor})
	if err != nil {
		return nil, err
	}
	outbox.Record(tx, e)
	return adj, nil
}

// setField sets a task field from its text form (nil clears it).
func setField(ctx context.Context, tx *ent.Tx, id int, field string, value *string) (*ent.Task, error) {
	u := tx.Task.UpdateOneID(id)
	m := u.Mutation()
	if value == nil {
		if err := m.ClearField(field); err != nil {
			return nil, fmt.Errorf("plan: clear %s: %w", field, err)
		}
		return u.Save(ctx)
	}
	v, err := typed(field, *value)
	if err != nil {
		return nil, err
	}
	if err := m.SetField(field, v); err != nil {
		return nil, fmt.Errorf("plan: set %s: %w", field, err)
	}
	return u.Save(ctx)
}

// typed converts a field's text form to the field's Go type.
func typed(field, s string) (ent.Value, error) {
	switch field {
	case task.FieldPriority:
		return strconv.Atoi(s)
	case task.FieldEstimatedHours:
		return strconv.ParseFloat(s, 64)
	case task.FieldStatus:
		return task.Status(s), nil
	}
	return s, nil
}

func conflict(field string, current *string, expected, format string, args ...any) *ConflictError {
	return &ConflictError{Field: field, Current: current, Expected: expected, Problem: fmt.Sprintf(format, args...)}
}

func show(v *string) string {
	if v == nil {
		return "empty"
	}
	return strconv.Quote(*v)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
