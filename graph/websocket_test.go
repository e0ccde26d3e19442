package graph_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// rawDial opens a websocket speaking proto, with a receive buffer of
// readBuffer bytes when it is not 0 (a client that reads slowly fills it
// soon). The buffer is set before the connection opens, so that the window
// it advertises is small from the start.
func rawDial(t *testing.T, base, proto string, readBuffer int) *websocket.Conn {
	t.Helper()
	nd := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		if readBuffer == 0 {
			return nil
		}
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, readBuffer)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second, NetDial: nd.Dial}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func send(t *testing.T, conn *websocket.Conn, raw string) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		t.Fatalf("write %s: %v", raw, err)
	}
}

// closedWith reads until the server closes conn and returns the close
// frame's code and text (1006 when it dropped the connection without one).
func closedWith(t *testing.T, conn *websocket.Conn) (int, string, []string) {
	t.Helper()
	var types []string
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := conn.ReadMessage()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce.Code, ce.Text, types
		case err != nil:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server did not close the connection")
			}
			return websocket.CloseAbnormalClosure, err.Error(), types
		}
		var m struct{ Type string }
		_ = json.Unmarshal(data, &m)
		types = append(types, m.Type)
	}
}

// initialised sends connection_init and waits for the acknowledgement.
func initialised(t *testing.T, conn *websocket.Conn) {
	t.Helper()
	send(t, conn, `{"type":"connection_init"}`)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m struct{ Type string }
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for connection_ack: %v", err)
		}
		if m.Type == "connection_ack" {
			_ = conn.SetReadDeadline(time.Time{})
			return
		}
	}
}

// Messages that break the protocol close the connection with the codes
// graphql-transport-ws specifies (the legacy protocol answers with a
// connection_error and 1002, as gqlgen did).
func TestWebsocketProtocolErrorsCloseWithTheirCodes(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.WebsocketInitTimeout = 300 * time.Millisecond })
	cases := []struct {
		name, proto string
		before      bool // sent before connection_init
		message     string
		code        int
		text        string
	}{
		{"subscribe before connection_init", gqltest.TransportWS, true, `{"id":"1","type":"subscribe","payload":{"query":"subscription { __typename }"}}`, 4401, "Unauthorized"},
		{"not JSON", gqltest.TransportWS, true, `{nope`, 4400, "Invalid message"},
		{"no type", gqltest.TransportWS, false, `{"id":"1"}`, 4400, "Invalid message"},
		{"unknown type", gqltest.TransportWS, false, `{"type":"start","id":"1"}`, 4400, "Unexpected message start"},
		{"second connection_init", gqltest.TransportWS, false, `{"type":"connection_init"}`, 4429, "Too many initialisation requests"},
		{"subscribe without id", gqltest.TransportWS, false, `{"type":"subscribe","payload":{"query":"{ __typename }"}}`, 4400, "needs an id"},
		{"legacy: not JSON", gqltest.LegacyWS, false, `{nope`, websocket.CloseProtocolError, "Invalid message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := rawDial(t, e.url, c.proto, 0)
			if !c.before {
				initialised(t, conn)
			}
			send(t, conn, c.message)
			code, text, seen := closedWith(t, conn)
			if code != c.code || !strings.Contains(text, c.text) {
				t.Fatalf("closed with %d %q, want %d %q", code, text, c.code, c.text)
			}
			if c.proto == gqltest.LegacyWS && (len(seen) == 0 || seen[len(seen)-1] != "connection_error") {
				t.Fatalf("legacy protocol: messages before the close %v, want a connection_error", seen)
			}
		})
	}
	t.Run("no connection_init in time", func(t *testing.T) {
		conn := rawDial(t, e.url, gqltest.TransportWS, 0)
		if code, text, _ := closedWith(t, conn); code != 4408 || text != "Connection initialisation timeout" {
			t.Fatalf("closed with %d %q, want 4408", code, text)
		}
	})
	t.Run("not a websocket handshake", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/query", nil)
		req.Header.Set("Upgrade", "websocket")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Errors []gqltest.Error }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusBadRequest ||
			len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != graph.CodeBadRequest {
			t.Fatalf("%d %+v %v", resp.StatusCode, body, err)
		}
	})
}

// bigFeedback is feedback whose events are about 10 KB each.
func bigFeedback(t *testing.T, e *env, projectID string) int {
	t.Helper()
	fb := e.submit(map[string]any{"projectID": projectID, "feedbackText": strings.Repeat("slow ", 2000)})
	return dbID(t, fb.ID)
}

// announce makes feedback fb PENDING again: one event.
func (e *env) announce(t *testing.T, fb int) {
	t.Helper()
	e.client.Feedback.UpdateOneID(fb).SetStatus(feedback.StatusFailed).ExecX(accesstest.System())
	if _, err := e.pipeline.Retry(accesstest.System(), fb); err != nil {
		t.Fatal(err)
	}
}

// A client that stops reading fills its socket, then its queue, and is
// disconnected; meanwhile the others of its shared subscription get every
// event without waiting for it.
func TestSlowClientIsDisconnectedWithoutHoldingUpOthers(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) {
		c.Limits.MaxWebsocketQueuedMessages = 4
		c.Limits.WebsocketSendBuffer = 16 << 10 // full sooner than the kernel's 4 MiB
	})
	p := e.createProject("Busy")
	fb := bigFeedback(t, e, p.ID)
	vars := map[string]any{"p": p.ID}

	slow := rawDial(t, e.url, gqltest.TransportWS, 2048)
	initialised(t, slow)
	payload, _ := json.Marshal(map[string]any{"query": boardSubscription, "variables": vars})
	send(t, slow, `{"id":"slow","type":"subscribe","payload":`+string(payload)+`}`)
	fast := gqltest.Dial(t, e.url, gqltest.TransportWS)
	fast.Subscribe("fast", boardSubscription, vars)
	testutil.WaitFor(t, "both subscriptions", func() bool { return e.server.Subscriptions() == 2 })
	e.nudgeUntilAll(t, gid.Encode(fb), fast) // live; the slow client does not read

	for i := 0; !strings.Contains(e.scrape(), "feedbackloop_websocket_slow_clients_disconnected_total 1"); i++ {
		if i == 200 {
			t.Fatal("200 events of 10 KB did not fill a client's socket and queue of 4")
		}
		e.announce(t, fb)
		if m := fast.Next(); m.Kind != "data" || m.ID != "fast" {
			t.Fatalf("event %d: the fast client got %s %s", i, m.Kind, m.Payload)
		}
	}
	if code, _, _ := closedWith(t, slow); code != websocket.CloseTryAgainLater && code != websocket.CloseAbnormalClosure {
		t.Fatalf("the slow client's connection ended with %d, want 1013 or a dropped connection", code)
	}
	testutil.WaitFor(t, "the slow client's subscription to end", func() bool { return e.server.Subscriptions() == 1 })
	e.announce(t, fb)
	if m := fast.Next(); m.Kind != "data" {
		t.Fatalf("after the slow client left: %s %s", m.Kind, m.Payload)
	}
}

// A client that stopped reading long enough for writes to wait, then read
// again, still gets events written after the write timeout has passed.
func TestWritesGoOnAfterTheSocketWasFull(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) {
		c.Limits.WebsocketWriteTimeout = 500 * time.Millisecond
		c.Limits.WebsocketSendBuffer = 16 << 10
	})
	p := e.createProject("Paused")
	fb := bigFeedback(t, e, p.ID)
	conn := rawDial(t, e.url, gqltest.TransportWS, 2048)
	initialised(t, conn)
	payload, _ := json.Marshal(map[string]any{"query": boardSubscription, "variables": map[string]any{"p": p.ID}})
	send(t, conn, `{"id":"1","type":"subscribe","payload":`+string(payload)+`}`)
	testutil.WaitFor(t, "the subscription", func() bool { return e.server.Subscriptions() == 1 })
	watcher := gqltest.Dial(t, e.url, gqltest.TransportWS)
	watcher.Subscribe("w", boardSubscription, map[string]any{"p": p.ID})
	e.nudgeUntilAll(t, gid.Encode(fb), watcher)

	// readUntil reads events until the one of version v.
	readUntil := func(v int) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for version %d: %v", v, err)
			}
			if strings.Contains(string(data), fmt.Sprintf(`"version":%d,`, v)) {
				return
			}
		}
	}
	// Eight events of 10 KB while the client does not read: more than its
	// socket takes, so writes wait; then it reads them all.
	for range 8 {
		e.announce(t, fb)
	}
	v := e.client.Feedback.GetX(accesstest.System(), fb).Version
	readUntil(v)
	time.Sleep(time.Second) // past the write timeout
	e.announce(t, fb)
	readUntil(v + 1)
}

// Clients that answer keep-alives stay; one that stays silent is dropped
// after two intervals.
func TestSilentClientsAreDropped(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.Limits.WebsocketKeepAlive = 200 * time.Millisecond })
	p := e.createProject("Alive")
	vars := map[string]any{"p": p.ID}
	silent := rawDial(t, e.url, gqltest.TransportWS, 0)
	initialised(t, silent)
	live := gqltest.Dial(t, e.url, gqltest.TransportWS) // answers pings
	legacy := gqltest.Dial(t, e.url, gqltest.LegacyWS)  // answers websocket pings
	live.Subscribe("1", boardSubscription, vars)
	legacy.Subscribe("1", boardSubscription, vars)

	start := time.Now()
	code, _, seen := closedWith(t, silent) // reads, but never answers a ping
	if code != websocket.CloseAbnormalClosure || len(seen) == 0 || seen[0] != "ping" {
		t.Fatalf("silent client: closed with %d after %v, want a dropped connection after pings", code, seen)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("dropped after %v, sooner than two intervals", took)
	}
	time.Sleep(time.Second)
	fb := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "still here"})
	for _, c := range []*gqltest.WS{live, legacy} {
		if got := dataOf(t, c.Next()); !strings.Contains(got, fb.ID) {
			t.Fatalf("%s: %s", c.Proto, got)
		}
	}
}
