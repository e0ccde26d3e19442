// Package redisconn opens the service's Redis client for one of three
// topologies: a single server (REDIS_URL), a master watched by Sentinel
// (automatic failover), or a Redis Cluster. Everything that talks to Redis
// takes the redis.UniversalClient it returns, so the queue, the event bus
// and the budgets run unchanged on each.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options name one topology: URL, or SentinelAddrs with SentinelMaster, or
// ClusterAddrs. Username, Password and DB are the data nodes' (not the
// Sentinels'): for URL they may come in the URL instead.
type Options struct {
	// URL is a redis:// or rediss:// URL of a single server.
	URL string

	// SentinelAddrs (host:port) are asked which server is the master of
	// SentinelMaster; SentinelUsername/SentinelPassword authenticate to
	// the Sentinels themselves.
	SentinelAddrs                      []string
	SentinelMaster                     string
	SentinelUsername, SentinelPassword string

	// ClusterAddrs (host:port) are some nodes of a Redis Cluster; the rest
	// are discovered from them.
	ClusterAddrs []string

	// The data nodes' credentials and database. A Cluster has database 0
	// only.
	Username, Password string
	DB                 int
}

// ClusterStateReloadInterval is how old a Cluster's slot map may get before
// the client asks for it again (one CLUSTER SLOTS): after a failover,
// commands reach the promoted replica within it.
const ClusterStateReloadInterval = 2 * time.Second

// Topology names the topology o describes: "single", "sentinel" or
// "cluster".
func (o Options) Topology() string {
	switch {
	case len(o.SentinelAddrs) > 0:
		return "sentinel"
	case len(o.ClusterAddrs) > 0:
		return "cluster"
	}
	return "single"
}

// New returns a client for the topology o names. It does not connect: the
// first command does.
func New(o Options) (redis.UniversalClient, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	switch o.Topology() {
	case "sentinel":
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       o.SentinelMaster,
			SentinelAddrs:    o.SentinelAddrs,
			SentinelUsername: o.SentinelUsername,
			SentinelPassword: o.SentinelPassword,
			Username:         o.Username,
			Password:         o.Password,
			DB:               o.DB,
		}), nil
	case "cluster":
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    o.ClusterAddrs,
			Username: o.Username,
			Password: o.Password,
			// go-redis reloads the slot map on MOVED, and otherwise once
			// it is this old (60s by default). A dead master answers no
			// MOVED: its slots' commands would keep failing for a minute
			// after a replica took over.
			ClusterStateReloadInterval: ClusterStateReloadInterval,
		}), nil
	}
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("%w (want redis://[user:password@]host:port/db)", err)
	}
	if o.Username != "" || o.Password != "" {
		if opts.Username != "" || opts.Password != "" {
			return nil, errors.New("credentials are given both in the URL and apart: give them once")
		}
		opts.Username, opts.Password = o.Username, o.Password
	}
	return redis.NewClient(opts), nil
}

func (o Options) validate() error {
	given := 0
	for _, set := range []bool{o.URL != "", len(o.SentinelAddrs) > 0, len(o.ClusterAddrs) > 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		return errors.New("name exactly one topology: a URL, Sentinel addresses or Cluster addresses")
	}
	for _, addr := range append(append([]string(nil), o.SentinelAddrs...), o.ClusterAddrs...) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("address %q: want host:port", addr)
		}
	}
	switch {
	case len(o.SentinelAddrs) > 0 && o.SentinelMaster == "":
		return errors.New("Sentinel needs the name of the master it watches")
	case len(o.SentinelAddrs) == 0 && (o.SentinelMaster != "" || o.SentinelPassword != "" || o.SentinelUsername != ""):
		return errors.New("a Sentinel master name or password is given without Sentinel addresses")
	case len(o.ClusterAddrs) > 0 && o.DB != 0:
		return errors.New("a Redis Cluster has database 0 only")
	case o.URL != "" && o.DB != 0:
		return errors.New("the database of a single server is the URL's path (redis://host:port/db)")
	}
	return nil
}

// Ping checks that Redis answers for every key: on a Cluster, that every
// master answers (a Cluster with a master down refuses that master's slots,
// and with the default cluster-require-full-coverage, every slot);
// elsewhere, that the server, or the master Sentinel names, answers. It
// fails while a failover is under way.
func Ping(ctx context.Context, rdb redis.UniversalClient) error {
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return node.Ping(ctx).Err()
		})
	}
	return rdb.Ping(ctx).Err()
}
