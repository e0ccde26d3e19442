package wstransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// operation is one running operation.
type operation struct {
	id   string
	conn *conn
	head []byte // the start of its results: {"id":…,"type":"next","payload":

	// viewer is who the operation was authorised as when it started.
	viewer *viewer.Viewer

	mu      sync.Mutex
	stopped bool
	cancel  context.CancelFunc // its own execution
	group   *group             // or the shared one it is a member of
	field   string             // the root field it is counted under, for subscriptions
}

// start runs a subscribe (start) message. Operations are bounded per
// connection, and an ID may not be used twice at once (4409, as
// graphql-transport-ws specifies).
func (c *conn) start(m message) {
	if m.ID == "" && !c.legacy {
		c.protocolError("Invalid message: subscribe needs an id")
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	_, dup := c.ops[m.ID]
	full := len(c.ops) >= c.t.limits.MaxOperationsPerConnection
	var op *operation
	if !dup && !full {
		id, _ := json.Marshal(m.ID)
		op = &operation{id: m.ID, conn: c, head: frameHead(id, c.resultType())}
		c.ops[m.ID] = op
	}
	c.mu.Unlock()
	switch {
	case dup:
		c.t.conns.refused("duplicate_id")
		c.close(closeDuplicateID, "Subscriber for "+m.ID+" already exists")
		return
	case full:
		c.t.conns.refused("subscriptions")
		err := gqlerror.Errorf("this connection already runs %d operations, the most allowed: complete some, or open another connection", c.t.limits.MaxOperationsPerConnection)
		err.Extensions = map[string]any{"code": CodeSubscriptionLimit}
		c.sendError(m.ID, err)
		return
	}
	go c.run(op, m.Payload, graphql.Now())
}

func (c *conn) resultType() string {
	if c.legacy {
		return "data"
	}
	return "next"
}

// stop ends an operation the client completes (stops).
func (c *conn) stop(id string) {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op != nil && op.stop() {
		// An execution of its own completes it when it ends; one that did
		// not start yet, when it notices.
		c.complete(op.id, waitForRoom)
	}
}

// run validates and executes an operation, as gqlgen's transport does:
// errors of the request itself arrive as an error message, others as a
// result with errors; then the operation completes.
func (c *conn) run(op *operation, payload json.RawMessage, start time.Time) {
	ctx, ok := c.authorise(op)
	if !ok {
		return
	}
	ctx = graphql.StartOperationTrace(ctx)
	params := &graphql.RawParams{}
	if err := decodeParams(payload, params); err != nil {
		c.sendError(op.id, &gqlerror.Error{Message: "invalid json"})
		c.ended(op, waitForRoom)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			c.sendError(op.id, resp.Errors...)
		} else {
			c.sendResponse(op, &graphql.Response{Errors: errs}, nil)
		}
		c.ended(op, waitForRoom)
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	if rc.Operation.Operation == ast.Subscription && c.t.groups.join(ctx, op, rc) {
		return // the group delivers its events and completes it
	}
	c.runOwn(ctx, op, rc)
}

// authorise authenticates the connection's credential again for op, so that
// every operation runs with the credential's current state: a revoked or
// expired key, or one whose owner lost their role, is refused as it would
// be over HTTP, and the connection closes with 4403. It returns op's
// context, carrying the viewer it runs as.
func (c *conn) authorise(op *operation) (context.Context, bool) {
	v, err := c.t.auth.Authenticate(c.ctx, c.authorization)
	switch {
	case err != nil && c.t.refused(err):
		c.ended(op, waitForRoom)
		c.close(closeForbidden, "Forbidden: "+err.Error())
		return nil, false
	case err != nil:
		c.t.logger.ErrorContext(c.ctx, "could not check websocket credentials", "err", err)
		unavailable := gqlerror.Errorf("credentials could not be checked right now; retry in a few seconds")
		unavailable.Extensions = map[string]any{"code": CodeUnavailable}
		c.sendError(op.id, unavailable)
		c.ended(op, waitForRoom)
		return nil, false
	}
	op.viewer = v
	c.viewer.Store(v)
	return logctx.With(viewer.NewContext(c.ctx, v), "viewer", v.Subject), true
}

// EventBytesPerPoint is what a subscriber's events cost: a point of its
// request budget per this many bytes delivered. A subscription pays its
// complexity when it starts, and then for what it receives.
const EventBytesPerPoint = 10_000

// chargeEvent counts an event of n bytes delivered to the connection; a
// client whose budget is spent is closed with 4429 and resumes later from
// the cursor of the last event it received.
func (c *conn) chargeEvent(n int) {
	c.meter.charge(c.t, c.ctx, n, func(reason string, _ ratelimit.Status) { c.close(closeTooMany, reason) })
}

// meter charges the subscription events delivered to one connection or
// event stream to its client's request budget.
type meter struct {
	unpaid   atomic.Int64 // bytes of subscription events not charged yet
	charging atomic.Bool  // a charge is being made
}

// charge counts an event of n bytes, delivered to the client of ctx. Each
// EventBytesPerPoint bytes is a point of its request budget, charged off
// the sender's goroutine (which may be writing to thousands); spent is
// called when the budget is spent, with the reason to give the client.
func (m *meter) charge(t *Transport, ctx context.Context, n int, spent func(reason string, st ratelimit.Status)) {
	if t.limiter == nil || n == 0 || m.unpaid.Add(int64(n)) < EventBytesPerPoint || !m.charging.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer m.charging.Store(false)
		points := m.unpaid.Load() / EventBytesPerPoint
		m.unpaid.Add(-points * EventBytesPerPoint)
		if st := t.limiter.Spend(ctx, int(points)); !st.Allowed {
			t.conns.refused("budget")
			spent(fmt.Sprintf("Rate limited: events cost a point per %d KB and the budget is spent; resume from your last cursor in %d s",
				EventBytesPerPoint/1000, st.RetryAfterSeconds()), st)
		}
	}()
}

// runOwn executes an operation of its own. A query or mutation runs on
// this goroutine until it is answered. A subscription whose resolver
// streams (it calls its Stream's Started) keeps no goroutine waiting for
// its results: the resolver calls Ready when it hands one over, which
// starts a pump, so that an idle subscription costs its resolver's
// goroutine alone.
func (c *conn) runOwn(ctx context.Context, op *operation, rc *graphql.OperationContext) {
	ctx, cancel := context.WithCancel(ctx)
	field := ""
	if rc.Operation.Operation == ast.Subscription {
		field = rootField(rc)
	}
	if !op.attach(cancel, nil, field) {
		cancel()
		c.complete(op.id, waitForRoom) // stopped before it ran
		return
	}
	p := &pump{c: c, op: op, rc: rc, cancel: cancel}
	p.pending.Store(1) // nobody pumps before DispatchOperation returned
	if field != "" {
		attachStream(rc, &Stream{pump: p})
	}
	p.responses, p.ctx = c.exec.DispatchOperation(ctx, rc)
	if !p.streaming.Load() {
		p.run() // a query, a mutation, or a subscription that failed to start
		return
	}
	if p.pending.Add(-1) > 0 {
		p.run() // results came already
	}
}

// pump hands the results of an operation of its own to the client.
type pump struct {
	c         *conn
	op        *operation
	rc        *graphql.OperationContext
	cancel    context.CancelFunc
	responses graphql.ResponseHandler
	ctx       context.Context

	streaming atomic.Bool  // the resolver said it calls Ready (Stream.Started)
	pending   atomic.Int64 // wake-ups not pumped yet
}

func (p *pump) wake() {
	if p.pending.Add(1) == 1 {
		go p.run()
	}
}

// run pumps results until none is pending; for an operation that does not
// stream, until it ends. When the results end, the operation completes.
func (p *pump) run() {
	c, op := p.c, p.op
	ended := true
	defer func() {
		if r := recover(); r != nil {
			err := p.rc.Recover(p.ctx, r)
			var gqlErr *gqlerror.Error
			if !errors.As(err, &gqlErr) {
				gqlErr = &gqlerror.Error{}
				if err != nil {
					gqlErr.Message = err.Error()
				}
			}
			c.sendError(op.id, gqlErr)
			ended = true
		}
		if ended {
			p.cancel()
			c.ended(op, waitForRoom)
		}
	}()
	for {
		resp := p.responses(p.ctx)
		if resp == nil {
			return
		}
		if sent := c.sendResponse(op, resp, p.ctx.Done()); p.rc.Operation.Operation == ast.Subscription {
			c.chargeEvent(sent)
		}
		if p.streaming.Load() && p.pending.Add(-1) == 0 {
			ended = false
			return
		}
	}
}

// ended ends an operation that ended on the server's side: it is
// completed, unless the connection is closing.
func (c *conn) ended(op *operation, how delivery) {
	c.mu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	op.stop()
	c.complete(op.id, how)
}

// attach records how the operation runs; false if it was stopped
// meanwhile (then nothing runs). field, when set, counts it as an open
// subscription.
func (op *operation) attach(cancel context.CancelFunc, g *group, field string) bool {
	op.mu.Lock()
	if op.stopped {
		op.mu.Unlock()
		return false
	}
	op.cancel, op.group, op.field = cancel, g, field
	op.mu.Unlock()
	if field != "" {
		t := op.conn.t
		t.subscriptions.Add(1)
		if t.metrics != nil {
			t.metrics.SubscriptionStarted(field, g != nil)
		}
	}
	return true
}

// stop ends the operation's execution or membership, once; shared
// reports whether this call took it out of a shared execution.
func (op *operation) stop() (shared bool) {
	op.mu.Lock()
	if op.stopped {
		op.mu.Unlock()
		return false
	}
	op.stopped = true
	cancel, g, field := op.cancel, op.group, op.field
	op.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if g != nil {
		g.leave(op)
	}
	if field != "" {
		t := op.conn.t
		t.subscriptions.Add(-1)
		if t.metrics != nil {
			t.metrics.SubscriptionEnded(field, g != nil)
		}
	}
	return g != nil
}

func (op *operation) isStopped() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.stopped
}

// decodeParams reads a subscribe payload as gqlgen does (numbers kept as
// json.Number, for gqlgen to coerce).
func decodeParams(payload json.RawMessage, params *graphql.RawParams) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	return dec.Decode(params)
}

// rootField names an operation's first root field, for metrics.
func rootField(rc *graphql.OperationContext) string {
	if fields := graphql.CollectFields(rc, rc.Operation.SelectionSet, nil); len(fields) > 0 {
		return fields[0].Name
	}
	return "unknown"
}
