package graph

import (
	"context"
	"time"

	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/insights"
)

// projectInsights computes a project's insights. The aggregates are raw SQL
// past ent's privacy filters, so the project is first looked up through ent:
// a project the viewer may not see is NOT_FOUND, like everywhere else.
func (r *Resolver) projectInsights(ctx context.Context, projectID int, since, until *time.Time) (*insights.Report, error) {
	if since != nil && until != nil && !since.Before(*until) {
		return nil, &InputError{Field: "until", Problem: "must be after since: the window is [since, until)"}
	}
	if err := r.mustSeeProject(ctx, projectID, "projectID"); err != nil {
		return nil, err
	}
	return insights.Compute(ctx, r.client, projectID, insights.Window{Since: since, Until: until})
}

// topTasks loads the report's top tasks in one query, through ent so that
// privacy applies; a task deleted since the report was computed is left out.
func (r *Resolver) topTasks(ctx context.Context, rep *insights.Report) ([]*model.TaskMention, error) {
	out := []*model.TaskMention{}
	if len(rep.TopTasks) == 0 {
		return out, nil
	}
	ids := make([]int, len(rep.TopTasks))
	for i, m := range rep.TopTasks {
		ids[i] = m.TaskID
	}
	tasks, err := r.client.Task.Query().Where(task.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range rep.TopTasks {
		for _, t := range tasks {
			if t.ID == m.TaskID {
				out = append(out, &model.TaskMention{Task: t, Mentions: m.Mentions(), FeedbackCount: m.Feedback, SuggestionCount: m.Suggestions})
			}
		}
	}
	return out, nil
}
