// Command migrate-diff writes a new versioned migration to migrations/ for the
// difference between the existing migrations and ent/schema.
//
//	go run ./cmd/migrate-diff add_feedback_lease
//
// Atlas replays the migration directory on a scratch database created on
// DEV_DATABASE_URL's server (default: the local PostgreSQL) and diffs it with
// the ent schema. The scratch database is dropped afterwards.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"

	"github.com/feedbackloop/feedbackloop/ent/migrate"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

func main() {
	if len(os.Args) != 2 || strings.TrimSpace(os.Args[1]) == "" {
		log.Fatal("usage: go run ./cmd/migrate-diff <migration_name>")
	}
	if err := run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	admin := os.Getenv("DEV_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(admin)
	if err != nil {
		return fmt.Errorf("DEV_DATABASE_URL: %w", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	scratch := "feedbackloop_migrate_dev_" + hex.EncodeToString(suffix)
	u.Path = "/" + scratch
	if err := postgres.EnsureDatabase(ctx, u.String()); err != nil {
		return err
	}
	defer func() {
		if err := postgres.DropDatabase(context.Background(), admin, scratch); err != nil {
			log.Printf("drop scratch database %s: %v", scratch, err)
		}
	}()
	// A goose directory replays only the Up part of each file.
	dir, err := sqltool.NewGooseDir("migrations")
	if err != nil {
		return fmt.Errorf("open migrations/: %w (run from the repository root)", err)
	}
	// Columns and indexes gone from ent/schema are dropped, as
	// migrations_test compares with drops on: without them a removed unique
	// index would stay and still refuse rows the schema allows.
	return migrate.NamedDiff(ctx, u.String(), name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialect.Postgres),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}
