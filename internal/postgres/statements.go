package postgres

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/lib/pq"
)

// lib/pq sends a statement with parameters as two round trips, parse and
// describe, then bind and execute, and PostgreSQL plans it every time. A
// connection of a statementCache prepares each statement once instead and
// then runs it in one round trip (bind, execute), with the plan PostgreSQL
// keeps for it. lib/pq's binary_parameters=yes also saves the round trip
// but sends []byte as binary, which jsonb columns refuse.

// statementCache is a connector whose connections keep up to size
// prepared statements each, the least recently used going first.
type statementCache struct {
	driver.Connector
	size int
}

func (c statementCache) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok { // not lib/pq's connection as known: run it as it is
		return conn, nil
	}
	// An evicted statement is closed; an error marks the connection bad in
	// lib/pq.
	stmts, err := simplelru.NewLRU(c.size, func(_ string, st preparedStmt) { _ = st.Close() })
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &cachingConn{pqConn: pc, stmts: stmts}, nil
}

// pqConn is what lib/pq's connection offers database/sql.
type pqConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

type preparedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// cachingConn is used by one goroutine at a time, as database/sql does
// with connections, so its cache needs no lock.
type cachingConn struct {
	pqConn
	stmts *simplelru.LRU[string, preparedStmt] // by statement text
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 { // the simple protocol: one round trip already
		return c.pqConn.QueryContext(ctx, query, args)
	}
	return runPrepared(ctx, c, query, func(st preparedStmt) (driver.Rows, error) { return st.QueryContext(ctx, args) })
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	return runPrepared(ctx, c, query, func(st preparedStmt) (driver.Result, error) { return st.ExecContext(ctx, args) })
}

// runPrepared runs query's prepared statement with do, preparing it again
// once if a migration changed its plan under it.
func runPrepared[T any](ctx context.Context, c *cachingConn, query string, do func(preparedStmt) (T, error)) (T, error) {
	st, err := c.prepared(ctx, query)
	if err != nil {
		var none T
		return none, err
	}
	out, err := do(st)
	if planChanged(err) {
		if st, err = c.prepareAgain(ctx, query); err == nil {
			out, err = do(st)
		}
	}
	return out, err
}

// prepared returns the connection's statement for query, preparing it on
// first use.
func (c *cachingConn) prepared(ctx context.Context, query string) (preparedStmt, error) {
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	s, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(preparedStmt)
	if !ok {
		_ = s.Close()
		return nil, errors.New("postgres: lib/pq's statements lack QueryContext and ExecContext")
	}
	c.stmts.Add(query, st)
	return st, nil
}

// prepareAgain replaces a statement whose result columns changed under it
// (a migration altered a table): PostgreSQL refuses to run its old plan.
func (c *cachingConn) prepareAgain(ctx context.Context, query string) (preparedStmt, error) {
	c.stmts.Remove(query)
	return c.prepared(ctx, query)
}

// planChanged reports PostgreSQL's "cached plan must not change result
// type", which a statement prepared before an ALTER TABLE gets.
func planChanged(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "0A000"
}
