package insights_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/insights/insightstest"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/store"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "insights", &dbTemplate) }

// fixture is a small project whose insights are counted by hand below, next
// to another project whose rows must not count.
type fixture struct {
	db                *sql.DB
	project           int
	t1, t2, t3, t5    int       // tasks; t4 was deleted
	day               time.Time // 2026-03-10, the first day with feedback
	f3                time.Time // created on the day's last microsecond
	openai, anthropic *string   // providers
	gptA, claudeB     *string   // models
	timedOut, http500 *string   // error texts
	invalid, quota    *string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	// The session's time zone is far from UTC: days must still be UTC days.
	db := openIn(t, "Pacific/Auckland")
	client := store.NewClient(db)
	ctx := accesstest.System()
	fx := &fixture{
		db:     db,
		day:    time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		openai: ptr("openai"), anthropic: ptr("anthropic"), gptA: ptr("gpt-a"), claudeB: ptr("claude-b"),
		timedOut: ptr("model timed out"), http500: ptr("provider returned HTTP 500"),
		invalid: ptr("invalid answer"), quota: ptr("quota exceeded"),
	}
	fx.f3 = fx.day.Add(24*time.Hour - time.Microsecond)
	fx.project = client.Project.Create().SetName("measured").SaveX(ctx).ID
	task := func(project int, title string) int {
		return client.Task.Create().SetProjectID(project).SetTitle(title).SaveX(ctx).ID
	}
	fx.t1, fx.t2, fx.t3 = task(fx.project, "T1"), task(fx.project, "T2"), task(fx.project, "T3")
	t4 := task(fx.project, "T4")
	fx.t5 = task(fx.project, "T5")

	at := func(day int, clock string) time.Time {
		c, err := time.Parse("15:04", clock)
		if err != nil {
			t.Fatal(err)
		}
		return fx.day.AddDate(0, 0, day).Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
	}
	type fb struct {
		project         int
		created         time.Time
		status          feedback.Status
		ms              int // to processed_at, when finished
		provider, model *string
		err             *string
		task            *int
	}
	add := func(f fb) int {
		c := client.Feedback.Create().SetProjectID(f.project).SetFeedbackText("text").
			SetCreatedAt(f.created).SetStatus(f.status).
			SetNillableProvider(f.provider).SetNillableModel(f.model).SetNillableError(f.err).SetNillableTaskID(f.task)
		if f.status == feedback.StatusCompleted || f.status == feedback.StatusFailed {
			c.SetProcessedAt(f.created.Add(time.Duration(f.ms) * time.Millisecond))
		}
		return c.SaveX(ctx).ID
	}
	type sug struct {
		typ    adjustment.AdjustmentType
		task   *int
		status adjustment.Status
	}
	suggest := func(fbID int, ss ...sug) {
		for i, s := range ss {
			client.Adjustment.Create().SetFeedbackID(fbID).SetPosition(i).SetDescription("d").
				SetAdjustmentType(s.typ).SetNillableTaskID(s.task).SetStatus(s.status).SaveX(ctx)
		}
	}
	const (
		completed, failed, pending, processing = feedback.StatusCompleted, feedback.StatusFailed, feedback.StatusPending, feedback.StatusProcessing
		applied, rejected, proposed            = adjustment.StatusApplied, adjustment.StatusRejected, adjustment.StatusProposed
		priority, general, newTask             = adjustment.AdjustmentTypeTaskPriority, adjustment.AdjustmentTypeGeneral, adjustment.AdjustmentTypeNewTask
		status, estimate, description          = adjustment.AdjustmentTypeTaskStatus, adjustment.AdjustmentTypeTaskEstimate, adjustment.AdjustmentTypeTaskDescription
	)
	p := fx.project

	// Another project: nothing of it counts.
	other := client.Project.Create().SetName("other").SaveX(ctx).ID
	otherTask := task(other, "Q")
	q1 := add(fb{project: other, created: at(0, "09:30"), status: completed, ms: 500, provider: fx.openai, model: fx.gptA, task: &otherTask})
	suggest(q1, sug{priority, &otherTask, applied}, sug{general, nil, rejected})
	add(fb{project: other, created: at(1, "12:30"), status: failed, ms: 1, err: fx.timedOut})

	// Day 0, 2026-03-10.
	f1 := add(fb{project: p, created: at(0, "09:00"), status: completed, ms: 1000, provider: fx.openai, model: fx.gptA, task: &fx.t1})
	suggest(f1, sug{priority, &fx.t1, applied}, sug{priority, &fx.t2, rejected}, sug{newTask, nil, proposed})
	f2 := add(fb{project: p, created: at(0, "10:00"), status: completed, ms: 3000, provider: fx.openai, model: fx.gptA, task: &fx.t1})
	suggest(f2, sug{priority, &fx.t1, applied}, sug{general, &fx.t5, proposed})
	f3 := add(fb{project: p, created: fx.f3, status: completed, ms: 2000, provider: fx.anthropic, model: fx.claudeB, task: &fx.t2})
	suggest(f3, sug{status, &fx.t3, rejected}, sug{priority, &fx.t1, proposed}, sug{estimate, &t4, applied},
		sug{description, &otherTask, applied}) // a task of another project: no mention
	// Day 1.
	f4 := add(fb{project: p, created: at(1, "00:00"), status: completed, ms: 10000, provider: fx.anthropic, model: fx.claudeB})
	suggest(f4, sug{general, &fx.t5, proposed})
	add(fb{project: p, created: at(1, "12:00"), status: failed, ms: 5, err: fx.timedOut, task: &fx.t2})
	add(fb{project: p, created: at(1, "13:00"), status: failed, ms: 5, err: ptr(" model  timed\nout ")})
	add(fb{project: p, created: at(1, "14:00"), status: failed, ms: 5, err: fx.http500})
	// Day 3 (nothing on day 2).
	add(fb{project: p, created: at(3, "08:00"), status: failed, ms: 5})
	add(fb{project: p, created: at(3, "08:10"), status: failed, ms: 5, err: ptr("   ")})
	add(fb{project: p, created: at(3, "08:20"), status: failed, ms: 5, err: fx.invalid})
	add(fb{project: p, created: at(3, "08:30"), status: failed, ms: 5, err: fx.quota})
	add(fb{project: p, created: at(3, "08:40"), status: failed, ms: 5, err: ptr("rate limited")})
	add(fb{project: p, created: at(3, "09:00"), status: pending, task: &fx.t3})
	add(fb{project: p, created: at(3, "10:00"), status: processing, task: &t4})

	// A deleted task leaves its feedback and suggestions without a task.
	client.Task.DeleteOneID(t4).ExecX(ctx)
	return fx
}

func TestInsightsOfAHandCountedProject(t *testing.T) {
	fx := newFixture(t)
	got, err := insights.Compute(context.Background(), fx.db, fx.project, insights.Window{})
	if err != nil {
		t.Fatal(err)
	}
	want := &insights.Report{
		ProjectID: fx.project,
		// f1..f14: 1 + 1 + 4 + 8.
		FeedbackCount: 14,
		FeedbackByStatus: []insights.StatusCount{
			{Status: feedback.StatusPending, Count: 1},
			{Status: feedback.StatusProcessing, Count: 1},
			{Status: feedback.StatusCompleted, Count: 4},
			{Status: feedback.StatusFailed, Count: 8},
		},
		FeedbackPerDay: []insights.Day{
			// f3, at 23:59:59.999999 UTC (noon the next day in Auckland), is on the 10th.
			{Date: "2026-03-10", Count: 3, Completed: 3},
			{Date: "2026-03-11", Count: 4, Completed: 1, Failed: 3},
			// No feedback on the 12th: left out.
			{Date: "2026-03-13", Count: 7, Pending: 1, Processing: 1, Failed: 5},
		},
		// Completed in 1000, 2000, 3000 and 10000 ms. Positions 0.5*3 = 1.5
		// and 0.95*3 = 2.85: 2000 + 0.5*1000 and 3000 + 0.85*7000.
		ProcessingTime: insights.Durations{Count: 4, P50Ms: ptr(2500.0), P95Ms: ptr(8950.0)},
		Failures: insights.Failures{
			Failed: 8, Finished: 12, Rate: ptr(8.0 / 12),
			TopReasons: []insights.Reason{
				// Spacing differences are one reason; ties are by text, the
				// missing ones (NULL and blank) last; "rate limited" is 6th.
				{Text: fx.timedOut, Count: 2},
				{Text: nil, Count: 2},
				{Text: fx.invalid, Count: 1},
				{Text: fx.http500, Count: 1},
				{Text: fx.quota, Count: 1},
			},
		},
		Suggestions: insights.Suggestions{
			// 10 suggestions: applied a1 a4 a8 a9, rejected a2 a6, pending a3 a5 a7 a10.
			Decisions: insights.Decisions{Total: 10, Applied: 4, Rejected: 2, Pending: 4},
			ByType: []insights.TypeDecisions{
				{Type: adjustment.AdjustmentTypeTaskPriority, Decisions: insights.Decisions{Total: 4, Applied: 2, Rejected: 1, Pending: 1}},
				{Type: adjustment.AdjustmentTypeGeneral, Decisions: insights.Decisions{Total: 2, Pending: 2}},
				{Type: adjustment.AdjustmentTypeNewTask, Decisions: insights.Decisions{Total: 1, Pending: 1}},
				{Type: adjustment.AdjustmentTypeTaskDescription, Decisions: insights.Decisions{Total: 1, Applied: 1}},
				{Type: adjustment.AdjustmentTypeTaskEstimate, Decisions: insights.Decisions{Total: 1, Applied: 1}},
				{Type: adjustment.AdjustmentTypeTaskStatus, Decisions: insights.Decisions{Total: 1, Rejected: 1}},
			},
		},
		Models: []insights.Model{
			{
				// Two analyses each: by provider then.
				Provider: fx.anthropic, Model: fx.claudeB, Completed: 2,
				// 2000 and 10000: 2000 + 0.5*8000, 2000 + 0.95*8000.
				ProcessingTime: insights.Durations{Count: 2, P50Ms: ptr(6000.0), P95Ms: ptr(9600.0)},
				Suggestions: insights.Suggestions{
					Decisions: insights.Decisions{Total: 5, Applied: 2, Rejected: 1, Pending: 2},
					ByType: []insights.TypeDecisions{
						{Type: adjustment.AdjustmentTypeGeneral, Decisions: insights.Decisions{Total: 1, Pending: 1}},
						{Type: adjustment.AdjustmentTypeTaskDescription, Decisions: insights.Decisions{Total: 1, Applied: 1}},
						{Type: adjustment.AdjustmentTypeTaskEstimate, Decisions: insights.Decisions{Total: 1, Applied: 1}},
						{Type: adjustment.AdjustmentTypeTaskPriority, Decisions: insights.Decisions{Total: 1, Pending: 1}},
						{Type: adjustment.AdjustmentTypeTaskStatus, Decisions: insights.Decisions{Total: 1, Rejected: 1}},
					},
				},
			},
			{
				Provider: fx.openai, Model: fx.gptA, Completed: 2,
				// 1000 and 3000.
				ProcessingTime: insights.Durations{Count: 2, P50Ms: ptr(2000.0), P95Ms: ptr(2900.0)},
				Suggestions: insights.Suggestions{
					Decisions: insights.Decisions{Total: 5, Applied: 2, Rejected: 1, Pending: 2},
					ByType: []insights.TypeDecisions{
						{Type: adjustment.AdjustmentTypeTaskPriority, Decisions: insights.Decisions{Total: 3, Applied: 2, Rejected: 1}},
						{Type: adjustment.AdjustmentTypeGeneral, Decisions: insights.Decisions{Total: 1, Pending: 1}},
						{Type: adjustment.AdjustmentTypeNewTask, Decisions: insights.Decisions{Total: 1, Pending: 1}},
					},
				},
			},
		},
		TopTasks: []insights.TaskMention{
			{TaskID: fx.t1, Feedback: 2, Suggestions: 3}, // f1 f2; a1 a4 a7
			{TaskID: fx.t2, Feedback: 2, Suggestions: 1}, // f3 f5; a2
			{TaskID: fx.t3, Feedback: 1, Suggestions: 1}, // f9; a6 (2 mentions, more feedback than T5)
			{TaskID: fx.t5, Suggestions: 2},              // a5 a10
		},
	}
	same(t, got, want)

	rates := []struct {
		name string
		got  *float64
		want *float64
	}{
		{"overall", got.Suggestions.AcceptanceRate(), ptr(4.0 / 6)},
		{"TASK_PRIORITY", got.Suggestions.ByType[0].AcceptanceRate(), ptr(2.0 / 3)},
		{"GENERAL (none decided)", got.Suggestions.ByType[1].AcceptanceRate(), nil},
		{"TASK_STATUS (rejected only)", got.Suggestions.ByType[5].AcceptanceRate(), ptr(0.0)},
		{"claude-b", got.Models[0].Suggestions.AcceptanceRate(), ptr(2.0 / 3)},
	}
	for _, r := range rates {
		if !reflect.DeepEqual(r.got, r.want) {
			t.Errorf("acceptance rate %s = %v, want %v", r.name, deref(r.got), deref(r.want))
		}
	}
	if m := got.TopTasks[0].Mentions(); m != 5 {
		t.Errorf("T1 has %d mentions, want 5", m)
	}
}

func TestInsightsWindowIsHalfOpenOnCreatedAt(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	// The 11th at midnight UTC, written in another zone.
	nextDay := fx.day.AddDate(0, 0, 1).In(time.FixedZone("UTC+5", 5*3600))

	after, err := insights.Compute(ctx, fx.db, fx.project, insights.Window{Since: &nextDay})
	if err != nil {
		t.Fatal(err)
	}
	// f4 (at exactly midnight) to f14: f4 COMPLETED, 8 FAILED, 1 PENDING, 1 PROCESSING.
	if got := counts(after.FeedbackByStatus); got != [4]int{1, 1, 1, 8} || after.FeedbackCount != 11 {
		t.Errorf("since the 11th: %d feedback by status %v, want 11 as [1 1 1 8]", after.FeedbackCount, got)
	}
	// Only f4's one suggestion (GENERAL on T5, pending), and its 10 s.
	if s := after.Suggestions; s.Decisions != (insights.Decisions{Total: 1, Pending: 1}) || len(s.ByType) != 1 {
		t.Errorf("since the 11th: suggestions %+v", s)
	}
	same(t, after.ProcessingTime, insights.Durations{Count: 1, P50Ms: ptr(10000.0), P95Ms: ptr(10000.0)})
	// T2 (f5), T3 (f9), T5 (a10): one mention each; feedback first, then by ID.
	same(t, after.TopTasks, []insights.TaskMention{
		{TaskID: fx.t2, Feedback: 1}, {TaskID: fx.t3, Feedback: 1}, {TaskID: fx.t5, Suggestions: 1},
	})
	if after.Since == nil || !after.Since.Equal(nextDay) || after.Until != nil {
		t.Errorf("the report's window is %v..%v, want the one given", after.Since, after.Until)
	}

	before, err := insights.Compute(ctx, fx.db, fx.project, insights.Window{Until: &nextDay})
	if err != nil {
		t.Fatal(err)
	}
	// f1, f2 and f3: midnight itself is excluded.
	if got := counts(before.FeedbackByStatus); got != [4]int{0, 0, 3, 0} {
		t.Errorf("until the 11th: by status %v, want [0 0 3 0]", got)
	}

	// Bounds finer than PostgreSQL's microseconds select what they would
	// at nanosecond precision: [f3 - 500 ns, f3 + 1 ns) holds f3 only...
	since, until := fx.f3.Add(-500*time.Nanosecond), fx.f3.Add(time.Nanosecond)
	only, err := insights.Compute(ctx, fx.db, fx.project, insights.Window{Since: &since, Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	if only.FeedbackCount != 1 || only.Suggestions.Total != 4 {
		t.Errorf("around f3: %d feedback with %d suggestions, want f3 with its 4", only.FeedbackCount, only.Suggestions.Total)
	}
	// ...and [f3 + 1 ns, midnight) nothing: every figure empty, no rate.
	empty, err := insights.Compute(ctx, fx.db, fx.project, insights.Window{Since: &until, Until: &nextDay})
	if err != nil {
		t.Fatal(err)
	}
	same(t, empty, &insights.Report{
		ProjectID: fx.project,
		Since:     &until, Until: &nextDay,
		FeedbackByStatus: []insights.StatusCount{
			{Status: feedback.StatusPending}, {Status: feedback.StatusProcessing},
			{Status: feedback.StatusCompleted}, {Status: feedback.StatusFailed},
		},
		FeedbackPerDay: []insights.Day{},
		Failures:       insights.Failures{TopReasons: []insights.Reason{}},
		Suggestions:    insights.Suggestions{ByType: []insights.TypeDecisions{}},
		Models:         []insights.Model{},
		TopTasks:       []insights.TaskMention{},
	})
	if empty.Suggestions.AcceptanceRate() != nil {
		t.Error("an empty window has an acceptance rate")
	}

	// An inverted window is empty too, not an error.
	inverted, err := insights.Compute(ctx, fx.db, fx.project, insights.Window{Since: &nextDay, Until: &since})
	if err != nil || inverted.FeedbackCount != 0 {
		t.Errorf("inverted window: %v feedback, err %v", inverted, err)
	}
}

func TestInsightsOfAnUnknownProjectAreEmpty(t *testing.T) {
	fx := newFixture(t)
	got, err := insights.Compute(context.Background(), fx.db, 1<<40, insights.Window{})
	if err != nil {
		t.Fatal(err)
	}
	if got.FeedbackCount != 0 || got.Suggestions.Total != 0 || len(got.TopTasks) != 0 || len(got.Failures.TopReasons) != 0 {
		t.Errorf("insights of no project: %+v", got)
	}
}

func TestInsightsHonourTheContext(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := insights.Compute(ctx, db, 1, insights.Window{}); err == nil {
		t.Fatal("a cancelled computation succeeded")
	}
}

// openIn opens a fresh test database whose sessions use time zone tz.
func openIn(t *testing.T, tz string) *sql.DB {
	t.Helper()
	dsn := dbTemplate.New(t) + "&timezone=" + tz
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var got string
	if err := db.QueryRow(`SHOW timezone`).Scan(&got); err != nil || got != tz {
		t.Fatalf("session time zone %q (%v), want %q", got, err, tz)
	}
	return db
}

// same compares reports, or parts of them, showing both on a difference.
func same[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gj, wj)
	}
}

func counts(s []insights.StatusCount) (out [4]int) {
	for i, c := range s {
		out[i] = c.Count
	}
	return out
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func ptr[T any](v T) *T { return &v }

// On a generated project too big to count by hand, the report agrees with
// itself and with plain per-row queries, and its top lists are cut.
func TestInsightsOfAGeneratedProjectAgreeWithPlainQueries(t *testing.T) {
	ctx := context.Background()
	db, _ := dbTemplate.Open(t)
	project, err := insightstest.Seed(ctx, db, "generated", insightstest.Size{Feedback: 400, Suggestions: 1500, Tasks: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insightstest.Seed(ctx, db, "neighbour", insightstest.Size{Feedback: 100, Suggestions: 300, Tasks: 5}); err != nil {
		t.Fatal(err)
	}
	r, err := insights.Compute(ctx, db, project, insights.Window{})
	if err != nil {
		t.Fatal(err)
	}

	sum := func(n ...int) (s int) {
		for _, x := range n {
			s += x
		}
		return s
	}
	var perDay, perModel int
	for _, d := range r.FeedbackPerDay {
		perDay += d.Count
	}
	modelSuggestions := insights.Decisions{}
	for _, m := range r.Models {
		perModel += m.Completed
		modelSuggestions.Total += m.Suggestions.Total
		modelSuggestions.Applied += m.Suggestions.Applied
		modelSuggestions.Rejected += m.Suggestions.Rejected
		modelSuggestions.Pending += m.Suggestions.Pending
	}
	c := counts(r.FeedbackByStatus)
	if r.FeedbackCount != 400 || sum(c[:]...) != 400 || perDay != 400 || perModel != c[2] || r.ProcessingTime.Count != c[2] {
		t.Errorf("400 feedback: count %d, by status %v, per day %d, per model %d, timed %d", r.FeedbackCount, c, perDay, perModel, r.ProcessingTime.Count)
	}
	if r.Suggestions.Total != 1500 || modelSuggestions != r.Suggestions.Decisions {
		t.Errorf("1500 suggestions: %+v overall, %+v summed over models", r.Suggestions.Decisions, modelSuggestions)
	}
	if len(r.Failures.TopReasons) != insights.TopReasons {
		t.Errorf("%d top reasons of 7, want %d", len(r.Failures.TopReasons), insights.TopReasons)
	}

	// The top tasks, counted row by row.
	rows, err := db.QueryContext(ctx, `
		SELECT id, fb, sg FROM (
			SELECT t.id,
			       (SELECT count(*) FROM feedbacks f WHERE f.task_id = t.id) AS fb,
			       (SELECT count(*) FROM adjustments a WHERE a.task_id = t.id) AS sg
			FROM tasks t WHERE t.project_id = $1
		) x
		WHERE fb + sg > 0
		ORDER BY fb + sg DESC, fb DESC, id
		LIMIT 10`, project)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []insights.TaskMention
	for rows.Next() {
		var m insights.TaskMention
		if err := rows.Scan(&m.TaskID, &m.Feedback, &m.Suggestions); err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	if len(want) != insights.TopTasks {
		t.Fatalf("the seed mentions %d tasks, want more than %d", len(want), insights.TopTasks)
	}
	same(t, r.TopTasks, want)
}
