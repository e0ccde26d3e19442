// Package migrations holds the versioned database schema and applies it.
//
// The SQL files are generated from ent/schema by `go run ./cmd/migrate-diff
// <name>` (an Atlas diff through ent) and are never edited by hand once
// committed. They are applied at start-up by goose; a session-level advisory
// lock lets several instances start at once (see Up).
package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// startLockID keys the advisory lock Up holds; it differs from goose's
// own lock.DefaultLockID, which goose takes inside it.
const startLockID int64 = 0x66656564626b6c70 // "feedbklp"

// Up applies every pending migration and reports what it applied. Any
// number of processes may call it at once on one database: they take turns
// under a session-level advisory lock, so one migrates and the others then
// find nothing to do. db must allow two connections: the lock holds one.
//
// goose's own session locker alone is not enough: goose creates its version
// table before taking that lock (relying on a few retries when instances
// collide), and polls for the lock every 5 seconds.
func Up(ctx context.Context, db *sql.DB, logger *slog.Logger) (err error) {
	unlock, err := lockStart(ctx, db, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()

	// goose's lock still keeps us apart from anyone running the goose CLI
	// on this database by hand.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: apply: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "applied migration", "file", r.Source.Path, "duration", r.Duration)
	}
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: read version: %w", err)
	}
	logger.InfoContext(ctx, "database schema is current", "version", current, "applied", len(results))
	return nil
}

// lockStart waits for the start-up lock on a connection of its own and
// returns the function that releases it.
func lockStart(ctx context.Context, db *sql.DB, logger *slog.Logger) (func() error, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: connect: %w", err)
	}
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, startLockID).Scan(&locked); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrations: take the start-up lock: %w", err)
	}
	if !locked {
		logger.InfoContext(ctx, "waiting for another instance to finish migrating the database")
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, startLockID); err != nil {
			conn.Close()
			return nil, fmt.Errorf("migrations: wait for another instance's migrations: %w (is one stuck? see pg_locks)", err)
		}
	}
	return func() error {
		_, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, startLockID)
		if err != nil {
			// The session may still hold the lock: close it rather than
			// return it to the pool, which ends the session and the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = fmt.Errorf("migrations: release the start-up lock: %w", err)
		}
		return errors.Join(err, conn.Close())
	}, nil
}
