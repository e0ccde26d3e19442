package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/velocity"
	"github.com/feedbackloop/feedbackloop/viewer"
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
	rep, err := insights.Compute(ctx, r.client, projectID, insights.Window{Since: since, Until: until})
	if err != nil {
		return nil, err
	}
	rep.SetCurrency(r.budgetCfg.Currency)
	return rep, nil
}

// projectVelocity computes a project's velocity over the last weeks (nil:
// the default). Like the insights, its SQL runs past ent's privacy filters
// once the viewer is known to see the project.
func (r *Resolver) projectVelocity(ctx context.Context, projectID int, weeks *int) (*velocity.Report, error) {
	n := velocity.DefaultWeeks
	if weeks != nil {
		n = *weeks
	}
	if n < 1 || n > velocity.MaxWeeks {
		return nil, &InputError{Field: "weeks", Problem: fmt.Sprintf("must be from 1 to %d (got %d)", velocity.MaxWeeks, n)}
	}
	if err := r.mustSeeProject(ctx, projectID, "projectID"); err != nil {
		return nil, err
	}
	return velocity.Compute(ctx, r.client, projectID, n, time.Now())
}

// budget is the project's model spend this month against
// LLM_PROJECT_MONTHLY_BUDGET, for its OWNERs only: what the project costs
// is the business of whoever pays for it.
func (r *Resolver) budget(ctx context.Context, projectID int) (*model.ProjectBudget, error) {
	if err := access.Require(ctx, r.client, projectID, viewer.Owner, project.Label, "see the project's model budget"); err != nil {
		return nil, err
	}
	now := time.Now()
	spent, err := pipeline.MonthSpend(ctx, r.client, projectID, now)
	if err != nil {
		return nil, err
	}
	start, next := spend.Month(now)
	b := r.budgetCfg
	out := &model.ProjectBudget{Currency: b.Currency, SpentThisMonth: spent, Exceeded: b.Exceeded(spent), PeriodStart: start, ResetsAt: next}
	if b.Monthly > 0 {
		monthly, remaining := b.Monthly, max(0, b.Monthly-spent)
		out.MonthlyBudget, out.Remaining = &monthly, &remaining
	}
	return out, nil
}

// themes groups the report's feedback into at most first themes. The report
// was computed for a project the viewer sees, so its SQL may run past ent's
// privacy filters like the report's own.
func (r *Resolver) themes(ctx context.Context, rep *insights.Report, first int) ([]*insights.Theme, error) {
	if first < 1 || first > insights.MaxThemes {
		return nil, &InputError{Field: "first", Problem: fmt.Sprintf("must be from 1 to %d (got %d)", insights.MaxThemes, first)}
	}
	themes, err := insights.Themes(ctx, r.client, rep.ProjectID, insights.Window{Since: rep.Since, Until: rep.Until}, first)
	if err != nil {
		return nil, err
	}
	out := make([]*insights.Theme, len(themes))
	for i := range themes {
		out[i] = &themes[i]
	}
	return out, nil
}

// themeExample loads the feedback that names a theme through ent, so
// privacy applies; a feedback gone since is null.
func (r *Resolver) themeExample(ctx context.Context, t *insights.Theme) (*ent.Feedback, error) {
	fb, err := r.client.Feedback.Get(ctx, t.ExampleID)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return fb, err
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
