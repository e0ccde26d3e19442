package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// pgStats reads PostgreSQL's pg_stat_statements around each query's
// rounds: which statements the two servers sent, how often, and what each
// cost the database. It needs the extension preloaded
// (shared_preload_libraries = 'pg_stat_statements').
type pgStats struct {
	db  *sql.DB
	dir string
}

// openPgStats connects to dsn and makes sure the extension is there.
func openPgStats(ctx context.Context, dsn, dir string) (*pgStats, error) {
	db, err := postgres.Open(ctx, dsn, postgres.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Hour})
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		db.Close()
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		db.Close()
		return nil, fmt.Errorf("pg_stat_statements (is it in shared_preload_libraries?): %w", err)
	}
	return &pgStats{db: db, dir: dir}, nil
}

func (p *pgStats) Close() error { return p.db.Close() }

func (p *pgStats) reset(ctx context.Context) error {
	_, err := p.db.ExecContext(ctx, `SELECT pg_stat_statements_reset()`)
	return err
}

// save writes the statements of the database, most expensive first, to
// pgstat-<name>.txt.
func (p *pgStats) save(ctx context.Context, name string) (string, error) {
	rows, err := p.db.QueryContext(ctx, `
		SELECT calls, total_exec_time, total_exec_time / calls, rows::float8 / calls,
		       (shared_blks_hit + shared_blks_read)::float8 / calls, plans, query
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0
		ORDER BY total_exec_time DESC LIMIT 12`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "calls\ttotal ms\tmean ms\trows/call\tblocks/call\tplans\t query")
	for rows.Next() {
		var calls, plans int64
		var total, mean, perCall, blocks float64
		var query string
		if err := rows.Scan(&calls, &total, &mean, &perCall, &blocks, &plans, &query); err != nil {
			return "", err
		}
		fmt.Fprintf(w, "%d\t%.0f\t%.3f\t%.1f\t%.1f\t%d\t %s\n", calls, total, mean, perCall, blocks, plans,
			strings.Join(strings.Fields(query), " "))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	w.Flush()
	path := filepath.Join(p.dir, "pgstat-"+name+".txt")
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
