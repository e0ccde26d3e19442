package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// peerFloor is the floor server (floorArg): the least any websocket server
// must do to deliver one event to every subscriber, measured with the same
// clients as this service, so that what the machine itself costs can be
// told apart from what the service adds.
const peerFloor = "floor"

// floorArg starts this program as the floor server, listening on the
// address that follows.
const floorArg = "floor-server"

// floorKeepAlive is how often the floor pings a connection: the service's
// default (wstransport.DefaultKeepAlive), so that both spend the same on
// keep-alives.
const floorKeepAlive = 10 * time.Second

// runFloor serves graphql-transport-ws at /ws with no GraphQL, no
// authorization and no JSON per subscriber: it acknowledges connection_init,
// pings as often as the service does, answers pings and notes each
// subscribe's ID. A POST to /publish writes one message, framed once per
// subscription ID by gorilla (a PreparedMessage, as the service frames a
// shared event), holding the body as the event's text to every subscriber:
// one write each, spread over every core. That write, and the clients'
// reading on the same machine, are what a server cannot avoid.
func runFloor(addr string) int {
	f := &floor{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", f.serveWS)
	mux.HandleFunc("POST /publish", f.publish)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadsubs floor-server:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "loadsubs floor-server: listening on %s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "loadsubs floor-server:", err)
		return 1
	}
	return 0
}

type floor struct {
	mu   sync.Mutex
	subs []*floorSub
}

// floorSub is one subscribed connection. mu makes its writers (publish,
// the replies, the pings) one at a time, as gorilla allows one concurrent
// writer.
type floorSub struct {
	mu   sync.Mutex
	ws   *websocket.Conn
	id   string
	gone bool
}

var floorUpgrader = websocket.Upgrader{
	Subprotocols:    []string{"graphql-transport-ws"},
	ReadBufferSize:  512,
	WriteBufferSize: 512,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true },
}

func (f *floor) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := floorUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s := &floorSub{ws: ws}
	defer func() {
		s.mu.Lock()
		s.gone = true
		s.mu.Unlock()
		ws.Close()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var m struct{ Type, ID string }
		if json.Unmarshal(data, &m) != nil {
			return
		}
		var reply string
		switch m.Type {
		case "connection_init":
			reply = `{"type":"connection_ack"}`
			// Liveness as the service keeps it: a ping per interval, which
			// the clients answer, at the service's default interval.
			var beat *time.Timer
			beat = time.AfterFunc(floorKeepAlive, func() {
				s.mu.Lock()
				err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`))
				s.mu.Unlock()
				if err == nil {
					beat.Reset(floorKeepAlive)
				}
			})
			defer beat.Stop()
		case "ping":
			reply = `{"type":"pong"}`
		case "subscribe":
			s.id = m.ID
			f.mu.Lock()
			f.subs = append(f.subs, s)
			f.mu.Unlock()
			continue
		default:
			continue
		}
		s.mu.Lock()
		err = ws.WriteMessage(websocket.TextMessage, []byte(reply))
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (f *floor) publish(w http.ResponseWriter, r *http.Request) {
	text, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	payload, _ := json.Marshal(map[string]any{"data": map[string]any{"event": map[string]string{"text": string(text)}}})
	f.mu.Lock()
	subs := f.subs
	f.mu.Unlock()
	messages := map[string]*websocket.PreparedMessage{}
	for _, s := range subs {
		if messages[s.id] == nil {
			id, _ := json.Marshal(s.id)
			pm, err := websocket.NewPreparedMessage(websocket.TextMessage, fmt.Appendf(nil, `{"id":%s,"type":"next","payload":%s}`, id, payload))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			messages[s.id] = pm
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	chunk := (len(subs) + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	for first := 0; first < len(subs); first += chunk {
		wg.Add(1)
		go func(part []*floorSub) {
			defer wg.Done()
			for _, s := range part {
				s.mu.Lock()
				if !s.gone {
					_ = s.ws.WritePreparedMessage(messages[s.id])
				}
				s.mu.Unlock()
			}
		}(subs[first:min(first+chunk, len(subs))])
	}
	wg.Wait()
	fmt.Fprintf(w, "wrote to %d subscribers in %s\n", len(subs), time.Since(start))
}

// setUpFloor measures the floor server at -url: anonymous subscribers, and
// an event is a POST of its text to /publish.
func setUpFloor(o options) (target, error) {
	hc := &http.Client{Timeout: time.Minute}
	return target{
		wsURL:  o.websocket("/ws"),
		query:  `subscription { event { text } }`,
		tokens: make([]string, o.users()),
		submit: func(text string) error {
			resp, err := hc.Post(o.url+"/publish", "text/plain", strings.NewReader(text))
			if err != nil {
				return fmt.Errorf("the floor server's /publish: %w", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("the floor server's /publish: HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}, nil
}
