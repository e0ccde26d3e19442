package access

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/hook"
	"github.com/feedbackloop/feedbackloop/ent/organization"
	"github.com/feedbackloop/feedbackloop/ent/organizationmember"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Organisations own projects. An organisation's OWNERs and ADMINs act as
// OWNER of each of its projects: that is folded into the one computation of
// a viewer's project role, RoleIn and its SQL twin visibleProjects, so every
// policy and the websocket rechecks see it. A MEMBER gets nothing from
// being one.

// administeredOrgs is the SQL set of the organisations v administers
// (OWNER or ADMIN).
func administeredOrgs(v *viewer.Viewer) *sql.Selector {
	return sql.Select(organizationmember.FieldOrganizationID).
		From(sql.Table(organizationmember.Table)).
		Where(sql.And(
			sql.EQ(organizationmember.FieldUserID, v.UserID),
			sql.In(organizationmember.FieldRole, string(viewer.OrgOwner), string(viewer.OrgAdmin)),
		))
}

// orgAdministeredProjects is the SQL set of the projects of the
// organisations v administers.
func orgAdministeredProjects(v *viewer.Viewer) *sql.Selector {
	return sql.Select(project.FieldID).From(sql.Table(project.Table)).
		Where(sql.In(project.FieldOrganizationID, administeredOrgs(v)))
}

// OrgRoleIn returns the viewer's role in an organisation ("" when none).
func OrgRoleIn(ctx context.Context, client *ent.Client, v *viewer.Viewer, orgID int) (viewer.OrgRole, error) {
	if v == nil || v.Scope != nil || v.UserID == 0 {
		return "", nil
	}
	m, err := client.OrganizationMember.Query().
		Where(organizationmember.OrganizationID(orgID), organizationmember.UserID(v.UserID)).
		Only(SystemContext(ctx))
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return m.Role, nil
}

// RequireOrg returns nil when the viewer of ctx has one of roles (listed
// from most to least rights) in the organisation, a NotFoundError when it
// is no member, and a ForbiddenError otherwise.
func RequireOrg(ctx context.Context, client *ent.Client, orgID int, action string, roles ...viewer.OrgRole) error {
	if IsSystem(ctx) {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return ErrUnauthenticated
	}
	if v.Admin {
		return nil
	}
	have, err := OrgRoleIn(ctx, client, v, orgID)
	if err != nil {
		return err
	}
	if have == "" {
		return &NotFoundError{Label: organization.Label}
	}
	for _, r := range roles {
		if have == r {
			return nil
		}
	}
	return &ForbiddenError{Action: action, NeedOrg: roles[len(roles)-1], HaveOrg: have}
}

// inViewersOrgs keeps the rows whose column names an organisation the
// viewer is a member of; a project-scoped key has none.
func inViewersOrgs(column string) func(*viewer.Viewer) func(*sql.Selector) {
	return func(v *viewer.Viewer) func(*sql.Selector) {
		return func(s *sql.Selector) {
			if v.Scope != nil {
				s.Where(sql.False())
				return
			}
			s.Where(sql.In(s.C(column), sql.Select(organizationmember.FieldOrganizationID).
				From(sql.Table(organizationmember.Table)).Where(sql.EQ(organizationmember.FieldUserID, v.UserID))))
		}
	}
}

// OrganizationPolicy: members see their organisations. Any person creates
// one (and becomes its OWNER, see OrgOwnerOnCreate); OWNERs and ADMINs
// rename it; OWNERs delete it (unless it is a personal one, see
// KeepPersonalOrganizations). API keys do none of this.
func OrganizationPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(inViewersOrgs(organization.FieldID)),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.OrganizationMutationRuleFunc(func(ctx context.Context, m *ent.OrganizationMutation) error {
				v := viewer.FromContext(ctx)
				if v.Scope != nil || v.Kind == viewer.APIKey {
					return &ForbiddenError{Action: "manage organisations with an API key; sign in as a person"}
				}
				if m.Op().Is(ent.OpCreate) {
					if _, ok := m.PersonalUserID(); ok {
						return &ForbiddenError{Action: "create a personal organisation; the service makes yours on first use"}
					}
					return privacy.Allow
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := MayChangeOrganization(ctx, m.Client(), id, m.Op().Is(ent.OpDelete|ent.OpDeleteOne)); err != nil {
						return err
					}
				}
				return privacy.Allow
			}),
		},
	}
}

// MayChangeOrganization returns nil when the viewer of ctx may rename the
// organisation (OWNER or ADMIN), or delete it (OWNER), as a person; the
// errors are RequireOrg's, or FORBIDDEN for an API key. Resolvers that must
// refuse before other checks (deleteOrganization) ask it first.
func MayChangeOrganization(ctx context.Context, client *ent.Client, id int, deleting bool) error {
	if IsSystem(ctx) {
		return nil
	}
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.Admin:
		return nil
	case v.Scope != nil || v.Kind == viewer.APIKey:
		return &ForbiddenError{Action: "manage organisations with an API key; sign in as a person"}
	}
	if deleting {
		return RequireOrg(ctx, client, id, "delete the organisation", viewer.OrgOwner)
	}
	return RequireOrg(ctx, client, id, "change the organisation", viewer.OrgOwner, viewer.OrgAdmin)
}

// OrganizationMemberPolicy: members see who else is in their organisations;
// OWNERs and ADMINs add, change and remove MEMBERs and ADMINs; only OWNERs
// grant, change or remove the OWNER role.
func OrganizationMemberPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(inViewersOrgs(organizationmember.FieldOrganizationID)),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.OrganizationMemberMutationRuleFunc(func(ctx context.Context, m *ent.OrganizationMemberMutation) error {
				v := viewer.FromContext(ctx)
				if v.Scope != nil || v.Kind == viewer.APIKey {
					return &ForbiddenError{Action: "manage organisation members with an API key; sign in as a person"}
				}
				newRole, _ := m.Role()
				type target struct {
					org  int
					role viewer.OrgRole
				}
				var targets []target
				if m.Op().Is(ent.OpCreate) {
					org, _ := m.OrganizationID()
					targets = append(targets, target{org, newRole})
				} else {
					ids, err := mutatedIDs(ctx, m)
					if err != nil {
						return err
					}
					rows, err := m.Client().OrganizationMember.Query().Where(organizationmember.IDIn(ids...)).All(SystemContext(ctx))
					if err != nil {
						return err
					}
					for _, r := range rows {
						targets = append(targets, target{r.OrganizationID, r.Role})
					}
				}
				for _, t := range targets {
					roles := []viewer.OrgRole{viewer.OrgOwner, viewer.OrgAdmin}
					if t.role == viewer.OrgOwner || newRole == viewer.OrgOwner {
						roles = []viewer.OrgRole{viewer.OrgOwner}
					}
					if err := RequireOrg(ctx, m.Client(), t.org, "manage the organisation's members", roles...); err != nil {
						return err
					}
				}
				return privacy.Allow
			}),
		},
	}
}

// OrgOwnerOnCreate makes the person who creates an organisation its OWNER.
// Personal organisations get their OWNER from PersonalOrganization.
func OrgOwnerOnCreate() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.OrganizationFunc(func(ctx context.Context, m *ent.OrganizationMutation) (ent.Value, error) {
			created, err := next.Mutate(ctx, m)
			if err != nil {
				return nil, err
			}
			v := viewer.FromContext(ctx)
			o := created.(*ent.Organization)
			owner := 0
			switch {
			case o.PersonalUserID != nil:
				owner = *o.PersonalUserID
			case v != nil:
				owner = v.UserID
			}
			if owner == 0 {
				return created, nil
			}
			err = m.Client().OrganizationMember.Create().
				SetOrganizationID(o.ID).SetUserID(owner).SetRole(viewer.OrgOwner).
				Exec(SystemContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("make the creator the organisation's owner: %w", err)
			}
			return created, nil
		})
	}, ent.OpCreate)
}

// PersonalOrganization returns the personal organisation of a user,
// creating it (with the user as OWNER) on first use.
func PersonalOrganization(ctx context.Context, client *ent.Client, userID int, name string) (int, error) {
	sys := SystemContext(ctx)
	id, err := client.Organization.Query().Where(organization.PersonalUserID(userID)).OnlyID(sys)
	if err == nil || !ent.IsNotFound(err) {
		return id, err
	}
	if name == "" {
		name = "Personal"
	}
	err = client.Organization.Create().SetName(name).SetPersonalUserID(userID).
		OnConflict(sql.ConflictColumns(organization.FieldPersonalUserID)).DoNothing().
		Exec(sys)
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return 0, fmt.Errorf("create the personal organisation: %w", err)
	}
	return client.Organization.Query().Where(organization.PersonalUserID(userID)).OnlyID(sys)
}

// OrganizationOnCreate puts a new project in an organisation: the one its
// creator named (ProjectPolicy checked they administer it), else the
// creator's personal one; a project the system creates without one gets an
// organisation of its own, named after it.
func OrganizationOnCreate() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.ProjectFunc(func(ctx context.Context, m *ent.ProjectMutation) (ent.Value, error) {
			if _, ok := m.OrganizationID(); ok {
				return next.Mutate(ctx, m)
			}
			v := viewer.FromContext(ctx)
			if v != nil && v.UserID != 0 {
				id, err := PersonalOrganization(ctx, m.Client(), v.UserID, v.Name)
				if err != nil {
					return nil, err
				}
				m.SetOrganizationID(id)
				return next.Mutate(ctx, m)
			}
			name, _ := m.Name()
			if name == "" {
				name = "Project"
			}
			o, err := m.Client().Organization.Create().SetName(name).Save(SystemContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("create the project's organisation: %w", err)
			}
			m.SetOrganizationID(o.ID)
			return next.Mutate(ctx, m)
		})
	}, ent.OpCreate)
}

// LastOrgOwnerError is a change that would leave an organisation without an
// OWNER.
type LastOrgOwnerError struct{}

func (LastOrgOwnerError) Error() string {
	return "an organisation must keep at least one OWNER: make another member OWNER first"
}

// KeepAnOrgOwner refuses to demote or remove an organisation's last OWNER,
// locking the organisation's row first as KeepAnOwner does for projects.
func KeepAnOrgOwner() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.OrganizationMemberFunc(func(ctx context.Context, m *ent.OrganizationMemberMutation) (ent.Value, error) {
			if role, ok := m.Role(); m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && (!ok || role == viewer.OrgOwner) {
				return next.Mutate(ctx, m)
			}
			ids, err := mutatedIDs(ctx, m)
			if err != nil {
				return nil, err
			}
			sys := SystemContext(ctx)
			for _, id := range ids {
				member, err := m.Client().OrganizationMember.Get(sys, id)
				if ent.IsNotFound(err) {
					continue
				}
				if err != nil {
					return nil, err
				}
				if member.Role != viewer.OrgOwner {
					continue
				}
				if _, err := m.Client().Organization.Query().Where(organization.ID(member.OrganizationID)).ForUpdate().OnlyID(sys); err != nil {
					return nil, fmt.Errorf("lock the organisation: %w", err)
				}
				others, err := m.Client().OrganizationMember.Query().
					Where(organizationmember.OrganizationID(member.OrganizationID), organizationmember.RoleEQ(viewer.OrgOwner), organizationmember.IDNEQ(id)).
					Count(sys)
				if err != nil {
					return nil, err
				}
				if others == 0 {
					return nil, LastOrgOwnerError{}
				}
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}

// ErrDeletePersonal is the refusal to delete a personal organisation.
var ErrDeletePersonal error = &ForbiddenError{Action: "delete a personal organisation: it is where its person's projects go by default"}

// KeepPersonalOrganizations refuses, to everyone, admins included, to
// delete a personal organisation: it is where its person's projects go by
// default, and PersonalOrganization would only make another.
func KeepPersonalOrganizations() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.OrganizationFunc(func(ctx context.Context, m *ent.OrganizationMutation) (ent.Value, error) {
			ids, err := mutatedIDs(ctx, m)
			if err != nil {
				return nil, err
			}
			personal, err := m.Client().Organization.Query().
				Where(organization.IDIn(ids...), organization.PersonalUserIDNotNil()).Exist(SystemContext(ctx))
			if err != nil {
				return nil, err
			}
			if personal {
				return nil, ErrDeletePersonal
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpDelete|ent.OpDeleteOne)
}
