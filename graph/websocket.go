package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Close codes of the graphql-ws protocol the server uses. Clients built on
// the graphql-ws library reconnect after 4403, asking their connectionParams
// function for fresh credentials.
const (
	closeForbidden   = 4403
	closeTryAgain    = 1013 // the credentials could not be checked right now, or the instance is full
	closeTooMany     = 4429 // the client has too many connections; graphql-ws does not reconnect
	closeDuplicateID = 4409 // "Subscriber for <id> already exists"
)

// gorillaWebsocket runs gqlgen's websocket transport (graphql-transport-ws
// and the legacy graphql-ws) on gorilla/websocket.
type gorillaWebsocket struct {
	upgrader websocket.Upgrader
	closing  context.Context // done once the server shuts down
	open     *sync.WaitGroup // connections not closed yet
	conns    *wsConns
	// maxOps bounds the operations running on one connection.
	maxOps int
}

// connSlot carries what the transport hides from InitFunc: the upgrade
// request's Authorization header and the connection, to close it with a
// code of our choosing. withConnSlot puts it on the request's context, from
// which gqlgen derives the connection's.
type connSlot struct {
	authorization string
	conn          *gorillaConn
}

type connSlotKey struct{}

func withConnSlot(r *http.Request) *http.Request {
	slot := &connSlot{authorization: r.Header.Get("Authorization")}
	return r.WithContext(context.WithValue(r.Context(), connSlotKey{}, slot))
}

func slotOf(ctx context.Context) *connSlot {
	s, _ := ctx.Value(connSlotKey{}).(*connSlot)
	return s
}

func (g gorillaWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := g.upgrader
	up.Subprotocols = opts.Subprotocols
	// gqlgen answers a failed upgrade itself; a second response would be superfluous.
	up.Error = func(http.ResponseWriter, *http.Request, int, error) {}
	conn, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	g.open.Add(1)
	c := &gorillaConn{Conn: conn, closing: g.closing, maxOps: g.maxOps, conns: g.conns, ops: map[string]bool{}}
	c.done = sync.OnceFunc(func() {
		g.conns.release(c)
		g.open.Done()
	})
	if slot := slotOf(r.Context()); slot != nil {
		slot.conn = c
	}
	// A connection over a limit is refused after the upgrade, with a close
	// code and reason a browser can read (it sees no HTTP status).
	address := ratelimit.AddressOf(r.Context())
	if address == "" {
		address = ratelimit.Address(r)
	}
	if code, reason := g.conns.acquire(c, ratelimit.ClientKey(nil, address, true)); code != 0 {
		c.refuse(code, reason)
	}
	return c, nil
}

// gorillaConn adapts *websocket.Conn to gqlgen. It also keeps the
// operations running on the connection, which gqlgen does not bound and
// lets a client start twice under one ID.
type gorillaConn struct {
	*websocket.Conn
	closing context.Context
	done    func()
	conns   *wsConns
	maxOps  int

	wmu sync.Mutex // gorilla allows one writer: gqlgen's and ours

	mu         sync.Mutex
	closeCode  int // when set, the code the connection closes with
	closeWords string
	refused    error           // set: the connection is refused, reads fail
	client     string          // the key it is counted under (wsConns)
	ops        map[string]bool // IDs of running operations
}

// refuse makes the connection close with code and reason as soon as gqlgen
// reads from it.
func (c *gorillaConn) refuse(code int, reason string) {
	c.closeWith(code, reason)
	c.mu.Lock()
	c.refused = errors.New(reason)
	c.mu.Unlock()
}

// NextReader reads the next client message, keeping count of running
// operations: a subscribe with the ID of one still running closes the
// connection with 4409, as graphql-transport-ws specifies; one beyond
// maxOps is answered with an error for its ID and not run.
func (c *gorillaConn) NextReader() (int, io.Reader, error) {
	for {
		c.mu.Lock()
		refused := c.refused
		c.mu.Unlock()
		if refused != nil {
			return 0, nil, refused
		}
		typ, r, err := c.Conn.NextReader()
		if err != nil || typ != websocket.TextMessage {
			return typ, r, err
		}
		b, err := io.ReadAll(r) // at most the read limit
		if err != nil {
			return 0, nil, err
		}
		var m struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if json.Unmarshal(b, &m) != nil {
			return typ, bytes.NewReader(b), nil // gqlgen answers it
		}
		switch m.Type {
		case "subscribe", "start":
			c.mu.Lock()
			dup, full := c.ops[m.ID], len(c.ops) >= c.maxOps
			if !dup && !full {
				c.ops[m.ID] = true
			}
			c.mu.Unlock()
			switch {
			case dup:
				c.conns.refused("duplicate_id")
				reason := "Subscriber for " + m.ID + " already exists"
				c.refuse(closeDuplicateID, reason)
				return 0, nil, errors.New(reason)
			case full:
				c.conns.refused("subscriptions")
				c.sendError(m.ID, fmt.Sprintf("this connection already runs %d operations, the most allowed: complete some, or open another connection", c.maxOps))
				continue
			}
		case "complete", "stop":
			c.endOp(m.ID)
		}
		return typ, bytes.NewReader(b), nil
	}
}

// WriteJSON writes one server message; an operation's last message (its
// complete, or an error) frees its ID.
func (c *gorillaConn) WriteJSON(v any) error {
	if id, typ := messageIDAndType(v); typ == "complete" || typ == "error" {
		c.endOp(id)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.WriteJSON(v)
}

func (c *gorillaConn) endOp(id string) {
	c.mu.Lock()
	delete(c.ops, id)
	c.mu.Unlock()
}

// sendError ends operation id with an error the server raised itself, in
// the connection's subprotocol (both send a list of GraphQL errors).
func (c *gorillaConn) sendError(id, message string) {
	payload, _ := json.Marshal([]map[string]any{{"message": message, "extensions": map[string]any{"code": CodeSubscriptionLimit}}})
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.Conn.WriteJSON(map[string]any{"id": id, "type": "error", "payload": json.RawMessage(payload)})
}

// messageIDAndType reads the ID and type of a message gqlgen writes: its
// message types are unexported, but both have ID and Type fields.
func messageIDAndType(v any) (string, string) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return "", ""
	}
	id, typ := rv.FieldByName("ID"), rv.FieldByName("Type")
	if id.Kind() != reflect.String || typ.Kind() != reflect.String {
		return "", ""
	}
	return id.String(), typ.String()
}

// Close closes the connection and lets a waiting shutdown go on.
func (c *gorillaConn) Close() error {
	defer c.done()
	return c.Conn.Close()
}

// closeWith makes the next close use code and reason: gqlgen closes every
// connection whose context ends with 1000.
func (c *gorillaConn) closeWith(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeCode, c.closeWords = code, reason
}

// WriteClose sends a close frame. During a shutdown the accurate code is
// 1001 (going away), which tells clients to reconnect elsewhere; a code set
// by closeWith wins over gqlgen's 1000.
func (c *gorillaConn) WriteClose(code int, text string) error {
	c.mu.Lock()
	if c.closeCode != 0 {
		code, text = c.closeCode, c.closeWords
	}
	c.mu.Unlock()
	if code == websocket.CloseNormalClosure && c.closing.Err() != nil {
		code, text = websocket.CloseGoingAway, "server is shutting down"
	}
	return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason(text)), time.Now().Add(time.Second))
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

var errShuttingDown = errors.New("the server is shutting down; reconnect to another instance")

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
func (w *wsConns) acquire(c *gorillaConn, client string) (int, string) {
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
func (w *wsConns) rekey(c *gorillaConn, client string) error {
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

func (w *wsConns) release(c *gorillaConn) {
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

// websocketTransport configures subscriptions over websockets.
func websocketTransport(cfg Config, closing context.Context, open *sync.WaitGroup, conns *wsConns) transport.Websocket {
	readLimit := cfg.Limits.MaxWebsocketMessage
	return transport.Websocket{
		Implementation: gorillaWebsocket{
			upgrader: websocket.Upgrader{CheckOrigin: cfg.CheckOrigin, HandshakeTimeout: 10 * time.Second},
			closing:  closing,
			open:     open,
			conns:    conns,
			maxOps:   cfg.Limits.MaxSubscriptionsPerConnection,
		},
		// gorilla answers a larger message with close code 1009.
		PayloadReadLimit: &readLimit,
		// graphql-ws keep-alive messages, and graphql-transport-ws pings that
		// must be answered: a connection silent for two intervals is dropped,
		// so dead clients do not hold subscriptions.
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
		InitTimeout:           15 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if closing.Err() != nil {
				return ctx, nil, errShuttingDown
			}
			v, err := cfg.Auth.Authenticate(ctx, credential(ctx, payload))
			if err == nil && !v.ExpiresAt.IsZero() && !time.Now().Before(v.ExpiresAt) {
				// Within the clock-skew leeway a token still authenticates a
				// request, but a connection would be closed at once: refuse
				// it, so the client fetches a fresh token first.
				err = &auth.Error{Reason: auth.Expired, Message: "the credential has expired: connect with a fresh one"}
			}
			if err != nil {
				return refuseConnection(ctx, cfg, err)
			}
			// Count the connection under its identity from now on (open
			// mode's shared local admin stays counted by address).
			if slot := slotOf(ctx); slot != nil && slot.conn != nil && v.Subject != auth.LocalAdminSubject {
				if err := conns.rekey(slot.conn, ratelimit.ClientKey(v, "", false)); err != nil {
					ctx = transport.WithWebsocketCloseCode(ctx, closeTooMany)
					ctx = transport.AppendCloseReason(ctx, err.Error())
					return ctx, nil, err
				}
			}
			ctx = logctx.With(viewer.NewContext(ctx, v), "viewer", v.Subject)
			// End the connection when the server shuts down, and with 4403
			// when its credential expires; stop watching once the connection
			// ends on its own.
			ctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(closing, cancel)
			context.AfterFunc(ctx, func() { stop() })
			if !v.ExpiresAt.IsZero() {
				expire := time.AfterFunc(time.Until(v.ExpiresAt), func() {
					if slot := slotOf(ctx); slot != nil && slot.conn != nil {
						slot.conn.closeWith(closeForbidden, "Forbidden: the credential expired; reconnect with a fresh one")
					}
					cancel()
				})
				context.AfterFunc(ctx, func() { expire.Stop() })
			}
			return ctx, nil, nil
		},
		ErrorFunc: func(ctx context.Context, err error) {
			cfg.Logger.DebugContext(ctx, "websocket connection error", "err", err)
		},
	}
}

// credential is the Authorization value of connection_init's payload (any
// letter case: GraphiQL sends its Headers tab as typed), or else the upgrade
// request's header.
func credential(ctx context.Context, payload transport.InitPayload) string {
	for k, v := range payload {
		if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
			return s
		}
	}
	if slot := slotOf(ctx); slot != nil {
		return slot.authorization
	}
	return ""
}

// refuseConnection closes a connection whose credentials failed with 4403
// (graphql-ws clients then reconnect with fresh connectionParams), or with
// 1013 when they could not be checked.
func refuseConnection(ctx context.Context, cfg Config, err error) (context.Context, *transport.InitPayload, error) {
	if auth.IsError(err) {
		ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
		ctx = transport.AppendCloseReason(ctx, "Forbidden: "+err.Error())
		return ctx, nil, err
	}
	cfg.Logger.ErrorContext(ctx, "could not check websocket credentials", "err", err)
	ctx = transport.WithWebsocketCloseCode(ctx, closeTryAgain)
	ctx = transport.AppendCloseReason(ctx, "credentials could not be checked right now; retry")
	return ctx, nil, fmt.Errorf("credentials could not be checked right now; retry")
}
