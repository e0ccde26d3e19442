// Package postgres opens the service's PostgreSQL database and classifies
// driver errors, so callers never need to know lib/pq's error types.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/lib/pq"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Pool sizes the connection pool.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	// Statements is how many prepared statements each connection keeps, so
	// that a statement it runs again costs one round trip and no planning
	// (0: none; every statement is parsed and planned each time).
	Statements int
}

// DefaultPool suits one API or worker process on a small database server.
//
// Measured with bench/ (issue 13; 2 cores shared by the API, PostgreSQL
// and the load generator, 32 concurrent requests): 4 to 16 connections
// served alike and 32 a little worse; PostgreSQL's CPU per request was
// lowest at 4 to 8. Every connection stays open (MaxIdle = MaxOpen): with
// fewer idle than open, a burst closed the extra ones and the next opened
// them again, about five new sessions a second under steady load. A server
// with more cores takes more, about two to four per core
// (DATABASE_MAX_CONNS). Prepared statements cut PostgreSQL's CPU per
// request by half for the 10x10 query (0.66 → 0.30 ms) and a plain
// parametrized statement's latency from about 270 to 55–95 µs
// (BenchmarkStatement).
var DefaultPool = Pool{MaxOpen: 8, MaxIdle: 8, MaxLifetime: 30 * time.Minute, Statements: 128}

// Option changes how Open opens a pool.
type Option func(*options)

type options struct {
	tracing trace.TracerProvider
	lazy    bool
}

// WithoutCheck opens the pool without waiting for the database to answer:
// for a read replica, which may be down when the process starts and is
// used once it answers.
func WithoutCheck() Option {
	return func(o *options) { o.lazy = true }
}

// WithTracing traces every statement (otelsql) with tp: each is a span of
// the request or job that ran it.
func WithTracing(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracing = tp }
}

// Open opens a connection pool to dsn and checks that the database answers.
func Open(ctx context.Context, dsn string, pool Pool, opts ...Option) (*sql.DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(dsn), err)
	}
	var c driver.Connector = connector
	if pool.Statements > 0 {
		c = statementCache{Connector: connector, size: pool.Statements}
	}
	var db *sql.DB
	if o.tracing != nil {
		db = otelsql.OpenDB(c, otelsql.WithTracerProvider(o.tracing),
			otelsql.WithAttributes(semconv.DBSystemPostgreSQL),
			otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitConnPrepare: true, OmitRows: true}))
	} else {
		db = sql.OpenDB(c)
	}
	db.SetMaxOpenConns(pool.MaxOpen)
	db.SetMaxIdleConns(pool.MaxIdle)
	db.SetConnMaxLifetime(pool.MaxLifetime)
	if o.lazy {
		return db, nil
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database %s: %w", Redact(dsn), err)
	}
	return db, nil
}

// EnsureDatabase creates the database named in dsn when it does not exist,
// connecting to the server's "postgres" maintenance database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w (want postgres://user@host:port/name?sslmode=disable)", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return errors.New("DATABASE_URL names no database (want postgres://user@host:port/name)")
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := Open(ctx, admin.String(), Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	if err != nil && !createdConcurrently(err) {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// createdConcurrently reports whether CREATE DATABASE failed because another
// session created the same database first, as happens when several instances
// start at once on a new database. PostgreSQL says so with 42P04
// (duplicate_database) when the other one had committed before the check,
// and with 23505 (unique_violation on pg_database_datname_index) when both
// inserted into the catalog concurrently: the loser waits for the winner's
// commit and then fails on the index.
func createdConcurrently(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	return pqErr.Code == "42P04" || pqErr.Code == "23505"
}

// DropDatabase removes a database, disconnecting its sessions first. Tests use it.
func DropDatabase(ctx context.Context, adminDSN, name string) error {
	db, err := Open(ctx, adminDSN, Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
	return err
}

// IsUnavailable reports whether err means the database could not be reached
// or is shutting down, as opposed to rejecting the statement itself. Such
// errors are worth retrying once the database is back.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "08", // connection exception
			"53", // insufficient resources (too many connections, disk full)
			"57": // operator intervention (admin shutdown, crash shutdown, cannot connect now)
			return true
		}
		return false
	}
	// lib/pq reports some lost connections only as text.
	msg := err.Error()
	return strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "bad connection") ||
		strings.Contains(msg, "the database system is starting up") ||
		strings.Contains(msg, "the database system is shutting down")
}

// IsRecoveryConflict reports whether a hot standby cancelled the statement
// because replaying the primary's changes needed what it was reading
// (40001 from a standby); the primary runs it without that conflict.
func IsRecoveryConflict(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "40001" && strings.Contains(pqErr.Message, "recovery")
}

// IsDataException reports whether PostgreSQL refused a value in the
// statement (class 22: a NUL character in text, a malformed number or
// date, a value out of range), as opposed to the statement or the server
// failing.
func IsDataException(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code.Class() == "22"
}

// IsUniqueViolation reports whether err is a unique constraint refusing a
// duplicate row.
func IsUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// Redact hides the password in a connection URL, for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
