// Package access decides who may read and change what. Its rules are the
// ent privacy policies of the schemas (ent/schema), so they apply to every
// query and mutation whatever path it comes from: root and nested
// connections, totalCount, node and nodes, subscriptions and the pipeline.
//
// Reading is filtered, not refused: a query simply does not contain the rows
// of projects the viewer is not a member of, so a foreign ID is NOT_FOUND
// exactly like an ID that does not exist. Changing needs a role in the
// project the row belongs to (OWNER > EDITOR > VIEWER); a viewer who may see
// the project but lacks the role gets a ForbiddenError naming the role.
//
// The worker, the reconciler and authentication itself act as the system
// (SystemContext), which the policies let through; there is no user behind
// such work.
package access

import (
	"context"
	"errors"
	"fmt"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// SystemContext returns a context in which every policy allows everything:
// for work the service does on its own behalf, never for a caller. It reads
// from the primary: the system's look-ups decide access (credentials,
// memberships) and must see their latest state, not a lagging replica's.
func SystemContext(ctx context.Context) context.Context {
	return privacy.DecisionContext(replicas.Primary(ctx), privacy.Allow)
}

// IsSystem reports whether ctx acts as the system.
func IsSystem(ctx context.Context) bool {
	decision, ok := privacy.DecisionFromContext(ctx)
	return ok && decision == nil
}

// ErrUnauthenticated is the decision for a context without a viewer.
var ErrUnauthenticated = fmt.Errorf("no authenticated caller: %w", privacy.Deny)

// ForbiddenError is a change the viewer may see but not make.
type ForbiddenError struct {
	Action string      // what was attempted, e.g. "change tasks"
	Need   viewer.Role // the least role that may do it ("" when no role may)
	Have   viewer.Role // the viewer's role in the project ("" when none applies)
	// NeedOrg and HaveOrg are the same for a change of an organisation:
	// the least organisation role that may make it, and the viewer's.
	NeedOrg, HaveOrg viewer.OrgRole
}

func (e *ForbiddenError) Error() string {
	switch {
	case e.NeedOrg != "":
		least := ""
		if e.NeedOrg != viewer.OrgOwner {
			least = " (or higher)"
		}
		return fmt.Sprintf("to %s you need the %s role%s in the organisation; you are %s", e.Action, e.NeedOrg, least, e.HaveOrg)
	case e.Need == "":
		return fmt.Sprintf("you may not %s", e.Action)
	case e.Have == "":
		return fmt.Sprintf("to %s you need the %s role on the project", e.Action, e.Need)
	}
	return fmt.Sprintf("to %s you need the %s role on the project; you are %s", e.Action, e.Need, e.Have)
}

// Is makes errors.Is(err, privacy.Deny) hold, so ent and callers treat it as
// a denial.
func (e *ForbiddenError) Is(target error) bool { return target == privacy.Deny }

// NotFoundError is a change to an object the viewer may not see. It reads
// exactly like a missing object, so IDs cannot be probed.
type NotFoundError struct {
	Label string // the object's kind as ent names it, e.g. "task"
}

func (e *NotFoundError) Error() string { return e.Label + " not found" }

// Is makes errors.Is(err, privacy.Deny) hold.
func (e *NotFoundError) Is(target error) bool { return target == privacy.Deny }

// RoleIn returns the viewer's role in a project and whether the viewer may
// see the project at all. Admins are OWNER everywhere; so are an
// organisation's OWNERs and ADMINs in its projects.
func RoleIn(ctx context.Context, client *ent.Client, v *viewer.Viewer, projectID int) (viewer.Role, bool, error) {
	switch {
	case v == nil:
		return "", false, nil
	case v.Admin:
		return viewer.Owner, true, nil
	case v.Scope != nil:
		if v.Scope.ProjectID != projectID {
			return "", false, nil
		}
		return v.Scope.Role, true, nil
	}
	m, err := client.ProjectMember.Query().
		Where(projectmember.ProjectID(projectID), projectmember.UserID(v.UserID)).
		Only(SystemContext(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return "", false, err
	}
	if m != nil && m.Role == viewer.Owner {
		return m.Role, true, nil
	}
	admin, aerr := administersProjectsOrg(ctx, client, v, projectID)
	switch {
	case aerr != nil:
		return "", false, aerr
	case admin:
		return viewer.Owner, true, nil
	case m == nil:
		return "", false, nil
	}
	return m.Role, true, nil
}

// Require returns nil when the viewer of ctx has at least role need in the
// project, a NotFoundError (for an object of kind label) when it may not see
// the project, and a ForbiddenError naming the role otherwise.
func Require(ctx context.Context, client *ent.Client, projectID int, need viewer.Role, label, action string) error {
	if IsSystem(ctx) {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return ErrUnauthenticated
	}
	have, visible, err := RoleIn(ctx, client, v, projectID)
	switch {
	case err != nil:
		return err
	case !visible:
		return &NotFoundError{Label: label}
	case !have.AtLeast(need):
		return &ForbiddenError{Action: action, Need: need, Have: have}
	}
	return nil
}

// IsForbidden reports whether err is a denial the caller may see the
// reason of (not a hidden object).
func IsForbidden(err error) bool {
	var f *ForbiddenError
	return errors.As(err, &f)
}
