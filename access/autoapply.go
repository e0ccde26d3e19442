package access

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/autoapplyrule"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// AutoApplyRulePolicy: members see their projects' auto-apply rules (they
// explain why a suggestion was applied without a click); only OWNERs
// create, change and delete them.
func AutoApplyRulePolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return inVisibleProjects(v, autoapplyrule.FieldProjectID)
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.AutoApplyRuleMutationRuleFunc(func(ctx context.Context, m *ent.AutoApplyRuleMutation) error {
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().AutoApplyRule.Query().Where(autoapplyrule.IDIn(ids...)).Unique(true).Select(autoapplyrule.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Owner, autoapplyrule.Label, "manage auto-apply rules")
			}),
		},
	}
}
