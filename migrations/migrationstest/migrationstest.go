// Package testdb gives tests their own PostgreSQL databases on the server
// named by TEST_DATABASE_URL (default: the local server).
//
// A test package calls Setup from TestMain: it creates a database for the
// package and migrates it with the real migrations. Each test then calls New,
// which copies that database (CREATE DATABASE ... TEMPLATE), so tests share
// no rows and need no cleanup of their own. Everything is dropped at the end.
package migrationstest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations"
)

// DefaultURL is the server used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Template is a migrated database that each test copies.
type Template struct {
	admin string
	name  string
	mu    sync.Mutex // PostgreSQL refuses concurrent copies of one template
}

// Setup creates and migrates the package's template database. prefix names
// the package in database names, so a leftover is easy to trace.
func Setup(prefix string) (*Template, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultURL
	}
	t := &Template{admin: admin, name: uniqueName(prefix)}
	dsn, err := withDatabase(admin, t.name)
	if err != nil {
		return nil, err
	}
	if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
		return nil, fmt.Errorf("testdb: %w (is PostgreSQL running on %s?)", err, postgres.Redact(admin))
	}
	db, err := postgres.Open(ctx, dsn, postgres.Pool{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		_ = postgres.DropDatabase(ctx, admin, t.name)
		return nil, err
	}
	return t, nil
}

// Main is a test package's TestMain: it sets up the package's template in
// *tmpl, runs the tests, drops the template and exits with the tests' code.
//
//	var dbTemplate *testdb.Template
//	func TestMain(m *testing.M) { migrationstest.Main(m, "graph", &dbTemplate) }
func Main(m *testing.M, prefix string, tmpl **Template) {
	*tmpl = MustSetup(prefix)
	code := m.Run()
	(*tmpl).Close()
	os.Exit(code)
}

// MustSetup is Setup for TestMain: it exits the test binary on failure.
func MustSetup(prefix string) *Template {
	t, err := Setup(prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return t
}

// Close drops the template database.
func (t *Template) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := postgres.DropDatabase(ctx, t.admin, t.name); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: drop %s: %v\n", t.name, err)
	}
}

// New returns the URL of a fresh, migrated database for tb, dropped when tb ends.
func (t *Template) New(tb testing.TB) string {
	tb.Helper()
	dsn, err := t.create(tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		u, _ := url.Parse(dsn)
		if err := postgres.DropDatabase(context.Background(), t.admin, strings.TrimPrefix(u.Path, "/")); err != nil {
			tb.Errorf("testdb: drop database: %v", err)
		}
	})
	return dsn
}

// Open is New plus an open pool on the new database, closed when tb ends.
func (t *Template) Open(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	dsn := t.New(tb)
	db, err := postgres.Open(context.Background(), dsn, postgres.DefaultPool)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, dsn
}

func (t *Template) create(testName string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := uniqueName(t.name[:min(len(t.name), 20)] + "_" + testName)
	admin, err := postgres.Open(ctx, t.admin, postgres.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return "", err
	}
	defer admin.Close()
	t.mu.Lock()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE "+pq.QuoteIdentifier(t.name))
	t.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("testdb: copy template: %w", err)
	}
	return withDatabase(t.admin, name)
}

// AdminURL is the server-level URL tests were configured with.
func (t *Template) AdminURL() string { return t.admin }

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// uniqueName builds a valid database name (at most 63 bytes) ending in a random suffix.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := unsafeChars.ReplaceAllString(strings.ToLower(prefix), "_")
	if len(p) > 45 {
		p = p[:45]
	}
	return "fltest_" + p + "_" + hex.EncodeToString(b)
}

func withDatabase(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("testdb: TEST_DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
