package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// workerArg starts this program as a client process, which reads its
// configuration and then commands as JSON lines on stdin and answers on
// stdout.
const workerArg = "client-process"

type workerConfig struct {
	URL       string // the websocket's
	Query     string
	Variables map[string]any
	Tokens    []string // one connection each
	Rate      float64  // connections per second
}

// workerCommand arms the worker: wait for the event whose data holds
// Marker, for at most Timeout.
type workerCommand struct {
	Marker  string
	Timeout time.Duration
}

type workerReply struct {
	Failed   int     `json:",omitempty"` // connections that could not subscribe
	Failure  string  `json:",omitempty"` // why, for one of them
	Arrivals []int64 `json:",omitempty"` // Unix nanoseconds, one per subscriber that got the event
	Missing  int     `json:",omitempty"` // subscribers that did not
}

// subscriber is one connection and its subscription.
type subscriber struct {
	ws  *websocket.Conn
	w   *worker
	got atomic.Int64 // when the armed event arrived (0: not yet)
}

type worker struct {
	marker  atomic.Pointer[[]byte]
	arrived atomic.Int64
	all     chan struct{} // receives once every subscriber has the event
	n       int64
	quit    atomic.Bool // the connections are being closed
}

func runWorker(stdin io.Reader, stdout io.Writer) int {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(stdout)
	var cfg workerConfig
	if !in.Scan() || json.Unmarshal(in.Bytes(), &cfg) != nil {
		return 2
	}
	w := &worker{all: make(chan struct{}, 1)}
	subs, reply := w.connect(cfg)
	w.n = int64(len(subs))
	if out.Encode(reply) != nil {
		return 1
	}
	defer func() {
		w.quit.Store(true)
		for _, s := range subs {
			_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			_ = s.ws.Close()
		}
	}()
	for in.Scan() {
		var cmd workerCommand
		if json.Unmarshal(in.Bytes(), &cmd) != nil {
			return 2
		}
		for _, s := range subs {
			s.got.Store(0)
		}
		w.arrived.Store(0)
		select {
		case <-w.all:
		default:
		}
		marker := []byte(cmd.Marker)
		w.marker.Store(&marker)
		if out.Encode(workerReply{}) != nil { // armed
			return 1
		}
		select {
		case <-w.all:
		case <-time.After(cmd.Timeout):
		}
		w.marker.Store(nil)
		r := workerReply{Arrivals: make([]int64, 0, len(subs))}
		for _, s := range subs {
			if at := s.got.Load(); at != 0 {
				r.Arrivals = append(r.Arrivals, at)
			} else {
				r.Missing++
			}
		}
		if out.Encode(r) != nil {
			return 1
		}
	}
	return 0
}

// connect opens the connections at cfg.Rate, one after the other, each
// authenticated with its token in connection_init's payload (as graphql-ws
// sends connectionParams) and subscribed.
func (w *worker) connect(cfg workerConfig) ([]*subscriber, workerReply) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second,
		ReadBufferSize: 1024, WriteBufferSize: 1024}
	every := time.Duration(float64(time.Second) / cfg.Rate)
	var (
		subs  []*subscriber
		reply workerReply
	)
	next := time.Now()
	for _, tok := range cfg.Tokens {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		s, err := w.subscribe(d, cfg.URL, tok, cfg)
		if err != nil {
			reply.Failed++
			reply.Failure = err.Error()
			continue
		}
		subs = append(subs, s)
	}
	return subs, reply
}

func (w *worker) subscribe(d websocket.Dialer, url, token string, cfg workerConfig) (*subscriber, error) {
	ws, resp, err := d.Dial(url, http.Header{})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	fail := func(err error) (*subscriber, error) {
		ws.Close()
		return nil, err
	}
	params := map[string]string{}
	if token != "" {
		params["authorization"] = "Bearer " + token
	}
	if err := ws.WriteJSON(map[string]any{"type": "connection_init", "payload": params}); err != nil {
		return fail(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ack struct{ Type string }
	if err := ws.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return fail(fmt.Errorf("connection_init: got %q, %v", ack.Type, err))
	}
	_ = ws.SetReadDeadline(time.Time{})
	err = ws.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": cfg.Query, "variables": cfg.Variables}})
	if err != nil {
		return fail(err)
	}
	s := &subscriber{ws: ws, w: w}
	go s.read()
	return s, nil
}

var (
	pingMessage = []byte(`{"type":"ping"`)
	pongMessage = []byte(`{"type":"pong"}`)
)

// read receives until the connection ends, answering pings and noting when
// the armed event arrives.
func (s *subscriber) read() {
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			if !s.w.quit.Load() {
				fmt.Fprintf(os.Stderr, "loadsubs: a subscriber's connection ended: %v\n", err)
			}
			return
		}
		if bytes.HasPrefix(data, pingMessage) {
			_ = s.ws.WriteMessage(websocket.TextMessage, pongMessage) // the only writer
			continue
		}
		marker := s.w.marker.Load()
		if marker != nil && bytes.Contains(data, *marker) && s.got.CompareAndSwap(0, time.Now().UnixNano()) {
			if s.w.arrived.Add(1) == s.w.n {
				s.w.all <- struct{}{}
			}
		}
	}
}
