package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/queue"
)

// requeueEvery is how often the backlog tries the queue again while it is
// down: go-redis itself probes a server it cannot reach once a second.
const requeueEvery = time.Second

// maxBacklog bounds the jobs one process holds for an unreachable queue;
// the reconciler queues the feedback of any left out.
const maxBacklog = 100_000

// backlog holds, in submission order, the jobs this process stored the
// feedback of but could not queue, until the queue is back. One goroutine
// drains it while it is not empty.
type backlog struct {
	every time.Duration
	stop  chan struct{} // closed by Pipeline.Close
	once  sync.Once

	mu       sync.Mutex
	jobs     []deferred
	draining bool
}

type deferred struct {
	ctx context.Context // the submission's request_id, for the logs
	job queue.Job
	add func(context.Context, queue.Job) error
}

func (b *backlog) waiting() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.jobs) > 0
}

// later adds job to the backlog, queued with add once the queue answers.
func (p *Pipeline) later(ctx context.Context, job queue.Job, add func(context.Context, queue.Job) error) {
	b := &p.backlog
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.jobs) >= maxBacklog {
		p.logger.WarnContext(ctx, "too many jobs wait for the queue; the reconciler queues this feedback once the queue is back",
			"feedback_id", job.FeedbackID, "job_id", job.ID())
		return
	}
	// The job outlives the request, and keeps none of its context (a
	// GraphQL operation's holds its document) but the ID logs name it by.
	jobCtx := context.Background()
	if id, ok := logctx.Value(ctx, "request_id"); ok {
		jobCtx = logctx.With(jobCtx, "request_id", id)
	}
	b.jobs = append(b.jobs, deferred{ctx: jobCtx, job: job, add: add})
	if !b.draining {
		select {
		case <-b.stop: // closed: the reconciler of a later process queues it
			return
		default:
		}
		b.draining = true
		go p.drain()
	}
}

// Close stops trying to queue the backlog; what is left in it is logged
// and left to the reconciler (its feedback is stored PENDING). It does not
// wait for a queue call under way.
func (p *Pipeline) Close() {
	b := &p.backlog
	b.once.Do(func() { close(b.stop) })
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.jobs); n > 0 && !b.draining {
		p.logger.Warn("jobs left waiting for the queue at shutdown; the reconciler queues their feedback", "jobs", n)
	}
}

// drain queues the backlog's jobs in order, trying the first again every
// b.every until the queue takes it, and returns when the backlog is empty.
func (p *Pipeline) drain() {
	b := &p.backlog
	for {
		b.mu.Lock()
		if len(b.jobs) == 0 {
			b.draining = false
			b.mu.Unlock()
			return
		}
		d := b.jobs[0]
		b.mu.Unlock()

		err := d.add(d.ctx, d.job)
		if err != nil && !errors.Is(err, queue.ErrDuplicate) {
			select {
			case <-b.stop:
				b.mu.Lock()
				b.draining = false
				n := len(b.jobs)
				b.mu.Unlock()
				p.logger.Warn("jobs left waiting for the queue at shutdown; the reconciler queues their feedback", "jobs", n)
				return
			case <-time.After(b.every):
			}
			continue
		}
		p.logger.InfoContext(d.ctx, "queued feedback that waited for the queue", "feedback_id", d.job.FeedbackID, "job_id", d.job.ID())
		b.mu.Lock()
		b.jobs[0] = deferred{}
		b.jobs = b.jobs[1:]
		b.mu.Unlock()
	}
}
