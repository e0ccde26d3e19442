package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// Replica URLs are read as a list, checked without echoing them (they may
// hold passwords), and the max lag defaults to 5s.
func TestReplicaSettings(t *testing.T) {
	env := map[string]string{"DATABASE_REPLICA_URLS": "postgres://u:secret@db-1:5432/f, postgresql://db-2/f"}
	cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil || !slices.Equal(cfg.DatabaseReplicaURLs, []string{"postgres://u:secret@db-1:5432/f", "postgresql://db-2/f"}) ||
		cfg.DatabaseReplicaMaxLag != 5*time.Second {
		t.Errorf("replicas = %q, max lag %v, %v", cfg.DatabaseReplicaURLs, cfg.DatabaseReplicaMaxLag, err)
	}
	env = map[string]string{"DATABASE_REPLICA_URLS": "postgres://u:secret@db-1/f,secret-host:5432", "DATABASE_REPLICA_MAX_LAG": "250ms"}
	cfg, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_REPLICA_URLS: replica 2 of 2 must be a URL such as postgres://") {
		t.Errorf("a URL that is not one: %v", err)
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the value: %v", err)
	}
	if cfg.DatabaseReplicaMaxLag != 250*time.Millisecond {
		t.Errorf("DATABASE_REPLICA_MAX_LAG=250ms read as %v", cfg.DatabaseReplicaMaxLag)
	}
}
