package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Writing to websockets. Every message goes through push: the sender
// writes it at once when nothing else is being written to the connection
// and the socket takes it whole without waiting, which is the common case
// and costs one write system call and no goroutine; otherwise it is queued
// for a writer goroutine, which exists while the queue is not empty and may
// wait for the socket. The queue is bounded (delivery says what a sender
// does when it is full). Frames are encoded here; gorilla/websocket only
// reads (its own writes, close frames for protocol errors it detects while
// reading, could interleave with the rest of a frame written in part, which
// only happens to a client that already is too slow).

// Messages that never change.
var (
	ackMessage  = []byte(`{"type":"connection_ack"}`)
	kaMessage   = []byte(`{"type":"ka"}`)
	pingMessage = []byte(`{"type":"ping"}`)
	pongMessage = []byte(`{"type":"pong"}`)
)

// wsFrame is one frame to write.
type wsFrame struct {
	head, body []byte // a text message: head, or head + body + "}" when body is set (body is shared by every subscriber of an event)
	raw        []byte // or bytes framed already: control frames, the rest of a frame written in part
	rest       bool   // raw is the rest of a frame written in part: it must be written before anything else
}

// Websocket opcodes (RFC 6455, 5.2).
const (
	opText  = 1
	opClose = 8
	opPing  = 9
	opPong  = 10
)

// encode appends f, framed, to dst.
func (f wsFrame) encode(dst []byte) []byte {
	if f.raw != nil {
		return append(dst, f.raw...)
	}
	n := len(f.head)
	if f.body != nil {
		n += len(f.body) + 1
	}
	dst = appendFrameHeader(dst, opText, n)
	dst = append(dst, f.head...)
	if f.body != nil {
		dst = append(dst, f.body...)
		dst = append(dst, '}')
	}
	return dst
}

// appendFrameHeader appends the header of an unfragmented, unmasked frame
// (a server's) of n payload bytes.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
}

// controlFrame frames a control message (payload at most 125 bytes).
func controlFrame(op byte, payload []byte) []byte {
	return append(appendFrameHeader(make([]byte, 0, 2+len(payload)), op, len(payload)), payload...)
}

func closeFrame(code int, reason string) []byte {
	return controlFrame(opClose, websocket.FormatCloseMessage(code, closeReason(reason)))
}

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
// until cancelled.
// It returns the bytes of the result it sent (0: none).
func (c *wsConn) sendResponse(op *wsOp, resp *graphql.Response, cancelled <-chan struct{}) int {
	b, err := json.Marshal(resp)
	if err != nil {
		c.t.logger.ErrorContext(c.ctx, "could not encode a result", "err", err)
		return 0
	}
	if (cancelled == nil || !op.isStopped()) && c.push(wsFrame{head: op.head, body: b}, waitForRoom, cancelled) {
		return len(b)
	}
	return 0
}

func (c *wsConn) sendError(id string, errs ...*gqlerror.Error) {
	idJSON, _ := json.Marshal(id)
	b, err := json.Marshal(errs)
	if err != nil {
		c.t.logger.ErrorContext(c.ctx, "could not encode errors", "err", err)
		return
	}
	c.push(wsFrame{head: frameHead(idJSON, "error"), body: b}, waitForRoom, nil)
}

func (c *wsConn) complete(id string, how delivery) {
	idJSON, _ := json.Marshal(id)
	b := make([]byte, 0, len(idJSON)+32)
	b = append(b, `{"id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"type":"complete"}`...)
	c.push(wsFrame{head: b}, how, nil)
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

// push writes f, or queues it behind what is being written; when the queue
// is full, how decides. A waiting sender gives up when cancelled is closed
// or the connection closes. It reports whether f was written or queued.
func (c *wsConn) push(f wsFrame, how delivery, cancelled <-chan struct{}) bool {
	c.mu.Lock()
	for !c.closed && c.writing && len(c.queue) >= c.t.maxQueued {
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
	switch {
	case c.closed:
		c.mu.Unlock()
		return false
	case c.writing:
		c.queue = append(c.queue, f)
		c.mu.Unlock()
		return true
	}
	c.writing = true // this sender writes
	c.mu.Unlock()
	c.writeNow(f)
	return true
}

// writeNow writes f without waiting, holding the write claim, then hands
// the claim on: to a writer goroutine when the socket did not take all of
// f or others queued meanwhile.
func (c *wsConn) writeNow(f wsFrame) {
	bp, _ := c.t.frames.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
		*bp = make([]byte, 0, 2048)
	}
	b := f.encode((*bp)[:0])
	n, err := 0, error(nil)
	if c.raw != nil {
		n, err = writeNoWait(c.raw, b)
	}
	var rest []byte
	if err == nil && n < len(b) {
		rest = bytes.Clone(b[n:])
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		c.t.frames.Put(bp)
	}
	switch {
	case err != nil:
		c.t.logger.Debug("websocket write failed; connection dropped", "err", err)
		c.abort()
	case rest != nil:
		c.mu.Lock()
		c.queue = slices.Insert(c.queue, 0, wsFrame{raw: rest, rest: true})
		c.mu.Unlock()
		go c.flush()
	case c.handOn():
		go c.flush()
	}
}

// flush writes the queue, waiting for the socket as long as the write
// timeout per frame, until it is empty; it holds the write claim.
func (c *wsConn) flush() {
	buf := make([]byte, 0, 2048)
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.signalRoom()
		c.mu.Unlock()
		for _, f := range batch {
			if c.isClosed() && !f.rest {
				break
			}
			buf = f.encode(buf[:0])
			if err := c.writeWaiting(buf, c.t.writeWait); err != nil {
				c.t.logger.Debug("websocket write failed; connection dropped", "err", err)
				c.abort()
				return
			}
		}
		if !c.handOn() {
			return
		}
	}
}

// handOn is called by the holder of the write claim when it is done: it
// reports whether more is queued (the holder keeps the claim and writes
// it); else it releases the claim, writing a pending close frame first.
func (c *wsConn) handOn() bool {
	c.mu.Lock()
	if len(c.queue) > 0 && !c.closed {
		c.mu.Unlock()
		return true
	}
	closing, sent := c.pendingClose, c.closeSent
	c.pendingClose = nil
	c.signalRoom()
	c.mu.Unlock()
	if closing != nil {
		c.writeClose(closing, sent)
	}
	c.release()
	return false
}

// writeClose writes a close frame and tells whoever waits for it that it
// was sent; the caller holds the write claim.
func (c *wsConn) writeClose(frame []byte, sent chan struct{}) {
	_ = c.writeWaiting(frame, wsCloseWait)
	close(sent)
}

// release gives the write claim up.
func (c *wsConn) release() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
}

// writeWaiting writes b, waiting for the socket at most wait.
func (c *wsConn) writeWaiting(b []byte, wait time.Duration) error {
	conn := c.ws.UnderlyingConn()
	_ = conn.SetWriteDeadline(time.Now().Add(wait))
	_, err := conn.Write(b)
	if err == nil {
		// A deadline left behind would fail the next write that does not
		// wait, once passed.
		_ = conn.SetWriteDeadline(time.Time{})
	}
	return err
}

// signalRoom wakes senders waiting for room; c.mu is held.
func (c *wsConn) signalRoom() {
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
}

// tooSlow disconnects a client whose queue is full.
func (c *wsConn) tooSlow() {
	if c.isClosed() {
		return
	}
	if c.t.metrics != nil {
		c.t.metrics.SlowClientDisconnected()
	}
	c.close(closeTryAgain, "Try again later: the client read too slowly and fell behind; reconnect and resume with the cursor of the last event received")
}

func (c *wsConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close sends a close frame with code and reason, dropping what is queued;
// the reader ends when the client answers, or after wsCloseWait. It never
// waits for a writer: one stuck on a slow client is given wsCloseWait to
// finish its frame, after which the connection is dropped.
func (c *wsConn) close(code int, reason string) {
	frame := closeFrame(code, reason)
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
		c.pendingClose = frame
	} else {
		c.writing = true
	}
	c.mu.Unlock()
	if busy {
		_ = c.ws.UnderlyingConn().SetWriteDeadline(time.Now().Add(wsCloseWait))
	} else {
		// Not on the caller's goroutine, which may be writing to thousands.
		go func() {
			c.writeClose(frame, sent)
			c.release()
		}()
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(wsCloseWait))
}

// closeAfterQueue closes the connection once what is queued is written (a
// connection_error before the close).
func (c *wsConn) closeAfterQueue(code int, reason string) {
	deadline := time.Now().Add(wsCloseWait)
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

// abort drops the connection without a close frame (a write failed).
func (c *wsConn) abort() {
	c.mu.Lock()
	c.markClosed()
	c.mu.Unlock()
	_ = c.ws.Close()
}

// markClosed stops all writing but that of the rest of a frame written in
// part (the close frame may follow it); c.mu is held.
func (c *wsConn) markClosed() {
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	if len(c.queue) > 0 && c.queue[0].rest {
		c.queue = c.queue[:1]
	} else {
		c.queue = nil
	}
}
