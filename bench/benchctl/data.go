package main

import (
	"context"
	"database/sql"
	"fmt"
)

// The data set lives in the service's own tables, written with SQL for
// speed. The identity columns assign the IDs, so they stay in the ranges
// ent gives each type (projects from 8589934592, tasks from 12884901888),
// which the service's global IDs rely on.
//
// Projects are inserted newest first, so ID order and "created_at
// descending" order agree: the queries that page by ID and those that page
// by creation date read the same projects, the ones grow enlarges.

// load replaces all data with projects × tasks. With member set, the user
// of that subject (created when missing) is a VIEWER of every project, so
// that a token for it reads everything with authorization on.
func load(ctx context.Context, db *sql.DB, projects, tasks int, member string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Memberships, API keys and whatever else hangs off a project (comments,
	// votes, webhooks, links) go with the projects; users stay.
	if _, err := tx.ExecContext(ctx, `TRUNCATE adjustments, feedbacks, tasks, project_members, api_keys, projects RESTART IDENTITY CASCADE`); err != nil {
		return fmt.Errorf("empty the tables: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		WITH o AS (INSERT INTO organizations (created_at, updated_at, name) VALUES (now(), now(), 'Benchmark') RETURNING id)
		INSERT INTO projects (created_at, updated_at, name, description, status, organization_id)
		SELECT ts, ts, format('Project %s', g), format('Benchmark project %s', g), 'ACTIVE', o.id
		FROM (SELECT g, timestamptz '2026-01-01' - g * interval '1 minute' AS ts
		      FROM generate_series(1, $1::int) g) s, o
		ORDER BY g`, projects)
	if err != nil {
		return fmt.Errorf("add projects: %w", err)
	}
	if err := addTasks(ctx, tx, projects, tasks); err != nil {
		return err
	}
	if member != "" {
		if err := addViewer(ctx, tx, member); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return analyze(ctx, db)
}

// addViewer makes the user of subject (created when missing) a VIEWER of
// every project: the EXTERNAL user with no issuer, as a token signed with
// JWT_SECRET (cmd/token) names it.
func addViewer(ctx context.Context, tx *sql.Tx, subject string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO users (kind, issuer, subject, name, created_at, last_seen_at)
		VALUES ('EXTERNAL', '', $1, 'Benchmark viewer', now(), now())
		ON CONFLICT (kind, issuer, subject) DO NOTHING`, subject)
	if err != nil {
		return fmt.Errorf("add the user %q: %w", subject, err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO project_members (created_at, updated_at, role, project_id, user_id)
		SELECT now(), now(), 'VIEWER', p.id, u.id FROM projects p CROSS JOIN users u
		WHERE u.kind = 'EXTERNAL' AND u.issuer = '' AND u.subject = $1`, subject)
	if err != nil {
		return fmt.Errorf("make %q a member: %w", subject, err)
	}
	return nil
}

// grow gives the newest top projects tasks tasks each.
func grow(ctx context.Context, db *sql.DB, top, tasks int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := addTasks(ctx, tx, top, tasks); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return analyze(ctx, db)
}

// addTasks tops the newest n projects up to tasks tasks each. Task k of a
// project is titled "Task k"; status, priority and estimate cycle through
// their values, so a quarter of the tasks are DONE.
func addTasks(ctx context.Context, tx *sql.Tx, n, tasks int) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO tasks (created_at, updated_at, title, description, status, priority, estimated_hours, project_id)
		SELECT p.created_at + t * interval '1 second', p.created_at + t * interval '1 second',
		       format('Task %s', t), 'Benchmark task',
		       (ARRAY['TODO', 'IN_PROGRESS', 'BLOCKED', 'DONE'])[1 + t % 4],
		       t % 6, (t % 17) * 0.5, p.id
		FROM (SELECT id, created_at FROM projects ORDER BY created_at DESC, id LIMIT $1::int) p
		CROSS JOIN LATERAL generate_series(
			(SELECT count(*) FROM tasks WHERE project_id = p.id)::int + 1, $2::int) t
		ORDER BY p.id, t`, n, tasks)
	if err != nil {
		return fmt.Errorf("add tasks: %w", err)
	}
	return nil
}

// analyze refreshes the planner's statistics, so that both servers' first
// queries after a load get the plans they would get in production.
func analyze(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE projects, tasks, project_members, users`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
