package outbox

import (
	"context"
	"errors"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/hook"
	"github.com/feedbackloop/feedbackloop/ent/task"
)

// ErrNoTransaction is returned for a task changed outside a transaction by
// a caller: its event could not commit with it.
var ErrNoTransaction = errors.New("outbox: tasks must change in a transaction, so that their event commits with them")

// TaskChanges records an event for every task created, updated or deleted,
// whatever path the change comes from. The change must run in a
// transaction; only the system (seed data, tests) may change tasks outside
// one, unannounced. Tasks deleted with their project (by the database's
// cascade) are not announced: their project is gone.
func TaskChanges() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.TaskFunc(func(ctx context.Context, m *ent.TaskMutation) (ent.Value, error) {
			tx, err := m.Tx()
			if err != nil {
				if access.IsSystem(ctx) {
					return next.Mutate(ctx, m)
				}
				return nil, ErrNoTransaction
			}
			sys := access.SystemContext(ctx)
			if m.Op().Is(ent.OpCreate | ent.OpUpdateOne) {
				v, err := next.Mutate(ctx, m)
				if err != nil {
					return nil, err
				}
				change := Updated
				if m.Op().Is(ent.OpCreate) {
					change = Created
				}
				return v, recordTask(ctx, tx, change, v.(*ent.Task))
			}
			ids, err := m.IDs(sys)
			if err != nil {
				return nil, err
			}
			if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
				before, err := tx.Task.Query().Where(task.IDIn(ids...)).All(sys)
				if err != nil {
					return nil, err
				}
				v, err := next.Mutate(ctx, m)
				if err != nil {
					return nil, err
				}
				for _, t := range before {
					t.Version++ // the deletion is the task's last change
					if err := recordTask(ctx, tx, Deleted, t); err != nil {
						return nil, err
					}
				}
				return v, nil
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return nil, err
			}
			after, err := tx.Task.Query().Where(task.IDIn(ids...)).All(sys)
			if err != nil {
				return nil, err
			}
			for _, t := range after {
				if err := recordTask(ctx, tx, Updated, t); err != nil {
					return nil, err
				}
			}
			return v, nil
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}

func recordTask(ctx context.Context, tx *ent.Tx, change string, t *ent.Task) error {
	actorID, actor := Actor(ctx)
	e, err := New(t.ProjectID, KindTask, t.ID, t.Version, actorID, TaskPayload{Change: change, Task: t, Actor: actor})
	if err != nil {
		return err
	}
	Record(tx, e)
	return nil
}
