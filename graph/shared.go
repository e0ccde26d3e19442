package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
)

// Shared subscriptions. A board of a project is watched by many clients
// sending the same subscription document with the same variables; executing
// it once per subscriber per event (resolve, marshal) is what made delivery
// to 10,000 subscribers take seconds. So a live project subscription whose
// selection is answered from the event's snapshot alone runs once per
// instance: one execution (one resolver, one stream, one bus subscription)
// per distinct (document, variables), whose marshalled result is written to
// every member's connection.
//
// What may differ between members is decided per member: each is admitted
// by the same access check the resolver makes (with its own viewer), and a
// membership event re-checks the members it concerns (membershipCache) and
// completes those who lost access. The result itself cannot differ: the
// selection reads only the snapshot, which does not depend on who reads it.
// Subscriptions that read more (an edge the snapshot lacks), resume from a
// cursor or start with a first event (feedbackStatusChanged) run on their
// own, as before.

// sharedRoots are the subscription fields that can be shared: live streams
// of a project's events, with no per-subscriber first event.
var sharedRoots = map[string]bool{"projectFeedbackEvents": true, "projectEvents": true}

// snapshotTypes are the types an event's snapshot holds whole, with their
// Go types: their leaf fields are read from memory, unless code resolves
// them (resolvedByCode).
var snapshotTypes = map[string]reflect.Type{
	"FeedbackStatusEvent": reflect.TypeFor[*model.FeedbackStatusEvent](),
	"TaskEvent":           reflect.TypeFor[*model.TaskEvent](),
	"AdjustmentEvent":     reflect.TypeFor[*model.AdjustmentEvent](),
	"Feedback":            reflect.TypeFor[*ent.Feedback](),
	"Task":                reflect.TypeFor[*ent.Task](),
	"Adjustment":          reflect.TypeFor[*ent.Adjustment](),
	"User":                reflect.TypeFor[*ent.User](),
}

// snapshotEdges are the object fields the snapshot holds; every other edge
// (feedback.project, adjustment.decidedBy, ...) loads from the database as
// the viewer, so a subscription selecting one runs on its own.
var snapshotEdges = map[string]bool{
	"FeedbackStatusEvent.feedback": true, "FeedbackStatusEvent.by": true,
	"TaskEvent.task": true, "TaskEvent.by": true,
	"AdjustmentEvent.adjustment": true, "AdjustmentEvent.by": true,
}

// resolvedByCode lists, as "type.field" in lower case, the fields of the
// snapshot types that code resolves and so may read beyond the snapshot,
// as the viewer: our resolvers (the generated ResolverRoot) and methods of
// the Go types that take a context (ent's edges). Derived from the code, so
// that a field added later cannot be shared by mistake.
func resolvedByCode() map[string]bool {
	out := map[string]bool{}
	root := reflect.TypeFor[generated.ResolverRoot]()
	for i := range root.NumMethod() {
		typ := root.Method(i) // e.g. Feedback() FeedbackResolver
		resolvers := typ.Type.Out(0)
		for j := range resolvers.NumMethod() {
			out[strings.ToLower(typ.Name+"."+resolvers.Method(j).Name)] = true
		}
	}
	ctxType := reflect.TypeFor[context.Context]()
	for name, goType := range snapshotTypes {
		for i := range goType.NumMethod() {
			m := goType.Method(i)
			if m.Type.NumIn() > 1 && m.Type.In(1).Implements(ctxType) {
				out[strings.ToLower(name+"."+m.Name)] = true
			}
		}
	}
	return out
}

// sharing keeps the instance's shared subscriptions.
type sharing struct {
	resolver *Resolver
	schema   *ast.Schema
	logger   *slog.Logger
	metrics  *metrics.Metrics // optional
	resolved map[string]bool  // resolvedByCode

	mu     sync.Mutex
	groups map[string]*shareGroup
}

func newSharing(r *Resolver, schema *ast.Schema, logger *slog.Logger, m *metrics.Metrics) *sharing {
	return &sharing{resolver: r, schema: schema, logger: logger, metrics: m, resolved: resolvedByCode(), groups: map[string]*shareGroup{}}
}

// Groups is the number of shared executions running.
func (s *sharing) Groups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// shareGroup is one shared execution and its members.
type shareGroup struct {
	s      *sharing
	key    string
	cancel context.CancelFunc

	// ready is closed once the execution's stream is positioned (every
	// later event reaches it) or the execution ended.
	ready     chan struct{}
	readyOnce sync.Once
	// accessEvents counts the membership events the group handled: a
	// joiner admitted while it did not change needs no second check.
	accessEvents atomic.Int64

	mu      sync.Mutex
	members map[*wsOp]struct{}
	list    []*wsOp // members, for broadcasts (nil: to rebuild)
	done    bool    // ended: nobody joins any more
}

// join makes op, a validated subscription, a member of the group running
// its document, starting the group if needed. It returns false when op
// cannot be shared, or its viewer may not have it: then op runs on its own
// (which reports a refusal as the resolver does).
func (s *sharing) join(ctx context.Context, op *wsOp, rc *graphql.OperationContext) bool {
	field, projectID, ok := s.plan(rc)
	if !ok {
		return false
	}
	vars, err := json.Marshal(rc.Variables) // map keys sorted: one key per set of values
	if err != nil {
		return false
	}
	key := field + "\x00" + rc.OperationName + "\x00" + string(vars) + "\x00" + rc.RawQuery
	s.mu.Lock()
	running := s.groups[key]
	s.mu.Unlock()
	var seen int64
	if running != nil && running.isPositioned() {
		seen = running.accessEvents.Load()
	} else {
		running = nil
	}
	if s.resolver.mustSeeProject(ctx, projectID, "projectID") != nil {
		return false // runs on its own, which reports the refusal
	}
	s.resolver.beforeStream()
	s.mu.Lock()
	g := s.groups[key]
	created := g == nil
	var gctx context.Context
	if created {
		g = &shareGroup{s: s, key: key, members: map[*wsOp]struct{}{}, ready: make(chan struct{})}
		s.groups[key] = g
		// The group outlives the connection that started it; its resolver
		// runs as that member, which was just admitted, and hands access
		// events to the group instead of ending.
		gctx, g.cancel = context.WithCancel(withGroup(context.WithoutCancel(ctx), g))
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
		delete(s.groups, key)
		g.cancel()
	}
	g.mu.Unlock()
	s.mu.Unlock()
	if created && !abandoned {
		go g.run(gctx, op.conn.exec, rc)
	}
	if !joined {
		op.conn.complete(op.id, waitForRoom) // the client completed it meanwhile
		return true
	}
	// Admitted before joining, op missed the membership events the group
	// handled meanwhile: unless there were none (the group was positioned
	// before op was admitted, so it sees every change committed since), or
	// op started the group (whose stream checks op's access once
	// positioned), check again now that op is a member and the group's
	// stream is positioned, so that any later change reaches accessChanged.
	if created || g == running && g.accessEvents.Load() == seen {
		return true
	}
	select {
	case <-g.ready:
	case <-ctx.Done():
		return true
	}
	if err := s.resolver.mustSeeProject(ctx, projectID, "projectID"); err != nil && !op.isStopped() {
		op.conn.ended(op, closeIfFull) // as if removed a moment later
	}
	return true
}

// plan says whether rc can be shared: one live project stream whose
// selection reads only the snapshot. It returns the root field and the
// project.
func (s *sharing) plan(rc *graphql.OperationContext) (string, int, bool) {
	fields := graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 || !sharedRoots[fields[0].Name] {
		return "", 0, false
	}
	f := fields[0]
	args := f.ArgumentMap(rc.Variables)
	if args["after"] != nil {
		return "", 0, false // a replay of its own first
	}
	raw, _ := args["projectID"].(string)
	projectID, err := gid.Decode(raw)
	if err != nil {
		return "", 0, false
	}
	if !s.snapshotOnly(f.Selections) {
		return "", 0, false
	}
	return f.Name, projectID, true
}

// snapshotOnly reports whether every field of set is read from an event's
// snapshot.
func (s *sharing) snapshotOnly(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__typename" {
				continue
			}
			if sel.ObjectDefinition == nil || sel.Definition == nil || snapshotTypes[sel.ObjectDefinition.Name] == nil {
				return false
			}
			name := sel.ObjectDefinition.Name + "." + sel.Name
			def := s.schema.Types[sel.Definition.Type.Name()]
			switch {
			case def == nil:
				return false
			case def.Kind == ast.Scalar || def.Kind == ast.Enum:
				if s.resolved[strings.ToLower(name)] {
					return false
				}
			case !snapshotEdges[name] || !s.snapshotOnly(sel.SelectionSet):
				return false
			}
		case *ast.InlineFragment:
			if !s.snapshotOnly(sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if sel.Definition == nil || !s.snapshotOnly(sel.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// run executes the group's subscription and writes each result to every
// member; when the stream ends, the members complete.
func (g *shareGroup) run(ctx context.Context, exec graphql.GraphExecutor, rc *graphql.OperationContext) {
	defer g.end()
	defer func() {
		if r := recover(); r != nil {
			g.s.logger.ErrorContext(ctx, "shared subscription panicked; its subscribers complete", "panic", r)
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
			g.s.logger.ErrorContext(ctx, "could not encode a shared result", "err", err)
			continue
		}
		g.broadcast(payload)
	}
}

// broadcastShare is how many members one goroutine writes to at least; a
// larger group is written by one goroutine per core.
const broadcastShare = 256

// broadcast writes payload to every member, on every core for a large
// group. It never waits for a socket: a member whose socket is full gets
// the event queued, and one whose queue is full is disconnected
// (wsConn.push). Members leave only between broadcasts, so a member that
// completes gets no event after its complete.
func (g *shareGroup) broadcast(payload []byte) {
	start := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.s.metrics; m != nil {
		defer func() { m.FannedOut(time.Since(start)) }()
	}
	if g.list == nil {
		g.list = make([]*wsOp, 0, len(g.members))
		for op := range g.members {
			g.list = append(g.list, op)
		}
	}
	send := func(ops []*wsOp) {
		for _, op := range ops {
			if op.conn.push(wsFrame{head: op.head, body: payload}, closeIfFull, nil) {
				op.conn.chargeEvent(len(payload))
			}
		}
	}
	parts := min(runtime.GOMAXPROCS(0), (len(g.list)+broadcastShare-1)/broadcastShare)
	if parts <= 1 {
		send(g.list)
		return
	}
	var wg sync.WaitGroup
	size := (len(g.list) + parts - 1) / parts
	for part := range slices.Chunk(g.list, size) {
		wg.Go(func() { send(part) })
	}
	wg.Wait()
}

// leave removes op; the last member to leave ends the execution.
func (g *shareGroup) leave(op *wsOp) {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, op)
	g.list = nil
	if len(g.members) > 0 || g.done {
		return
	}
	g.done = true
	if g.s.groups[g.key] == g {
		delete(g.s.groups, g.key)
	}
	g.cancel()
}

// end runs when the execution stopped: members left complete.
func (g *shareGroup) end() {
	g.s.mu.Lock()
	g.mu.Lock()
	g.done = true
	if g.s.groups[g.key] == g {
		delete(g.s.groups, g.key)
	}
	members := g.members
	g.members, g.list = map[*wsOp]struct{}{}, nil
	g.mu.Unlock()
	g.s.mu.Unlock()
	g.cancel()
	g.positioned() // joiners wait no more
	for op := range members {
		op.conn.ended(op, closeIfFull)
	}
}

// accessChanged re-checks the members a membership event concerns and
// completes those who lost access to the project, as a subscription of its
// own ends.
func (g *shareGroup) accessChanged(ctx context.Context, m *events.Message) {
	g.accessEvents.Add(1) // before reading the members: a joiner is either seen or told
	g.mu.Lock()
	var concerned []*wsOp
	for op := range g.members {
		if g.s.resolver.concerns(op.viewer, m) {
			concerned = append(concerned, op)
		}
	}
	g.mu.Unlock()
	for _, op := range concerned {
		if !g.s.resolver.stillAllowedAs(ctx, op.viewer, m) {
			op.conn.ended(op, closeIfFull)
		}
	}
}

// positioned tells joiners that the group's stream gets every event from
// now on.
func (g *shareGroup) positioned() {
	g.readyOnce.Do(func() { close(g.ready) })
}

func (g *shareGroup) isPositioned() bool {
	select {
	case <-g.ready:
		return true
	default:
		return false
	}
}

type groupKey struct{}

// withGroup makes the stream run under ctx hand its membership events to
// its shared group, and tell it when it is positioned.
func withGroup(ctx context.Context, g *shareGroup) context.Context {
	return context.WithValue(ctx, groupKey{}, g)
}

func groupFrom(ctx context.Context) *shareGroup {
	g, _ := ctx.Value(groupKey{}).(*shareGroup)
	return g
}
