package graph_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/web"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) {
	// Started by BenchmarkIdleWebsocketMemory as the process holding its
	// clients, so that their memory is not counted as the server's.
	if url := os.Getenv(wsClientsURLEnv); url != "" {
		os.Exit(runWebsocketClients(url))
	}
	migrationstest.Main(m, "graph", &dbTemplate)
}

// env is one test's API: its own database, queue and event channel, a real
// HTTP server and a client. No worker runs: tests that need status changes
// drive the pipeline as a worker would.
type env struct {
	t             testing.TB
	client        *ent.Client
	db            *sql.DB
	dsn           string
	url           string
	queries       *atomic.Int64 // SQL statements sent through ent
	statements    *statementLog // and their text
	logs          *testutil.Buffer
	server        *graph.Server
	pipeline      *pipeline.Pipeline
	jobs          *queue.Client
	queueName     string
	bus           *events.Bus
	relay         *outbox.Relay
	busName       string // client name of the bus's Redis connections
	eventsChannel string
	rdb           *redis.Client
	authCfg       auth.Config
	configure     func(*graph.Config)
	// readTimeout, when set, serves the instances started from now on with
	// web.NewServer's timeouts and this ReadTimeout, as the service does.
	readTimeout time.Duration
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv (in open mode: every caller is the local admin) with
// a chance to change the API's configuration.
func newEnvWith(t testing.TB, configure func(*graph.Config)) *env {
	t.Helper()
	return newEnvAuth(t, auth.Config{}, configure)
}

// newEnvAuth is newEnvWith with credentials configured by authCfg.
func newEnvAuth(t testing.TB, authCfg auth.Config, configure func(*graph.Config)) *env {
	t.Helper()
	db, dsn := dbTemplate.Open(t)
	return newEnvOn(t, db, dsn, authCfg, configure)
}

// restart is another API on e's database, configured by authCfg, as when
// the service is restarted with other settings.
func (e *env) restart(t testing.TB, authCfg auth.Config) *env {
	t.Helper()
	return newEnvOn(t, e.db, e.dsn, authCfg, nil)
}

// newEnvOn is newEnvAuth on the database db (at dsn).
func newEnvOn(t testing.TB, db *sql.DB, dsn string, authCfg auth.Config, configure func(*graph.Config)) *env {
	t.Helper()
	counter := &countingDriver{Driver: entsql.OpenDB(dialect.Postgres, db), n: &atomic.Int64{}, log: &statementLog{}}
	client := ent.NewClient(ent.Driver(counter))
	logs := &testutil.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	rdb := testredis.Client(t)
	ns := testredis.Namespace(t)
	queueName := "q-" + ns
	jobs := queue.NewClient(rdb, queue.Options{Name: queueName})
	t.Cleanup(func() { jobs.Close() })
	// The bus has connections of its own, which tests may kill.
	busName := "bus-" + ns
	bus := events.NewBus(events.BusConfig{Redis: testredis.NamedClient(t, busName), Channel: "ev-" + ns, Logger: logger, PingEvery: time.Second})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Shutdown(context.Background()) })
	pipe := pipeline.New(pipeline.Config{Client: client, Jobs: jobs, Logger: logger})
	// The outbox relay, as every process runs one (its statements are not
	// counted: it polls).
	relay := outbox.NewRelay(outbox.RelayConfig{DB: db, Client: store.NewClient(db), DatabaseURL: dsn,
		Publisher: events.NewPublisher(rdb, "ev-"+ns), Logger: logger, PollEvery: 100 * time.Millisecond})
	if err := relay.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Shutdown(context.Background()) })

	authCfg.Logger = logger
	e := &env{t: t, client: client, db: db, dsn: dsn, queries: counter.n, statements: counter.log, logs: logs,
		pipeline: pipe, jobs: jobs, queueName: queueName, bus: bus, relay: relay, busName: busName, eventsChannel: "ev-" + ns,
		rdb: rdb, authCfg: authCfg, configure: configure}
	e.server, e.url = e.startInstance(t, bus)
	return e
}

// startInstance starts an API instance over e's database, queue and events
// channel, whose events come from bus.
func (e *env) startInstance(t testing.TB, bus *events.Bus) (*graph.Server, string) {
	t.Helper()
	authn, err := auth.New(context.Background(), e.authCfg, e.client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(authn.Close)
	origins := web.NewOrigins(nil, authn.Open())
	cfg := graph.Config{
		Client:      e.client,
		Pipeline:    e.pipeline,
		Bus:         bus,
		Logger:      e.authCfg.Logger,
		Auth:        authn,
		CheckOrigin: origins.AllowWebsocket,
		Metrics:     metrics.New(),
	}
	// Budgets in the test's own namespace, with the defaults.
	ns := strings.TrimPrefix(e.eventsChannel, "ev-")
	cfg.RateLimit = ratelimit.New(e.rdb, ratelimit.Config{Prefix: "rl-" + ns, ByAddress: authn.Open(), Logger: cfg.Logger, Metrics: cfg.Metrics})
	if e.configure != nil {
		e.configure(&cfg)
	}
	api := graph.New(cfg)
	srv := httptest.NewUnstartedServer(web.New(web.Config{
		GraphQL: api,
		Auth:    authn,
		Logger:  cfg.Logger,
		Checks: map[string]web.Check{
			"database": e.db.PingContext,
			"redis":    func(ctx context.Context) error { return e.rdb.Ping(ctx).Err() },
		},
		Metrics:   cfg.Metrics,
		Origins:   origins,
		RateLimit: cfg.RateLimit,
	}))
	if e.readTimeout > 0 {
		srv.Config = web.NewServer(srv.Config.Handler, e.readTimeout, 0, cfg.Logger)
	}
	srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := api.CloseSubscriptions(ctx); err != nil {
			t.Error(err)
		}
		srv.Close()
	})
	return api, srv.URL
}

// instance starts another API instance over e's database, queue and events
// channel, with a bus of its own, as a second process would run: it returns
// its URL.
func (e *env) instance(t testing.TB) string {
	t.Helper()
	return e.instanceOn(t, e.eventsChannel)
}

// instanceOn is instance with its bus on channel: on another, it hears no
// event.
func (e *env) instanceOn(t testing.TB, channel string) string {
	t.Helper()
	bus := events.NewBus(events.BusConfig{Redis: testredis.Client(t), Channel: channel, Logger: e.authCfg.Logger, PingEvery: time.Second})
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Shutdown(context.Background()) })
	_, url := e.startInstance(t, bus)
	return url
}

type (
	gqlError    = gqltest.Error
	gqlResponse = gqltest.Response
)

// do posts a GraphQL request and decodes the response, whatever its status.
func (e *env) do(query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	return gqltest.Post(e.t, e.url, query, vars)
}

// doAs is do with credentials, such as "Bearer " + a token.
func (e *env) doAs(authorization, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	return gqltest.PostAs(e.t, e.url, authorization, query, vars)
}

// mustDo runs a request that must succeed and decodes its data into out.
func (e *env) mustDo(query string, vars map[string]any, out any) {
	e.t.Helper()
	gqltest.MustPost(e.t, e.url, query, vars, out)
}

// mustFail runs a request that must fail with exactly one error of the given code.
func (e *env) mustFail(query string, vars map[string]any, code string) gqlError {
	e.t.Helper()
	resp := e.do(query, vars)
	if len(resp.Errors) != 1 {
		e.t.Fatalf("want one %s error, got %+v (data %s)", code, resp.Errors, resp.Data)
	}
	got := resp.Errors[0]
	if got.Extensions["code"] != code {
		e.t.Fatalf("want code %s, got %+v", code, got)
	}
	return got
}

// countingDriver counts the statements ent sends, to prove queries are
// batched, and logs them, to show what they do.
type countingDriver struct {
	dialect.Driver
	n   *atomic.Int64
	log *statementLog
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	d.log.add(query, args)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	d.log.add(query, args)
	return d.Driver.Exec(ctx, query, args, v)
}

// statementLog keeps the text and arguments of the statements sent, in order.
type statementLog struct {
	mu    sync.Mutex
	texts []string
	args  []any
}

func (l *statementLog) add(query string, args any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.texts = append(l.texts, query)
	l.args = append(l.args, args)
}

// argsOf returns the arguments of the statements sent after the first n
// whose text contains part.
func (l *statementLog) argsOf(n int, part string) [][]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]any
	for i := min(n, len(l.texts)); i < len(l.texts); i++ {
		if strings.Contains(l.texts[i], part) {
			args, _ := l.args[i].([]any)
			out = append(out, args)
		}
	}
	return out
}

// since returns the statements sent after the first n.
func (l *statementLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.texts[min(n, len(l.texts)):])
}

func (l *statementLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.texts)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.Driver.Tx(ctx) }

// QueryContext serves raw SQL sent through the client (ent's execquery
// feature), as the insights are.
func (d *countingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.n.Add(1)
	return d.Driver.(*entsql.Driver).QueryContext(ctx, query, args...)
}

// Shapes of the objects tests read back.
type project struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Status      string  `json:"status"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`
}

type task struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	Status         string   `json:"status"`
	Priority       int      `json:"priority"`
	EstimatedHours *float64 `json:"estimatedHours"`
	ProjectID      string   `json:"projectID"`
}

type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

const projectFields = `id name description status createdAt updatedAt`

func (e *env) createProject(name string) project {
	e.t.Helper()
	var out struct{ CreateProject project }
	e.mustDo(`mutation($in: CreateProjectInput!) { createProject(input: $in) { `+projectFields+` } }`,
		map[string]any{"in": map[string]any{"name": name}}, &out)
	return out.CreateProject
}

func (e *env) createTask(projectID, title string, priority int) task {
	e.t.Helper()
	var out struct{ CreateTask task }
	e.mustDo(`mutation($in: CreateTaskInput!) { createTask(input: $in) { id title status priority estimatedHours projectID } }`,
		map[string]any{"in": map[string]any{"projectID": projectID, "title": title, "priority": priority}}, &out)
	return out.CreateTask
}
