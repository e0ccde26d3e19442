package access

import (
	"context"
	"fmt"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/hook"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// OwnerOnCreate makes the person who creates a project its OWNER, in the
// same transaction when the creation runs in one. Projects the system
// creates (seed data, tests) get no member.
func OwnerOnCreate() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.ProjectFunc(func(ctx context.Context, m *ent.ProjectMutation) (ent.Value, error) {
			created, err := next.Mutate(ctx, m)
			if err != nil {
				return nil, err
			}
			v := viewer.FromContext(ctx)
			if v == nil || v.UserID == 0 {
				return created, nil
			}
			p := created.(*ent.Project)
			err = m.Client().ProjectMember.Create().
				SetProjectID(p.ID).
				SetUserID(v.UserID).
				SetRole(viewer.Owner).
				Exec(SystemContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("make the creator the project's owner: %w", err)
			}
			return created, nil
		})
	}, ent.OpCreate)
}

// LastOwnerError is a change that would leave a project without an OWNER.
type LastOwnerError struct{}

func (LastOwnerError) Error() string {
	return "a project must keep at least one OWNER: make another member OWNER first"
}

// KeepAnOwner refuses to demote or remove a project's last OWNER. It locks
// the project's row first, so two concurrent changes cannot each remove one
// of the last two owners; callers run the change in a transaction.
func KeepAnOwner() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.ProjectMemberFunc(func(ctx context.Context, m *ent.ProjectMemberMutation) (ent.Value, error) {
			if role, ok := m.Role(); m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && (!ok || role == viewer.Owner) {
				return next.Mutate(ctx, m) // keeping or granting OWNER never loses one
			}
			ids, err := mutatedIDs(ctx, m)
			if err != nil {
				return nil, err
			}
			sys := SystemContext(ctx)
			for _, id := range ids {
				member, err := m.Client().ProjectMember.Get(sys, id)
				if ent.IsNotFound(err) {
					continue
				}
				if err != nil {
					return nil, err
				}
				if member.Role != viewer.Owner {
					continue
				}
				if _, err := m.Client().Project.Query().Where(project.ID(member.ProjectID)).ForUpdate().OnlyID(sys); err != nil {
					return nil, fmt.Errorf("lock the project: %w", err)
				}
				others, err := m.Client().ProjectMember.Query().
					Where(projectmember.ProjectID(member.ProjectID), projectmember.RoleEQ(viewer.Owner), projectmember.IDNEQ(id)).
					Count(sys)
				if err != nil {
					return nil, err
				}
				if others == 0 {
					return nil, LastOwnerError{}
				}
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}
