package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// openCached opens the test's own database with one connection that keeps
// size statements, so that every statement runs on the same connection.
func openCached(t testing.TB, size int) *sql.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbTemplate.New(t), postgres.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Hour, Statements: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func prepared(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_prepared_statements`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStatementsArePreparedOncePerConnection(t *testing.T) {
	db := openCached(t, 4)
	for i := range 10 {
		var got int
		if err := db.QueryRow(`SELECT $1::int + 1`, i).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("got %d, %v", got, err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE notes (id bigint PRIMARY KEY, body jsonb, hash bytea)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// jsonb and bytea parameters keep their types (binary_parameters=yes
		// would send the JSON as binary jsonb and fail).
		if _, err := db.Exec(`INSERT INTO notes VALUES ($1, $2, $3)`, i, []byte(`{"n": 1}`), []byte{0, 1, 2, 0xff}); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	var hash []byte
	if err := db.QueryRow(`SELECT body::text, hash FROM notes WHERE id = $1`, 2).Scan(&body, &hash); err != nil || body != `{"n": 1}` || string(hash) != "\x00\x01\x02\xff" {
		t.Fatalf("read back %q %x: %v", body, hash, err)
	}
	if n := prepared(t, db); n != 3 {
		t.Errorf("%d statements prepared, want 3 (select, insert, select)", n)
	}

	// The least recently used go when the cache is full.
	for i := range 6 {
		if _, err := db.Exec(fmt.Sprintf(`SELECT $1::int + %d`, i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := prepared(t, db); n != 4 {
		t.Errorf("%d statements prepared, want the cache's size, 4", n)
	}

	// Transactions use the connection's statements too.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT $1::int + 5`, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := prepared(t, db); n != 4 {
		t.Errorf("%d statements prepared after a transaction reused one, want 4", n)
	}
}

// A table altered under a prepared statement: PostgreSQL refuses the old
// plan ("cached plan must not change result type"); it is prepared again.
func TestStatementsSurviveAlterTable(t *testing.T) {
	db := openCached(t, 8)
	if _, err := db.Exec(`CREATE TABLE t (id bigint PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x')`); err != nil {
		t.Fatal(err)
	}
	read := func() []string {
		t.Helper()
		rows, err := db.Query(`SELECT * FROM t WHERE id = $1`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		return cols
	}
	if cols := read(); len(cols) != 2 {
		t.Fatalf("columns %v", cols)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN b int`); err != nil {
		t.Fatal(err)
	}
	if cols := read(); len(cols) != 3 {
		t.Errorf("columns after ALTER TABLE: %v", cols)
	}
	if _, err := db.Exec(`UPDATE t SET a = $1 WHERE id = $2`, "y", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE t ALTER COLUMN a TYPE varchar(10)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE t SET a = $1 WHERE id = $2`, "z", 1); err != nil {
		t.Errorf("update after ALTER COLUMN: %v", err)
	}
}

// A deadline still cancels a prepared statement on the server.
func TestStatementsHonourCancellation(t *testing.T) {
	db := openCached(t, 8)
	if _, err := db.Exec(`SELECT pg_sleep($1)`, 0.01); err != nil { // prepared now
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, `SELECT pg_sleep($1)`, 30)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancelled statement ran for %v", time.Since(start))
	}
	// The pool recovers.
	var one int
	if err := db.QueryRow(`SELECT $1::int`, 1).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after a cancel: %d, %v", one, err)
	}
}

// BenchmarkStatement compares the ways lib/pq can send a parametrized
// statement: as it does by default (two round trips, planned each time),
// with binary_parameters=yes (one round trip, planned each time), and
// prepared once per connection (one round trip, planned once).
func BenchmarkStatement(b *testing.B) {
	dsn := dbTemplate.New(b)
	setup, err := postgres.Open(context.Background(), dsn, postgres.Pool{MaxOpen: 1})
	if err != nil {
		b.Fatal(err)
	}
	_, err = setup.Exec(`
		WITH o AS (INSERT INTO organizations (created_at, updated_at, name) VALUES (now(), now(), 'o') RETURNING id)
		INSERT INTO projects (created_at, updated_at, name, status, organization_id)
		SELECT now(), now(), 'p' || g, 'ACTIVE', o.id FROM generate_series(1, 100) g, o;
		INSERT INTO users (kind, issuer, subject, created_at, last_seen_at) VALUES ('EXTERNAL', '', 'u', now(), now());
		INSERT INTO project_members (created_at, updated_at, role, project_id, user_id)
		SELECT now(), now(), 'VIEWER', p.id, u.id FROM projects p, users u;
		ANALYZE`)
	setup.Close()
	if err != nil {
		b.Fatal(err)
	}
	// A page of projects as a viewer reads it (see access.ProjectPolicy).
	const query = `SELECT "projects"."id", "projects"."name" FROM "projects" WHERE "projects"."id" IN ` +
		`(SELECT "project_id" FROM "project_members" WHERE "user_id" = $1) ORDER BY "projects"."id" LIMIT 11`
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	for _, v := range []struct {
		name       string
		dsn        string
		statements int
	}{
		{"default", dsn, 0},
		{"binary_parameters", u.String(), 0},
		{"prepared", dsn, 64},
	} {
		b.Run(v.name, func(b *testing.B) {
			db, err := postgres.Open(context.Background(), v.dsn, postgres.Pool{MaxOpen: 1, MaxIdle: 1, Statements: v.statements})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var user int64
			if err := db.QueryRow(`SELECT id FROM users`).Scan(&user); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				rows, err := db.Query(query, user)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				if n != 11 {
					b.Fatalf("%d rows", n)
				}
			}
		})
	}
}
