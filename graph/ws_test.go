package graph_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The two websocket subprotocols gqlgen speaks.
const (
	transportWS = "graphql-transport-ws" // the graphql-ws library's protocol
	legacyWS    = "graphql-ws"           // subscriptions-transport-ws (Apollo's old one)
)

// wsMsg is a server message, normalised across both protocols.
type wsMsg struct {
	Kind    string // "data", "error", "complete"
	ID      string
	Payload json.RawMessage
}

// wsClient is a minimal, protocol-faithful client over a real websocket.
type wsClient struct {
	t     *testing.T
	conn  *websocket.Conn
	proto string
	msgs  chan wsMsg
	done  chan struct{}
	close *websocket.CloseError // how the server closed the connection, if it did
}

func dialWS(t *testing.T, baseURL, proto string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(baseURL, "http")+"/query", http.Header{"Origin": {baseURL}})
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", proto, err, resp)
	}
	if conn.Subprotocol() != proto {
		t.Fatalf("negotiated %q, want %q", conn.Subprotocol(), proto)
	}
	c := &wsClient{t: t, conn: conn, proto: proto, msgs: make(chan wsMsg, 256), done: make(chan struct{})}
	t.Cleanup(func() { conn.Close() })
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{}})
	var ack struct{ Type string }
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("%s: want connection_ack, got %+v, %v", proto, ack, err)
	}
	conn.SetReadDeadline(time.Time{})
	go c.read()
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read pumps server messages, answering pings as a real client does.
func (c *wsClient) read() {
	defer close(c.done)
	defer close(c.msgs)
	for {
		var m struct {
			ID      string          `json:"id"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := c.conn.ReadJSON(&m); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				c.close = ce
			}
			return
		}
		switch m.Type {
		case "ping":
			_ = c.conn.WriteJSON(map[string]string{"type": "pong"})
		case "ka", "pong", "connection_ack":
		case "next", "data":
			c.msgs <- wsMsg{Kind: "data", ID: m.ID, Payload: m.Payload}
		case "error":
			c.msgs <- wsMsg{Kind: "error", ID: m.ID, Payload: m.Payload}
		case "complete":
			c.msgs <- wsMsg{Kind: "complete", ID: m.ID}
		default:
			c.msgs <- wsMsg{Kind: m.Type, ID: m.ID, Payload: m.Payload}
		}
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	typ := "subscribe"
	if c.proto == legacyWS {
		typ = "start"
	}
	c.send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
}

func (c *wsClient) unsubscribe(id string) {
	c.t.Helper()
	typ := "complete"
	if c.proto == legacyWS {
		typ = "stop"
	}
	c.send(map[string]any{"id": id, "type": typ})
}

// next returns the next message; the timeout only guards against hangs.
func (c *wsClient) next() wsMsg {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("connection closed (%v) while waiting for a message", c.close)
		}
		return m
	case <-time.After(15 * time.Second):
		c.t.Fatal("no websocket message within 15s")
	}
	return wsMsg{}
}

// nextData returns the next data message decoded into out, failing on anything else.
func (c *wsClient) nextData(out any) {
	c.t.Helper()
	m := c.next()
	if m.Kind != "data" {
		c.t.Fatalf("want data, got %s %s", m.Kind, m.Payload)
	}
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &body); err != nil || len(body.Errors) > 0 {
		c.t.Fatalf("data message %s: %v", m.Payload, err)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		c.t.Fatalf("decode %s: %v", body.Data, err)
	}
}

// waitClosed waits until the server closes the connection and returns its close error.
func (c *wsClient) waitClosed() *websocket.CloseError {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				<-c.done
				return c.close
			}
		case <-time.After(15 * time.Second):
			c.t.Fatal("server did not close the connection")
		}
	}
}
