package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "postgres", &dbTemplate) }

func adminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return migrationstest.DefaultURL
}

// Instances starting together on a new database all race to create it;
// losing that race must not be an error.
func TestEnsureDatabaseConcurrently(t *testing.T) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "fltest_postgres_ensure_" + hex.EncodeToString(b)
	u, err := url.Parse(adminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		if err := postgres.DropDatabase(context.Background(), adminURL(), name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})

	start := make(chan struct{})
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = postgres.EnsureDatabase(context.Background(), u.String())
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	db, err := postgres.Open(context.Background(), u.String(), postgres.Pool{MaxOpen: 1})
	if err != nil {
		t.Fatalf("the database was not created: %v", err)
	}
	db.Close()
}
