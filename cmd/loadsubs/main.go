// Command loadsubs measures how fast one API instance delivers an event to
// many websocket subscribers, and what each idle subscriber costs it.
//
// It creates a project (as a fresh owner) with one member per -per-user
// connections, opens -subscribers websockets across -workers client
// processes (this program, started again), each authenticated with a JWT
// in connectionParams and subscribed to projectFeedbackEvents, then submits
// feedback -samples times and prints the p50, p99 and max time from
// sending submitFeedback until the PENDING event reached each subscriber.
// With -server-pid it also prints the server's resident memory per
// connection (VmRSS before and after connecting) and its CPU time per event
// (utime+stime while the samples ran), and the client processes' CPU time
// per event, which on a shared machine competes with the server's.
//
// The clients are Go (gorilla/websocket) speaking graphql-transport-ws, as
// the graphql-ws library does; they are cheaper than Node clients, so more
// of the machine is left to the server. Run the server with JWT_SECRET set
// and give loadsubs the same secret:
//
//	JWT_SECRET=... go run ./cmd/loadsubs -url http://127.0.0.1:8080 -subscribers 10000 -server-pid $(pgrep -n feedbackloop)
//
// Run the server with ROLE=api, so that submissions make the only events
// (no worker analyses them), and see bench/README.md, section "One instance
// in detail: cmd/loadsubs", for the rest of its settings.
//
// With -peer postgraphile-v4 it measures PostGraphile v4 the same way, as
// issue 12 did: each subscriber listens (simple subscriptions) to the
// project's topic and selects the related feedback, which PostGraphile loads
// for each subscriber; a trigger announces every inserted feedback, and the
// sample is a createFeedback mutation. -url is then PostGraphile's, serving
// bench/postgraphile-v4/schema.sql; bench/subs.sh runs both side by side.
//
// With -peer floor it measures the floor: this program started as
// "loadsubs floor-server ADDRESS" is a websocket server that does nothing
// but write one prebuilt frame to every subscriber (see floor.go). Its
// figures are what the machine and the clients cost; the service's excess
// over them is what the service adds.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/hs256"
)

// Selections the subscribers may ask for.
var selections = map[string]string{
	"feedback": `status version feedback { id status feedbackText }`,
	"status":   `status version`,
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == workerArg {
		os.Exit(runWorker(os.Stdin, os.Stdout))
	}
	if len(os.Args) > 2 && os.Args[1] == floorArg {
		os.Exit(runFloor(os.Args[2]))
	}
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the API's base URL (its /query serves websockets)")
	flag.IntVar(&o.subscribers, "subscribers", 1000, "websocket connections, each with one subscription")
	flag.IntVar(&o.workers, "workers", 4, "client processes the connections are spread over")
	flag.IntVar(&o.perUser, "per-user", 20, "connections per user (at most the server's MAX_WS_CONNECTIONS_PER_CLIENT)")
	flag.IntVar(&o.rate, "rate", 500, "connections opened per second, in all")
	flag.IntVar(&o.samples, "samples", 20, "submissions timed")
	flag.DurationVar(&o.interval, "interval", 500*time.Millisecond, "pause between samples")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long a sample waits for every subscriber")
	flag.StringVar(&o.selection, "selection", "feedback", "what subscribers select: feedback (status version feedback { id status feedbackText }) or status (status version)")
	flag.IntVar(&o.serverPID, "server-pid", 0, "the server's process ID, to read its memory and CPU time from /proc (0: not measured)")
	flag.StringVar(&o.metricsURL, "metrics-url", "", "the server's /metrics (on METRICS_ADDR), to read how long it took to hand each event to every socket (empty: not read)")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "wait after connecting before reading the server's memory")
	flag.StringVar(&o.runID, "run", fmt.Sprint(time.Now().Unix()), "names this run's owner and project")
	flag.StringVar(&o.peer, "peer", "", "measure a peer instead of this service: postgraphile-v4, or floor (this program run as "+floorArg+" ADDRESS)")
	flag.Parse()
	o.secret = os.Getenv("JWT_SECRET")
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadsubs:", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadsubs:", err)
		os.Exit(1)
	}
}

type options struct {
	url                           string
	subscribers, workers, perUser int
	rate, samples                 int
	interval, timeout, settle     time.Duration
	selection, runID, secret      string
	metricsURL                    string
	peer                          string
	serverPID                     int
}

// users is how many users (one token each) hold the connections, perUser
// connections each.
func (o *options) users() int { return (o.subscribers + o.perUser - 1) / o.perUser }

// websocket is the websocket URL of path on the server at -url.
func (o *options) websocket(path string) string {
	return "ws" + strings.TrimPrefix(o.url, "http") + path
}

func (o *options) check() error {
	o.url = strings.TrimRight(o.url, "/")
	switch {
	case o.peer != "" && o.peer != peerPostGraphile && o.peer != peerFloor:
		return fmt.Errorf("-peer %q: want %s or %s", o.peer, peerPostGraphile, peerFloor)
	case o.peer != "" && o.selection != "feedback":
		return fmt.Errorf("-peer measures the feedback selection only")
	case o.peer == "" && len(o.secret) < hs256.MinSecretBytes:
		return fmt.Errorf("set JWT_SECRET to the server's secret (at least %d bytes)", hs256.MinSecretBytes)
	case !strings.HasPrefix(o.url, "http://") && !strings.HasPrefix(o.url, "https://"):
		return fmt.Errorf("-url %q: want http(s)://host:port", o.url)
	case o.subscribers < 1 || o.workers < 1 || o.perUser < 1 || o.rate < 1 || o.samples < 1:
		return fmt.Errorf("-subscribers, -workers, -per-user, -rate and -samples must be at least 1")
	case selections[o.selection] == "":
		return fmt.Errorf("-selection %q: want feedback or status", o.selection)
	}
	o.workers = min(o.workers, o.subscribers)
	return nil
}
