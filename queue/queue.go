// Package queue is the service's job queue: analysis jobs on a Redis list,
// delivered at least once, retried with backoff, dead-lettered when they
// cannot succeed. It is a small layer over hibiken/asynq, which provides the
// list, leases, retries and the dead-letter ("archived") set.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/internal/text"
	"github.com/feedbackloop/feedbackloop/internal/tracing"
)

const taskType = "feedback:analyze"

// Job asks a worker to analyse one feedback.
type Job struct {
	FeedbackID int `json:"feedbackId"`
	// Key is a random value that belongs to one feedback row for good. In
	// the job's ID it keeps a job made for another row with the same
	// FeedbackID (a database restored from a backup, another deployment
	// on the same queue) from passing for this one, and the worker checks
	// it against the row before running the job. Jobs queued before keys
	// existed have none.
	Key string `json:"key,omitempty"`
	// Attempt is the feedback's attempt count when the job was queued. It
	// names the job with FeedbackID and Key, so one feedback is never
	// queued twice at once, while a retry after a failure gets a fresh job.
	Attempt int `json:"attempt"`
}

// ID is the job's de-duplication key.
func (j Job) ID() string {
	if j.Key == "" {
		return fmt.Sprintf("feedback-%d-%d", j.FeedbackID, j.Attempt) // as named before keys
	}
	return fmt.Sprintf("feedback-%d-%s-%d", j.FeedbackID, j.Key, j.Attempt)
}

// ErrDuplicate is returned by Enqueue when a job with the same ID, this
// very job, is still queued, running, waiting for a retry or dead-lettered.
var ErrDuplicate = errors.New("queue: a job with this ID already exists")

// ErrNotFound is returned by State for a job the queue does not hold.
var ErrNotFound = errors.New("queue: no such job")

// Options are shared by clients and servers of one queue.
type Options struct {
	// Name of the queue (default "feedback"). Deployments sharing a Redis use different names.
	Name string
	// MaxRetry is how many times a failing job is retried before it is
	// dead-lettered (default 10).
	MaxRetry int
	// Timeout bounds one run of a job (default 15 minutes).
	Timeout time.Duration
	// Tracing, when set, traces enqueueing and running jobs; a job carries
	// the trace context of the code that queued it in its headers, so its
	// run continues that trace in the worker.
	Tracing trace.TracerProvider
}

// Defaults of the queue's settings.
const (
	DefaultName        = "feedback"
	DefaultConcurrency = 4
	// DefaultPollInterval is how often an idle consumer looks at the queue
	// on its own, for jobs that arrive without a wake-up: retries that
	// became due, jobs of a consumer that died. New jobs wake it at once.
	DefaultPollInterval = 100 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.MaxRetry == 0 {
		o.MaxRetry = 10
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Minute
	}
	return o
}

// Client puts jobs on the queue and inspects it; its NewServer consumes them.
type Client struct {
	rdb       redis.UniversalClient
	opts      Options
	client    *asynq.Client
	inspector *asynq.Inspector
}

// NewClient returns a client using rdb; Close does not close rdb.
func NewClient(rdb redis.UniversalClient, opts Options) *Client {
	return &Client{
		rdb:       rdb,
		opts:      opts.withDefaults(),
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
	}
}

// Enqueue adds j to the queue, or returns ErrDuplicate.
func (c *Client) Enqueue(ctx context.Context, j Job) error {
	payload, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if c.opts.Tracing != nil {
		var span trace.Span
		ctx, span = c.opts.Tracing.Tracer(tracerName).Start(ctx, "queue.enqueue", trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("messaging.destination.name", c.opts.Name), attribute.String("job.id", j.ID())))
		defer span.End()
	}
	_, err = c.client.EnqueueContext(ctx, asynq.NewTaskWithHeaders(taskType, payload, tracing.Inject(ctx)),
		asynq.Queue(c.opts.Name), asynq.TaskID(j.ID()),
		asynq.MaxRetry(c.opts.MaxRetry), asynq.Timeout(c.opts.Timeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("queue: enqueue %s: %w", j.ID(), err)
	}
	// Wake the idle consumers. The job is queued whatever happens here: if
	// the wake-up is lost, a consumer finds the job at its next poll.
	_ = c.rdb.Publish(ctx, wakeChannel(c.opts.Name), "").Err()
	return nil
}

// Rerun adds j to the queue as Enqueue does, except that a dead-lettered job
// of the same ID is replaced by a fresh one rather than reported: for a retry
// someone asked for after the job gave up, possibly without ever claiming
// its feedback (so that the retry's job has the same ID). ErrDuplicate then
// means that the job is live: queued, running or waiting for a retry.
func (c *Client) Rerun(ctx context.Context, j Job) error {
	err := c.Enqueue(ctx, j)
	if !errors.Is(err, ErrDuplicate) {
		return err
	}
	st, err := c.State(ctx, j)
	switch {
	case errors.Is(err, ErrNotFound): // it finished meanwhile
		return c.Enqueue(ctx, j)
	case err != nil:
		return err
	case !st.DeadLettered():
		return ErrDuplicate
	}
	// Replaced, not run again as it is: the fresh job gets its retries
	// back, and the trace of whoever asked.
	if err := c.inspector.DeleteTask(c.opts.Name, j.ID()); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return fmt.Errorf("queue: replace dead-lettered %s: %w", j.ID(), err)
	}
	return c.Enqueue(ctx, j)
}

// wakeChannel is the pub/sub channel on which Enqueue tells the queue's
// idle consumers that a job is waiting.
func wakeChannel(queue string) string { return "queue:{" + queue + "}:wake" }

// State describes where a job is.
type State struct {
	Name    string // pending, active, scheduled, retry, archived, completed
	LastErr string // the error of its last failed run, if any
}

// DeadLettered reports whether the job gave up for good.
func (s State) DeadLettered() bool { return s.Name == "archived" }

// State returns the state of j, or ErrNotFound.
func (c *Client) State(_ context.Context, j Job) (State, error) {
	info, err := c.inspector.GetTaskInfo(c.opts.Name, j.ID())
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return State{}, ErrNotFound
	}
	if err != nil {
		return State{}, fmt.Errorf("queue: state of %s: %w", j.ID(), err)
	}
	return State{Name: info.State.String(), LastErr: info.LastErr}, nil
}

// Depth counts the jobs in each state.
type Depth struct {
	Pending, Active, Scheduled, Retry, Archived int
}

// Depth reports the queue's size by state.
func (c *Client) Depth(_ context.Context) (Depth, error) {
	// asynq creates a queue with its first job. Before that GetQueueInfo
	// fails with an internal error that is not ErrQueueNotFound, which
	// would fail every /metrics scrape of a fresh deployment.
	queues, err := c.inspector.Queues()
	if err != nil {
		return Depth{}, fmt.Errorf("queue: depth: %w", err)
	}
	if !slices.Contains(queues, c.opts.Name) {
		return Depth{}, nil
	}
	info, err := c.inspector.GetQueueInfo(c.opts.Name)
	if err != nil {
		return Depth{}, fmt.Errorf("queue: depth: %w", err)
	}
	return Depth{Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled, Retry: info.Retry, Archived: info.Archived}, nil
}

// Close releases the client's resources (not the Redis client).
func (c *Client) Close() error {
	return errors.Join(c.client.Close(), c.inspector.Close())
}

// Handler runs one job. It returns nil when the job needs no more work
// (including when it turned out to be unnecessary), an error to have it run
// again later, or Permanent(err) to dead-letter it at once.
type Handler func(ctx context.Context, j Job) error

// Permanent marks err as one that retrying cannot fix.
func Permanent(err error) error {
	return fmt.Errorf("%w (%w)", err, asynq.SkipRetry)
}

// ServerConfig configures a consumer. Which queue, on which Redis, comes
// from the Client that makes the Server.
type ServerConfig struct {
	Concurrency int          // jobs run at once (default 4)
	Logger      *slog.Logger // optional
	// ShutdownTimeout is how long Shutdown lets running jobs finish before it
	// cancels them and puts them back on the queue (default 25s).
	ShutdownTimeout time.Duration
	// RetryBase and RetryMax shape the exponential backoff with jitter
	// between runs of a failing job (defaults 1s and 1m).
	RetryBase, RetryMax time.Duration
	// PollInterval is how often jobs waiting for a retry are checked for
	// being due (default 1s).
	PollInterval time.Duration
	// OnDeadLetter is called when a job is dead-lettered, with the error of
	// its last run, so its subject can be marked failed.
	OnDeadLetter func(ctx context.Context, j Job, err error)
}

// Server consumes jobs.
type Server struct {
	srv     *asynq.Server
	handler Handler
	cfg     ServerConfig
	opts    Options // the queue's

	// With its own Redis connection the server waits for jobs (see
	// wakeHook); otherwise it polls every PollInterval.
	rdb       *redis.Client // nil: polling on the client's connection
	wake      chan struct{} // a job was enqueued since the last look
	closing   chan struct{}
	closeOnce sync.Once
	sub       *redis.PubSub
}

// NewServer returns a consumer of c's queue, on c's Redis server (with a
// connection of its own when c has a *redis.Client), that runs h for every
// job once started.
func (c *Client) NewServer(cfg ServerConfig, h Handler) *Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 25 * time.Second
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = time.Minute
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{handler: h, cfg: cfg, opts: c.opts, wake: make(chan struct{}, 1), closing: make(chan struct{})}
	var rdb redis.UniversalClient = c.rdb
	idleCheck := cfg.PollInterval
	if rc, ok := c.rdb.(*redis.Client); ok {
		// A connection of its own, so that the hook that lets the consumer
		// wait for jobs sees the consumer's commands only.
		opts := *rc.Options()
		s.rdb = redis.NewClient(&opts)
		s.rdb.AddHook(&wakeHook{
			pending: queueKey(c.opts.Name, "pending"), lease: queueKey(c.opts.Name, "lease"),
			wake: s.wake, closing: s.closing, wait: cfg.PollInterval,
		})
		rdb = s.rdb
		// The hook waits up to PollInterval for a wake-up in each look at
		// an empty queue; asynq's own sleep between looks can be short.
		idleCheck = time.Millisecond
	}
	s.srv = asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   map[string]int{c.opts.Name: 1},
		ShutdownTimeout:          cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: cfg.PollInterval,
		TaskCheckInterval:        idleCheck,
		RetryDelayFunc:           s.retryDelay,
		ErrorHandler:             asynq.ErrorHandlerFunc(s.handleError),
		Logger:                   slogAdapter{cfg.Logger},
		LogLevel:                 asynq.WarnLevel,
	})
	return s
}

// Start begins consuming in the background.
func (s *Server) Start() error {
	if s.rdb != nil {
		// Subscribed before the first look at the queue, so that no job
		// enqueued after it goes unnoticed until the next poll.
		s.sub = s.rdb.Subscribe(context.Background(), wakeChannel(s.opts.Name))
		if _, err := s.sub.Receive(context.Background()); err != nil {
			_ = s.sub.Close()
			return fmt.Errorf("queue: subscribe to wake-ups: %w (is Redis reachable?)", err)
		}
		go func() {
			for range s.sub.Channel() {
				select {
				case s.wake <- struct{}{}:
				default: // one is already waiting
				}
			}
		}()
	}
	if err := s.srv.Start(asynq.HandlerFunc(s.process)); err != nil {
		s.closeRedis()
		return fmt.Errorf("queue: start consumer: %w (is Redis reachable?)", err)
	}
	return nil
}

// Shutdown stops taking jobs, waits up to ShutdownTimeout for running ones,
// then puts the rest back on the queue. It blocks until done. Calling it
// again does nothing.
func (s *Server) Shutdown() {
	s.closeOnce.Do(func() {
		close(s.closing) // a consumer waiting for jobs stops waiting
		s.srv.Shutdown()
		s.closeRedis()
	})
}

func (s *Server) closeRedis() {
	if s.sub != nil {
		_ = s.sub.Close()
	}
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
}

// wakeHook lets an idle consumer wait for a job instead of polling for
// one. asynq has no blocking pop: when its look at the queue (a Lua script
// on the pending list) finds nothing, it sleeps its check interval and
// looks again, so a new job waits up to that interval. This hook, on the
// consumer's own connection, catches the empty answer and waits for a
// wake-up from Enqueue (or up to wait, or shutdown), then looks again, so a
// job is taken as soon as it is queued while an idle consumer still asks
// Redis only once per wait.
type wakeHook struct {
	pending, lease string // asynq's keys of the queue, which name its look
	wake           <-chan struct{}
	closing        <-chan struct{}
	wait           time.Duration
}

func (h *wakeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *wakeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *wakeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if !errors.Is(err, redis.Nil) || !h.isDequeue(cmd) {
			return err
		}
		timeout := time.NewTimer(h.wait)
		defer timeout.Stop()
		for {
			select {
			case <-h.wake:
			case <-timeout.C:
				return err
			case <-h.closing:
				return err
			case <-ctx.Done():
				return err
			}
			if err = next(ctx, cmd); !errors.Is(err, redis.Nil) {
				return err // a job, or a failure for asynq to handle
			}
			// Another consumer took it: wait for the next one.
		}
	}
}

// isDequeue recognises asynq's look at the queue (rdb.Dequeue): a script
// whose keys are the queue's pending, paused, active and lease keys.
func (h *wakeHook) isDequeue(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "evalsha", "eval", "evalsha_ro", "eval_ro":
	default:
		return false
	}
	args := cmd.Args()
	return len(args) >= 7 && args[3] == h.pending && args[6] == h.lease
}

// queueKey is asynq's name for one of a queue's Redis keys.
func queueKey(queue, suffix string) string { return "asynq:{" + queue + "}:" + suffix }

func (s *Server) process(ctx context.Context, t *asynq.Task) error {
	var j Job
	if err := json.Unmarshal(t.Payload(), &j); err != nil || j.FeedbackID <= 0 || j.Attempt < 0 {
		return Permanent(fmt.Errorf("queue: corrupt job payload %q", text.Truncate(string(t.Payload()), 200)))
	}
	if tp := s.opts.Tracing; tp != nil {
		// The run continues the trace of whoever queued the job.
		retried, _ := asynq.GetRetryCount(ctx)
		var span trace.Span
		ctx, span = tp.Tracer(tracerName).Start(tracing.Extract(ctx, t.Headers()), "queue.process",
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.destination.name", s.opts.Name), attribute.String("job.id", j.ID()),
				attribute.Int("job.retried", retried)))
		defer span.End()
		err := s.handler(ctx, j)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
	return s.handler(ctx, j)
}

// tracerName names the spans this package makes.
const tracerName = "github.com/feedbackloop/feedbackloop/queue"

func (s *Server) handleError(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if !errors.Is(err, asynq.SkipRetry) && retried < maxRetry {
		s.cfg.Logger.WarnContext(ctx, "job failed; will retry", "err", err, "retried", retried, "max_retry", maxRetry)
		return
	}
	var j Job
	if json.Unmarshal(t.Payload(), &j) != nil || j.FeedbackID <= 0 {
		s.cfg.Logger.ErrorContext(ctx, "corrupt job dead-lettered", "err", err)
		return
	}
	s.cfg.Logger.ErrorContext(ctx, "job dead-lettered", "job_id", j.ID(), "feedback_id", j.FeedbackID, "err", err)
	if s.cfg.OnDeadLetter != nil {
		s.cfg.OnDeadLetter(ctx, j, err)
	}
}

// retryDelay is exponential backoff with full jitter, capped.
func (s *Server) retryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	return backoff.Delay(n, s.cfg.RetryBase, s.cfg.RetryMax)
}

// slogAdapter routes asynq's own logging through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
