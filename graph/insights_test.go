package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/reuse"
)

const insightsQuery = `query($p: ID!, $since: Time, $until: Time) {
	projectInsights(projectID: $p, since: $since, until: $until) {
		since until feedbackCount
		feedbackByStatus { status count }
		feedbackPerDay { date count pending processing completed failed }
		processingTime { count p50Ms p95Ms }
		failures { failed finished rate topReasons { reason count } }
		suggestions { total applied rejected pending acceptanceRate byType { type total applied rejected pending acceptanceRate } }
		models {
			provider model completed
			processingTime { count p50Ms p95Ms }
			suggestions { total applied rejected pending acceptanceRate byType { type total applied rejected pending acceptanceRate } }
		}
		topTasks { task { id title } mentions feedbackCount suggestionCount }
	}
}`

// Every field of projectInsights, end to end, for a project small enough to
// count by hand (the insights package tests the arithmetic in depth).
func TestProjectInsights(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.client.Project.Create().SetName("measured").SaveX(ctx)
	a := e.client.Task.Create().SetProjectID(p.ID).SetTitle("A").SaveX(ctx)
	b := e.client.Task.Create().SetProjectID(p.ID).SetTitle("B").SaveX(ctx)
	gone := e.client.Task.Create().SetProjectID(p.ID).SetTitle("gone").SaveX(ctx)
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)

	f1 := e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("slow").SetTaskID(a.ID).
		SetCreatedAt(day.Add(10 * time.Hour)).SetStatus(feedback.StatusCompleted).SetProcessedAt(day.Add(10*time.Hour + 1500*time.Millisecond)).
		SetProvider("openai").SetModel("m1").SaveX(ctx)
	e.client.Adjustment.Create().SetFeedbackID(f1.ID).SetPosition(0).SetDescription("up").
		SetAdjustmentType(adjustment.AdjustmentTypeTaskPriority).SetTaskID(a.ID).SetStatus(adjustment.StatusApplied).SaveX(ctx)
	e.client.Adjustment.Create().SetFeedbackID(f1.ID).SetPosition(1).SetDescription("note").
		SetAdjustmentType(adjustment.AdjustmentTypeGeneral).SetTaskID(gone.ID).SetStatus(adjustment.StatusRejected).SaveX(ctx)
	e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("broken").
		SetCreatedAt(day.Add(11 * time.Hour)).SetStatus(feedback.StatusFailed).SetProcessedAt(day.Add(12 * time.Hour)).SetError("boom").SaveX(ctx)
	e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("later").SetTaskID(b.ID).
		SetCreatedAt(day.Add(33 * time.Hour)).SaveX(ctx)
	e.client.Task.DeleteOneID(gone.ID).ExecX(ctx)
	// Another project's feedback does not count.
	other := e.client.Project.Create().SetName("other").SaveX(ctx)
	e.client.Feedback.Create().SetProjectID(other.ID).SetFeedbackText("elsewhere").SetCreatedAt(day).SaveX(ctx)

	before := e.queries.Load()
	var got struct{ ProjectInsights json.RawMessage }
	e.mustDo(insightsQuery, map[string]any{"p": gid.Encode(p.ID)}, &got)
	// The project check, the aggregates and the tasks: no query per task.
	if n := e.queries.Load() - before; n != 3 {
		t.Errorf("projectInsights sent %d SQL statements, want 3", n)
	}
	suggestions := `{"total": 2, "applied": 1, "rejected": 1, "pending": 0, "acceptanceRate": 0.5, "byType": [
		{"type": "GENERAL", "total": 1, "applied": 0, "rejected": 1, "pending": 0, "acceptanceRate": 0},
		{"type": "TASK_PRIORITY", "total": 1, "applied": 1, "rejected": 0, "pending": 0, "acceptanceRate": 1}]}`
	processing := `{"count": 1, "p50Ms": 1500, "p95Ms": 1500}`
	sameJSON(t, got.ProjectInsights, fmt.Sprintf(`{
		"since": null, "until": null, "feedbackCount": 3,
		"feedbackByStatus": [{"status": "PENDING", "count": 1}, {"status": "PROCESSING", "count": 0}, {"status": "COMPLETED", "count": 1}, {"status": "FAILED", "count": 1}],
		"feedbackPerDay": [{"date": "2026-05-04", "count": 2, "pending": 0, "processing": 0, "completed": 1, "failed": 1}, {"date": "2026-05-05", "count": 1, "pending": 1, "processing": 0, "completed": 0, "failed": 0}],
		"processingTime": %[1]s,
		"failures": {"failed": 1, "finished": 2, "rate": 0.5, "topReasons": [{"reason": "boom", "count": 1}]},
		"suggestions": %[2]s,
		"models": [{"provider": "openai", "model": "m1", "completed": 1, "processingTime": %[1]s, "suggestions": %[2]s}],
		"topTasks": [
			{"task": {"id": %[3]q, "title": "A"}, "mentions": 2, "feedbackCount": 1, "suggestionCount": 1},
			{"task": {"id": %[4]q, "title": "B"}, "mentions": 1, "feedbackCount": 1, "suggestionCount": 0}]
	}`, processing, suggestions, gid.Encode(a.ID), gid.Encode(b.ID)))

	// The window is [since, until) on createdAt, echoed as given.
	var window struct {
		ProjectInsights struct {
			Since, Until  string
			FeedbackCount int
		}
	}
	e.mustDo(insightsQuery, map[string]any{"p": gid.Encode(p.ID), "since": "2026-05-04T11:00:00Z", "until": "2026-05-05T09:00:00Z"}, &window)
	if w := window.ProjectInsights; w.FeedbackCount != 1 || w.Since != "2026-05-04T11:00:00Z" || w.Until != "2026-05-05T09:00:00Z" {
		t.Errorf("window [11:00, next day 09:00): %+v, want the FAILED feedback only", w)
	}
}

func TestProjectInsightsRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	p := e.client.Project.Create().SetName("p").SaveX(accesstest.System())
	task := e.client.Task.Create().SetProjectID(p.ID).SetTitle("t").SaveX(accesstest.System())
	for _, c := range []struct {
		name  string
		vars  map[string]any
		code  string
		field string
	}{
		{"until before since", map[string]any{"p": gid.Encode(p.ID), "since": "2026-05-04T00:00:00Z", "until": "2026-05-03T00:00:00Z"}, graph.CodeBadUserInput, "until"},
		{"empty window", map[string]any{"p": gid.Encode(p.ID), "since": "2026-05-04T00:00:00Z", "until": "2026-05-04T00:00:00Z"}, graph.CodeBadUserInput, "until"},
		{"a task's ID", map[string]any{"p": gid.Encode(task.ID)}, graph.CodeNotFound, "projectID"},
		{"no such project", map[string]any{"p": gid.Encode(p.ID + 1000)}, graph.CodeNotFound, "projectID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.mustFail(insightsQuery, c.vars, c.code)
			if got.Extensions["field"] != c.field {
				t.Errorf("error names field %v, want %s: %+v", got.Extensions["field"], c.field, got)
			}
		})
	}
}

// The aggregates bypass ent's privacy filters, so the resolver checks the
// project first: whoever may not read it gets NOT_FOUND, as from node().
func TestProjectInsightsNeedReadAccess(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "i")
	canSeeOwn := map[string]bool{outsider: false, reader: true, editor: true, owner: true, key: true, admin: true}
	q := `query($p: ID!) { projectInsights(projectID: $p) { feedbackCount failures { failed } } }`
	for _, actor := range actors {
		for _, own := range []bool{true, false} {
			project, _, _ := pick(w, own)
			resp := gqltest.PostAs(t, e.url, w.credential(actor), q, map[string]any{"p": project})
			what := fmt.Sprintf("%s on the %s project", actor, map[bool]string{true: "own", false: "foreign"}[own])
			switch {
			case actor == none:
				checkOutcome(t, what, resp, graph.CodeUnauthenticated)
			case own && canSeeOwn[actor], actor == admin:
				checkOutcome(t, what, resp, ok)
				// Each world's project has one FAILED feedback.
				var got struct {
					ProjectInsights struct {
						FeedbackCount int
						Failures      struct{ Failed int }
					}
				}
				if err := json.Unmarshal(resp.Data, &got); err != nil || got.ProjectInsights.FeedbackCount != 1 || got.ProjectInsights.Failures.Failed != 1 {
					t.Errorf("%s: insights %s (%v), want 1 feedback, FAILED", what, resp.Data, err)
				}
			default:
				checkOutcome(t, what, resp, graph.CodeNotFound)
				missing := gqltest.PostAs(t, e.url, w.credential(actor), q, map[string]any{"p": gid.Encode(8589934592 + 999999)})
				if len(missing.Errors) != 1 || len(resp.Errors) != 1 || missing.Errors[0].Message != resp.Errors[0].Message {
					t.Errorf("%s: a hidden project reads differently from a missing one: %+v vs %+v", what, resp.Errors, missing.Errors)
				}
			}
		}
	}
}

// sameJSON compares a response with the expected JSON, ignoring layout.
func sameJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected JSON: %v\n%s", err, want)
	}
	gj, _ := json.MarshalIndent(g, "", "  ")
	wj, _ := json.MarshalIndent(w, "", "  ")
	if string(gj) != string(wj) {
		t.Errorf("got\n%s\nwant\n%s", gj, wj)
	}
}

const velocityQuery = `query($p: ID!, $weeks: Int) {
	projectVelocity(projectID: $p, weeks: $weeks) {
		since completed cycleTime { count p50Hours p95Hours }
		weeks { weekStart isoWeek completed cycleTime { count p50Hours p95Hours } }
	}
}`

// A task finished through the API shows in this week's velocity: the
// mutations record its history (the velocity package tests the arithmetic).
func TestProjectVelocity(t *testing.T) {
	e := newEnv(t)
	var p struct{ CreateProject struct{ ID string } }
	e.mustDo(`mutation { createProject(input: {name: "fast"}) { id } }`, nil, &p)
	project := p.CreateProject.ID
	var tk struct{ CreateTask struct{ ID string } }
	e.mustDo(`mutation($p: ID!) { createTask(input: {projectID: $p, title: "ship"}) { id } }`, map[string]any{"p": project}, &tk)
	for _, s := range []string{"IN_PROGRESS", "DONE"} {
		e.mustDo(`mutation($id: ID!, $s: TaskStatus!) { updateTask(id: $id, input: {status: $s}) { status } }`, map[string]any{"id": tk.CreateTask.ID, "s": s}, nil)
	}

	type stats struct {
		Count              int
		P50Hours, P95Hours *float64
	}
	var got struct {
		ProjectVelocity struct {
			Since     time.Time
			Completed int
			CycleTime stats
			Weeks     []struct {
				WeekStart, ISOWeek string
				Completed          int
				CycleTime          stats
			}
		}
	}
	now := time.Now().UTC()
	e.mustDo(velocityQuery, map[string]any{"p": project, "weeks": 3}, &got)
	v := got.ProjectVelocity
	if len(v.Weeks) != 3 || v.Completed != 1 || v.CycleTime.Count != 1 || v.CycleTime.P50Hours == nil || *v.CycleTime.P50Hours < 0 || *v.CycleTime.P50Hours > 1 {
		t.Fatalf("velocity %+v, want 3 weeks, 1 task completed within the hour", v)
	}
	year, week := now.ISOWeek()
	this := v.Weeks[2]
	if this.ISOWeek != fmt.Sprintf("%04d-W%02d", year, week) || this.Completed != 1 || v.Weeks[0].Completed != 0 || v.Weeks[0].CycleTime.P50Hours != nil {
		t.Errorf("weeks %+v, want this week (%d-W%02d) last, with the task", v.Weeks, year, week)
	}
	if monday := v.Since.AddDate(0, 0, 14); monday.Format(time.DateOnly) != this.WeekStart || monday.Weekday() != time.Monday || now.Sub(monday) < 0 || now.Sub(monday) >= 7*24*time.Hour {
		t.Errorf("since %s, this week starts %s", v.Since, this.WeekStart)
	}

	// The default is 12 weeks; bounds are named.
	e.mustDo(velocityQuery, map[string]any{"p": project}, &got)
	if len(got.ProjectVelocity.Weeks) != 12 {
		t.Errorf("default window: %d weeks, want 12", len(got.ProjectVelocity.Weeks))
	}
	for _, c := range []struct {
		vars  map[string]any
		code  string
		field string
	}{
		{map[string]any{"p": project, "weeks": 0}, graph.CodeBadUserInput, "weeks"},
		{map[string]any{"p": project, "weeks": 105}, graph.CodeBadUserInput, "weeks"},
		{map[string]any{"p": tk.CreateTask.ID}, graph.CodeNotFound, "projectID"},
	} {
		got := e.mustFail(velocityQuery, c.vars, c.code)
		if got.Extensions["field"] != c.field {
			t.Errorf("%v: error names field %v, want %s: %+v", c.vars, got.Extensions["field"], c.field, got)
		}
	}
}

// projectInsights.themes groups the window's similar feedback end to end and
// bounds first (the insights package tests the grouping in depth).
func TestProjectInsightsThemes(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.client.Project.Create().SetName("themed").SaveX(ctx)
	var first int
	for i, text := range []string{"Checkout button does nothing", "checkout button does nothing!", "Love the new logo"} {
		n := reuse.Normalize(text)
		f := e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText(text).SetNormalizedText(n.Text).SetNormalizedTextHash(n.Hash).
			SetCreatedAt(time.Date(2026, 5, 4, 10, i, 0, 0, time.UTC)).SaveX(ctx)
		if i == 0 {
			first = f.ID
		}
	}
	q := `query($p: ID!, $first: Int!) { projectInsights(projectID: $p) { themes(first: $first) { text count example { id } } } }`
	var got struct{ ProjectInsights json.RawMessage }
	e.mustDo(q, map[string]any{"p": gid.Encode(p.ID), "first": 5}, &got)
	sameJSON(t, got.ProjectInsights, fmt.Sprintf(`{"themes": [{"text": "Checkout button does nothing", "count": 2, "example": {"id": %q}}]}`, gid.Encode(first)))
	for _, n := range []int{0, 21} {
		err := e.mustFail(q, map[string]any{"p": gid.Encode(p.ID), "first": n}, graph.CodeBadUserInput)
		if err.Extensions["field"] != "first" {
			t.Errorf("first %d: error names field %v, want first: %+v", n, err.Extensions["field"], err)
		}
	}
}
