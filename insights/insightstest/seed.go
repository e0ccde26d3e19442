// Package insightstest fills a test database with a busy project, fast, for
// the insights benchmarks (of the insights package and of the API).
package insightstest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// Size is how much a seeded project holds. Feedback is spread over 90 days
// before End: 80% COMPLETED (by three models), 10% FAILED (seven
// reasons), 5% PENDING, 5% PROCESSING; half of it is on one of the tasks.
// Suggestions go round-robin to the COMPLETED feedback: seven types, 40%
// applied, 20% rejected, 40% pending, two thirds of them about a task.
type Size struct {
	Feedback    int
	Suggestions int
	Tasks       int
}

// Issue11 is the size the insights must answer for in under 50 ms.
var Issue11 = Size{Feedback: 10_000, Suggestions: 50_000, Tasks: 200}

// End is when the seeded feedback ends (exclusive).
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Seed creates a project named name of the given size and returns its ID.
// Call Analyze after the last Seed, as autovacuum would in production.
func Seed(ctx context.Context, db *sql.DB, name string, size Size) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var project int
	if err := tx.QueryRowContext(ctx,
		`WITH o AS (INSERT INTO organizations (created_at, updated_at, name) VALUES (now(), now(), $1) RETURNING id)
		INSERT INTO projects (created_at, updated_at, name, organization_id) SELECT now(), now(), $1, o.id FROM o RETURNING id`, name,
	).Scan(&project); err != nil {
		return 0, fmt.Errorf("seed project: %w", err)
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"tasks", `INSERT INTO tasks (created_at, updated_at, title, project_id)
			SELECT now(), now(), 'task ' || g, $1 FROM generate_series(1, $2::int) g`,
			[]any{project, size.Tasks}},
		{"feedback", `WITH t AS (SELECT array_agg(id ORDER BY id) AS ids FROM tasks WHERE project_id = $1),
			f AS (
				SELECT g, $3::timestamptz - interval '90 days' + (g - 1) * (interval '90 days' / $2::int) AS created_at,
				       CASE WHEN g % 20 < 16 THEN 'COMPLETED' WHEN g % 20 < 18 THEN 'FAILED'
				            WHEN g % 20 = 18 THEN 'PENDING' ELSE 'PROCESSING' END AS status
				FROM generate_series(1, $2::int) g
			)
			INSERT INTO feedbacks (created_at, updated_at, feedback_text, project_id, status, processed_at, error, provider, model, task_id)
			SELECT f.created_at, f.created_at, 'feedback ' || g, $1, f.status,
			       CASE WHEN f.status IN ('COMPLETED', 'FAILED') THEN f.created_at + (500 + (g * 7919) % 60000) * interval '1 millisecond' END,
			       CASE WHEN f.status = 'FAILED' THEN 'failure reason ' || (g % 7) END,
			       CASE WHEN f.status = 'COMPLETED' THEN (ARRAY['openai', 'anthropic', 'ollama'])[1 + g % 3] END,
			       CASE WHEN f.status = 'COMPLETED' THEN (ARRAY['gpt-4o-mini', 'claude-haiku', 'llama3.1'])[1 + g % 3] END,
			       CASE WHEN g % 2 = 0 THEN t.ids[1 + g % cardinality(t.ids)] END
			FROM f, t`,
			[]any{project, size.Feedback, End}},
		{"suggestions", `WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM feedbacks WHERE project_id = $1 AND status = 'COMPLETED'),
			t AS (SELECT array_agg(id ORDER BY id) AS ids FROM tasks WHERE project_id = $1)
			INSERT INTO adjustments (adjustment_type, description, position, created_at, feedback_id, task_id, status, decided_at)
			SELECT (ARRAY['TASK_PRIORITY', 'TASK_DESCRIPTION', 'TASK_STATUS', 'NEW_TASK', 'REMOVE_TASK', 'TASK_ESTIMATE', 'GENERAL'])[1 + i % 7],
			       'suggestion ' || i, i / cardinality(c.ids), now(), c.ids[1 + i % cardinality(c.ids)],
			       CASE WHEN i % 3 <> 0 THEN t.ids[1 + (i * 31) % cardinality(t.ids)] END,
			       (ARRAY['APPLIED', 'REJECTED', 'APPLIED', 'PROPOSED', 'PROPOSED'])[1 + i % 5],
			       CASE WHEN i % 5 < 3 THEN now() END
			FROM c, t, generate_series(0, $2::int - 1) i`,
			[]any{project, size.Suggestions}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return 0, fmt.Errorf("seed %s: %w", s.what, err)
		}
	}
	return project, tx.Commit()
}

// Analyze refreshes the planner's statistics and the visibility map.
func Analyze(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE projects, tasks, feedbacks, adjustments`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	return nil
}

// Runs collects the durations of a benchmark's runs.
type Runs struct {
	fastest, slowest time.Duration
}

// Add records one run.
func (r *Runs) Add(d time.Duration) {
	if r.fastest == 0 || d < r.fastest {
		r.fastest = d
	}
	r.slowest = max(r.slowest, d)
}

// Report adds the fastest and slowest run to b's results, in milliseconds.
func (r *Runs) Report(b *testing.B) {
	b.ReportMetric(float64(r.fastest.Microseconds())/1000, "ms-min")
	b.ReportMetric(float64(r.slowest.Microseconds())/1000, "ms-max")
}
