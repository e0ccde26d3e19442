package velocity_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/ent/taskstatuschange"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/velocity"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "velocity", &dbTemplate) }

// step is one row of a task's history, as the tests expect it.
type step struct {
	From *taskstatuschange.FromStatus
	To   taskstatuschange.ToStatus
	By   *int
}

func history(t *testing.T, client *ent.Client, taskID int) []step {
	t.Helper()
	rows := client.TaskStatusChange.Query().Where(taskstatuschange.TaskID(taskID)).
		Order(ent.Asc(taskstatuschange.FieldID)).AllX(accesstest.System())
	out := []step{}
	for _, r := range rows {
		out = append(out, step{From: r.FromStatus, To: r.ToStatus, By: r.ChangedBy})
	}
	return out
}

func from(s string) *taskstatuschange.FromStatus {
	f := taskstatuschange.FromStatus(s)
	return &f
}

// Every path that creates a task or changes its status records it, in the
// change's transaction, by whoever made it; changes that leave the status
// as it was record nothing.
func TestStatusHistoryRecordsEveryChange(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	sys := accesstest.System()
	editor := client.User.Create().SetSubject("editor").SaveX(sys)
	p := client.Project.Create().SetName("P").SaveX(sys)
	client.ProjectMember.Create().SetProjectID(p.ID).SetUserID(editor.ID).SetRole(viewer.Editor).ExecX(sys)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: editor.ID, Subject: "editor", Kind: viewer.User})
	inTx := func(fn func(tx *ent.Tx) error) error {
		_, err := store.InTx(ctx, client, func(tx *ent.Tx) (struct{}, error) { return struct{}{}, fn(tx) })
		return err
	}

	var tk *ent.Task
	if err := inTx(func(tx *ent.Tx) (err error) {
		tk, err = tx.Task.Create().SetProjectID(p.ID).SetTitle("A").Save(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mustTx := func(what string, fn func(tx *ent.Tx) error) {
		t.Helper()
		if err := inTx(fn); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	mustTx("start", func(tx *ent.Tx) error {
		return tx.Task.UpdateOneID(tk.ID).SetStatus(task.StatusInProgress).Exec(ctx)
	})
	mustTx("rename", func(tx *ent.Tx) error { return tx.Task.UpdateOneID(tk.ID).SetTitle("B").Exec(ctx) })
	mustTx("same status", func(tx *ent.Tx) error {
		return tx.Task.UpdateOneID(tk.ID).SetStatus(task.StatusInProgress).Exec(ctx)
	})
	// A change rolled back leaves no history.
	boom := errors.New("boom")
	if err := inTx(func(tx *ent.Tx) error {
		if err := tx.Task.UpdateOneID(tk.ID).SetStatus(task.StatusBlocked).Exec(ctx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("rolled back: %v", err)
	}
	// The system (GitHub's webhook) in a bulk update, which skips one task
	// by its own predicate.
	other := client.Task.Create().SetProjectID(p.ID).SetTitle("other").SaveX(sys)
	n := client.Task.Update().Where(task.ProjectID(p.ID), task.TitleNEQ("other")).SetStatus(task.StatusDone).SaveX(sys)
	if n != 1 {
		t.Fatalf("bulk update changed %d tasks, want 1", n)
	}

	by := &editor.ID
	if got, want := history(t, client, tk.ID), []step{
		{To: "TODO", By: by},
		{From: from("TODO"), To: "IN_PROGRESS", By: by},
		{From: from("IN_PROGRESS"), To: "DONE"},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("history %s, want %s", js(got), js(want))
	}
	if got, want := history(t, client, other.ID), []step{{To: "TODO"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("history of the task the bulk update skipped: %s, want %s", js(got), js(want))
	}
	// Rows go with their task.
	client.Task.DeleteOneID(tk.ID).ExecX(sys)
	if got := history(t, client, tk.ID); len(got) != 0 {
		t.Errorf("history of a deleted task: %s", js(got))
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A project's velocity, counted by hand: weeks are ISO weeks in UTC,
// whatever the session's time zone; empty weeks are listed; a task counts
// once per week; cycle times start at the first move to IN_PROGRESS, or at
// the task's creation.
func TestVelocityOfAHandCountedProject(t *testing.T) {
	db := openIn(t, "Pacific/Auckland")
	client := store.NewClient(db)
	sys := accesstest.System()
	p := client.Project.Create().SetName("P").SaveX(sys).ID
	other := client.Project.Create().SetName("other").SaveX(sys).ID
	// Monday 2026-03-02 is the first day of 2026-W10.
	w10 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(days, hours float64) time.Time {
		return w10.Add(time.Duration((days*24 + hours) * float64(time.Hour)))
	}
	newTask := func(project int, created time.Time) int {
		return client.Task.Create().SetProjectID(project).SetTitle("t").SetCreatedAt(created).SaveX(sys).ID
	}
	move := func(project, taskID int, fromS string, to taskstatuschange.ToStatus, when time.Time) {
		c := client.TaskStatusChange.Create().SetTaskID(taskID).SetProjectID(project).SetToStatus(to).SetChangedAt(when)
		if fromS != "" {
			c.SetFromStatus(taskstatuschange.FromStatus(fromS))
		}
		c.ExecX(sys)
	}
	const todo, inProgress, done = taskstatuschange.ToStatusTODO, taskstatuschange.ToStatusIN_PROGRESS, taskstatuschange.ToStatusDONE

	// W10: a started on Monday 00:00, done on Tuesday 00:00: 24 h.
	a := newTask(p, at(-7, 0))
	move(p, a, "TODO", inProgress, at(0, 0))
	move(p, a, "IN_PROGRESS", done, at(1, 0))
	// W10: b never IN_PROGRESS, created Monday 00:00, done on the week's
	// last microsecond (Monday morning in Auckland): its creation starts it.
	b := newTask(p, at(0, 0))
	move(p, b, "TODO", done, at(7, 0).Add(-time.Microsecond))
	// W11 (nothing in W12): c done twice in W11 counts once, its last move;
	// done again in W13, counted again, still from its first start.
	c := newTask(p, at(0, 0))
	move(p, c, "TODO", inProgress, at(0, 12))
	move(p, c, "IN_PROGRESS", done, at(7, 0)) // Monday 00:00 of W11
	move(p, c, "DONE", inProgress, at(8, 0))
	move(p, c, "IN_PROGRESS", done, at(9, 12)) // 9 days after its first start: 216 h
	move(p, c, "DONE", todo, at(10, 0))
	move(p, c, "TODO", done, at(21, 12)) // W13: 21 days: 504 h
	// A task created DONE (or seeded as DONE) counts, from its creation: 0 h.
	d := newTask(p, at(16, 0))
	move(p, d, "", done, at(16, 0))
	// Before the window, after it, another project's: none counts.
	e := newTask(p, at(-30, 0))
	move(p, e, "TODO", done, at(0, 0).Add(-time.Microsecond))
	move(p, e, "DONE", done, at(28, 0))
	move(other, newTask(other, at(0, 0)), "TODO", done, at(1, 0))
	// A deleted task's history goes with it.
	gone := newTask(p, at(0, 0))
	move(p, gone, "TODO", done, at(1, 0))
	client.Task.DeleteOneID(gone).ExecX(sys)

	// Now is Sunday of W13: four weeks are W10 to W13.
	got, err := velocity.Compute(context.Background(), db, p, 4, at(27, 23))
	if err != nil {
		t.Fatal(err)
	}
	h := func(v float64) *float64 { return &v }
	want := &velocity.Report{
		ProjectID: p, Since: w10, Completed: 5,
		// 0, 24, 168, 216, 504: positions 2 and 3.8.
		CycleTime: velocity.CycleTime{Count: 5, P50Hours: h(168), P95Hours: h(216 + 0.8*288)},
		Weeks: []velocity.Week{
			{WeekStart: "2026-03-02", ISOWeek: "2026-W10", Completed: 2,
				CycleTime: velocity.CycleTime{Count: 2, P50Hours: h(96), P95Hours: h(24 + 0.95*144)}},
			{WeekStart: "2026-03-09", ISOWeek: "2026-W11", Completed: 1,
				CycleTime: velocity.CycleTime{Count: 1, P50Hours: h(216), P95Hours: h(216)}},
			{WeekStart: "2026-03-16", ISOWeek: "2026-W12", Completed: 1,
				CycleTime: velocity.CycleTime{Count: 1, P50Hours: h(0), P95Hours: h(0)}},
			{WeekStart: "2026-03-23", ISOWeek: "2026-W13", Completed: 1,
				CycleTime: velocity.CycleTime{Count: 1, P50Hours: h(504), P95Hours: h(504)}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", js(got), js(want))
	}

	// Weeks without completions are listed, with null percentiles; the
	// window crosses a year (2025-W49 to 2026-W08).
	got, err = velocity.Compute(context.Background(), db, p, 12, at(-14, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Weeks) != 12 || got.Completed != 0 || got.CycleTime.P50Hours != nil ||
		got.Weeks[11].ISOWeek != "2026-W08" || got.Weeks[0].WeekStart != "2025-12-01" || got.Weeks[0].ISOWeek != "2025-W49" {
		t.Errorf("an empty window: %s", js(got))
	}
	for _, n := range []int{0, velocity.MaxWeeks + 1} {
		if _, err := velocity.Compute(context.Background(), db, p, n, at(0, 0)); err == nil {
			t.Errorf("%d weeks: no error", n)
		}
	}
}

func openIn(t *testing.T, tz string) *sql.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbTemplate.New(t)+"&timezone="+tz, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
