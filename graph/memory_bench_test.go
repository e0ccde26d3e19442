package graph_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// The client process of BenchmarkIdleWebsocketMemory reads these.
const (
	wsClientsURLEnv     = "FEEDBACKLOOP_BENCH_WS_URL"
	wsClientsCountEnv   = "FEEDBACKLOOP_BENCH_WS_COUNT"
	wsClientsProjectEnv = "FEEDBACKLOOP_BENCH_WS_PROJECT"
	wsClientsQueryEnv   = "FEEDBACKLOOP_BENCH_WS_QUERY"
)

// BenchmarkIdleWebsocketMemory measures what an idle websocket with one
// subscription costs the API: the server's heap and stacks (after a GC) and
// its resident memory, before and after 1,000 clients connect and
// subscribe. The clients run in another process (this test binary, started
// again), so their memory is not counted. "shared": every client sends the
// same document, answered from the events' snapshots (a board's
// subscribers); "own": a selection beyond the snapshot, which runs a
// subscription of its own per client.
func BenchmarkIdleWebsocketMemory(b *testing.B) {
	for _, c := range []struct{ name, query string }{
		{"shared", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status } }`},
		{"own", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status feedback { project { name } } } }`},
	} {
		b.Run(c.name, func(b *testing.B) { benchmarkIdleWebsocketMemory(b, c.query) })
	}
}

func benchmarkIdleWebsocketMemory(b *testing.B, query string) {
	const clients = 1000
	e := newEnvWith(b, func(c *graph.Config) { c.Limits.MaxWebsocketConnectionsPerClient = clients })
	p := e.client.Project.Create().SetName("Watched").SaveX(accesstest.System())
	var heap, rss float64
	for i := 0; i < b.N; i++ {
		before := memoryNow()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), wsClientsURLEnv+"="+e.url, wsClientsCountEnv+"="+strconv.Itoa(clients), wsClientsProjectEnv+"="+gid.Encode(p.ID),
			wsClientsQueryEnv+"="+query)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			b.Fatalf("client process: %q %v", line, err)
		}
		testutil.WaitFor(b, "every subscription", func() bool { return e.server.Subscriptions() == clients })
		time.Sleep(time.Second) // let the connections' goroutines settle
		after := memoryNow()
		heap += float64(after.heap-before.heap) / clients / 1024
		rss += float64(after.rss-before.rss) / clients / 1024
		stdin.Close() // the clients hang up
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		testutil.WaitFor(b, "the connections to close", func() bool { return e.server.Subscriptions() == 0 })
	}
	b.ReportMetric(heap/float64(b.N), "KiB-heap+stack/conn")
	b.ReportMetric(rss/float64(b.N), "KiB-RSS/conn")
}

type memory struct{ heap, rss int64 }

// memoryNow is the process's live heap and goroutine stacks after a full
// GC, and its resident set.
func memoryNow() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{heap: int64(ms.HeapInuse + ms.StackInuse)}
	status, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			m.rss = kb * 1024
		}
	}
	return m
}

// runWebsocketClients is the client process: it opens the connections,
// subscribes each to the project's events, says "ready" and keeps them
// (answering pings) until its stdin closes.
func runWebsocketClients(base string) int {
	n, _ := strconv.Atoi(os.Getenv(wsClientsCountEnv))
	project := os.Getenv(wsClientsProjectEnv)
	d := websocket.Dialer{Subprotocols: []string{gqltest.TransportWS}, HandshakeTimeout: 10 * time.Second}
	conns := make([]*websocket.Conn, 0, n)
	var mu sync.Mutex // one writer per connection: pongs, then the closes
	for i := 0; i < n; i++ {
		conn, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/query", nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			return 1
		}
		conns = append(conns, conn)
		_ = conn.WriteJSON(map[string]any{"type": "connection_init"})
		var ack struct{ Type string }
		if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
			fmt.Fprintln(os.Stderr, "init:", ack, err)
			return 1
		}
		_ = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
			"query": os.Getenv(wsClientsQueryEnv), "variables": map[string]any{"p": project}}})
		go func() {
			for {
				var m struct{ Type string }
				if err := conn.ReadJSON(&m); err != nil {
					return
				}
				if m.Type == "ping" {
					mu.Lock()
					_ = conn.WriteJSON(map[string]string{"type": "pong"})
					mu.Unlock()
				}
			}
		}()
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	mu.Lock() // no more pongs
	for _, c := range conns {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.Close()
	}
	return 0
}
