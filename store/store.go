// Package store is the data model's client over the PostgreSQL pool that
// internal/postgres opens: making it, and running work in a transaction.
// It keeps the data layer out of internal/postgres, which knows databases,
// not the model.
package store

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	// Registers the schema's hooks and defaults (trimming, timestamps), which
	// ent keeps in a separate package to avoid an import cycle.
	_ "github.com/feedbackloop/feedbackloop/ent/runtime"
)

// NewClient returns an ent client on an open pool.
func NewClient(db *sql.DB, opts ...ent.Option) *ent.Client {
	return NewClientOn(entsql.OpenDB("postgres", db), opts...)
}

// NewClientOn returns an ent client on a driver, such as
// internal/replicas' one that routes reads to replicas.
func NewClientOn(drv dialect.Driver, opts ...ent.Option) *ent.Client {
	return ent.NewClient(append([]ent.Option{ent.Driver(drv)}, opts...)...)
}

// InTx runs fn in a transaction of client, committing when it returns no
// error and rolling back otherwise. An entity fn returns is unwrapped from
// the transaction, so that its edges load through client afterwards.
func InTx[T any](ctx context.Context, client *ent.Client, fn func(*ent.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := client.Tx(ctx)
	if err != nil {
		return zero, err
	}
	v, err := fn(tx)
	if err != nil {
		_ = tx.Rollback()
		return zero, err
	}
	if err := tx.Commit(); err != nil {
		return zero, err
	}
	if u, ok := any(v).(interface{ Unwrap() T }); ok {
		v = u.Unwrap()
	}
	return v, nil
}
