package wstransport

import (
	"encoding/json"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Writing to websockets. A connection has one writer at a time, the only
// goroutine that writes through gorilla (its one concurrent writer): whoever
// set c.writing. Messages go through push, which queues them and starts a
// writer goroutine when none runs; it exists only while the queue is not
// empty, so an idle connection has no writer. A shared event is written by
// the broadcast's workers instead, each becoming the writer for the one
// message when none runs (placeShared), so that delivering an event to
// thousands costs no goroutine each. So a sender never waits for a socket,
// and the queue is bounded (delivery says what a sender does when it is
// full).

// Messages that never change.
var (
	ackMessage  = []byte(`{"type":"connection_ack"}`)
	kaMessage   = []byte(`{"type":"ka"}`)
	pingMessage = []byte(`{"type":"ping"}`)
	pongMessage = []byte(`{"type":"pong"}`)
)

// outgoing is one message to write.
type outgoing struct {
	// A text message: head, or head + body + "}" when body is set (body is
	// shared by every subscriber of an event).
	head, body []byte
	// Or a text message framed once for many connections.
	prepared *websocket.PreparedMessage
	// Or, when set, a control frame of this type carrying head.
	control int
}

// delivery says what a sender does when a connection's queue is full.
type delivery int

const (
	// waitForRoom: the sender waits (replies to the client's own messages,
	// results of an operation of its own). A client cannot flood the
	// connection faster than it reads the answers.
	waitForRoom delivery = iota
	// dropIfFull: the message is dropped (keep-alives).
	dropIfFull
	// closeIfFull: the client is too slow and is disconnected (shared
	// events, whose sender writes to thousands and never waits).
	closeIfFull
)

// push queues m for the writer, starting it if none runs; when the queue is
// full, how decides. A waiting sender gives up when cancelled is closed or
// the connection closes. It reports whether m was queued.
func (c *conn) push(m outgoing, how delivery, cancelled <-chan struct{}) bool {
	c.mu.Lock()
	for !c.closed && len(c.queue) >= c.t.limits.MaxQueuedMessages {
		switch how {
		case dropIfFull:
			c.mu.Unlock()
			return false
		case closeIfFull:
			c.mu.Unlock()
			c.tooSlow()
			return false
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
		case <-cancelled:
			return false
		case <-c.done:
			return false
		}
		c.mu.Lock()
	}
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, m)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return true
}

// placeShared places m, a shared event: it queues m behind the
// connection's writer when one runs, or makes the caller (one of a
// broadcast's workers) the writer when none does, which must then write m
// (writeShared); a client whose queue is full is disconnected. It takes
// c.mu alone, so it never waits for a socket. It reports whether m was
// placed, and whether the caller must write it.
func (c *conn) placeShared(m outgoing) (placed, mustWrite bool) {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return false, false
	case c.writing && len(c.queue) >= c.t.limits.MaxQueuedMessages:
		c.mu.Unlock()
		c.tooSlow()
		return false, false
	case c.writing:
		c.queue = append(c.queue, m)
		c.mu.Unlock()
		return true, false
	}
	c.writing = true // the caller is the writer, for m
	c.mu.Unlock()
	return true, true
}

// writeShared writes m, which placeShared made the caller the writer of,
// then hands on to a writer of its own what was queued meanwhile.
func (c *conn) writeShared(m outgoing) {
	if err := c.write(m); err != nil {
		c.t.logger.Debug("websocket write failed; connection dropped", "err", err)
		c.abort()
	}
	if c.handOn() {
		go c.flush() // more was queued meanwhile: a writer of its own
	}
}

// flush is the writer: it writes the queue until it is empty, each message
// waiting for the socket at most the write timeout, then writes the close
// frame if one is pending, and ends.
func (c *conn) flush() {
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.signalRoom()
		c.mu.Unlock()
		for _, m := range batch {
			if c.isClosed() {
				break
			}
			if err := c.write(m); err != nil {
				c.t.logger.Debug("websocket write failed; connection dropped", "err", err)
				c.abort()
				break
			}
		}
		if !c.handOn() {
			return
		}
	}
}

// write writes one message through gorilla.
func (c *conn) write(m outgoing) error {
	deadline := time.Now().Add(c.t.limits.WriteTimeout)
	if m.control != 0 {
		return c.ws.WriteControl(m.control, m.head, deadline)
	}
	_ = c.ws.SetWriteDeadline(deadline)
	switch {
	case m.prepared != nil:
		return c.ws.WritePreparedMessage(m.prepared)
	case m.body == nil:
		return c.ws.WriteMessage(websocket.TextMessage, m.head)
	}
	// One frame, as the client's parser likes best: the parts are joined
	// in a pooled buffer rather than written as fragments.
	bp, _ := c.t.buffers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := append(append(append((*bp)[:0], m.head...), m.body...), '}')
	err := c.ws.WriteMessage(websocket.TextMessage, b)
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		c.t.buffers.Put(bp)
	}
	return err
}

// handOn is called by the writer when its batch is written: it reports
// whether more is queued (the writer goes on); else it writes a pending
// close frame and the writer ends.
func (c *conn) handOn() bool {
	c.mu.Lock()
	if len(c.queue) > 0 && !c.closed {
		c.mu.Unlock()
		return true
	}
	closing, sent := c.pendingClose, c.closeSent
	c.pendingClose = nil
	c.queue = nil
	c.signalRoom()
	if closing == nil {
		c.writing = false
		c.mu.Unlock()
		return false
	}
	c.mu.Unlock()
	c.writeClose(closing, sent)
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	return false
}

// writeClose writes a close frame and tells whoever waits for it that it
// was sent (or could not be); the caller is the writer.
func (c *conn) writeClose(payload []byte, sent chan struct{}) {
	_ = c.ws.WriteControl(websocket.CloseMessage, payload, time.Now().Add(closeWait))
	close(sent)
}

// signalRoom wakes senders waiting for room; c.mu is held.
func (c *conn) signalRoom() {
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
}

// tooSlow disconnects a client whose queue is full.
func (c *conn) tooSlow() {
	if c.isClosed() {
		return
	}
	if c.t.metrics != nil {
		c.t.metrics.SlowClientDisconnected()
	}
	c.close(closeTryAgain, "Try again later: the client read too slowly and fell behind; reconnect and resume with the cursor of the last event received")
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close sends a close frame with code and reason, dropping what is queued;
// the reader ends when the client answers, or after closeWait, when the
// socket is closed under it. It never waits for the writer: one stuck on a
// slow client writes the close frame after its message, if the socket
// takes it before then.
func (c *conn) close(code int, reason string) {
	payload := websocket.FormatCloseMessage(code, closeReason(reason))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.markClosed()
	sent := make(chan struct{})
	c.closeSent = sent
	busy := c.writing
	if busy {
		c.pendingClose = payload
	} else {
		c.writing = true
	}
	// gorilla's reader may wait for the client as long as it likes: the
	// socket closes under it once the client had closeWait to answer.
	c.timers = append(c.timers, time.AfterFunc(closeWait, func() { _ = c.ws.Close() }).Stop)
	c.mu.Unlock()
	if !busy {
		// Not on the caller's goroutine, which may be writing to thousands.
		go func() {
			c.writeClose(payload, sent)
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
		}()
	}
}

// closeAfterQueue closes the connection once what is queued is written (a
// connection_error before the close).
func (c *conn) closeAfterQueue(code int, reason string) {
	deadline := time.Now().Add(closeWait)
	for {
		c.mu.Lock()
		idle := len(c.queue) == 0 && !c.writing
		c.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.close(code, reason)
}

// abort drops the connection without a close frame (a write failed, or
// the client went silent).
func (c *conn) abort() {
	c.mu.Lock()
	c.markClosed()
	c.mu.Unlock()
	_ = c.ws.Close()
}

// markClosed stops all writing but that of a pending close frame; c.mu is
// held.
func (c *conn) markClosed() {
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.queue = nil
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

// frameHead is the start of a message of typ for the operation whose ID is
// id (JSON-encoded), up to its payload.
func frameHead(id []byte, typ string) []byte {
	b := make([]byte, 0, len(id)+len(typ)+32)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	return append(b, `","payload":`...)
}

// sendResponse sends a result of op's own execution, waiting for room
// until cancelled. It returns the bytes of the result it sent (0: none).
func (c *conn) sendResponse(op *operation, resp *graphql.Response, cancelled <-chan struct{}) int {
	b, err := json.Marshal(resp)
	if err != nil {
		c.t.logger.ErrorContext(c.ctx, "could not encode a result", "err", err)
		return 0
	}
	if (cancelled == nil || !op.isStopped()) && c.push(outgoing{head: op.head, body: b}, waitForRoom, cancelled) {
		return len(b)
	}
	return 0
}

func (c *conn) sendError(id string, errs ...*gqlerror.Error) {
	idJSON, _ := json.Marshal(id)
	b, err := json.Marshal(errs)
	if err != nil {
		c.t.logger.ErrorContext(c.ctx, "could not encode errors", "err", err)
		return
	}
	c.push(outgoing{head: frameHead(idJSON, "error"), body: b}, waitForRoom, nil)
}

func (c *conn) complete(id string, how delivery) {
	idJSON, _ := json.Marshal(id)
	b := make([]byte, 0, len(idJSON)+32)
	b = append(b, `{"id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"type":"complete"}`...)
	c.push(outgoing{head: b}, how, nil)
}
