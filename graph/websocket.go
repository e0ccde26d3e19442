package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Close codes of the graphql-ws protocol the server uses. Clients built on
// the graphql-ws library reconnect after 4403, asking their connectionParams
// function for fresh credentials.
const (
	closeForbidden = 4403
	closeTryAgain  = 1013 // the credentials could not be checked right now
)

// gorillaWebsocket runs gqlgen's websocket transport (graphql-transport-ws
// and the legacy graphql-ws) on gorilla/websocket.
type gorillaWebsocket struct {
	upgrader websocket.Upgrader
	closing  context.Context // done once the server shuts down
	open     *sync.WaitGroup // connections not closed yet
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
	c := &gorillaConn{Conn: conn, closing: g.closing, done: sync.OnceFunc(g.open.Done)}
	if slot := slotOf(r.Context()); slot != nil {
		slot.conn = c
	}
	return c, nil
}

// gorillaConn adapts *websocket.Conn to gqlgen. gqlgen serialises writes.
type gorillaConn struct {
	*websocket.Conn
	closing context.Context
	done    func()

	mu         sync.Mutex
	closeCode  int // when set, the code the connection closes with
	closeWords string
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

// websocketTransport configures subscriptions over websockets.
func websocketTransport(cfg Config, closing context.Context, open *sync.WaitGroup) transport.Websocket {
	readLimit := cfg.Limits.MaxWebsocketMessage
	return transport.Websocket{
		Implementation: gorillaWebsocket{
			upgrader: websocket.Upgrader{CheckOrigin: cfg.CheckOrigin, HandshakeTimeout: 10 * time.Second},
			closing:  closing,
			open:     open,
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
