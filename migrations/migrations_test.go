package migrations_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/pressly/goose/v3"

	"github.com/feedbackloop/feedbackloop/ent/migrate"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "migrations", &dbTemplate) }

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
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
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

func TestUpWaitsForAnotherInstanceBeforeTouchingTheDatabase(t *testing.T) {
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	// Another instance holds the lock, as if it were migrating.
	other, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(context.Background(), `SELECT pg_advisory_lock($1)`, migrations.StartLockID); err != nil {
		t.Fatal(err)
	}

	logs := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() { done <- migrations.Up(context.Background(), db, slog.New(slog.NewJSONHandler(logs, nil))) }()
	testutil.WaitFor(t, "Up to wait for the lock", func() bool { return logs.Contains("waiting for another instance") })
	// Up logs before it blocks, so had it touched the database before
	// taking the lock, goose's version table would exist by now.
	var table sql.NullString
	if err := db.QueryRow(`SELECT to_regclass('goose_db_version')::text`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if table.Valid {
		t.Fatal("Up created goose's version table while another instance held the lock")
	}
	select {
	case err := <-done:
		t.Fatalf("Up returned while another instance held the lock: %v", err)
	default:
	}

	if _, err := other.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrations.StartLockID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Up after the lock was released: %v", err)
	}
	if diff := pendingChanges(t, dsn); diff != "" {
		t.Fatalf("schema after waiting differs:\n%s", diff)
	}
	// And Up released the lock: another session can take it at once.
	var locked bool
	if err := other.QueryRowContext(context.Background(), `SELECT pg_try_advisory_lock($1)`, migrations.StartLockID).Scan(&locked); err != nil || !locked {
		t.Fatalf("start-up lock still held after Up returned (locked %v, %v)", locked, err)
	}
}

func TestUpGivesUpWhenTheWaitOutlastsItsContext(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	other, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(context.Background(), `SELECT pg_advisory_lock($1)`, migrations.StartLockID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = migrations.Up(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "wait for another instance's migrations") {
		t.Fatalf("Up = %v, want an error saying it waited for another instance", err)
	}
}

// The migration to identity kinds keeps the operator's built-in users, once
// told apart by an admin flag, as users of their own kinds, and every other
// user as an EXTERNAL one with no issuer, as tokens without iss name them.
// A token's "admin-api-key" is then a user of its own.
func TestIdentityKindsComeFromTheAdminFlag(t *testing.T) {
	const before = 20261126030005 // the last migration with users.admin
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO users (subject, admin, created_at, last_seen_at) VALUES
		('admin-api-key', true, now(), now()), ('local-admin', true, now(), now()), ('ada', false, now(), now())`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT subject || ' ' || kind || ' "' || issuer || '"' FROM users ORDER BY subject`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{`ada EXTERNAL ""`, `admin-api-key ADMIN_KEY ""`, `local-admin LOCAL_ADMIN ""`}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("users after the migration: %q, want %q", got, want)
	}
	if _, err := db.Exec(`INSERT INTO users (kind, issuer, subject, created_at, last_seen_at) VALUES ('EXTERNAL', '', 'admin-api-key', now(), now())`); err != nil {
		t.Fatalf("a token's admin-api-key cannot be stored beside the operator's: %v", err)
	}
}

// Feedback stored before job keys existed gets one each when the column is
// added: random, so that no two rows share their jobs' IDs.
func TestExistingFeedbackGetsDistinctJobKeys(t *testing.T) {
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	var before int64 // the last migration before the job key's
	for _, s := range provider.ListSources() {
		if strings.HasSuffix(s.Path, "_feedback_job_key.sql") {
			break
		}
		before = s.Version
	}
	if _, err := provider.UpTo(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO projects (name, status, created_at, updated_at) VALUES ('P', 'ACTIVE', now(), now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO feedbacks (project_id, feedback_text, status, version, attempts, dropped_suggestions, created_at, updated_at)
		SELECT id, 'old', 'PENDING', 1, 0, 0, now(), now() FROM projects, generate_series(1, 3)`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var rows, keys int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT job_key) FROM feedbacks`).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || keys != 3 {
		t.Fatalf("%d rows with %d distinct job keys, want 3 and 3", rows, keys)
	}
}

// Projects stored before organisations existed each go to the personal
// organisation of their earliest OWNER, who owns it; a project without an
// OWNER gets an organisation of its own, named after it.
func TestExistingProjectsGetOrganisations(t *testing.T) {
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	var before int64 // the last migration before the organisations'
	for _, s := range provider.ListSources() {
		if strings.HasSuffix(s.Path, "_organizations.sql") {
			break
		}
		before = s.Version
	}
	if _, err := provider.UpTo(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, subject, name, created_at, last_seen_at) VALUES (1, 'ada', 'Ada', now(), now()), (2, 'bob', NULL, now(), now())`,
		`INSERT INTO projects (id, name, status, created_at, updated_at) VALUES
			(10, 'Ada1', 'ACTIVE', now(), now()), (11, 'Ada2', 'ACTIVE', now(), now()), (12, 'Orphan', 'ACTIVE', now(), now())`,
		// Project 10: bob became OWNER after ada; project 11: ada alone; 12: only a VIEWER.
		`INSERT INTO project_members (project_id, user_id, role, created_at, updated_at) VALUES
			(10, 1, 'OWNER', now() - interval '2 days', now()), (10, 2, 'OWNER', now(), now()),
			(11, 1, 'OWNER', now(), now()), (12, 2, 'VIEWER', now(), now())`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT p.name || ' ' || o.name || ' ' || coalesce(o.personal_user_id::text, '-') || ' ' ||
		coalesce((SELECT string_agg(m.user_id::text || ':' || m.role, ',' ORDER BY m.user_id) FROM organization_members m WHERE m.organization_id = o.id), '-')
		FROM projects p JOIN organizations o ON o.id = p.organization_id ORDER BY p.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Ada1 Ada 1 1:OWNER", "Ada2 Ada 1 1:OWNER", "Orphan Orphan - -"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("projects after the migration: %q, want %q", got, want)
	}
	var orgs int
	if err := db.QueryRow(`SELECT count(*) FROM organizations`).Scan(&orgs); err != nil {
		t.Fatal(err)
	}
	if orgs != 2 {
		t.Fatalf("%d organisations, want 2 (ada's personal one and the orphan's)", orgs)
	}
	if _, err := db.Exec(`INSERT INTO projects (name, status, viewers_may_comment, created_at, updated_at) VALUES ('X', 'ACTIVE', true, now(), now())`); err == nil {
		t.Fatal("a project without an organisation was stored")
	}
}

// Tasks stored before their status history was kept each get one row: from
// nothing to their status, at their last change.
func TestExistingTasksGetAStatusHistory(t *testing.T) {
	dsn := dbTemplate.New(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	var before int64 // the last migration before the history's
	for _, s := range provider.ListSources() {
		if strings.HasSuffix(s.Path, "_task_status_changes.sql") {
			break
		}
		before = s.Version
	}
	if _, err := provider.UpTo(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (1, 'O', now(), now())`,
		`INSERT INTO projects (id, name, status, organization_id, created_at, updated_at) VALUES (10, 'P', 'ACTIVE', 1, now(), now())`,
		`INSERT INTO tasks (id, project_id, title, status, priority, version, created_at, updated_at) VALUES
			(100, 10, 'open', 'TODO', 0, 1, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
			(101, 10, 'done', 'DONE', 0, 3, '2026-01-01T00:00:00Z', '2026-01-05T12:00:00Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT task_id || ' ' || project_id || ' ' || coalesce(from_status, '-') || ' ' || to_status || ' ' ||
		to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || coalesce(changed_by::text, '-')
		FROM task_status_changes ORDER BY task_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"100 10 - TODO 2026-01-02 00:00 -", "101 10 - DONE 2026-01-05 12:00 -"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history %q, want %q", got, want)
	}
}
