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
	stdsql "database/sql"
	"errors"
	"fmt"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/organizationmember"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/project"
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
	// One statement: the person's own role in the project, and whether
	// they administer the project's organisation (which makes them its
	// OWNER). Access is re-checked for every open subscription when
	// memberships change, so this is counted.
	rows, err := client.QueryContext(SystemContext(ctx), roleInQuery, projectID, v.UserID, string(viewer.OrgOwner), string(viewer.OrgAdmin))
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var role stdsql.NullString
	var admin bool
	if rows.Next() {
		if err := rows.Scan(&role, &admin); err != nil {
			return "", false, err
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, err
	}
	switch {
	case admin:
		return viewer.Owner, true, nil
	case !role.Valid:
		return "", false, nil
	}
	return viewer.Role(role.String), true, nil
}

// roleInQuery is RoleIn's statement ($1 the project, $2 the user, $3 and
// $4 the organisation roles that administer its projects).
var roleInQuery = fmt.Sprintf(`SELECT (SELECT %[1]s FROM %[2]s WHERE %[3]s = $1 AND %[4]s = $2),
	EXISTS (SELECT 1 FROM %[5]s p JOIN %[6]s m ON m.%[7]s = p.%[8]s WHERE p.%[9]s = $1 AND m.%[10]s = $2 AND m.%[11]s IN ($3, $4))`,
	projectmember.FieldRole, projectmember.Table, projectmember.FieldProjectID, projectmember.FieldUserID,
	project.Table, organizationmember.Table, organizationmember.FieldOrganizationID, project.FieldOrganizationID,
	project.FieldID, organizationmember.FieldUserID, organizationmember.FieldRole)

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
