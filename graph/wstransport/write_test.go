package wstransport

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// What the writer sends, queued (push) or written by a broadcast's worker
// (placeShared, framed once), is read by a websocket client as the messages
// it holds, in order, at every length encoding (7, 16 and 64 bits); a
// control frame keeps its payload; a close reason too long for a close
// frame is cut at a character boundary and says so, after what was queued.
func TestWrittenMessagesReadAsSent(t *testing.T) {
	sizes := []int{0, 1, 124, 125, 126, 65534, 65535, 65536, 200_000}
	tr := New(Config{})
	c, client := dialConn(t, tr)

	var want [][]byte
	for i, n := range sizes {
		head, body := []byte(`{"n":`), append(append([]byte(`"`), bytes.Repeat([]byte("7"), n)...), '"')
		message := append(append(append([]byte{}, head...), body...), '}')
		want = append(want, message)
		if i%2 == 0 {
			c.push(outgoing{head: head, body: body}, waitForRoom, nil)
			continue
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, message)
		if err != nil {
			t.Fatal(err)
		}
		if _, mustWrite := c.placeShared(outgoing{prepared: pm}); mustWrite {
			c.writeShared(outgoing{prepared: pm})
		}
	}
	c.push(outgoing{control: websocket.PingMessage, head: []byte("hi")}, waitForRoom, nil)
	c.push(outgoing{head: pingMessage}, waitForRoom, nil)
	go c.closeAfterQueue(closeTryAgain, strings.Repeat("é", 100))

	pinged := make(chan string, 1)
	client.SetPingHandler(func(data string) error { pinged <- data; return nil })
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, w := range append(want, pingMessage) {
		typ, got, err := client.ReadMessage()
		if err != nil || typ != websocket.TextMessage || !bytes.Equal(got, w) {
			t.Fatalf("message %d: got %d bytes (type %d, %v), want %d", i, len(got), typ, err, len(w))
		}
	}
	_, _, err := client.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeTryAgain || !strings.HasSuffix(ce.Text, "...") || len(ce.Text) > 123 || !utf8.ValidString(ce.Text) {
		t.Fatalf("close: %v", err)
	}
	if got := <-pinged; got != "hi" {
		t.Fatalf("ping carried %q", got)
	}
}

// dialConn connects a websocket client to a server connection of tr, whose
// reader runs until the client answers a close; both close when t ends.
func dialConn(t *testing.T, tr *Transport) (*conn, *websocket.Conn) {
	t.Helper()
	conns := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := tr.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- &conn{t: tr, ws: ws, ops: map[string]*operation{}, done: make(chan struct{})}
		for { // the connection's reader, until the client answers the close
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return <-conns, client
}
