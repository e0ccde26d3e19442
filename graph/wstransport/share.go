package wstransport

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/viewer"
)

// Shared subscriptions. Many clients sending the same subscription document
// with the same variables get the same results when the results cannot
// depend on who reads them; executing it once per subscriber per event
// (resolve, marshal) is what made delivery to 10,000 subscribers take
// seconds. So such a subscription runs once per instance: one execution
// (one resolver, one stream) per key Config.Share gives, whose marshalled
// result is written to every member's connection, framed once for all
// members whose operation ID is the same.
//
// Config.Share decides what may be shared and admits each member (Share);
// the execution's resolver re-checks members when access changes
// (Stream.Recheck).

// Share is how a subscription may share one execution.
type Share struct {
	// Key names the execution: subscriptions of one key get the same
	// results (the transport adds the document and variables).
	Key string
	// Admit says whether the subscriber running in ctx may join; it runs
	// before it joins.
	Admit func(ctx context.Context) bool
	// Readmit checks again, once it joined, a subscriber whose access may
	// have changed while it was admitted (see join).
	Readmit func(ctx context.Context) bool
}

// groups keeps the instance's shared executions.
type groups struct {
	t *Transport

	mu    sync.Mutex
	byKey map[string]*group
}

func (gs *groups) running() int {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return len(gs.byKey)
}

// group is one shared execution and its members.
type group struct {
	gs     *groups
	key    string
	cancel context.CancelFunc

	// ready is closed once the execution's stream is positioned (every
	// later event reaches it) or the execution ended.
	ready     chan struct{}
	readyOnce sync.Once
	// accessEvents counts the access changes the group handled: a joiner
	// admitted while it did not change needs no second check.
	accessEvents atomic.Int64

	mu      sync.Mutex
	members map[*operation]struct{}
	list    []*operation // members, for broadcasts (nil: to rebuild)
	heads   []string     // the operation IDs' heads more than one member has, to frame once
	done    bool         // ended: nobody joins any more

	// beforePlace, set by tests only, runs in a broadcast's worker between
	// taking a member and placing its event.
	beforePlace func(op *operation)
}

// join makes op, a validated subscription, a member of the group running
// its document, starting the group if needed. It returns false when op
// cannot be shared, or its viewer may not have it: then op runs on its own
// (which reports a refusal as the resolver does).
func (gs *groups) join(ctx context.Context, op *operation, rc *graphql.OperationContext) bool {
	if gs.t.share == nil {
		return false
	}
	share, ok := gs.t.share(rc)
	if !ok {
		return false
	}
	vars, err := json.Marshal(rc.Variables) // map keys sorted: one key per set of values
	if err != nil {
		return false
	}
	key := share.Key + "\x00" + rc.OperationName + "\x00" + string(vars) + "\x00" + rc.RawQuery
	gs.mu.Lock()
	running := gs.byKey[key]
	gs.mu.Unlock()
	var seen int64
	if running != nil && running.isPositioned() {
		seen = running.accessEvents.Load()
	} else {
		running = nil
	}
	if !share.Admit(ctx) {
		return false // runs on its own, which reports the refusal
	}
	field := rootField(rc)
	gs.mu.Lock()
	g := gs.byKey[key]
	created := g == nil
	var gctx context.Context
	if created {
		g = &group{gs: gs, key: key, members: map[*operation]struct{}{}, ready: make(chan struct{})}
		gs.byKey[key] = g
		// The group outlives the connection that started it; its resolver
		// runs as that member, which was just admitted, and hands access
		// changes to the group (Stream.Recheck) instead of ending.
		gctx, g.cancel = context.WithCancel(context.WithoutCancel(ctx))
		attachStream(rc, &Stream{group: g})
	}
	// Joined under the group's lock, so that a member that completes gets
	// no event after its complete.
	g.mu.Lock()
	joined := op.attach(nil, g, field)
	if joined {
		g.members[op] = struct{}{}
		g.list = nil
	}
	abandoned := created && !joined
	if abandoned {
		g.done = true
		delete(gs.byKey, key)
		g.cancel()
	}
	g.mu.Unlock()
	gs.mu.Unlock()
	if created && !abandoned {
		go g.run(gctx, op.conn.exec, rc)
	}
	if !joined {
		op.conn.complete(op.id, waitForRoom) // the client completed it meanwhile
		return true
	}
	// Admitted before joining, op missed the access changes the group
	// handled meanwhile: unless there were none (the group was positioned
	// before op was admitted, so it sees every change committed since), or
	// op started the group (whose stream checks op's access once
	// positioned), check again now that op is a member and the group's
	// stream is positioned, so that any later change reaches recheck.
	if created || g == running && g.accessEvents.Load() == seen {
		return true
	}
	select {
	case <-g.ready:
	case <-ctx.Done():
		return true
	}
	if !share.Readmit(ctx) && !op.isStopped() {
		op.conn.ended(op, closeIfFull) // as if removed a moment later
	}
	return true
}

// run executes the group's subscription and writes each result to every
// member; when the stream ends, the members complete.
func (g *group) run(ctx context.Context, exec graphql.GraphExecutor, rc *graphql.OperationContext) {
	defer g.end()
	logger := g.gs.t.logger
	defer func() {
		if r := recover(); r != nil {
			logger.ErrorContext(ctx, "shared subscription panicked; its subscribers complete", "panic", r)
		}
	}()
	responses, ctx := exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(ctx)
		if resp == nil {
			return
		}
		payload, err := json.Marshal(resp)
		if err != nil {
			logger.ErrorContext(ctx, "could not encode a shared result", "err", err)
			continue
		}
		g.broadcast(payload)
	}
}

// broadcastShare is how many members one worker writes to at least; a
// larger group is written by one worker per core to begin with.
const broadcastShare = 256

// stallAfter is how long the broadcast's workers may take no member before
// another worker joins them: they are waiting for full sockets.
const stallAfter = 2 * time.Millisecond

// broadcast writes payload to every member. Workers take the members in
// turn and place the event for each (conn.placeShared): it is queued when
// the member's connection's writer is busy (a member whose queue is full is
// disconnected), else the worker becomes the writer and writes it through
// gorilla. A write waits when a client's socket is full, so when the
// workers take no member for stallAfter, another joins them: a slow client
// holds up no one else. broadcast returns once the event is placed for
// every member, without waiting for writes under way, so it never waits
// for a socket; the next event, placed after, reaches each member after
// this one (its connection has one writer at a time, and its queue is in
// order). Members leave only between broadcasts, so a member that
// completes gets no event after its complete.
func (g *group) broadcast(payload []byte) {
	start := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.gs.t.metrics; m != nil {
		defer func() { m.FannedOut(time.Since(start)) }()
	}
	if g.list == nil {
		g.rebuild()
	}
	// Members that share an operation ID share the frame too: gorilla
	// frames it once for all of them.
	prepared := make(map[string]*websocket.PreparedMessage, len(g.heads))
	for _, head := range g.heads {
		msg := make([]byte, 0, len(head)+len(payload)+1)
		msg = append(append(append(msg, head...), payload...), '}')
		if pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg); err == nil {
			prepared[head] = pm
		}
	}
	members := g.list
	if len(members) == 0 {
		return
	}
	var (
		next      atomic.Int64 // the next member to take
		placed    atomic.Int64 // how many members' events are placed
		allPlaced = make(chan struct{})
	)
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(members) {
				return
			}
			op := members[i]
			if g.beforePlace != nil {
				g.beforePlace(op)
			}
			m := outgoing{head: op.head, body: payload}
			if pm := prepared[string(op.head)]; pm != nil {
				m = outgoing{prepared: pm}
			}
			ok, mustWrite := op.conn.placeShared(m)
			if placed.Add(1) == int64(len(members)) {
				close(allPlaced)
			}
			if mustWrite {
				op.conn.writeShared(m)
			}
			if ok {
				op.conn.chargeEvent(len(payload))
			}
		}
	}
	for range min(runtime.GOMAXPROCS(0), (len(members)+broadcastShare-1)/broadcastShare) {
		go work()
	}
	stall := time.NewTicker(stallAfter)
	defer stall.Stop()
	for taken := next.Load(); ; {
		select {
		case <-allPlaced:
			return
		case <-stall.C:
			if now := next.Load(); now == taken && now < int64(len(members)) {
				go work()
			} else {
				taken = now
			}
		}
	}
}

// rebuild lists the members and the heads they share; g.mu is held.
func (g *group) rebuild() {
	g.list = make([]*operation, 0, len(g.members))
	count := map[string]int{}
	for op := range g.members {
		g.list = append(g.list, op)
		count[string(op.head)]++
	}
	g.heads = g.heads[:0]
	for head, n := range count {
		if n > 1 {
			g.heads = append(g.heads, head)
		}
	}
}

// leave removes op; the last member to leave ends the execution.
func (g *group) leave(op *operation) {
	gs := g.gs
	gs.mu.Lock()
	defer gs.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, op)
	g.list = nil
	if len(g.members) > 0 || g.done {
		return
	}
	g.done = true
	if gs.byKey[g.key] == g {
		delete(gs.byKey, g.key)
	}
	g.cancel()
}

// end runs when the execution stopped: members left complete.
func (g *group) end() {
	gs := g.gs
	gs.mu.Lock()
	g.mu.Lock()
	g.done = true
	if gs.byKey[g.key] == g {
		delete(gs.byKey, g.key)
	}
	members := g.members
	g.members, g.list = map[*operation]struct{}{}, nil
	g.mu.Unlock()
	gs.mu.Unlock()
	g.cancel()
	g.positioned() // joiners wait no more
	for op := range members {
		op.conn.ended(op, closeIfFull)
	}
}

// recheck completes the members allowed refuses, as a subscription of its
// own ends when its viewer loses access.
func (g *group) recheck(allowed func(*viewer.Viewer) bool) {
	g.accessEvents.Add(1) // before reading the members: a joiner is either seen or told
	g.mu.Lock()
	members := make([]*operation, 0, len(g.members))
	for op := range g.members {
		members = append(members, op)
	}
	g.mu.Unlock()
	for _, op := range members {
		if !allowed(op.viewer) {
			op.conn.ended(op, closeIfFull)
		}
	}
}

// positioned tells joiners that the group's stream gets every event from
// now on.
func (g *group) positioned() {
	g.readyOnce.Do(func() { close(g.ready) })
}

func (g *group) isPositioned() bool {
	select {
	case <-g.ready:
		return true
	default:
		return false
	}
}
