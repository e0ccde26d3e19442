package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// gorillaWebsocket runs gqlgen's websocket transport (graphql-transport-ws
// and the legacy graphql-ws) on gorilla/websocket.
type gorillaWebsocket struct {
	upgrader  websocket.Upgrader
	readLimit int64           // larger client messages close the connection with 1009
	closing   context.Context // done once the server shuts down
	open      *sync.WaitGroup // connections not closed yet
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
	return &gorillaConn{Conn: conn, closing: g.closing, done: sync.OnceFunc(g.open.Done)}, nil
}

// gorillaConn adapts *websocket.Conn to gqlgen. gqlgen serialises writes.
type gorillaConn struct {
	*websocket.Conn
	closing context.Context
	done    func()
}

// Close closes the connection and lets a waiting shutdown go on.
func (c *gorillaConn) Close() error {
	defer c.done()
	return c.Conn.Close()
}

// WriteClose sends a close frame. gqlgen closes every connection with 1000
// when its context ends; during a shutdown the accurate code is 1001 (going
// away), which tells clients to reconnect elsewhere.
func (c *gorillaConn) WriteClose(code int, text string) error {
	if code == websocket.CloseNormalClosure && c.closing.Err() != nil {
		code, text = websocket.CloseGoingAway, "server is shutting down"
	}
	return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

var errShuttingDown = errors.New("the server is shutting down; reconnect to another instance")

// websocketTransport configures subscriptions over websockets.
func websocketTransport(closing context.Context, open *sync.WaitGroup, checkOrigin func(*http.Request) bool, readLimit int64, onError func(context.Context, error)) transport.Websocket {
	return transport.Websocket{
		Implementation: gorillaWebsocket{
			upgrader: websocket.Upgrader{CheckOrigin: checkOrigin, HandshakeTimeout: 10 * time.Second},
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
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if closing.Err() != nil {
				return ctx, nil, errShuttingDown
			}
			// End the connection when the server shuts down; stop watching
			// once the connection ends on its own.
			ctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(closing, cancel)
			context.AfterFunc(ctx, func() { stop() })
			return ctx, nil, nil
		},
		ErrorFunc: onError,
	}
}
