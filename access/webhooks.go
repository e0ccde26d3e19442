package access

import (
	"context"
	"errors"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// ownedProjects is the SQL set (or single value) of the projects v is an
// OWNER of, those of the organisations v administers included; nil when
// none can be.
func ownedProjects(v *viewer.Viewer) any {
	if v.Scope != nil {
		if v.Scope.Role == viewer.Owner {
			return v.Scope.ProjectID
		}
		return nil
	}
	return sql.Select(projectmember.FieldProjectID).
		From(sql.Table(projectmember.Table)).
		Where(sql.And(sql.EQ(projectmember.FieldUserID, v.UserID), sql.EQ(projectmember.FieldRole, string(viewer.Owner)))).
		UnionAll(orgAdministeredProjects(v))
}

// managedWebhooks keeps the endpoints v manages: those of the projects v
// is an OWNER of, and those of the organisations v administers (a
// project-scoped key has none of the latter).
func managedWebhooks(v *viewer.Viewer, s *sql.Selector) {
	var ofProjects *sql.Predicate
	switch set := ownedProjects(v).(type) {
	case nil:
		ofProjects = sql.False()
	case int:
		ofProjects = sql.EQ(s.C(webhook.FieldProjectID), set)
	default:
		ofProjects = sql.In(s.C(webhook.FieldProjectID), set.(*sql.Selector))
	}
	if v.Scope != nil {
		s.Where(ofProjects)
		return
	}
	s.Where(sql.Or(ofProjects, sql.In(s.C(webhook.FieldOrganizationID), administeredOrgs(v))))
}

// webhookOwner is what a webhook belongs to: a project or an
// organisation (the other is 0).
type webhookOwner struct{ project, org int }

func ownerOf(project, org *int) webhookOwner {
	var o webhookOwner
	if project != nil {
		o.project = *project
	}
	if org != nil {
		o.org = *org
	}
	return o
}

// requireWebhookOwners checks that the viewer of ctx manages the endpoints
// of each owner: OWNER of a project; OWNER or ADMIN of an organisation,
// as a person (an API key manages no organisation's endpoints).
func requireWebhookOwners(ctx context.Context, client *ent.Client, owners []webhookOwner, label, action string) error {
	for _, o := range owners {
		switch {
		case o.project != 0:
			if err := Require(ctx, client, o.project, viewer.Owner, label, action); err != nil {
				return err
			}
		case o.org != 0:
			// A project-scoped key sees no organisation: NOT_FOUND first.
			if err := RequireOrg(ctx, client, o.org, action, viewer.OrgOwner, viewer.OrgAdmin); err != nil {
				return err
			}
			if v := viewer.FromContext(ctx); v != nil && !v.Admin && v.Kind == viewer.APIKey {
				return &ForbiddenError{Action: action + " of an organisation with an API key; sign in as a person"}
			}
		default:
			return errors.New("access: a webhook needs a project or an organisation")
		}
	}
	return privacy.Allow
}

// ownersOf returns the owners of the endpoints where selects, each once.
func ownersOf(ctx context.Context, client *ent.Client, where ...predicate.Webhook) ([]webhookOwner, error) {
	rows, err := client.Webhook.Query().Where(where...).
		Select(webhook.FieldProjectID, webhook.FieldOrganizationID).All(SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	seen := map[webhookOwner]bool{}
	var out []webhookOwner
	for _, r := range rows {
		o := ownerOf(r.ProjectID, r.OrganizationID)
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// WebhookPolicy: a project's OWNERs see and manage its webhooks, an
// organisation's OWNERs and ADMINs its own webhooks (and, as OWNERs of
// its projects, theirs); other members do not see them at all (a URL may
// be a secret), and changing one gets FORBIDDEN naming the role needed.
func WebhookPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) { managedWebhooks(v, s) }
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.WebhookMutationRuleFunc(func(ctx context.Context, m *ent.WebhookMutation) error {
				var owners []webhookOwner
				if m.Op().Is(ent.OpCreate) {
					var o webhookOwner
					o.project, _ = m.ProjectID()
					o.org, _ = m.OrganizationID()
					if (o.project == 0) == (o.org == 0) {
						return errors.New("access: a new webhook needs a project or an organisation, not both")
					}
					owners = []webhookOwner{o}
				} else {
					ids, err := mutatedIDs(ctx, m)
					if err != nil || len(ids) == 0 {
						return err
					}
					if owners, err = ownersOf(ctx, m.Client(), webhook.IDIn(ids...)); err != nil {
						return err
					}
				}
				return requireWebhookOwners(ctx, m.Client(), owners, webhook.Label, "manage webhooks")
			}),
		},
	}
}

// WebhookDeliveryPolicy: those who manage a webhook see its deliveries and
// redeliver them; only the system (the worker) creates, attempts and
// deletes them.
func WebhookDeliveryPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) {
				hooks := sql.Select(webhook.FieldID).From(sql.Table(webhook.Table))
				managedWebhooks(v, hooks)
				s.Where(sql.In(s.C(webhookdelivery.FieldWebhookID), hooks))
			}
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.WebhookDeliveryMutationRuleFunc(func(ctx context.Context, m *ent.WebhookDeliveryMutation) error {
				if !m.Op().Is(ent.OpUpdateOne | ent.OpUpdate) {
					return &ForbiddenError{Action: "create or delete webhook deliveries"}
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil || len(ids) == 0 {
					return err
				}
				owners, err := ownersOf(ctx, m.Client(), webhook.HasDeliveriesWith(webhookdelivery.IDIn(ids...)))
				if err != nil {
					return err
				}
				return requireWebhookOwners(ctx, m.Client(), owners, webhookdelivery.Label, "redeliver webhooks")
			}),
		},
	}
}

// RequireWebhookOwner returns nil when the viewer of ctx manages the
// endpoints of project projectID, or (projectID 0) of organisation orgID,
// and the policy's error otherwise: resolvers ask it before they judge the
// rest of a request.
func RequireWebhookOwner(ctx context.Context, client *ent.Client, projectID, orgID int) error {
	if IsSystem(ctx) {
		return nil
	}
	if v := viewer.FromContext(ctx); v == nil {
		return ErrUnauthenticated
	} else if v.Admin {
		return nil
	}
	err := requireWebhookOwners(ctx, client, []webhookOwner{{project: projectID, org: orgID}}, webhook.Label, "manage webhooks")
	if errors.Is(err, privacy.Allow) {
		return nil
	}
	return err
}
