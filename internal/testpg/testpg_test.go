package testpg_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testpg"
)

func TestStopKillRestartKeepData(t *testing.T) {
	s := testpg.Start(t)
	open := func() *sql.DB {
		db, err := sql.Open("postgres", s.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	ctx := context.Background()
	db := open()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := open().PingContext(cctx); err == nil {
		t.Fatal("connected to a stopped server")
	}
	s.Restart(t)
	s.Kill(t)
	s.Restart(t)
	var v int
	if err := open().QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restarts: %d, %v", v, err)
	}
}
