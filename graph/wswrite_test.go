package graph

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The frames the server encodes itself are read by a websocket client as
// the messages they hold, at every length encoding (7, 16 and 64 bits).
func TestFramesReadAsTheirMessages(t *testing.T) {
	sizes := []int{0, 1, 124, 125, 126, 65534, 65535, 65536, 200_000}
	var frames []wsFrame
	for _, n := range sizes {
		frames = append(frames, wsFrame{head: []byte(`{"n":"`), body: append(bytes.Repeat([]byte("7"), n), '"')})
	}
	frames = append(frames, wsFrame{head: pingMessage}, wsFrame{raw: controlFrame(opPing, []byte("hi"))},
		wsFrame{raw: closeFrame(closeTryAgain, strings.Repeat("é", 100))})

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var b []byte
		for _, f := range frames {
			b = f.encode(b)
		}
		_, _ = ws.UnderlyingConn().Write(b)
		_, _, _ = ws.ReadMessage() // until the client closes
	}))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pinged := make(chan string, 1)
	conn.SetPingHandler(func(data string) error { pinged <- data; return nil })
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, f := range frames[:len(frames)-2] {
		typ, got, err := conn.ReadMessage()
		want := append([]byte{}, f.head...)
		if f.body != nil {
			want = append(append(want, f.body...), '}')
		}
		if err != nil || typ != websocket.TextMessage || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes (type %d, %v), want %d", i, len(got), typ, err, len(want))
		}
	}
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeTryAgain || !strings.HasSuffix(ce.Text, "...") || len(ce.Text) > 123 {
		t.Fatalf("close: %v", err)
	}
	if got := <-pinged; got != "hi" {
		t.Fatalf("ping carried %q", got)
	}
}
