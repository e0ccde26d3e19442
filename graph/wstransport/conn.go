package wstransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// conn is one connection.
type conn struct {
	t      *Transport
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
	heard  atomic.Int64                  // when the client was last heard from (Unix nanoseconds)

	mu           sync.Mutex
	ops          map[string]*operation // running operations by ID
	timers       []func() bool         // stop the keep-alive, expiry and close timers
	initTimer    *time.Timer           // closes with 4408 unless connection_init succeeds first (nil: it did)
	queue        []outgoing            // waiting to be written
	writing      bool                  // the writer runs (write.go)
	pendingClose []byte                // a close frame's payload for the writer to write last
	closeSent    chan struct{}         // closed once the close frame is written (or could not be)
	room         chan struct{}         // closed when queue drains, for waiting senders
	closed       bool                  // nothing more is written
	done         chan struct{}         // closed with closed
	inbox        [][]byte              // messages read, not handled yet
	handling     bool                  // a goroutine is handling inbox
	handled      chan struct{}         // closed when inbox drains, for a waiting reader
	slot         slot                  // how connCounter counts it

	meter meter // the bytes of subscription events not charged yet
}

// message is a client message of either protocol.
type message struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// serve reads the connection until it ends; it is the connection's one
// reader. It only reads: the messages are handled in order on a goroutine
// that runs while there are some (handleInbox), so that the reader's
// stack, which every idle connection keeps, stays small.
func (c *conn) serve(base context.Context, refusedCode int, refusedReason string) {
	defer c.finish()
	c.base = base
	c.ws.SetPongHandler(c.pong)
	c.ws.SetPingHandler(c.ping)
	c.ws.SetCloseHandler(c.closedByClient)
	if refusedCode != 0 {
		// Read connection_init first, so that the client reads the close.
		_ = c.ws.SetReadDeadline(time.Now().Add(c.t.limits.InitTimeout))
		_, _, _ = c.ws.NextReader()
		c.close(refusedCode, refusedReason)
		c.drain()
		return
	}
	stopClosing := context.AfterFunc(c.t.closing, func() { c.close(closeGoingAway, "server is shutting down") })
	c.mu.Lock()
	c.timers = append(c.timers, stopClosing)
	c.initTimer = time.AfterFunc(c.t.limits.InitTimeout, func() {
		if !c.initialised() {
			c.close(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	c.mu.Unlock()
	for {
		data, err := c.read()
		switch {
		case c.isClosed():
			c.drain()
			return
		case errors.Is(err, errTooBig):
			c.drain()
			return
		case errors.Is(err, errNotUTF8):
			c.protocolErrorCode(closeNotUTF8, "Invalid message: text that is not UTF-8")
			c.drain()
			return
		case err != nil:
			// The client went away or broke the protocol (gorilla closed
			// with 1002 then).
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

var (
	errTooBig  = errors.New("message too big")
	errNotUTF8 = errors.New("text message not UTF-8")
)

// read returns the next message, at most MaxMessageBytes. A larger one
// closes the connection with 1009, and read drops what arrives of it within
// closeWait, up to 1 MiB: closing a socket with unread input resets the
// connection, and the client, still writing its large message, would see
// "connection reset" instead of the close code that says what was wrong.
func (c *conn) read() ([]byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	limit := c.t.limits.MaxMessageBytes
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	switch {
	case err != nil:
		return nil, err
	case int64(len(data)) > limit:
		c.close(closeTooBig, "")
		_ = c.ws.SetReadDeadline(time.Now().Add(closeWait))
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		return nil, errTooBig
	case typ == websocket.TextMessage && !utf8.Valid(data):
		return nil, errNotUTF8 // RFC 6455 8.1; gorilla leaves the check to us
	}
	return data, nil
}

// maxInbox bounds the messages read but not handled yet: past it the reader
// waits, and the client with it.
const maxInbox = 64

// deliver hands a message to the handler, starting it if none runs. It
// reports false when the connection is closing.
func (c *conn) deliver(data []byte) bool {
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
func (c *conn) handleInbox() {
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

func (c *conn) handleRaw(data []byte) {
	var m message
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

// drain reads until the client answers the close, or the socket closes
// under the reader (closeWait after the close), so that the close frame is
// read before the socket closes.
func (c *conn) drain() {
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// pong is the websocket pong handler (legacy clients answer the
// keep-alive's websocket ping).
func (c *conn) pong(string) error {
	c.alive()
	return nil
}

// ping answers a websocket ping; gorilla's own handler would write from the
// reader.
func (c *conn) ping(data string) error {
	c.alive()
	c.push(outgoing{control: websocket.PongMessage, head: []byte(data)}, dropIfFull, nil)
	return nil
}

// closedByClient answers the client's close frame with the same code (or
// is the answer to ours).
func (c *conn) closedByClient(code int, _ string) error {
	c.close(code, "")
	return nil
}

// alive notes that the client was heard from (keepAlive drops a client
// silent for two intervals).
func (c *conn) alive() { c.heard.Store(time.Now().UnixNano()) }

func (c *conn) initialised() bool { return c.ready.Load() }

// init handles the messages before connection_init succeeded.
func (c *conn) init(m message) {
	switch {
	case m.Type == "connection_init":
		var payload map[string]any
		if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &payload) != nil {
			c.protocolError("Invalid message: the connection_init payload must be an object")
			return
		}
		c.authenticate(payload)
	case m.Type == "ping" && !c.legacy:
		c.push(outgoing{head: pongMessage}, waitForRoom, nil)
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
func (c *conn) authenticate(payload map[string]any) {
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
		c.refuse(closeForbidden, "Forbidden: the credential has expired: connect with a fresh one")
		return
	}
	switch {
	case err != nil && t.refused(err):
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
		if err := t.conns.rekey(&c.slot, ratelimit.ClientKey(v, "", false)); err != nil {
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
	c.initTimer.Stop()
	c.initTimer = nil // no idle connection keeps it
	if !v.ExpiresAt.IsZero() {
		expire := time.AfterFunc(time.Until(v.ExpiresAt), func() {
			c.close(closeForbidden, "Forbidden: the credential expired; reconnect with a fresh one")
		})
		c.timers = append(c.timers, expire.Stop)
	}
	var beat *time.Timer
	beat = time.AfterFunc(t.limits.KeepAlive, func() {
		if c.keepAlive() {
			beat.Reset(t.limits.KeepAlive)
		}
	})
	c.timers = append(c.timers, beat.Stop)
	c.mu.Unlock()
	t.keys.add(c, v)
	c.alive()
	c.ready.Store(true)
	c.push(outgoing{head: ackMessage}, waitForRoom, nil)
	if c.legacy {
		c.push(outgoing{head: kaMessage}, waitForRoom, nil)
	}
}

// refuse ends connection_init with code and reason; the legacy protocol
// says why in a connection_error first.
func (c *conn) refuse(code int, reason string) {
	if c.legacy {
		c.sendConnectionError(reason)
	}
	c.closeAfterQueue(code, reason)
}

// protocolError closes the connection for a message that breaks the
// protocol: 4400 in graphql-transport-ws, a connection_error and 1002 in
// the legacy protocol.
func (c *conn) protocolError(reason string) {
	c.protocolErrorCode(closeBadRequest, reason)
}

// protocolErrorCode is protocolError with code for graphql-transport-ws.
func (c *conn) protocolErrorCode(code int, reason string) {
	if c.legacy {
		c.sendConnectionError(reason)
		c.closeAfterQueue(closeLegacyError, reason)
		return
	}
	c.close(code, reason)
}

func (c *conn) sendConnectionError(message string) {
	b, _ := json.Marshal(map[string]any{"type": "connection_error", "payload": map[string]string{"message": message}})
	c.push(outgoing{head: b}, waitForRoom, nil)
}

// keepAlive pings the client (graphql-transport-ws: a ping message, which
// clients answer; legacy: a ka message and a websocket ping, which every
// client answers), or drops it when it has been silent for two intervals.
// It reports whether the connection is still open.
func (c *conn) keepAlive() bool {
	if c.isClosed() {
		return false
	}
	// A client is heard from just after each ping: silent since a quarter
	// interval before the ping before last, it missed two.
	if silent := time.Since(time.Unix(0, c.heard.Load())); silent >= 2*c.t.limits.KeepAlive-c.t.limits.KeepAlive/4 {
		c.t.logger.Debug("websocket client silent; connection dropped", "silent", silent)
		c.abort()
		return false
	}
	if c.legacy {
		c.push(outgoing{head: kaMessage}, dropIfFull, nil)
		c.push(outgoing{control: websocket.PingMessage}, dropIfFull, nil)
	} else {
		c.push(outgoing{head: pingMessage}, dropIfFull, nil)
	}
	return true
}

// handle acts on one message after connection_init.
func (c *conn) handle(m message) {
	switch {
	case m.Type == "subscribe" && !c.legacy, m.Type == "start" && c.legacy:
		c.start(m)
	case m.Type == "complete" && !c.legacy, m.Type == "stop" && c.legacy:
		c.stop(m.ID)
	case m.Type == "ping" && !c.legacy:
		c.push(outgoing{head: pongMessage}, waitForRoom, nil)
	case m.Type == "pong" && !c.legacy:
	case m.Type == "connection_terminate" && c.legacy:
		c.close(closeNormal, "terminated")
	case m.Type == "connection_init" && !c.legacy:
		c.close(closeTooMany, "Too many initialisation requests")
	default:
		c.protocolError("Unexpected message " + m.Type)
	}
}

// finish releases everything the connection held, once its reader ended.
func (c *conn) finish() {
	c.mu.Lock()
	c.markClosed()
	ops, timers, cancel, sent := c.ops, c.timers, c.cancel, c.closeSent
	c.ops, c.timers = nil, nil
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	c.mu.Unlock()
	if sent != nil {
		// Let the close frame out before the socket closes.
		select {
		case <-sent:
		case <-time.After(closeWait):
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
	c.t.conns.release(&c.slot)
	c.t.open.Done()
}

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
