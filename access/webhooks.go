package access

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/webhook"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// ownedProjects is the SQL set (or single value) of the projects v is an
// OWNER of; nil when none can be.
func ownedProjects(v *viewer.Viewer) any {
	if v.Scope != nil {
		if v.Scope.Role == viewer.Owner {
			return v.Scope.ProjectID
		}
		return nil
	}
	return sql.Select(projectmember.FieldProjectID).
		From(sql.Table(projectmember.Table)).
		Where(sql.And(sql.EQ(projectmember.FieldUserID, v.UserID), sql.EQ(projectmember.FieldRole, string(viewer.Owner))))
}

func inOwnedProjects(v *viewer.Viewer, s *sql.Selector, column string) {
	switch set := ownedProjects(v).(type) {
	case nil:
		s.Where(sql.False())
	case int:
		s.Where(sql.EQ(s.C(column), set))
	default:
		s.Where(sql.In(s.C(column), set.(*sql.Selector)))
	}
}

// WebhookPolicy: a project's OWNERs see and manage its webhooks; other
// members do not see them at all (a URL may be a secret), and changing one
// gets FORBIDDEN naming OWNER.
func WebhookPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) { inOwnedProjects(v, s, webhook.FieldProjectID) }
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.WebhookMutationRuleFunc(func(ctx context.Context, m *ent.WebhookMutation) error {
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().Webhook.Query().Where(webhook.IDIn(ids...)).Unique(true).Select(webhook.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Owner, webhook.Label, "manage webhooks")
			}),
		},
	}
}

// WebhookDeliveryPolicy: the OWNERs of a webhook's project see its
// deliveries and redeliver them; only the system (the worker) creates,
// attempts and deletes them.
func WebhookDeliveryPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) {
				hooks := sql.Select(webhook.FieldID).From(sql.Table(webhook.Table))
				inOwnedProjects(v, hooks, webhook.FieldProjectID)
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
				projects, err := m.Client().Webhook.Query().
					Where(webhook.HasDeliveriesWith(webhookdelivery.IDIn(ids...))).
					Unique(true).Select(webhook.FieldProjectID).Ints(SystemContext(ctx))
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Owner, webhookdelivery.Label, "redeliver webhooks")
			}),
		},
	}
}
