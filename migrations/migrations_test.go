package migrations_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/feedbackloop/feedbackloop/ent/migrate"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/testdb"
	"github.com/feedbackloop/feedbackloop/migrations"
)

var dbTemplate *testdb.Template

func TestMain(m *testing.M) { testdb.Main(m, "migrations", &dbTemplate) }

// pendingChanges returns the SQL ent would run to bring the database to the
// ent schema; empty means the migrations produce exactly that schema.
func pendingChanges(t *testing.T, dsn string) string {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	err = migrate.NewSchema(entsql.OpenDB(dialect.Postgres, db)).WriteTo(context.Background(), &buf,
		schema.WithDropColumn(true), schema.WithDropIndex(true), schema.WithForeignKeys(true))
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if l := strings.TrimSpace(line); l != "" && l != "BEGIN;" && l != "COMMIT;" {
			changes = append(changes, l)
		}
	}
	return strings.Join(changes, "\n")
}

func TestMigrationsMatchEntSchema(t *testing.T) {
	// dbTemplate was built by migrations.Up on an empty database.
	if diff := pendingChanges(t, dbTemplate.New(t)); diff != "" {
		t.Fatalf("migrations/ and ent/schema disagree; run `go run ./cmd/migrate-diff <name>`:\n%s", diff)
	}
}

func TestDriftIsDetected(t *testing.T) {
	db, dsn := dbTemplate.Open(t)
	if _, err := db.Exec(`DROP INDEX feedback_status_updated_at; ALTER TABLE tasks DROP COLUMN estimated_hours`); err != nil {
		t.Fatal(err)
	}
	diff := pendingChanges(t, dsn)
	if !strings.Contains(diff, "feedback_status_updated_at") || !strings.Contains(diff, "estimated_hours") {
		t.Fatalf("drift not reported; got:\n%s", diff)
	}
}

func TestUpIsIdempotentAndSafeConcurrently(t *testing.T) {
	// A blank database (not a copy of the migrated template).
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE adjustments, feedbacks, tasks, projects, goose_db_version`); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = migrations.Up(context.Background(), db, logger)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if err := migrations.Up(context.Background(), db, logger); err != nil {
		t.Errorf("second run: %v", err)
	}
	if diff := pendingChanges(t, dsn); diff != "" {
		t.Fatalf("schema after concurrent start-up differs:\n%s", diff)
	}
}
