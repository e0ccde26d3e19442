// Package worker processes feedback: it takes analysis jobs from the queue,
// asks an analyzer (an LLM through langchaingo, or the built-in rules) for
// suggestions and stores them through the pipeline. A reconciler re-queues
// feedback whose job was lost, so accepted feedback always ends COMPLETED or
// FAILED.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/access"

	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/internal/backoff"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// Config holds a Worker's dependencies and settings.
type Config struct {
	Client   *ent.Client
	Pipeline *pipeline.Pipeline
	Analyzer analysis.Analyzer
	// Queue is where the jobs are: the worker consumes them from it, and
	// the reconciler puts lost ones back on it.
	Queue *queue.Client
	// Consumer says how jobs are consumed; New sets its Logger and
	// OnDeadLetter.
	Consumer queue.ServerConfig
	// Lease is how long a claim lasts without a heartbeat (default 30s).
	// A worker that dies mid-job is replaced after at most Lease plus
	// ReconcileEvery.
	Lease time.Duration
	// ReconcileEvery is the reconciler's period (default 10s); PendingGrace is
	// how long PENDING feedback may wait before its job is checked (default 30s).
	ReconcileEvery, PendingGrace time.Duration
	Logger                       *slog.Logger
	Metrics                      *metrics.Metrics // optional
	// Prices estimate what each analysis's tokens cost (LLM_PRICES); a
	// model without a price has its tokens stored and no cost.
	Prices spend.Prices
	// Reuse says which earlier analyses of the project a feedback may
	// reuse instead of asking the analyzer (package reuse); the zero value
	// reuses none. The service sets it from FEEDBACK_REUSE and
	// FEEDBACK_REUSE_NEAR.
	Reuse reuse.Settings
	// Embedder, with Reuse.Semantic, embeds each feedback's text (made by
	// EmbeddingModel) to find earlier analyses of texts that mean the same.
	Embedder       reuse.Embedder
	EmbeddingModel string
	// Comparers run comparison runs (compareAnalyses), by
	// compare.Target.Key: each a single model, without fallbacks, within
	// the provider's limits and the project's budget. A run of a model
	// missing here fails saying so.
	Comparers map[string]analysis.Analyzer
	// Compare samples feedback for comparison once its analysis completes
	// (COMPARE_SAMPLE_RATE against COMPARE_PROVIDERS).
	Compare compare.Settings
}

// Defaults of the worker's settings.
const (
	DefaultLease          = 30 * time.Second
	DefaultReconcileEvery = 10 * time.Second
	DefaultPendingGrace   = 30 * time.Second
)

// Worker consumes analysis jobs until shut down.
type Worker struct {
	cfg    Config
	server *queue.Server
	logger *slog.Logger
	// planner applies what the projects' auto-apply rules match, once an
	// analysis is stored.
	planner *plan.Planner

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns a Worker; Start runs it.
func New(cfg Config) *Worker {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.ReconcileEvery <= 0 {
		cfg.ReconcileEvery = DefaultReconcileEvery
	}
	if cfg.PendingGrace <= 0 {
		cfg.PendingGrace = DefaultPendingGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{cfg: cfg, logger: logctx.Logger(cfg.Logger), planner: plan.New(cfg.Client)}
	consumer := cfg.Consumer
	consumer.Logger = w.logger
	consumer.OnDeadLetter = w.deadLettered
	w.server = cfg.Queue.NewServer(consumer, w.handle)
	return w
}

// Start begins consuming jobs and reconciling in the background.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.server.Start(); err != nil {
		return err
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w.stop = stop
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.reconcileLoop(rctx)
	}()
	w.logger.InfoContext(ctx, "worker started", "concurrency", w.cfg.Consumer.Concurrency,
		"provider", w.cfg.Analyzer.Provider(), "model", w.cfg.Analyzer.Model())
	return nil
}

// Shutdown stops taking jobs; running jobs get the queue's ShutdownTimeout
// to finish, after which they are put back on the queue. It returns when all
// is stopped or ctx ends.
func (w *Worker) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if w.stop != nil {
			w.stop()
		}
		w.server.Shutdown()
		w.wg.Wait()
	}()
	select {
	case <-done:
		w.logger.InfoContext(ctx, "worker stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("worker shutdown: %w", ctx.Err())
	}
}

var errLeaseLost = errors.New("lease lost to another worker")

// process runs one job.
func (w *Worker) process(ctx context.Context, job queue.Job) (string, error) {
	if job.AnalysisID > 0 {
		return w.runComparison(ctx, job)
	}
	owner := job.ID()
	ctx = logctx.With(ctx, "job_id", owner, "feedback_id", job.FeedbackID)
	fb, err := w.cfg.Pipeline.ClaimJob(ctx, job, w.cfg.Lease)
	switch {
	case errors.Is(err, pipeline.ErrGone):
		return outcomeDeadLettered, queue.Permanent(err)
	case errors.Is(err, pipeline.ErrNotItsJob):
		// Not for this database's row: left to the queue's retries, in case
		// a worker of the deployment it was made for takes it next time.
		w.logger.WarnContext(ctx, "job refused", "reason", err.Error())
		return outcomeRetried, err
	case errors.Is(err, pipeline.ErrFinished), errors.Is(err, pipeline.ErrLeased):
		w.logger.InfoContext(ctx, "skipping job", "reason", err.Error())
		return outcomeSkipped, nil
	case err != nil:
		return outcomeRetried, fmt.Errorf("claim feedback: %w", err)
	}
	w.logger.InfoContext(ctx, "processing feedback", "attempt", fb.Attempts)

	jobCtx, cancel := context.WithCancelCause(ctx)
	heartbeat := make(chan struct{})
	go func() {
		defer close(heartbeat)
		w.keepLease(jobCtx, cancel, fb.ID, owner)
	}()
	defer func() { cancel(nil); <-heartbeat }()

	req, err := w.request(jobCtx, fb)
	if err != nil {
		return outcomeRetried, w.interrupted(ctx, jobCtx, fb.ID, owner, err)
	}
	req.Priority = int(job.Priority)
	// A job gives its slot back while it waits, for a while: past
	// waitLaterFor since the feedback was submitted (or retried), it sits
	// its waits out, so that a provider that keeps pausing cannot hold it
	// PROCESSING for ever without an attempt counted.
	req.MayWaitLater = queue.CanRunLater(ctx) && time.Since(latest(fb.CreatedAt, fb.RetriedAt)) < waitLaterFor
	// The claim counted this run; the waits of earlier runs left their
	// model calls counted instead (Pipeline.Postpone).
	req.EarlierCalls = max(0, fb.Attempts-job.Attempt-1)
	prior := w.lookUp(jobCtx, fb, req) // an earlier analysis to reuse (worker/reuse.go)
	if prior.reused != nil {
		if err := w.complete(jobCtx, fb, owner, *prior.reused); err != nil {
			return outcomeRetried, err
		}
		return outcomeCompleted, nil
	}
	start := time.Now()
	result, err := w.cfg.Analyzer.Analyze(jobCtx, req)
	latency := time.Since(start)
	if jobCtx.Err() != nil {
		return outcomeRetried, w.interrupted(ctx, jobCtx, fb.ID, owner, err)
	}
	if wait := (*analysis.WaitError)(nil); errors.As(err, &wait) {
		cancel(nil)
		<-heartbeat // its next beat would cut the lease back to one Lease
		return w.waitLater(ctx, fb.ID, owner, wait)
	}
	if err != nil {
		w.logger.WarnContext(ctx, "analysis failed", "err", err)
		return w.fail(ctx, fb.ID, owner, err)
	}
	out, err := outcome(result, w.cfg.Prices)
	if err != nil {
		return w.fail(ctx, fb.ID, owner, err)
	}
	prior.stamp(&out)
	out.Latency = latency
	if err := w.complete(jobCtx, fb, owner, out); err != nil {
		return outcomeRetried, err
	}
	return outcomeCompleted, nil
}

// waitLaterFor bounds how long after its submission (or retry) a job may
// still give its slot back to wait.
const waitLaterFor = 30 * time.Minute

func latest(t time.Time, u *time.Time) time.Time {
	if u != nil && u.After(t) {
		return *u
	}
	return t
}

// Outcomes of a job run, as metrics count them.
const (
	outcomeCompleted    = "completed"
	outcomeFailed       = "failed"
	outcomeRetried      = "retried"
	outcomeWaiting      = "waiting"
	outcomeSkipped      = "skipped"
	outcomeDeadLettered = "dead_lettered"
)

// handle runs a job and counts how it ended. Jobs act as the system: no
// user is behind them, and the privacy policies let the system through.
func (w *Worker) handle(ctx context.Context, job queue.Job) error {
	outcome, err := w.process(access.SystemContext(ctx), job)
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.Job(outcome)
	}
	return err
}

// fail marks the feedback FAILED with err as the reason shown to users,
// and stores what its model calls used, if err says.
func (w *Worker) fail(ctx context.Context, id int, owner string, err error) (string, error) {
	var used pipeline.Usage
	var spent *analysis.SpentError
	if errors.As(err, &spent) {
		used = priced(spent.Provider, spent.Model, spent.Usage, w.cfg.Prices)
	}
	_, ferr := w.cfg.Pipeline.FailSpent(ctx, id, owner, userReason(err), used)
	switch {
	case errors.Is(ferr, pipeline.ErrLeaseLost):
		return outcomeSkipped, nil
	case ferr != nil:
		return outcomeRetried, ferr
	}
	return outcomeFailed, nil
}

// waitLater gives the job's slot back until the analysis can go on: the
// job runs again after wait.After. The feedback stays PROCESSING, its lease
// stretched over the wait (the heartbeat has stopped: it would shorten it),
// and the reconciler leaves it alone while the queue holds its job.
func (w *Worker) waitLater(ctx context.Context, id int, owner string, wait *analysis.WaitError) (string, error) {
	err := w.cfg.Pipeline.Postpone(ctx, id, owner, wait.After, w.cfg.Lease, wait.Calls)
	switch {
	case errors.Is(err, pipeline.ErrLeaseLost):
		return outcomeSkipped, nil
	case err != nil:
		return outcomeRetried, fmt.Errorf("extend the lease over a wait: %w", err)
	}
	w.logger.InfoContext(ctx, "analysis waits; the job gives its slot back", "for", wait.After.String(), "reason", wait.Err)
	return outcomeWaiting, queue.Later(wait.After, wait)
}

// complete stores the outcome, riding out a short database outage so that a
// finished analysis is not thrown away, then samples the feedback for
// comparison (COMPARE_SAMPLE_RATE).
func (w *Worker) complete(ctx context.Context, fb *ent.Feedback, owner string, out pipeline.Outcome) error {
	id := fb.ID
	for attempt := 0; ; attempt++ {
		_, err := w.cfg.Pipeline.Complete(ctx, id, owner, out)
		switch {
		case err == nil:
			w.logger.InfoContext(ctx, "feedback completed", "adjustments", len(out.Adjustments), "dropped", out.Dropped)
			w.autoApply(ctx, id)
			w.sample(ctx, fb, out.Provider, out.Model)
			return nil
		case errors.Is(err, pipeline.ErrLeaseLost):
			w.logger.InfoContext(ctx, "result discarded: another worker took the feedback over")
			return nil
		case !postgres.IsUnavailable(err) || attempt >= 8:
			return fmt.Errorf("store result: %w", err)
		}
		w.logger.WarnContext(ctx, "database unavailable while storing the result; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("store result: %w", err)
		case <-time.After(backoff.Delay(attempt, 250*time.Millisecond, 5*time.Second)):
		}
	}
}

// autoApply applies the new suggestions the project's auto-apply rules
// match. The analysis is stored whatever happens here: a failure is logged,
// and the suggestions stay PROPOSED for people to decide.
func (w *Worker) autoApply(ctx context.Context, id int) {
	done, err := w.planner.AutoApply(ctx, id)
	if err != nil {
		w.logger.WarnContext(ctx, "auto-apply failed; the suggestions stay proposed", "err", err)
	}
	if len(done.Applied) > 0 || done.Conflicts > 0 {
		w.logger.InfoContext(ctx, "auto-applied suggestions", "applied", len(done.Applied), "conflicts", done.Conflicts)
	}
}

// interrupted handles a job stopped before it finished: by shutdown, a lost
// lease or a failing dependency. The job goes back to the queue unless another
// worker already owns the feedback.
func (w *Worker) interrupted(ctx, jobCtx context.Context, id int, owner string, err error) error {
	if errors.Is(context.Cause(jobCtx), errLeaseLost) {
		w.logger.InfoContext(ctx, "stopped: another worker took the feedback over")
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if rerr := w.cfg.Pipeline.Release(rctx, id, owner); rerr != nil {
		w.logger.WarnContext(ctx, "could not release lease", "err", rerr)
	}
	if err == nil {
		err = context.Cause(jobCtx)
	}
	w.logger.WarnContext(ctx, "job interrupted; it will run again", "err", err)
	return fmt.Errorf("interrupted: %w", err)
}

// keepLease extends the claim every third of the lease until ctx ends, and
// cancels the job if another worker took the feedback over.
func (w *Worker) keepLease(ctx context.Context, cancel context.CancelCauseFunc, id int, owner string) {
	t := time.NewTicker(w.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := w.cfg.Pipeline.ExtendLease(ctx, id, owner, w.cfg.Lease)
			if errors.Is(err, pipeline.ErrLeaseLost) {
				cancel(errLeaseLost)
				return
			}
			if err != nil && ctx.Err() == nil {
				w.logger.WarnContext(ctx, "could not extend lease", "err", err)
			}
		}
	}
}

// request loads what the analyzer needs.
func (w *Worker) request(ctx context.Context, fb *ent.Feedback) (analysis.Request, error) {
	p, err := w.cfg.Client.Project.Query().
		Where(project.ID(fb.ProjectID)).
		WithTasks(func(q *ent.TaskQuery) { q.Order(ent.Asc(task.FieldID)) }).
		Only(ctx)
	if err != nil {
		return analysis.Request{}, fmt.Errorf("load project: %w", err)
	}
	req := analysis.Request{
		Project: analysis.Project{ID: p.ID, Name: p.Name, Status: string(p.Status), Description: deref(p.Description)},
		Feedback: analysis.Feedback{
			ID: fb.ID, Text: fb.FeedbackText, UserName: deref(fb.UserName), TaskID: fb.TaskID,
		},
	}
	if err := w.decisions(ctx, p.ID, &req); err != nil {
		return analysis.Request{}, err
	}
	for _, t := range p.Edges.Tasks {
		req.Tasks = append(req.Tasks, analysis.Task{
			ID: t.ID, Title: t.Title, Description: deref(t.Description), Status: string(t.Status),
			Priority: t.Priority, EstimatedHours: t.EstimatedHours,
		})
	}
	return req, nil
}

// outcome converts an analysis into what the pipeline stores, its cost
// estimated by prices.
func outcome(r analysis.Result, prices spend.Prices) (pipeline.Outcome, error) {
	out := pipeline.Outcome{Summary: r.Summary, Provider: r.Provider, Model: r.Model, FallbackReason: r.FallbackReason,
		Dropped: r.DroppedSuggestions, DroppedReasons: r.DroppedReasons}
	out.Usage = priced(r.Provider, r.Model, r.Usage, prices)
	for i, a := range r.Adjustments {
		// Analyzers build suggestions from the table; one that did not
		// would fail the database's enum check less readably.
		if _, ok := suggestion.ByType(a.Type); !ok {
			return pipeline.Outcome{}, fmt.Errorf("the analysis returned an unknown adjustment type %q (suggestion %d)", a.Type, i)
		}
		out.Adjustments = append(out.Adjustments, pipeline.Suggestion{
			Type: a.Type, TaskID: a.TaskID, Description: a.Description,
			ClaimedOriginalValue: a.OriginalValue, NewValue: a.NewValue, Reasoning: a.Reasoning, Confidence: a.Confidence,
		})
	}
	return out, nil
}

// priced is what the pipeline stores of an analysis's usage.
func priced(provider, model string, u *analysis.Usage, prices spend.Prices) pipeline.Usage {
	if u == nil {
		return pipeline.Usage{}
	}
	return pipeline.Usage{InputTokens: &u.InputTokens, OutputTokens: &u.OutputTokens,
		EstimatedCost: prices.Cost(provider, model, u.InputTokens, u.OutputTokens)}
}

// deadLettered marks the feedback of a job that gave up for good as FAILED.
func (w *Worker) deadLettered(ctx context.Context, job queue.Job, err error) {
	ctx = logctx.With(access.SystemContext(ctx), "job_id", job.ID(), "feedback_id", job.FeedbackID)
	if job.AnalysisID > 0 {
		if _, err := w.cfg.Pipeline.StartRun(ctx, job); err != nil {
			return // gone, finished, or another row's (its key differs)
		}
		_, ferr := w.finishRun(ctx, job.AnalysisID, pipeline.RunOutcome{
			Err: "the comparison run failed repeatedly because of an internal error; ask for another one (compareAnalyses)"})
		if ferr != nil {
			w.logger.ErrorContext(ctx, "could not mark a dead-lettered comparison run as failed", "err", ferr)
		}
		return
	}
	_, aerr := w.cfg.Pipeline.Abandon(ctx, job,
		"processing failed repeatedly because of an internal error; use retryFeedback to try again")
	switch {
	case aerr == nil:
		w.logger.ErrorContext(ctx, "feedback failed: its job was dead-lettered", "err", err)
	case errors.Is(aerr, pipeline.ErrGone), errors.Is(aerr, pipeline.ErrFinished), errors.Is(aerr, pipeline.ErrNotItsJob):
	default:
		// The reconciler retries this once the database answers.
		w.logger.ErrorContext(ctx, "could not mark dead-lettered feedback as failed", "err", aerr)
	}
}

// userReason is the text stored as the feedback's error: the analyzer's
// messages are written for users; keep them bounded.
func userReason(err error) string {
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	return msg
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
