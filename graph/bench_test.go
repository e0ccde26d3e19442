package graph_test

import (
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// BenchmarkEventDelivery1000Websockets measures how long a status change
// takes from its commit, through the outbox relay and Redis pub/sub, to
// 1,000 websocket clients of one API instance (each its own connection,
// subscribed to the same project with the selection of issue 12's
// measurement: status, version and the feedback's id, status and text),
// reporting the mean and the worst time until the last client has it. The
// clients run in the benchmark's process, so their reading is counted too.
func BenchmarkEventDelivery1000Websockets(b *testing.B) {
	const clients = 1000
	e := newEnvWith(b, func(c *graph.Config) { c.Limits.MaxWebsocketConnectionsPerClient = clients })
	p := e.client.Project.Create().SetName("Busy").SaveX(accesstest.System())
	fb := e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("watched").SetStatus(feedback.StatusFailed).SaveX(accesstest.System())
	pid := gid.Encode(p.ID)

	conns := make([]*gqltest.WS, clients)
	for i := range conns {
		conns[i] = gqltest.Dial(b, e.url, gqltest.TransportWS)
		conns[i].Subscribe("p", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status version feedback { id status feedbackText } } }`, map[string]any{"p": pid})
	}
	deadline := time.Now().Add(time.Minute)
	for e.server.Subscriptions() < clients {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d subscriptions after a minute", e.server.Subscriptions(), clients)
		}
		time.Sleep(10 * time.Millisecond)
	}

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		missed := make(chan int, clients)
		e.client.Feedback.UpdateOneID(fb.ID).SetStatus(feedback.StatusFailed).ExecX(accesstest.System()) // unannounced
		start := time.Now()
		if _, err := e.pipeline.Retry(accesstest.System(), fb.ID); err != nil { // announced
			b.Fatal(err)
		}
		for n, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if m, ok := c.Pending(10 * time.Second); !ok || m.Kind != "data" {
					missed <- n
				}
			}()
		}
		wg.Wait()
		latencies = append(latencies, time.Since(start))
		if len(missed) > 0 {
			b.Fatalf("%d clients missed event %d", len(missed), i)
		}
	}
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	var total time.Duration
	for _, l := range latencies {
		total += l
	}
	b.ReportMetric(float64(total.Microseconds())/float64(len(latencies))/1000, "ms/event-to-all")
	b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "ms-max")
}

// BenchmarkRateLimitOverhead is the cost of the request budget per request:
// the same trivial query through the whole HTTP stack without and with the
// limiter (one Redis round trip running the GCRA script). The difference
// between the two is the limiter's overhead.
func BenchmarkRateLimitOverhead(b *testing.B) {
	for _, limited := range []bool{false, true} {
		b.Run(map[bool]string{false: "without", true: "with"}[limited], func(b *testing.B) {
			e := newEnvWith(b, func(c *graph.Config) {
				if !limited {
					c.RateLimit = nil
				} else {
					c.RateLimit = ratelimit.New(testredis.Client(b), ratelimit.Config{Prefix: "rl-" + testredis.Namespace(b), Points: 1 << 30})
				}
			})
			c := e.from("127.0.0.1")
			body := []byte(`{"query":"{ __typename }"}`)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := c.try(http.MethodPost, "application/json", body)
				if err != nil || r.Status != 200 || (limited && r.Header.Get("X-RateLimit-Remaining") == "") {
					b.Fatalf("%v %d %v", err, r.Status, r.Header)
				}
			}
		})
	}
}
