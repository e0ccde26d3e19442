package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// GraphQL over websockets: graphql-transport-ws (the graphql-ws library)
// and the legacy graphql-ws protocol (subscriptions-transport-ws), on
// gorilla/websocket.
//
// It replaces gqlgen's websocket transport, which costs every connection
// four goroutines and every subscription two more, executes each event once
// per subscriber and writes from the subscription's goroutine, so that one
// socket that stopped reading holds everything behind it. Here a connection
// has one goroutine while idle (its reader); a subscription shared with
// others (shared.go) has none; writes go through a bounded queue per
// connection, drained by a goroutine that exists only while there is
// something to write; keep-alives run on a timer. A client that reads so
// slowly that its queue fills is closed with 1013 (try again later) and
// resumes with its last cursor: it never holds up anyone else.

// The subprotocols, by the names clients offer.
const (
	protoTransportWS = "graphql-transport-ws"
	protoLegacyWS    = "graphql-ws"
)

// Close codes. Clients built on the graphql-ws library reconnect after
// 4403, 1001 and 1013, asking their connectionParams function for fresh
// credentials; they give up after 4400, 4401, 4409 and 4429.
const (
	closeNormal       = websocket.CloseNormalClosure
	closeGoingAway    = websocket.CloseGoingAway
	closeLegacyError  = websocket.CloseProtocolError // the legacy protocol's close after connection_error
	closeTryAgain     = websocket.CloseTryAgainLater // credentials could not be checked, the instance is full, or the client fell behind
	closeBadRequest   = 4400
	closeUnauthorized = 4401 // subscribe before connection_ack
	closeForbidden    = 4403
	closeInitTimeout  = 4408
	closeDuplicateID  = 4409 // "Subscriber for <id> already exists"
	closeTooMany      = 4429 // too many connections for the client, or a second connection_init
)

// Timing of websockets.
const (
	// DefaultWebsocketKeepAlive is how often an idle connection is pinged;
	// one silent for two intervals is closed, so dead clients do not hold
	// subscriptions.
	DefaultWebsocketKeepAlive = 10 * time.Second
	// DefaultMaxWebsocketQueuedMessages is how many messages may wait to be
	// written to one connection before its client counts as too slow.
	DefaultMaxWebsocketQueuedMessages = 256
	// DefaultWebsocketWriteTimeout bounds how long one message may wait
	// for a client's socket.
	DefaultWebsocketWriteTimeout = 10 * time.Second
	// DefaultWebsocketInitTimeout is how long a new connection may take to
	// send connection_init.
	DefaultWebsocketInitTimeout = 15 * time.Second
	wsCloseWait                 = time.Second // how long a closing connection waits for the client's close
)

var errShuttingDown = errors.New("the server is shutting down; reconnect to another instance")

// wsTransport serves /query upgrades. It implements graphql.Transport.
type wsTransport struct {
	upgrader    websocket.Upgrader
	auth        Authenticator
	logger      *slog.Logger
	metrics     *metrics.Metrics // optional
	closing     context.Context  // done once the server shuts down
	open        *sync.WaitGroup  // connections not closed yet
	conns       *wsConns
	keys        *keySockets
	shared      *sharing
	keepAlive   time.Duration
	writeWait   time.Duration
	initTimeout time.Duration
	sendBuffer  int
	readLimit   int64
	maxOps      int
	maxQueued   int

	limiter       *ratelimit.Limiter // nil: no budgets
	subscriptions atomic.Int64       // open subscriptions, shared or not
	frames        sync.Pool          // *[]byte to encode frames into (wswrite.go)
}

var _ graphql.Transport = (*wsTransport)(nil)

func newWSTransport(cfg Config, closing context.Context, shared *sharing) *wsTransport {
	return &wsTransport{
		upgrader: websocket.Upgrader{
			CheckOrigin:      cfg.CheckOrigin,
			HandshakeTimeout: 10 * time.Second,
			Subprotocols:     []string{protoTransportWS, protoLegacyWS},
			// Client messages are small (subscribe, complete, pong): a
			// small read buffer; larger ones are read through it.
			ReadBufferSize:  512,
			WriteBufferSize: 4096,
			// gorilla writes only the close frames of protocol errors it
			// finds while reading (wswrite.go writes everything else): its
			// buffers come from a pool, so that no connection keeps one.
			WriteBufferPool: &sync.Pool{},
			Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
				code := CodeBadRequest
				if status == http.StatusForbidden {
					code = CodeForbidden
				}
				writeErrors(w, status, code, "cannot open a websocket: "+reason.Error())
			},
		},
		auth:    cfg.Auth,
		logger:  cfg.Logger,
		metrics: cfg.Metrics,
		closing: closing,
		open:    &sync.WaitGroup{},
		conns: &wsConns{max: cfg.Limits.MaxWebsocketConnections, maxPerClient: cfg.Limits.MaxWebsocketConnectionsPerClient,
			metrics: cfg.Metrics, perClient: map[string]int{}},
		keys:        &keySockets{byKey: map[int]map[*wsConn]struct{}{}},
		limiter:     cfg.RateLimit,
		shared:      shared,
		keepAlive:   cfg.Limits.WebsocketKeepAlive,
		writeWait:   cfg.Limits.WebsocketWriteTimeout,
		initTimeout: cfg.Limits.WebsocketInitTimeout,
		sendBuffer:  cfg.Limits.WebsocketSendBuffer,
		readLimit:   cfg.Limits.MaxWebsocketMessage,
		maxOps:      cfg.Limits.MaxSubscriptionsPerConnection,
		maxQueued:   cfg.Limits.MaxWebsocketQueuedMessages,
	}
}

func (t *wsTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// Do upgrades the request and serves the connection on a goroutine of its
// own, so that the HTTP handler's deep stack does not stay behind it.
func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	c := &wsConn{t: t, ws: ws, exec: exec, legacy: ws.Subprotocol() != protoTransportWS,
		authorization: r.Header.Get("Authorization"), ops: map[string]*wsOp{}, done: make(chan struct{})}
	if sc, ok := ws.UnderlyingConn().(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	if tc, ok := ws.UnderlyingConn().(*net.TCPConn); ok && t.sendBuffer > 0 {
		_ = tc.SetWriteBuffer(t.sendBuffer)
	}
	t.open.Add(1)
	// A connection over a limit is refused after the upgrade, with a close
	// code and reason a browser can read (it sees no HTTP status).
	address := ratelimit.AddressOf(r.Context())
	if address == "" {
		address = ratelimit.Address(r)
	}
	code, reason := t.conns.acquire(c, ratelimit.ClientKey(nil, address, true))
	// net/http cancels the request's context when Do returns.
	go c.serve(context.WithoutCancel(r.Context()), code, reason)
}

// Subscriptions is the number of open subscriptions.
func (t *wsTransport) Subscriptions() int { return int(t.subscriptions.Load()) }

// wsConn is one connection.
type wsConn struct {
	t      *wsTransport
	ws     *websocket.Conn
	exec   graphql.GraphExecutor
	legacy bool // graphql-ws, not graphql-transport-ws
	// authorization is the upgrade request's header, until connection_init;
	// then the credential connection_init authenticated, which every
	// operation is authenticated with again.
	authorization string

	base   context.Context // the upgrade request's, until connection_init
	ctx    context.Context // the viewer's, once connection_init succeeded
	cancel context.CancelFunc
	viewer atomic.Pointer[viewer.Viewer] // as last authenticated
	ready  atomic.Bool                   // connection_init succeeded
	raw    syscall.RawConn               // the socket, for writes that do not wait (nil: every write waits, on a writer goroutine)
	timers []func() bool                 // stop the keep-alive and expiry timers

	mu           sync.Mutex
	ops          map[string]*wsOp // running operations by ID
	queue        []wsFrame        // waiting to be written
	writing      bool             // someone holds the write claim: writes, or drains queue
	pendingClose []byte           // a close frame for the claim's holder to write last
	closeSent    chan struct{}    // closed once the close frame is written (or could not be)
	room         chan struct{}    // closed when queue drains, for waiting senders
	closed       bool             // nothing more is written
	done         chan struct{}    // closed with closed
	inbox        [][]byte         // messages read, not handled yet
	handling     bool             // a goroutine is handling inbox
	handled      chan struct{}    // closed when inbox drains, for a waiting reader
	client       string           // the key wsConns counts it under

	unpaid   atomic.Int64 // bytes of subscription events not charged yet
	charging atomic.Bool  // a charge is being made
}

// wsMessage is a client message of either protocol.
type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// serve reads the connection until it ends. The reader only reads: the
// messages are handled in order on a goroutine that runs while there are
// some (handleInbox), so that the reader's stack, which every idle
// connection keeps, stays small.
func (c *wsConn) serve(base context.Context, refusedCode int, refusedReason string) {
	defer c.finish()
	stopClosing := context.AfterFunc(c.t.closing, func() { c.close(closeGoingAway, "server is shutting down") })
	c.mu.Lock()
	c.timers = append(c.timers, stopClosing)
	c.mu.Unlock()
	c.base = base
	c.ws.SetReadLimit(c.t.readLimit) // gorilla closes with 1009 beyond it
	// gorilla's handlers would write; these queue their answers.
	c.ws.SetPongHandler(c.pong)
	c.ws.SetPingHandler(c.ping)
	c.ws.SetCloseHandler(c.closedByClient)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.t.initTimeout))
	if refusedCode != 0 {
		// Read connection_init first, so that the client reads the close.
		_, _, _ = c.ws.ReadMessage()
		c.close(refusedCode, refusedReason)
		c.drain()
		return
	}
	for {
		_, data, err := c.ws.ReadMessage()
		switch {
		case c.isClosed():
			c.drain()
			return
		case err != nil:
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() && !c.initialised() {
				c.close(closeInitTimeout, "Connection initialisation timeout")
				c.drain()
				return
			}
			if errors.Is(err, websocket.ErrReadLimit) {
				c.discardInput()
				return
			}
			// The client went away, or stayed silent too long.
			c.t.logger.Debug("websocket connection ended", "err", err)
			return
		}
		c.alive()
		if bytes.Equal(data, pongMessage) && !c.legacy {
			continue // the answer to a keep-alive: alive says it all
		}
		if !c.deliver(data) {
			c.drain()
			return
		}
	}
}

// maxInbox bounds the messages read but not handled yet: past it the reader
// waits, and the client with it.
const maxInbox = 64

// deliver hands a message to the handler, starting it if none runs. It
// reports false when the connection is closing.
func (c *wsConn) deliver(data []byte) bool {
	c.mu.Lock()
	for len(c.inbox) >= maxInbox && !c.closed {
		if c.handled == nil {
			c.handled = make(chan struct{})
		}
		handled := c.handled
		c.mu.Unlock()
		select {
		case <-handled:
		case <-c.done:
		}
		c.mu.Lock()
	}
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.inbox = append(c.inbox, data)
	start := !c.handling
	c.handling = true
	c.mu.Unlock()
	if start {
		go c.handleInbox()
	}
	return true
}

// handleInbox handles the messages read, in order, until none is left.
func (c *wsConn) handleInbox() {
	for {
		c.mu.Lock()
		batch := c.inbox
		c.inbox = nil
		if c.handled != nil {
			close(c.handled)
			c.handled = nil
		}
		if len(batch) == 0 || c.closed {
			c.handling = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		for _, data := range batch {
			if c.isClosed() {
				break
			}
			c.handleRaw(data)
		}
	}
}

func (c *wsConn) handleRaw(data []byte) {
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.protocolError("Invalid message: not a JSON object with a type")
		return
	}
	if !c.initialised() {
		c.init(m)
		return
	}
	c.handle(m)
}

// drain reads until the client answers the close, or the close's wait
// passes, so that the close frame is read before the socket closes.
func (c *wsConn) drain() {
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// discardInput reads and drops what the client still sends after gorilla
// closed the connection with 1009 (message too big), for up to wsCloseWait
// and 1 MiB. gorilla's reader is done after that error, so this reads the
// socket itself. Closing a socket with unread input resets the connection,
// and the client, still writing its large message, would see "connection
// reset" instead of the close code that says what was wrong.
func (c *wsConn) discardInput() {
	conn := c.ws.UnderlyingConn()
	_ = conn.SetReadDeadline(time.Now().Add(wsCloseWait))
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// pong is the websocket pong handler (legacy clients answer the
// keep-alive's websocket ping).
func (c *wsConn) pong(string) error {
	c.alive()
	return nil
}

// pingControl is the legacy protocol's keep-alive websocket ping.
var pingControl = controlFrame(opPing, nil)

// ping answers a websocket ping.
func (c *wsConn) ping(data string) error {
	c.alive()
	c.push(wsFrame{raw: controlFrame(opPong, []byte(data))}, dropIfFull, nil)
	return nil
}

// closedByClient answers the client's close frame with the same code (or
// is the answer to ours).
func (c *wsConn) closedByClient(code int, _ string) error {
	c.close(code, "")
	return nil
}

// alive extends the read deadline after the client was heard from.
func (c *wsConn) alive() {
	if c.initialised() {
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.t.keepAlive))
	}
}

func (c *wsConn) initialised() bool { return c.ready.Load() }

// init handles the messages before connection_init succeeded.
func (c *wsConn) init(m wsMessage) {
	switch {
	case m.Type == "connection_init":
		var payload map[string]any
		if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &payload) != nil {
			c.protocolError("Invalid message: the connection_init payload must be an object")
			return
		}
		c.authenticate(payload)
	case m.Type == "ping" && !c.legacy:
		c.push(wsFrame{head: pongMessage}, waitForRoom, nil)
	case m.Type == "pong" && !c.legacy:
	case m.Type == "connection_terminate" && c.legacy:
		c.close(closeNormal, "terminated")
	case m.Type == "subscribe" && !c.legacy:
		c.close(closeUnauthorized, "Unauthorized")
	default:
		c.protocolError("Unexpected message " + m.Type + ": send connection_init first")
	}
}

// authenticate checks connection_init's credentials and acknowledges them,
// or closes the connection saying why.
func (c *wsConn) authenticate(payload map[string]any) {
	t, base := c.t, c.base
	if t.closing.Err() != nil {
		c.refuse(closeGoingAway, errShuttingDown.Error())
		return
	}
	c.authorization = credential(payload, c.authorization)
	v, err := t.auth.Authenticate(base, c.authorization)
	if err == nil && !v.ExpiresAt.IsZero() && !time.Now().Before(v.ExpiresAt) {
		// Within the clock-skew leeway a token still authenticates a
		// request, but a connection would be closed at once: refuse it, so
		// the client fetches a fresh token first.
		err = &auth.Error{Reason: auth.Expired, Message: "the credential has expired: connect with a fresh one"}
	}
	switch {
	case auth.IsError(err):
		c.refuse(closeForbidden, "Forbidden: "+err.Error())
		return
	case err != nil:
		t.logger.ErrorContext(base, "could not check websocket credentials", "err", err)
		c.refuse(closeTryAgain, "credentials could not be checked right now; retry")
		return
	}
	// Count the connection under its identity from now on (open mode's
	// shared local admin stays counted by address).
	if v.UserKind != viewer.LocalAdmin {
		if err := t.conns.rekey(c, ratelimit.ClientKey(v, "", false)); err != nil {
			c.refuse(closeTooMany, err.Error())
			return
		}
	}
	ctx := logctx.With(viewer.NewContext(base, v), "viewer", v.Subject)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.base = nil
	c.viewer.Store(v)
	if !v.ExpiresAt.IsZero() {
		expire := time.AfterFunc(time.Until(v.ExpiresAt), func() {
			c.close(closeForbidden, "Forbidden: the credential expired; reconnect with a fresh one")
		})
		c.timers = append(c.timers, expire.Stop)
	}
	var beat *time.Timer
	beat = time.AfterFunc(t.keepAlive, func() {
		if c.keepAlive() {
			beat.Reset(t.keepAlive)
		}
	})
	c.timers = append(c.timers, beat.Stop)
	c.mu.Unlock()
	t.keys.add(c, v)
	c.ready.Store(true)
	c.alive()
	c.push(wsFrame{head: ackMessage}, waitForRoom, nil)
	if c.legacy {
		c.push(wsFrame{head: kaMessage}, waitForRoom, nil)
	}
}

// refuse ends connection_init with code and reason; the legacy protocol
// says why in a connection_error first.
func (c *wsConn) refuse(code int, reason string) {
	if c.legacy {
		c.sendConnectionError(reason)
	}
	c.closeAfterQueue(code, reason)
}

// protocolError closes the connection for a message that breaks the
// protocol: 4400 in graphql-transport-ws, a connection_error and 1002 in
// the legacy protocol.
func (c *wsConn) protocolError(reason string) {
	if c.legacy {
		c.sendConnectionError(reason)
		c.closeAfterQueue(closeLegacyError, reason)
		return
	}
	c.close(closeBadRequest, reason)
}

func (c *wsConn) sendConnectionError(message string) {
	b, _ := json.Marshal(map[string]any{"type": "connection_error", "payload": map[string]string{"message": message}})
	c.push(wsFrame{head: b}, waitForRoom, nil)
}

// keepAlive pings the client (graphql-transport-ws: a ping message, which
// clients answer; legacy: a ka message and a websocket ping, which every
// client answers). It reports whether the connection is still open.
func (c *wsConn) keepAlive() bool {
	if c.isClosed() {
		return false
	}
	if c.legacy {
		c.push(wsFrame{head: kaMessage}, dropIfFull, nil)
		c.push(wsFrame{raw: pingControl}, dropIfFull, nil)
	} else {
		c.push(wsFrame{head: pingMessage}, dropIfFull, nil)
	}
	return true
}

// handle acts on one message after connection_init.
func (c *wsConn) handle(m wsMessage) {
	switch {
	case m.Type == "subscribe" && !c.legacy, m.Type == "start" && c.legacy:
		c.start(m)
	case m.Type == "complete" && !c.legacy, m.Type == "stop" && c.legacy:
		c.stop(m.ID)
	case m.Type == "ping" && !c.legacy:
		c.push(wsFrame{head: pongMessage}, waitForRoom, nil)
	case m.Type == "pong" && !c.legacy:
	case m.Type == "connection_terminate" && c.legacy:
		c.close(closeNormal, "terminated")
	case m.Type == "connection_init" && !c.legacy:
		c.close(closeTooMany, "Too many initialisation requests")
	default:
		c.protocolError("Unexpected message " + m.Type)
	}
}

// wsOp is one running operation.
type wsOp struct {
	id   string
	conn *wsConn
	head []byte // the start of its results: {"id":…,"type":"next","payload":

	// viewer is who the operation was authorised as when it started.
	viewer *viewer.Viewer

	mu      sync.Mutex
	stopped bool
	cancel  context.CancelFunc // its own execution
	group   *shareGroup        // or the shared one it is a member of
	field   string             // the root field it is counted under, for subscriptions
}

// start runs a subscribe (start) message. Operations are bounded per
// connection, and an ID may not be used twice at once (4409, as
// graphql-transport-ws specifies).
func (c *wsConn) start(m wsMessage) {
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
	full := len(c.ops) >= c.t.maxOps
	var op *wsOp
	if !dup && !full {
		id, _ := json.Marshal(m.ID)
		op = &wsOp{id: m.ID, conn: c, head: frameHead(id, c.resultType())}
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
		err := gqlerror.Errorf("this connection already runs %d operations, the most allowed: complete some, or open another connection", c.t.maxOps)
		err.Extensions = map[string]any{"code": CodeSubscriptionLimit}
		c.sendError(m.ID, err)
		return
	}
	go c.run(op, m.Payload, graphql.Now())
}

func (c *wsConn) resultType() string {
	if c.legacy {
		return "data"
	}
	return "next"
}

// stop ends an operation the client completes (stops).
func (c *wsConn) stop(id string) {
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
func (c *wsConn) run(op *wsOp, payload json.RawMessage, start time.Time) {
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
	if rc.Operation.Operation == ast.Subscription && c.t.shared.join(ctx, op, rc) {
		return // the group delivers its events and completes it
	}
	c.runOwn(ctx, op, rc)
}

// authorise authenticates the connection's credential again for op, so that
// every operation runs with the credential's current state: a revoked or
// expired key, or one whose owner lost their role, is refused as it would
// be over HTTP, and the connection closes with 4403. It returns op's
// context, carrying the viewer it runs as.
func (c *wsConn) authorise(op *wsOp) (context.Context, bool) {
	v, err := c.t.auth.Authenticate(c.ctx, c.authorization)
	switch {
	case auth.IsError(err):
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

// chargeEvent counts an event of n bytes delivered to the connection. Each
// EventBytesPerPoint bytes is a point of its client's request budget,
// charged off the sender's goroutine (which may be writing to thousands);
// a client whose budget is spent is closed with 4429 and resumes later from
// the cursor of the last event it received.
func (c *wsConn) chargeEvent(n int) {
	if c.t.limiter == nil || n == 0 || c.unpaid.Add(int64(n)) < EventBytesPerPoint || !c.charging.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.charging.Store(false)
		points := c.unpaid.Load() / EventBytesPerPoint
		c.unpaid.Add(-points * EventBytesPerPoint)
		if st := c.t.limiter.Spend(c.ctx, int(points)); !st.Allowed {
			c.t.conns.refused("budget")
			c.close(closeTooMany, fmt.Sprintf("Rate limited: events cost a point per %d KB and the budget is spent; resume from your last cursor in %d s",
				EventBytesPerPoint/1000, st.RetryAfterSeconds()))
		}
	}()
}

// runOwn executes an operation of its own. A query or mutation runs on
// this goroutine until it is answered. A subscription whose resolver
// streams (stream, in subscriptions.go) keeps no goroutine waiting for its
// results: the stream wakes a pump when it hands one over, so that an idle
// subscription costs its stream's goroutine alone.
func (c *wsConn) runOwn(ctx context.Context, op *wsOp, rc *graphql.OperationContext) {
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
		ctx = context.WithValue(ctx, pumpKey{}, p)
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
	c         *wsConn
	op        *wsOp
	rc        *graphql.OperationContext
	cancel    context.CancelFunc
	responses graphql.ResponseHandler
	ctx       context.Context

	streaming atomic.Bool  // the resolver returned a stream that wakes the pump
	pending   atomic.Int64 // wake-ups not pumped yet
}

type pumpKey struct{}

// streamWaker is what a resolver's stream tells: that it streams (then
// nothing waits on it), and, before each result and when it ends, that
// there is something to pump.
type streamWaker interface {
	streams()
	wake()
}

// wakerFrom returns the waker of the operation running in ctx, or nil.
func wakerFrom(ctx context.Context) streamWaker {
	p, _ := ctx.Value(pumpKey{}).(*pump)
	if p == nil {
		return nil
	}
	return p
}

func (p *pump) streams() { p.streaming.Store(true) }

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
func (c *wsConn) ended(op *wsOp, how delivery) {
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
func (op *wsOp) attach(cancel context.CancelFunc, g *shareGroup, field string) bool {
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
func (op *wsOp) stop() (shared bool) {
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

func (op *wsOp) isStopped() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.stopped
}

// finish releases everything the connection held, once its reader ended.
func (c *wsConn) finish() {
	c.mu.Lock()
	c.markClosed()
	ops, timers, cancel, sent := c.ops, c.timers, c.cancel, c.closeSent
	c.ops, c.timers = nil, nil
	c.mu.Unlock()
	if sent != nil {
		// Let the close frame out before the socket closes.
		select {
		case <-sent:
		case <-time.After(wsCloseWait):
		}
	}
	for _, stop := range timers {
		stop()
	}
	if cancel != nil {
		cancel()
	}
	for _, op := range ops {
		op.stop()
	}
	_ = c.ws.Close()
	c.t.keys.remove(c)
	c.t.conns.release(c)
	c.t.open.Done()
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

// closeReason fits a reason into a close frame (at most 123 bytes).
func closeReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	cut := 120
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// credential is the Authorization value of connection_init's payload (any
// letter case: GraphiQL sends its Headers tab as typed), or else the upgrade
// request's header.
func credential(payload map[string]any, header string) string {
	for k, v := range payload {
		if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
			return s
		}
	}
	return header
}

// wsConns counts an instance's open websocket connections, in all and per
// client: by address from the upgrade, then by identity once
// connection_init has authenticated it.
type wsConns struct {
	max, maxPerClient int
	metrics           *metrics.Metrics

	mu        sync.Mutex
	total     int
	perClient map[string]int
}

func (w *wsConns) open() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// acquire counts c under client, or says why it is refused.
func (w *wsConns) acquire(c *wsConn, client string) (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.total >= w.max:
		w.refused("instance_connections")
		return closeTryAgain, fmt.Sprintf("Try again later: this instance has its maximum of %d websocket connections open", w.max)
	case w.perClient[client] >= w.maxPerClient:
		w.refused("client_connections")
		return closeTooMany, tooMany(w.maxPerClient)
	}
	w.total++
	w.perClient[client]++
	c.mu.Lock()
	c.client = client
	c.mu.Unlock()
	return 0, ""
}

func tooMany(n int) string {
	return fmt.Sprintf("Too many connections: at most %d websocket connections per client; close some (one connection carries many subscriptions)", n)
}

// rekey moves c's count to client, unless client has its maximum already.
func (w *wsConns) rekey(c *wsConn, client string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == client || c.client == "" {
		return nil
	}
	if w.perClient[client] >= w.maxPerClient {
		w.refused("client_connections")
		return errors.New(tooMany(w.maxPerClient))
	}
	w.dropLocked(c.client)
	w.perClient[client]++
	c.client = client
	return nil
}

func (w *wsConns) release(c *wsConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == "" {
		return
	}
	w.total--
	w.dropLocked(c.client)
	c.client = ""
}

func (w *wsConns) dropLocked(client string) {
	if w.perClient[client]--; w.perClient[client] <= 0 {
		delete(w.perClient, client)
	}
}

func (w *wsConns) refused(reason string) {
	if w.metrics != nil {
		w.metrics.WebsocketRefused(reason)
	}
}
