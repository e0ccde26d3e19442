package postgres_test

import (
	"fmt"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/store"
)

// ent's queries scan every row into the same values (ent/template/
// scanrows.tmpl): each task read must still hold its own fields, nullable
// ones included, and a column a modifier adds (kept by reference) its own
// value per row.
func TestEveryRowKeepsItsOwnValues(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	ctx := accesstest.System()
	p := client.Project.Create().SetName("scan").SaveX(ctx)
	const n = 25
	for i := range n {
		c := client.Task.Create().SetProjectID(p.ID).SetTitle(fmt.Sprintf("task %02d", i)).SetPriority(i % 6)
		if i%2 == 0 {
			c.SetDescription(fmt.Sprintf("about %d", i))
		}
		if i%3 == 0 {
			c.SetEstimatedHours(float64(i) + 0.5)
		}
		c.SaveX(ctx)
	}

	check := func(what string, tasks []*ent.Task) {
		t.Helper()
		if len(tasks) != n {
			t.Fatalf("%s: %d tasks, want %d", what, len(tasks), n)
		}
		for i, tk := range tasks {
			if tk.Title != fmt.Sprintf("task %02d", i) || tk.Priority != i%6 {
				t.Errorf("%s: row %d is %q priority %d", what, i, tk.Title, tk.Priority)
			}
			switch {
			case i%2 == 0 && (tk.Description == nil || *tk.Description != fmt.Sprintf("about %d", i)):
				t.Errorf("%s: row %d description %v, want %q", what, i, tk.Description, fmt.Sprintf("about %d", i))
			case i%2 == 1 && tk.Description != nil:
				t.Errorf("%s: row %d description %q, want none", what, i, *tk.Description)
			}
			switch {
			case i%3 == 0 && (tk.EstimatedHours == nil || *tk.EstimatedHours != float64(i)+0.5):
				t.Errorf("%s: row %d estimate %v, want %v", what, i, tk.EstimatedHours, float64(i)+0.5)
			case i%3 != 0 && tk.EstimatedHours != nil:
				t.Errorf("%s: row %d estimate %v, want none", what, i, *tk.EstimatedHours)
			}
		}
	}
	check("all columns", client.Task.Query().Order(task.ByTitle()).AllX(ctx))
	check("some columns", client.Task.Query().Order(task.ByTitle()).
		Select(task.FieldTitle, task.FieldPriority, task.FieldDescription, task.FieldEstimatedHours).AllX(ctx))

	// A predicate sees the selector: the schema has no modifiers to add a
	// column with.
	withExtra := client.Task.Query().Order(task.ByTitle()).Where(predicate.Task(func(s *entsql.Selector) {
		s.AppendSelectExprAs(entsql.Expr("CAST(substr(title, 6) AS int) * 10"), "tenfold")
	})).AllX(ctx)
	check("a modifier's column", withExtra)
	for i, tk := range withExtra {
		// ent's Value reads the scanned value out (an int64 here).
		if v, err := tk.Value("tenfold"); err != nil || v != int64(i*10) {
			t.Errorf("row %d: tenfold %v (%v), want %d", i, v, err, i*10)
		}
	}
}
