package replicas

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// Driver is an ent driver over the primary and the replicas: a Query whose
// context ForRead marked for a replica runs there; Exec, transactions (ent
// runs every statement of one on its dialect.Tx, from the primary) and
// unmarked queries run on the primary. A replica that fails mid-query
// (unreachable, or a recovery conflict cancelled the statement) is taken
// out of reads and the query runs on the primary instead, so the caller
// sees no error.
type Driver struct {
	primary *entsql.Driver
	set     *Set
	dbs     map[*replica]*entsql.Driver
}

var _ dialect.Driver = (*Driver)(nil)

// Driver returns the routing ent driver over the set's primary.
func (s *Set) Driver() *Driver {
	d := &Driver{primary: entsql.OpenDB(dialect.Postgres, s.cfg.Primary), set: s, dbs: map[*replica]*entsql.Driver{}}
	for _, r := range s.replicas {
		d.dbs[r] = entsql.OpenDB(dialect.Postgres, r.db)
	}
	return d
}

func (d *Driver) Dialect() string { return dialect.Postgres }

func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	return d.primary.Exec(ctx, query, args, v)
}

func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	if r := routed(ctx); r != nil {
		err := d.dbs[r].Query(ctx, query, args, v)
		if !d.retry(ctx, r, err) {
			return err
		}
	}
	return d.primary.Query(ctx, query, args, v)
}

func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) { return d.primary.Tx(ctx) }

// BeginTx is what ent's Client.BeginTx looks for.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	return d.primary.BeginTx(ctx, opts)
}

// Close closes the primary's pool, as entsql's driver does; the set closes
// the replicas'.
func (d *Driver) Close() error { return d.primary.Close() }

// QueryContext and ExecContext are what ent's generated client uses for
// raw SQL (the sql/execquery feature); they route as Query and Exec do.
func (d *Driver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if r := routed(ctx); r != nil {
		rows, err := r.db.QueryContext(ctx, query, args...)
		if !d.retry(ctx, r, err) {
			return rows, err
		}
	}
	return d.set.cfg.Primary.QueryContext(ctx, query, args...)
}

func (d *Driver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.set.cfg.Primary.ExecContext(ctx, query, args...)
}

// retry reports whether a statement that failed on replica r should run on
// the primary instead, taking r out of reads when it is unreachable.
func (d *Driver) retry(ctx context.Context, r *replica, err error) bool {
	switch {
	case err == nil || ctx.Err() != nil:
		return false
	case postgres.IsUnavailable(err):
		d.set.down(r, "a query failed: "+err.Error())
	case !postgres.IsRecoveryConflict(err):
		return false
	}
	d.set.record(TargetPrimary, ReasonReplicaFailed)
	return true
}
