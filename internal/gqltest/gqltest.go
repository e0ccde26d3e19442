// Package gqltest is a small GraphQL client for tests: HTTP requests and
// subscriptions over a real websocket, in both subprotocols gqlgen serves.
package gqltest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The two websocket subprotocols.
const (
	TransportWS = "graphql-transport-ws" // the graphql-ws library's protocol
	LegacyWS    = "graphql-ws"           // subscriptions-transport-ws (Apollo's old one)
)

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a decoded GraphQL response.
type Response struct {
	Status int             `json:"-"`
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Post sends a GraphQL request to base+"/query" and decodes the response,
// whatever its status.
func Post(tb testing.TB, base, query string, vars map[string]any) Response {
	tb.Helper()
	return PostAs(tb, base, "", query, vars)
}

// PostAs is Post with an Authorization header ("Bearer …"); none if empty.
func PostAs(tb testing.TB, base, authorization, query string, vars map[string]any) Response {
	tb.Helper()
	header := http.Header{}
	if authorization != "" {
		header.Set("Authorization", authorization)
	}
	resp, raw := PostRaw(tb, base, header, query, vars)
	out := Response{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return out
}

// PostRaw sends a GraphQL request as JSON to base+"/query" with header
// added, and returns the response (its body closed) and the body's bytes.
func PostRaw(tb testing.TB, base string, header http.Header, query string, vars map[string]any) (*http.Response, []byte) {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, raw
}

// MustPost is Post for a request that must succeed; it decodes data into out.
func MustPost(tb testing.TB, base, query string, vars map[string]any, out any) {
	tb.Helper()
	MustPostAs(tb, base, "", query, vars, out)
}

// MustPostAs is MustPost with an Authorization header ("" for none).
func MustPostAs(tb testing.TB, base, authorization, query string, vars map[string]any, out any) {
	tb.Helper()
	resp := PostAs(tb, base, authorization, query, vars)
	if len(resp.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v", resp.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			tb.Fatalf("decode data %s: %v", resp.Data, err)
		}
	}
}

// Msg is a server message, normalised across both protocols.
type Msg struct {
	Kind    string // "data", "error", "complete"
	ID      string
	Payload json.RawMessage
}

// WS is a minimal, protocol-faithful client over a real websocket.
type WS struct {
	t     testing.TB
	conn  *websocket.Conn
	wmu   sync.Mutex // gorilla allows one writer at a time
	Proto string
	msgs  chan Msg
	done  chan struct{}
	close *websocket.CloseError // how the server closed the connection, if it did
}

// Dial connects to base+"/query" with proto and completes the handshake.
func Dial(tb testing.TB, base, proto string) *WS {
	tb.Helper()
	return DialAs(tb, base, proto, "")
}

// DialAs is Dial with credentials sent in connection_init's payload, as
// the graphql-ws library's connectionParams do ("" sends none).
func DialAs(tb testing.TB, base, proto, authorization string) *WS {
	tb.Helper()
	c, refused := dial(tb, base, proto, authorization, nil)
	if refused != nil {
		tb.Fatalf("%s: connection refused: %v", proto, refused)
	}
	return c
}

// DialTLS is Dial to an https base, trusting what tlsConfig trusts (its
// ALPN offer, if any, is the caller's: a browser offers only HTTP/1.1 for
// a websocket).
func DialTLS(tb testing.TB, base, proto string, tlsConfig *tls.Config) *WS {
	tb.Helper()
	c, refused := dial(tb, base, proto, "", tlsConfig)
	if refused != nil {
		tb.Fatalf("%s: connection refused: %v", proto, refused)
	}
	return c
}

// DialRefused dials as DialAs does and returns how the server closed the
// connection instead of acknowledging it; it fails tb if it was accepted.
func DialRefused(tb testing.TB, base, proto, authorization string) *websocket.CloseError {
	tb.Helper()
	_, refused := dial(tb, base, proto, authorization, nil)
	if refused == nil {
		tb.Fatalf("%s: the server acknowledged a connection it should refuse", proto)
	}
	return refused
}

func dial(tb testing.TB, base, proto, authorization string, tlsConfig *tls.Config) (*WS, *websocket.CloseError) {
	tb.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second, TLSClientConfig: tlsConfig}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/query", http.Header{"Origin": {base}})
	if err != nil {
		tb.Fatalf("dial %s: %v (response %v)", proto, err, resp)
	}
	if conn.Subprotocol() != proto {
		tb.Fatalf("negotiated %q, want %q", conn.Subprotocol(), proto)
	}
	c := &WS{t: tb, conn: conn, Proto: proto, msgs: make(chan Msg, 1024), done: make(chan struct{})}
	tb.Cleanup(func() { conn.Close() })
	payload := map[string]any{}
	if authorization != "" {
		payload["authorization"] = authorization
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m struct{ Type string }
		if err := conn.ReadJSON(&m); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return nil, ce
			}
			tb.Fatalf("%s: want connection_ack, got %v", proto, err)
		}
		switch m.Type {
		case "connection_ack":
			_ = conn.SetReadDeadline(time.Time{})
			go c.read()
			return c, nil
		case "connection_error", "ka":
			continue // the close frame follows an error
		default:
			tb.Fatalf("%s: want connection_ack, got %q", proto, m.Type)
		}
	}
}

// Closed returns how the server closed the connection, once it has (nil
// before, or when it closed without a close frame).
func (c *WS) Closed() *websocket.CloseError {
	select {
	case <-c.done:
		return c.close
	default:
		return nil
	}
}

func (c *WS) send(v any) {
	c.t.Helper()
	if err := c.write(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *WS) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteJSON(v)
}

// read pumps server messages, answering pings as a real client does.
func (c *WS) read() {
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
			_ = c.write(map[string]string{"type": "pong"})
		case "ka", "pong", "connection_ack":
		case "next", "data":
			c.msgs <- Msg{Kind: "data", ID: m.ID, Payload: m.Payload}
		default:
			c.msgs <- Msg{Kind: m.Type, ID: m.ID, Payload: m.Payload}
		}
	}
}

// Subscribe starts operation id.
func (c *WS) Subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	if err := c.TrySubscribe(id, query, vars); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// TrySubscribe is Subscribe for a message the server may close the
// connection on while it is being written (one too large, say): it returns
// the write's error instead of failing the test.
func (c *WS) TrySubscribe(id, query string, vars map[string]any) error {
	typ := "subscribe"
	if c.Proto == LegacyWS {
		typ = "start"
	}
	return c.write(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
}

// Unsubscribe stops operation id.
func (c *WS) Unsubscribe(id string) {
	c.t.Helper()
	typ := "complete"
	if c.Proto == LegacyWS {
		typ = "stop"
	}
	c.send(map[string]any{"id": id, "type": typ})
}

// Next returns the next message; the timeout only guards against hangs.
func (c *WS) Next() Msg {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("connection closed (%v) while waiting for a message", c.close)
		}
		return m
	case <-time.After(30 * time.Second):
		c.t.Fatal("no websocket message within 30s")
	}
	return Msg{}
}

// Pending returns a message if one arrives within d.
func (c *WS) Pending(d time.Duration) (Msg, bool) {
	select {
	case m, ok := <-c.msgs:
		return m, ok
	case <-time.After(d):
		return Msg{}, false
	}
}

// NextData returns the next data message decoded into out, failing on
// anything else.
func (c *WS) NextData(out any) {
	c.t.Helper()
	m := c.Next()
	if m.Kind != "data" {
		c.t.Fatalf("want data, got %s %s", m.Kind, m.Payload)
	}
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []Error         `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &body); err != nil || len(body.Errors) > 0 {
		c.t.Fatalf("data message %s: %v", m.Payload, err)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		c.t.Fatalf("decode %s: %v", body.Data, err)
	}
}

// ExpectComplete fails unless the next message completes operation id.
func (c *WS) ExpectComplete(id string) {
	c.t.Helper()
	if m := c.Next(); m.Kind != "complete" || m.ID != id {
		c.t.Fatalf("want complete of %s, got %s %s %s", id, m.Kind, m.ID, m.Payload)
	}
}

// WaitClosed waits until the server closes the connection and returns its
// close error (nil if the connection ended without a close frame).
func (c *WS) WaitClosed() *websocket.CloseError {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				<-c.done
				return c.close
			}
		case <-time.After(30 * time.Second):
			c.t.Fatal("server did not close the connection")
		}
	}
}
