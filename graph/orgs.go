package graph

import (
	"context"
	"fmt"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/organization"
	"github.com/feedbackloop/feedbackloop/ent/organizationmember"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// orgsOfUserFull is the refusal when a person is in
// bounds.MaxOrganizationsPerUser organisations already.
func orgsOfUserFull(field, who string) error {
	return &InputError{Field: field, Problem: fmt.Sprintf("%s already belongs to %d organisations, the most allowed: leave one first", who, bounds.MaxOrganizationsPerUser)}
}

func (r *Resolver) createOrganization(ctx context.Context, in model.CreateOrganizationInput) (*ent.Organization, error) {
	var problems []error
	check(&problems, "input.name", organization.NameValidator, trimmed(&in.Name))
	if err := reportAll(ctx, problems); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.Organization, error) {
		if v != nil && v.UserID != 0 {
			n, err := tx.OrganizationMember.Query().Where(organizationmember.UserID(v.UserID)).Count(access.SystemContext(ctx))
			if err != nil {
				return nil, err
			}
			if n >= bounds.MaxOrganizationsPerUser {
				return nil, orgsOfUserFull("input", "you")
			}
		}
		return tx.Organization.Create().SetName(in.Name).Save(ctx)
	})
}

func (r *Resolver) addOrganizationMember(ctx context.Context, in model.AddOrganizationMemberInput) (*ent.OrganizationMember, error) {
	issuer := &r.defaultIssuer
	if in.Issuer != nil {
		issuer = trimmed(in.Issuer)
	}
	var problems []error
	check(&problems, "input.subject", user.SubjectValidator, trimmed(&in.Subject))
	check(&problems, "input.issuer", user.IssuerValidator, issuer)
	if err := reportAll(ctx, problems); err != nil {
		return nil, err
	}
	sys := access.SystemContext(ctx)
	m, err := store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.OrganizationMember, error) {
		// Refused before anything is written when the caller may not.
		if err := access.RequireOrg(ctx, tx.Client(), in.OrganizationID, "add organisation members", orgManagers(in.Role)...); err != nil {
			return nil, err
		}
		// The count holds with the organisation's row locked.
		if _, err := tx.Organization.Query().Where(organization.ID(in.OrganizationID)).ForUpdate().OnlyID(sys); err != nil {
			return nil, err
		}
		n, err := tx.OrganizationMember.Query().Where(organizationmember.OrganizationID(in.OrganizationID)).Count(sys)
		if err != nil {
			return nil, err
		}
		if n >= bounds.MaxOrganizationMembers {
			return nil, &InputError{Field: "input.organizationID", Problem: fmt.Sprintf("has %d members, the most allowed: remove one first", bounds.MaxOrganizationMembers)}
		}
		uid, err := tx.User.Create().
			SetKind(viewer.External).
			SetIssuer(*issuer).
			SetSubject(*trimmed(&in.Subject)).
			OnConflictColumns(user.FieldKind, user.FieldIssuer, user.FieldSubject).
			Ignore().
			ID(sys)
		if err != nil {
			return nil, err
		}
		theirs, err := tx.OrganizationMember.Query().Where(organizationmember.UserID(uid)).Count(sys)
		if err != nil {
			return nil, err
		}
		if theirs >= bounds.MaxOrganizationsPerUser {
			return nil, orgsOfUserFull("input.subject", "this person")
		}
		m, err := tx.OrganizationMember.Create().SetOrganizationID(in.OrganizationID).SetUserID(uid).SetRole(in.Role).Save(ctx)
		if err != nil {
			return nil, err
		}
		return m, orgAccessChanged(ctx, tx, m)
	})
	if postgres.IsUniqueViolation(err) {
		return nil, &InputError{Field: "input.subject", Problem: "is already a member of this organisation: use updateOrganizationMember to change their role"}
	}
	return m, err
}

// orgManagers are the organisation roles that may give role.
func orgManagers(role viewer.OrgRole) []viewer.OrgRole {
	if role == viewer.OrgOwner {
		return []viewer.OrgRole{viewer.OrgOwner}
	}
	return []viewer.OrgRole{viewer.OrgOwner, viewer.OrgAdmin}
}

// changeOrganizationMember runs a change of one organisation membership in
// a transaction (the last-owner check locks the organisation) and tells
// the live subscriptions of the organisation's projects.
func (r *Resolver) changeOrganizationMember(ctx context.Context, id int, remove bool, role viewer.OrgRole) (*ent.OrganizationMember, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.OrganizationMember, error) {
		m, err := tx.OrganizationMember.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if remove {
			err = tx.OrganizationMember.DeleteOne(m).Exec(ctx)
		} else {
			m, err = tx.OrganizationMember.UpdateOneID(id).SetRole(role).Save(ctx)
		}
		if err != nil {
			return nil, err
		}
		return m, orgAccessChanged(ctx, tx, m)
	})
}

// orgAccessChanged tells every instance that a person's access to each
// project of an organisation may have changed, so their live subscriptions
// re-check it (as accessChanged does for a project membership).
func orgAccessChanged(ctx context.Context, tx *ent.Tx, m *ent.OrganizationMember) error {
	projects, err := tx.Project.Query().Where(project.OrganizationID(m.OrganizationID)).IDs(access.SystemContext(ctx))
	if err != nil {
		return err
	}
	for _, pid := range projects {
		e, err := outbox.New(pid, outbox.KindAccess, m.ID, 1, nil, outbox.AccessPayload{UserID: m.UserID})
		if err != nil {
			return err
		}
		outbox.Record(tx, e)
	}
	return nil
}

// createProjectIn creates a project in organisation org (nil: the
// caller's personal one), in a transaction with its OWNER membership.
func (r *Resolver) createProjectIn(ctx context.Context, input ent.CreateProjectInput, org *int) (*ent.Project, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.Project, error) {
		c := tx.Project.Create().SetInput(input)
		if org != nil {
			c.SetOrganizationID(*org)
		}
		return c.Save(ctx)
	})
}

// updateOrganization renames an organisation (OrganizationPolicy decides
// who may).
func (r *Resolver) updateOrganization(ctx context.Context, id int, in model.UpdateOrganizationInput) (*ent.Organization, error) {
	var problems []error
	if in.Name != nil {
		check(&problems, "input.name", organization.NameValidator, trimmed(in.Name))
	}
	if err := reportAll(ctx, problems); err != nil {
		return nil, err
	}
	// Those who may not see it get NOT_FOUND, an API key included.
	if _, err := r.client.Organization.Get(ctx, id); err != nil {
		return nil, err
	}
	update := r.client.Organization.UpdateOneID(id)
	if in.Name != nil {
		update.SetName(*in.Name)
	}
	return update.Save(ctx)
}

// deleteOrganization deletes an organisation that owns no project; its
// memberships and its own webhooks go with it. The organisation's row is
// locked while its projects are counted: a project being created in it
// holds a key-share lock on the row, so the count sees it or its creation
// fails once the organisation is gone.
func (r *Resolver) deleteOrganization(ctx context.Context, id int) (int, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (int, error) {
		sys := access.SystemContext(ctx)
		// Who may not see it gets NOT_FOUND, who may not delete it
		// FORBIDDEN, before anything else.
		o, err := tx.Organization.Query().Where(organization.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return 0, err
		}
		if err := access.MayChangeOrganization(ctx, tx.Client(), id, true); err != nil {
			return 0, err
		}
		if o.PersonalUserID != nil {
			return 0, access.ErrDeletePersonal
		}
		n, err := tx.Project.Query().Where(project.OrganizationID(id)).Count(sys)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, &ConflictError{Field: "id", Err: &plan.ConflictError{Problem: fmt.Sprintf(
				"the organisation still owns %d project(s): delete them (deleteProject) first, then the organisation", n)}}
		}
		return id, tx.Organization.DeleteOneID(id).Exec(ctx)
	})
}
