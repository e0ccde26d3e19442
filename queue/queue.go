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
	// Priority picks the job's queue (see Priority). It is not part of
	// the job's ID: one feedback's job is one job whatever its priority.
	Priority Priority `json:"priority,omitempty"`
	// AnalysisID, when set, makes the job a comparison run of the
	// feedback (compareAnalyses): it runs that pending Analysis row and
	// leaves the feedback itself alone. Such a job is named by the
	// analysis alone: one row, one job.
	AnalysisID int `json:"analysisId,omitempty"`
}

// Priority orders jobs. Each priority has its own asynq queue, and
// consumers take from them by weight (HIGH 6, NORMAL 3, LOW 1), not
// strictly: LOW jobs keep progressing under a steady load of HIGH ones.
// The zero value is NORMAL, so jobs queued before priorities existed, which
// have none, are NORMAL.
type Priority int8

// The priorities.
const (
	Low    Priority = -1
	Normal Priority = 0
	High   Priority = 1
)

// priorities lists every priority, each with its weight among consumers.
var priorities = []struct {
	p      Priority
	weight int
}{{High, 6}, {Normal, 3}, {Low, 1}}

// queueName is the asynq queue of priority p on the queue named name.
// NORMAL keeps the bare name, the only queue before priorities, so that
// jobs left there by an older version are still consumed after an upgrade.
func queueName(name string, p Priority) string {
	switch {
	case p > Normal:
		return name + ":high"
	case p < Normal:
		return name + ":low"
	}
	return name
}

// ID is the job's de-duplication key.
func (j Job) ID() string {
	if j.AnalysisID > 0 {
		return fmt.Sprintf("analysis-%d-%s", j.AnalysisID, j.Key)
	}
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
	// (asynq's TaskCheckInterval): a new job waits at most this long for an
	// idle consumer. Each look is one Redis command.
	DefaultPollInterval = 10 * time.Millisecond
	// retryCheckInterval is how often jobs waiting for a retry are checked
	// for being due; retries wait a second at least.
	retryCheckInterval = 100 * time.Millisecond
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

// Enqueue adds j to the queue of its priority, or returns ErrDuplicate if
// a job with j's ID is in any priority's queue.
//
// asynq keeps task IDs unique per queue only, so the other priorities'
// queues are looked at first. Two Enqueues of one job at different
// priorities at the same instant can still both pass that look; the two
// jobs then share one ID, which is the owner of the feedback's lease
// (pipeline.ClaimJob), and only one of them can complete it
// (pipeline.Complete): the cost is at most one analysis made for nothing.
func (c *Client) Enqueue(ctx context.Context, j Job) error {
	payload, err := json.Marshal(j)
	if err != nil {
		return err
	}
	qname := queueName(c.opts.Name, j.Priority)
	if c.opts.Tracing != nil {
		var span trace.Span
		ctx, span = c.opts.Tracing.Tracer(tracerName).Start(ctx, "queue.enqueue", trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("messaging.destination.name", qname), attribute.String("job.id", j.ID())))
		defer span.End()
	}
	for _, pr := range priorities {
		if other := queueName(c.opts.Name, pr.p); other != qname {
			if _, err := c.taskInfo(other, j.ID()); err == nil {
				return ErrDuplicate
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	_, err = c.client.EnqueueContext(ctx, asynq.NewTaskWithHeaders(taskType, payload, tracing.Inject(ctx)),
		asynq.Queue(qname), asynq.TaskID(j.ID()),
		asynq.MaxRetry(c.opts.MaxRetry), asynq.Timeout(c.opts.Timeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("queue: enqueue %s: %w", j.ID(), err)
	}
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
	qname, info, err := c.find(j)
	switch {
	case errors.Is(err, ErrNotFound): // it finished meanwhile
		return c.Enqueue(ctx, j)
	case err != nil:
		return err
	case info.State != asynq.TaskStateArchived:
		return ErrDuplicate
	}
	// Replaced, not run again as it is: the fresh job gets its retries
	// back, the trace of whoever asked, and j's priority.
	if err := c.inspector.DeleteTask(qname, j.ID()); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return fmt.Errorf("queue: replace dead-lettered %s: %w", j.ID(), err)
	}
	return c.Enqueue(ctx, j)
}

// State describes where a job is.
type State struct {
	Name    string // pending, active, scheduled, retry, archived, completed
	LastErr string // the error of its last failed run, if any
}

// DeadLettered reports whether the job gave up for good.
func (s State) DeadLettered() bool { return s.Name == "archived" }

// State returns the state of j, whatever its priority, or ErrNotFound.
func (c *Client) State(_ context.Context, j Job) (State, error) {
	_, info, err := c.find(j)
	if err != nil {
		return State{}, err
	}
	return State{Name: info.State.String(), LastErr: info.LastErr}, nil
}

// Waiting reports whether the job with ID id waits in the queue: to be
// taken, or scheduled (a retry, or a job that waits, see Later). A running
// or dead-lettered job does not wait.
func (c *Client) Waiting(_ context.Context, id string) (bool, error) {
	_, info, err := c.findID(id, Normal)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch info.State {
	case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry:
		return true, nil
	}
	return false, nil
}

// find looks for j's ID in every priority's queue, j's own first, and
// returns the queue that holds it, or ErrNotFound.
func (c *Client) find(j Job) (string, *asynq.TaskInfo, error) {
	return c.findID(j.ID(), j.Priority)
}

// findID is find for the job with ID id, looked for at priority p first.
func (c *Client) findID(id string, p Priority) (string, *asynq.TaskInfo, error) {
	own := queueName(c.opts.Name, p)
	if info, err := c.taskInfo(own, id); !errors.Is(err, ErrNotFound) {
		return own, info, err
	}
	for _, pr := range priorities {
		if q := queueName(c.opts.Name, pr.p); q != own {
			if info, err := c.taskInfo(q, id); !errors.Is(err, ErrNotFound) {
				return q, info, err
			}
		}
	}
	return "", nil, ErrNotFound
}

// taskInfo is the task with ID id in queue qname, or ErrNotFound.
func (c *Client) taskInfo(qname string, id string) (*asynq.TaskInfo, error) {
	info, err := c.inspector.GetTaskInfo(qname, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("queue: state of %s: %w", id, err)
	}
	return info, nil
}

// Depth counts the jobs in each state.
type Depth struct {
	Pending, Active, Scheduled, Retry, Archived int
}

// Depth reports the queue's size by state, all priorities together.
func (c *Client) Depth(_ context.Context) (Depth, error) {
	// asynq creates a queue with its first job. Before that GetQueueInfo
	// fails with an internal error that is not ErrQueueNotFound, which
	// would fail every /metrics scrape of a fresh deployment.
	queues, err := c.inspector.Queues()
	if err != nil {
		return Depth{}, fmt.Errorf("queue: depth: %w", err)
	}
	var d Depth
	for _, pr := range priorities {
		q := queueName(c.opts.Name, pr.p)
		if !slices.Contains(queues, q) {
			continue
		}
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			return Depth{}, fmt.Errorf("queue: depth: %w", err)
		}
		d.Pending += info.Pending
		d.Active += info.Active
		d.Scheduled += info.Scheduled
		d.Retry += info.Retry
		d.Archived += info.Archived
	}
	return d, nil
}

// Close releases the client's resources (not the Redis client).
func (c *Client) Close() error {
	return errors.Join(c.client.Close(), c.inspector.Close())
}

// Handler runs one job. It returns nil when the job needs no more work
// (including when it turned out to be unnecessary), an error to have it run
// again later, Later to have it wait without counting a failure, or
// Permanent(err) to dead-letter it at once.
type Handler func(ctx context.Context, j Job) error

// Permanent marks err as one that retrying cannot fix.
func Permanent(err error) error {
	return fmt.Errorf("%w (%w)", err, asynq.SkipRetry)
}

// Later is returned by a Handler whose job must wait (for a provider's
// limits, a backoff) before it can go on: the job gives its worker slot back
// and runs again after d, and the wait is not counted as a failure. Only a
// job for which CanRunLater holds may return it.
func Later(d time.Duration, reason error) error {
	return &laterError{after: d, reason: reason}
}

type laterError struct {
	after  time.Duration
	reason error
}

func (e *laterError) Error() string {
	return fmt.Sprintf("waiting %s: %v", e.after.Round(time.Millisecond), e.reason)
}

func (e *laterError) Unwrap() error { return e.reason }

// CanRunLater reports whether the job running with ctx may return Later.
// One on its last retry may not: asynq dead-letters a job that returns any
// error then.
func CanRunLater(ctx context.Context) bool {
	retried, ok := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok && ok2 && retried < maxRetry
}

func isLater(err error) bool {
	var l *laterError
	return errors.As(err, &l)
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
	// PollInterval is how often an idle consumer looks at the queue for a
	// job (default DefaultPollInterval).
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
}

// NewServer returns a consumer of c's queue, on c's Redis, that runs h for
// every job once started.
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
	s := &Server{handler: h, cfg: cfg, opts: c.opts}
	queues := make(map[string]int, len(priorities))
	for _, pr := range priorities {
		queues[queueName(c.opts.Name, pr.p)] = pr.weight
	}
	s.srv = asynq.NewServerFromRedisClient(c.rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: max(cfg.PollInterval, retryCheckInterval),
		RetryDelayFunc:           s.retryDelay,
		// A job that waits is not failing: its retry count stays.
		IsFailure:    func(err error) bool { return !isLater(err) },
		ErrorHandler: asynq.ErrorHandlerFunc(s.handleError),
		Logger:       slogAdapter{cfg.Logger},
		LogLevel:     asynq.WarnLevel,
	})
	return s
}

// Start begins consuming in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(asynq.HandlerFunc(s.process)); err != nil {
		return fmt.Errorf("queue: start consumer: %w (is Redis reachable?)", err)
	}
	return nil
}

// Shutdown stops taking jobs, waits up to ShutdownTimeout for running ones,
// then puts the rest back on the queue. It blocks until done. Calling it
// again does nothing.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
}

func (s *Server) process(ctx context.Context, t *asynq.Task) error {
	var j Job
	if err := json.Unmarshal(t.Payload(), &j); err != nil || j.FeedbackID <= 0 || j.Attempt < 0 || j.AnalysisID < 0 {
		return Permanent(fmt.Errorf("queue: corrupt job payload %q", text.Truncate(string(t.Payload()), 200)))
	}
	if tp := s.opts.Tracing; tp != nil {
		// The run continues the trace of whoever queued the job.
		retried, _ := asynq.GetRetryCount(ctx)
		qname, _ := asynq.GetQueueName(ctx)
		var span trace.Span
		ctx, span = tp.Tracer(tracerName).Start(tracing.Extract(ctx, t.Headers()), "queue.process",
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.destination.name", qname), attribute.String("job.id", j.ID()),
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
	if isLater(err) {
		s.cfg.Logger.DebugContext(ctx, "job waits", "reason", err)
		return
	}
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

// retryDelay is exponential backoff with full jitter, capped; a job that
// waits (Later) runs again when it asked.
func (s *Server) retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var l *laterError
	if errors.As(err, &l) {
		// asynq schedules in whole seconds, rounding down: never early.
		return l.after + time.Second
	}
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
