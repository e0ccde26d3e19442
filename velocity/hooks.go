package velocity

import (
	"context"
	"slices"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/hook"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/ent/taskstatuschange"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// StatusHistory records every task's creation and every change of its
// status as a TaskStatusChange, with the same client as the change (so in
// its transaction, when it has one), whatever path makes it: the task
// mutations, applying or reverting a suggestion, GitHub's closing webhook.
// A change that leaves the status as it was records nothing.
//
// The changed tasks are locked (FOR UPDATE) before their old status is
// read, so two concurrent changes of one task record a history that
// chains: the second one's from_status is the first one's to_status.
func StatusHistory() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.TaskFunc(func(ctx context.Context, m *ent.TaskMutation) (ent.Value, error) {
			sys := access.SystemContext(ctx)
			if m.Op().Is(ent.OpCreate) {
				v, err := next.Mutate(ctx, m)
				if err != nil {
					return nil, err
				}
				t := v.(*ent.Task)
				return v, record(ctx, m.Client(), []*ent.Task{t}, nil, t.Status)
			}
			to, set := m.Status()
			if !set {
				return next.Mutate(ctx, m)
			}
			ids, err := m.IDs(sys)
			if err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return next.Mutate(ctx, m)
			}
			before, err := m.Client().Task.Query().
				Where(task.IDIn(ids...), task.StatusNEQ(to)).
				Select(task.FieldID, task.FieldProjectID, task.FieldStatus).
				ForUpdate().
				All(sys)
			if err != nil {
				return nil, err
			}
			v, err := next.Mutate(ctx, m)
			if err != nil || len(before) == 0 {
				return v, err
			}
			changed := before
			if m.Op().Is(ent.OpUpdate) {
				// A bulk update's own predicates may have skipped some of
				// them: keep those it set (the rows are locked, so no one
				// else did).
				ids := make([]int, len(before))
				for i, t := range before {
					ids[i] = t.ID
				}
				now, err := m.Client().Task.Query().Where(task.IDIn(ids...), task.StatusEQ(to)).IDs(sys)
				if err != nil {
					return nil, err
				}
				changed = slices.DeleteFunc(slices.Clone(before), func(t *ent.Task) bool { return !slices.Contains(now, t.ID) })
			}
			return v, record(ctx, m.Client(), changed, func(t *ent.Task) *task.Status { return &t.Status }, to)
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)
}

// record writes one change to status `to` per task; from gives each task's
// previous status (nil: the task was created).
func record(ctx context.Context, client *ent.Client, tasks []*ent.Task, from func(*ent.Task) *task.Status, to task.Status) error {
	if len(tasks) == 0 {
		return nil
	}
	var by *int
	if v := viewer.FromContext(ctx); v != nil && v.UserID != 0 {
		by = &v.UserID
	}
	rows := make([]*ent.TaskStatusChangeCreate, len(tasks))
	for i, t := range tasks {
		c := client.TaskStatusChange.Create().
			SetTaskID(t.ID).
			SetProjectID(t.ProjectID).
			SetToStatus(taskstatuschange.ToStatus(to)).
			SetNillableChangedBy(by)
		if from != nil {
			c.SetFromStatus(taskstatuschange.FromStatus(*from(t)))
		}
		rows[i] = c
	}
	return client.TaskStatusChange.CreateBulk(rows...).Exec(access.SystemContext(ctx))
}
