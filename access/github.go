package access

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/githubrepository"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// GitHubRepositoryPolicy: a project's members see which repository it
// links (never its token or secret, which no API field reads); only its
// OWNERs link and unlink one.
func GitHubRepositoryPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return inVisibleProjects(v, githubrepository.FieldProjectID)
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.GitHubRepositoryMutationRuleFunc(func(ctx context.Context, m *ent.GitHubRepositoryMutation) error {
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().GitHubRepository.Query().Where(githubrepository.IDIn(ids...)).Unique(true).
						Select(githubrepository.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Owner, githubrepository.Label, "link GitHub repositories")
			}),
		},
	}
}
