package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// Exactly one Redis topology is named, and settings given to the wrong one
// are reported, naming them, rather than ignored.
func TestRedisTopologySettings(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(map[string]string{"REDIS_SENTINEL_ADDRS": "10.0.0.1:26379, 10.0.0.2:26379", "REDIS_SENTINEL_MASTER": "mymaster",
		"REDIS_SENTINEL_PASSWORD": "s3", "REDIS_PASSWORD": "p4", "REDIS_DB": "2"})
	if r := cfg.Redis; err != nil || r.URL != "" || !slices.Equal(r.SentinelAddrs, []string{"10.0.0.1:26379", "10.0.0.2:26379"}) ||
		r.SentinelMaster != "mymaster" || r.SentinelPassword != "s3" || r.Password != "p4" || r.DB != 2 || r.Topology() != "sentinel" {
		t.Errorf("Sentinel: %+v, %v", cfg.Redis, err)
	}
	cfg, err = load(map[string]string{"REDIS_CLUSTER_ADDRS": "a:7000,b:7001", "REDIS_USERNAME": "svc"})
	if r := cfg.Redis; err != nil || r.URL != "" || len(r.ClusterAddrs) != 2 || r.Username != "svc" || r.Topology() != "cluster" {
		t.Errorf("Cluster: %+v, %v", cfg.Redis, err)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"REDIS_URL": "redis://x:6379/0", "REDIS_CLUSTER_ADDRS": "a:1"}, "REDIS_CLUSTER_ADDRS and REDIS_URL are set: name one Redis topology only"},
		{map[string]string{"REDIS_SENTINEL_ADDRS": "a:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_CLUSTER_ADDRS": "b:2"}, "REDIS_CLUSTER_ADDRS and REDIS_SENTINEL_ADDRS are set"},
		{map[string]string{"REDIS_SENTINEL_ADDRS": "a:1"}, "REDIS_SENTINEL_ADDRS is set without REDIS_SENTINEL_MASTER"},
		{map[string]string{"REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINEL_MASTER or REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINEL_ADDRS"},
		{map[string]string{"REDIS_SENTINEL_PASSWORD": "p", "REDIS_URL": "redis://x:1/0"}, "without REDIS_SENTINEL_ADDRS"},
		{map[string]string{"REDIS_CLUSTER_ADDRS": "a:1,nohost"}, `REDIS_CLUSTER_ADDRS must be comma-separated host:port addresses, got "nohost"`},
		{map[string]string{"REDIS_CLUSTER_ADDRS": "a:1", "REDIS_DB": "3"}, "REDIS_DB must be 0 with REDIS_CLUSTER_ADDRS"},
		{map[string]string{"REDIS_DB": "3"}, "REDIS_DB is set with REDIS_URL: give the database as the URL's path"},
	} {
		_, err := load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.env, err, c.want)
		}
	}
}
