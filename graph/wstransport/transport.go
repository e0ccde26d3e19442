// Package wstransport serves GraphQL over websockets for gqlgen:
// graphql-transport-ws (the graphql-ws library) and the legacy graphql-ws
// protocol (subscriptions-transport-ws), on gorilla/websocket.
//
// It replaces gqlgen's websocket transport, which costs every connection
// four goroutines and every subscription two more, executes each event once
// per subscriber and writes from the subscription's goroutine, so that one
// socket that stopped reading holds everything behind it. Here a connection
// has one goroutine while idle (its reader); a subscription shared with
// others (share.go) has none, and one of its own none besides its
// resolver's (stream.go); writes go through a bounded queue per connection,
// drained by a goroutine that exists only while there is something to write,
// and a shared event is written by a few workers for all its subscribers
// (write.go); keep-alives run on a timer. A client that reads so slowly that
// its queue fills is closed with 1013 (try again later) and resumes with its
// last cursor: it never holds up anyone else.
//
// gorilla owns the socket: it reads on the connection's reader goroutine and
// writes on whichever goroutine is the connection's one writer at the time,
// as its documentation asks (one concurrent reader, one concurrent writer);
// only Close and WriteControl, which gorilla allows from anywhere, are
// called from other goroutines.
package wstransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Authenticator turns credentials into a viewer (see the auth package).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (*viewer.Viewer, error)
}

// Config is what the transport needs. Auth is required; the rest is
// optional.
type Config struct {
	Auth Authenticator
	// Refused reports whether an error of Auth refuses the credential
	// (the connection closes with 4403) rather than saying it could not be
	// checked now (auth.IsError; nil: every error refuses).
	Refused func(error) bool
	// CheckOrigin decides which browser pages may open a websocket.
	CheckOrigin func(*http.Request) bool
	// UpgradeError answers a request that could not be upgraded (as
	// gorilla's Upgrader.Error; nil: gorilla's plain-text answer).
	UpgradeError func(w http.ResponseWriter, r *http.Request, status int, reason error)
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
	// RateLimit, when set, charges each subscription event delivered to
	// its client's request budget (EventBytesPerPoint).
	RateLimit *ratelimit.Limiter
	// Share, when set, says which subscriptions share one execution
	// (share.go).
	Share  func(*graphql.OperationContext) (Share, bool)
	Limits Limits
}

// Limits bound connections. Zero values take the defaults.
type Limits struct {
	MaxMessageBytes int64 // one message from a client; larger ones close the connection with 1009
	// MaxConnections is per instance, MaxConnectionsPerClient per client:
	// by address until connection_init, then by identity.
	MaxConnections             int
	MaxConnectionsPerClient    int
	MaxOperationsPerConnection int
	// MaxQueuedMessages bounds the messages waiting to be written to one
	// connection: a client that falls that far behind on shared events is
	// closed with 1013 and resumes with its last cursor.
	MaxQueuedMessages int
	// KeepAlive is how often a connection is pinged; one silent for two
	// intervals is dropped.
	KeepAlive time.Duration
	// WriteTimeout bounds how long one message may wait for a client's
	// socket; past it the connection is dropped.
	WriteTimeout time.Duration
	// InitTimeout is how long a new connection may take to send
	// connection_init; then it is closed with 4408.
	InitTimeout time.Duration
	// SendBuffer, when set, is the kernel's send buffer of each websocket
	// (SO_SNDBUF, bytes), which otherwise grows to net.ipv4.tcp_wmem's
	// maximum (4 MiB) for a client that does not read.
	SendBuffer int
}

// The limits' defaults.
const (
	DefaultMaxMessageBytes            = 64 << 10
	DefaultMaxConnections             = 10_000
	DefaultMaxConnectionsPerClient    = 20
	DefaultMaxOperationsPerConnection = 100
	DefaultMaxQueuedMessages          = 256
	DefaultKeepAlive                  = 10 * time.Second
	DefaultWriteTimeout               = 10 * time.Second
	DefaultInitTimeout                = 15 * time.Second
)

func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxMessageBytes, DefaultMaxMessageBytes)
	orDefault(&l.MaxConnections, DefaultMaxConnections)
	orDefault(&l.MaxConnectionsPerClient, DefaultMaxConnectionsPerClient)
	orDefault(&l.MaxOperationsPerConnection, DefaultMaxOperationsPerConnection)
	orDefault(&l.MaxQueuedMessages, DefaultMaxQueuedMessages)
	orDefault(&l.KeepAlive, DefaultKeepAlive)
	orDefault(&l.WriteTimeout, DefaultWriteTimeout)
	orDefault(&l.InitTimeout, DefaultInitTimeout)
	return l
}

func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Error codes of the GraphQL errors the transport sends.
const (
	// CodeSubscriptionLimit ends an operation started on a connection that
	// runs MaxOperationsPerConnection already.
	CodeSubscriptionLimit = "SUBSCRIPTION_LIMIT_EXCEEDED"
	// CodeUnavailable ends an operation whose credential could not be
	// checked right now.
	CodeUnavailable = "UNAVAILABLE"
)

// The subprotocols, by the names clients offer.
const (
	protoTransportWS = "graphql-transport-ws"
	protoLegacyWS    = "graphql-ws"
)

// Close codes. Clients built on the graphql-ws library reconnect after
// 4403, 1001 and 1013, asking their connectionParams function for fresh
// credentials; they give up after 4400, 4401, 4409 and 4429.
const (
	closeNormal       = websocket.CloseNormalClosure
	closeGoingAway    = websocket.CloseGoingAway
	closeLegacyError  = websocket.CloseProtocolError // the legacy protocol's close after connection_error
	closeTooBig       = websocket.CloseMessageTooBig
	closeNotUTF8      = websocket.CloseInvalidFramePayloadData
	closeTryAgain     = websocket.CloseTryAgainLater // credentials could not be checked, the instance is full, or the client fell behind
	closeBadRequest   = 4400
	closeUnauthorized = 4401 // subscribe before connection_ack
	closeForbidden    = 4403
	closeInitTimeout  = 4408
	closeDuplicateID  = 4409 // "Subscriber for <id> already exists"
	closeTooMany      = 4429 // too many connections for the client, a second connection_init, or events over budget
)

// closeWait is how long a closing connection waits for the client's close
// frame, and for its own to be written.
const closeWait = time.Second

var errShuttingDown = errors.New("the server is shutting down; reconnect to another instance")

// Transport serves websocket upgrades of a gqlgen handler. It implements
// graphql.Transport; add it to the handler with AddTransport, and call
// Shutdown when the process stops.
type Transport struct {
	upgrader websocket.Upgrader
	auth     Authenticator
	refused  func(error) bool
	logger   *slog.Logger
	metrics  *metrics.Metrics   // nil: none
	limiter  *ratelimit.Limiter // nil: no budgets
	share    func(*graphql.OperationContext) (Share, bool)
	limits   Limits

	closing     context.Context // done once Shutdown was called
	markClosing context.CancelFunc
	open        sync.WaitGroup // connections not closed yet
	conns       *connCounter
	keys        *keySockets
	groups      *groups

	subscriptions atomic.Int64 // open subscriptions, shared or not
	positioned    atomic.Int64 // streams ever positioned (Stream.Positioned)
	buffers       sync.Pool    // *[]byte to build messages in (write.go)
}

var _ graphql.Transport = (*Transport)(nil)

// New returns a transport; with cfg.Metrics set, it reports its connections,
// subscriptions and shared executions as gauges.
func New(cfg Config) *Transport {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	limits := cfg.Limits.withDefaults()
	closing, markClosing := context.WithCancel(context.Background())
	t := &Transport{
		upgrader: websocket.Upgrader{
			CheckOrigin:      cfg.CheckOrigin,
			HandshakeTimeout: 10 * time.Second,
			Subprotocols:     []string{protoTransportWS, protoLegacyWS},
			// Client messages are small (subscribe, complete, pong): a
			// small read buffer; larger ones are read through it.
			ReadBufferSize:  512,
			WriteBufferSize: 4096,
			// Write buffers come from a pool while a message is written,
			// so that no idle connection keeps one.
			WriteBufferPool: &sync.Pool{},
			Error:           cfg.UpgradeError,
		},
		auth:        cfg.Auth,
		refused:     cfg.Refused,
		logger:      logger,
		metrics:     cfg.Metrics,
		limiter:     cfg.RateLimit,
		share:       cfg.Share,
		limits:      limits,
		closing:     closing,
		markClosing: markClosing,
		conns:       &connCounter{max: limits.MaxConnections, maxPerClient: limits.MaxConnectionsPerClient, metrics: cfg.Metrics, perClient: map[string]int{}},
		keys:        &keySockets{byKey: map[int]map[keyed]struct{}{}},
	}
	t.groups = &groups{t: t, byKey: map[string]*group{}}
	if t.refused == nil {
		t.refused = func(error) bool { return true }
	}
	if m := cfg.Metrics; m != nil {
		m.Gauge("feedbackloop_websocket_connections", "Open websocket connections and Server-Sent Event streams on this instance.",
			func() float64 { return float64(t.conns.open()) })
		m.Gauge("feedbackloop_active_subscriptions", "Open GraphQL subscriptions on this instance.",
			func() float64 { return float64(t.Subscriptions()) })
		m.Gauge("feedbackloop_shared_subscription_executions", "Shared subscriptions running on this instance: one execution per event each, however many subscribers.",
			func() float64 { return float64(t.SharedExecutions()) })
	}
	return t
}

// Supports reports whether r asks for an upgrade.
func (t *Transport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// Do upgrades the request and serves the connection on a goroutine of its
// own, so that the HTTP handler's deep stack does not stay behind it.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	if tc, ok := ws.NetConn().(*net.TCPConn); ok && t.limits.SendBuffer > 0 {
		_ = tc.SetWriteBuffer(t.limits.SendBuffer)
	}
	c := &conn{t: t, ws: ws, exec: exec, legacy: ws.Subprotocol() != protoTransportWS,
		authorization: r.Header.Get("Authorization"), ops: map[string]*operation{}, done: make(chan struct{})}
	c.alive()
	t.open.Add(1)
	// A connection over a limit is refused after the upgrade, with a close
	// code and reason a browser can read (it sees no HTTP status).
	code, reason := t.conns.acquire(&c.slot, ratelimit.ClientKey(nil, requestAddress(r), true))
	// net/http cancels the request's context when Do returns.
	go c.serve(context.WithoutCancel(r.Context()), code, reason)
}

// Subscriptions is the number of open subscriptions.
func (t *Transport) Subscriptions() int { return int(t.subscriptions.Load()) }

// StreamsPositioned counts the subscription streams (shared executions
// once) that have reached the point from which they get every event, since
// the transport started. A subscription counts as open before its stream
// is positioned: a client that must not miss an event committed right
// after it subscribed (a test, typically) waits for this instead.
func (t *Transport) StreamsPositioned() int { return int(t.positioned.Load()) }

// Connections is the number of open connections, event streams included.
func (t *Transport) Connections() int { return t.conns.open() }

// SharedExecutions is the number of shared subscriptions running.
func (t *Transport) SharedExecutions() int { return t.groups.running() }

// Shutdown closes every connection with 1001 (going away), refuses new
// ones and waits until all are closed or ctx ends. Call it before
// http.Server.Shutdown, which does not wait for websockets.
func (t *Transport) Shutdown(ctx context.Context) error {
	t.markClosing()
	closed := make(chan struct{})
	go func() { t.open.Wait(); close(closed) }()
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close websocket connections: %w", ctx.Err())
	}
}

// requestAddress is the client's address as the rate limiter saw it, or
// as the request gives it when the limiter did not run.
func requestAddress(r *http.Request) string {
	if address := ratelimit.AddressOf(r.Context()); address != "" {
		return address
	}
	return ratelimit.Address(r)
}
