package replicas

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPositionPrefix starts the Redis keys of callers' last writes.
const DefaultPositionPrefix = "feedbackloop:written:"

// Positions remembers, per caller, the primary's WAL position after the
// caller's last write, in Redis so that every instance knows it. An entry
// lives a little longer than the replicas' max lag: after that, every
// replica that gets reads has replayed the write anyway.
type Positions struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewPositions keeps positions under prefix ("" for DefaultPositionPrefix)
// for callers of a set whose replicas lag at most maxLag.
func NewPositions(rdb redis.UniversalClient, prefix string, maxLag time.Duration) *Positions {
	if prefix == "" {
		prefix = DefaultPositionPrefix
	}
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

// Last is the position of caller's last write still remembered (0: none).
func (p *Positions) Last(ctx context.Context, caller string) (LSN, error) {
	v, err := p.rdb.Get(ctx, p.prefix+caller).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return LSN(v), err
}
