package graph

import (
	"context"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/apikey"
	"github.com/feedbackloop/feedbackloop/ent/organization"
	"github.com/feedbackloop/feedbackloop/ent/organizationmember"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Membership and API key operations. Who may perform them is decided by the
// privacy policies (access package) when the rows are written; these
// functions only shape the rows and the errors.

func (r *Resolver) createAPIKey(ctx context.Context, in model.CreateAPIKeyInput) (*model.CreateAPIKeyPayload, error) {
	v := viewer.FromContext(ctx)
	var problems []error
	check(&problems, "input.name", apikey.NameValidator, trimmed(&in.Name))
	switch {
	case in.Role != nil && in.ProjectID == nil:
		problems = append(problems, &InputError{Field: "input.role", Problem: "applies to a project-scoped key only: set input.projectID too"})
	case in.ProjectID != nil && in.Role == nil:
		reader := viewer.Reader
		in.Role = &reader
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		problems = append(problems, &InputError{Field: "input.expiresAt", Problem: "must be in the future"})
	}
	if err := reportAll(ctx, problems); err != nil {
		return nil, err
	}
	if in.ProjectID != nil {
		if err := r.mustSeeProject(ctx, *in.ProjectID, "input.projectID"); err != nil {
			return nil, err
		}
	}
	secret, prefix, hash, err := auth.NewKey()
	if err != nil {
		return nil, err
	}
	create := r.client.APIKey.Create().
		SetName(*trimmed(&in.Name)).
		SetPrefix(prefix).
		SetHash(hash).
		SetUserID(v.UserID).
		SetNillableProjectID(in.ProjectID).
		SetNillableRole(in.Role).
		SetNillableExpiresAt(in.ExpiresAt)
	if v.AdminKeyFingerprint != nil {
		// Keys the ADMIN_API_KEY makes carry its fingerprint, so rotating
		// it revokes them (auth refuses an admin's key without the current one).
		create.SetAdminKeyFingerprint(v.AdminKeyFingerprint)
	}
	k, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	return &model.CreateAPIKeyPayload{APIKey: k, Secret: secret}, nil
}

// revokeAPIKey ends a key now: requests with it are refused from the
// commit, and the event written with the revocation closes the websockets
// opened with it, on every instance.
func (r *Resolver) revokeAPIKey(ctx context.Context, id int) (*ent.APIKey, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.APIKey, error) {
		k, err := tx.APIKey.UpdateOneID(id).SetRevokedAt(time.Now().UTC()).Save(ctx)
		if err != nil {
			return nil, err
		}
		project := 0
		if k.ProjectID != nil {
			project = *k.ProjectID
		}
		e, err := outbox.New(project, outbox.KindCredential, k.ID, 1, nil, outbox.CredentialPayload{APIKeyID: k.ID})
		if err != nil {
			return nil, err
		}
		outbox.Record(tx, e)
		return k, nil
	})
}

// mustSeeProject returns NOT_FOUND for a project the viewer may not see.
func (r *Resolver) mustSeeProject(ctx context.Context, id int, field string) error {
	visible, err := r.canSeeProject(ctx, id)
	switch {
	case err != nil:
		return err
	case !visible:
		return &NotFoundError{Field: field, Type: "Project"}
	}
	return nil
}

// canSeeProject reports whether the viewer may see the project: the
// privacy rules hide the others as if they did not exist. It reads the
// memberships on the primary, as every access check does.
func (r *Resolver) canSeeProject(ctx context.Context, id int) (bool, error) {
	return r.client.Project.Query().Where(project.ID(id)).Exist(replicas.Primary(ctx))
}

// addMember gives a role to the EXTERNAL user of a subject at an issuer
// (the server's JWT_ISSUER unless the input names one): the operator's
// built-in identities are other kinds, which no input can name.
func (r *Resolver) addMember(ctx context.Context, in model.AddProjectMemberInput) (*ent.ProjectMember, error) {
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
	if err := r.mustSeeProject(ctx, in.ProjectID, "input.projectID"); err != nil {
		return nil, err
	}
	m, err := store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.ProjectMember, error) {
		// The person may not have signed in yet: their user is created now,
		// by the system, so they find the project on first sign-in.
		uid, err := tx.User.Create().
			SetKind(viewer.External).
			SetIssuer(*issuer).
			SetSubject(*trimmed(&in.Subject)).
			OnConflictColumns(user.FieldKind, user.FieldIssuer, user.FieldSubject).
			Ignore().
			ID(access.SystemContext(ctx))
		if err != nil {
			return nil, err
		}
		m, err := tx.ProjectMember.Create().SetProjectID(in.ProjectID).SetUserID(uid).SetRole(in.Role).Save(ctx)
		if err != nil {
			return nil, err
		}
		return m, accessChanged(tx, m)
	})
	if postgres.IsUniqueViolation(err) {
		return nil, &InputError{Field: "input.subject", Problem: "is already a member of this project: use updateProjectMember to change their role"}
	}
	return m, err
}

// changeMember runs a change of one membership in a transaction (the
// last-owner check locks the project) and tells live subscriptions.
func (r *Resolver) changeMember(ctx context.Context, id int, change func(*ent.Tx) (*ent.ProjectMember, error)) (*ent.ProjectMember, error) {
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.ProjectMember, error) {
		m, err := change(tx)
		if err != nil {
			return nil, err
		}
		return m, accessChanged(tx, m)
	})
}

// accessChanged tells every instance, with the change, that a member's
// access to a project changed, so their live subscriptions re-check it.
func accessChanged(tx *ent.Tx, m *ent.ProjectMember) error {
	e, err := outbox.New(m.ProjectID, outbox.KindAccess, m.ID, 1, nil, outbox.AccessPayload{UserID: m.UserID})
	if err != nil {
		return err
	}
	outbox.Record(tx, e)
	return nil
}

// memberships lists the projects a viewer may access with its role there.
func (r *Resolver) memberships(ctx context.Context, v *viewer.Viewer) ([]*model.ViewerMembership, error) {
	if v.Scope != nil {
		p, err := r.client.Project.Get(ctx, v.Scope.ProjectID)
		if err != nil {
			return nil, err
		}
		return []*model.ViewerMembership{{Project: p, Role: v.Scope.Role}}, nil
	}
	ms, err := r.client.ProjectMember.Query().
		Where(projectmember.UserID(v.UserID)).
		WithProject().
		Order(ent.Asc(projectmember.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ViewerMembership, 0, len(ms))
	listed := map[int]int{}
	for _, m := range ms {
		listed[m.ProjectID] = len(out)
		out = append(out, &model.ViewerMembership{Project: m.Edges.Project, Role: m.Role})
	}
	// The projects of the organisations the viewer administers, where it
	// acts as OWNER (see access.RoleIn).
	administered, err := r.client.Project.Query().
		Where(project.HasOrganizationWith(organization.HasMembersWith(
			organizationmember.UserID(v.UserID), organizationmember.RoleIn(viewer.OrgOwner, viewer.OrgAdmin)))).
		Order(ent.Asc(project.FieldCreatedAt), ent.Asc(project.FieldID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range administered {
		if i, ok := listed[p.ID]; ok {
			out[i].Role = viewer.Owner
			continue
		}
		out = append(out, &model.ViewerMembership{Project: p, Role: viewer.Owner})
	}
	return out, nil
}
