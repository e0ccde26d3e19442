package replicas

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Positions remembers, per caller, the primary's WAL position after the
// caller's last write, in Redis so that every instance knows it. An entry
// lives a little longer than the replicas' max lag: after that, every
// replica that gets reads has replayed the write anyway.
type Positions struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewPositions keeps positions under prefix (the deployment's, so that
// deployments sharing a Redis keep apart)
// for callers of a set whose replicas lag at most maxLag.
func NewPositions(rdb redis.UniversalClient, prefix string, maxLag time.Duration) *Positions {
	return &Positions{rdb: rdb, prefix: prefix, ttl: maxLag + time.Second}
}

// remember keeps the larger of the stored position and ARGV[1]: two writes
// of one caller on two instances may record out of order. Positions stay
// below 2^53 (8 PiB of WAL), so Lua's numbers hold them exactly.
var remember = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local pos = tonumber(ARGV[1])
if pos > cur then cur = pos end
redis.call('SET', KEYS[1], string.format('%d', cur), 'PX', ARGV[2])
return cur`)

// Remember records that caller wrote at or before pos.
func (p *Positions) Remember(ctx context.Context, caller string, pos LSN) error {
	return remember.Run(ctx, p.rdb, []string{p.prefix + caller}, strconv.FormatUint(uint64(pos), 10), p.ttl.Milliseconds()).Err()
}

// accessKey holds the position after the last change of anyone's access
// (a member removed or demoted, a key revoked): every caller reads at least
// that, so that a lagging replica cannot show a project to someone who
// lost it. Last reads both keys in one pipeline (not MGET: on a Redis
// Cluster they may live on different nodes, and go-redis splits a
// pipeline by node).
const accessKey = "access-change"

// RememberAccessChange records that someone's access changed at or before
// pos: every caller's next reads wait for it.
func (p *Positions) RememberAccessChange(ctx context.Context, pos LSN) error {
	return p.Remember(ctx, accessKey, pos)
}

// Last is the position every read of caller must see: the later of the
// caller's last write and the last access change still remembered (0:
// none).
func (p *Positions) Last(ctx context.Context, caller string) (LSN, error) {
	pipe := p.rdb.Pipeline()
	own := pipe.Get(ctx, p.prefix+caller)
	access := pipe.Get(ctx, p.prefix+accessKey)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	var last LSN
	for _, cmd := range []*redis.StringCmd{own, access} {
		v, err := cmd.Uint64()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return 0, err
		default:
			last = max(last, LSN(v))
		}
	}
	return last, nil
}
