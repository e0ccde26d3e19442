// Package pipeline owns the life of a feedback: it is the only code that
// changes a feedback's status. Each change bumps the feedback's version in the
// same statement and writes an event to the outbox in the same transaction,
// so the change and its event commit together, and clients can
// order events and drop duplicates by version.
//
//	PENDING ──claim──▶ PROCESSING ──complete──▶ COMPLETED
//	   ▲                    │ └────fail────▶ FAILED ──retry──┐
//	   └────────────────────┴────────────────────────────────┘
//
// The API submits and retries; workers claim, complete and fail. A claim is a
// lease: a worker that dies loses it when it expires, and the feedback can be
// claimed again (see worker's reconciler).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Jobs is the queue feedback is analysed from.
type Jobs interface {
	Enqueue(ctx context.Context, j queue.Job) error
	// Rerun is Enqueue replacing a dead-lettered job of the same ID.
	Rerun(ctx context.Context, j queue.Job) error
}

// Config holds a Pipeline's dependencies.
type Config struct {
	Client *ent.Client
	Jobs   Jobs
	Logger *slog.Logger     // optional
	Now    func() time.Time // optional; tests move the clock
	// RejectionMemory is how long a rejected suggestion keeps its repeats
	// out of new analyses (see Complete); 0 remembers none.
	RejectionMemory time.Duration
}

// Pipeline changes feedback status. It is safe for concurrent use.
type Pipeline struct {
	client  *ent.Client
	jobs    Jobs
	logger  *slog.Logger
	now     func() time.Time
	backlog backlog
	memory  time.Duration
}

// New returns a Pipeline; Close stops its background queueing.
func New(cfg Config) *Pipeline {
	p := &Pipeline{client: cfg.Client, jobs: cfg.Jobs, logger: cfg.Logger, now: cfg.Now, memory: cfg.RejectionMemory, backlog: backlog{every: requeueEvery, stop: make(chan struct{})}}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	clock := p.now
	if clock == nil {
		clock = time.Now
	}
	// PostgreSQL keeps microseconds and rounds the rest, which could move a
	// released lease a fraction into the future; work in microseconds.
	p.now = func() time.Time { return clock().UTC().Truncate(time.Microsecond) }
	return p
}

// Errors of Submit and Retry.
var (
	ErrProjectNotFound  = errors.New("no project has this ID")
	ErrTaskNotFound     = errors.New("no task has this ID")
	ErrTaskNotInProject = errors.New("the task belongs to another project")
	ErrNotFailed        = errors.New("only FAILED feedback can be retried")
)

// Errors of Claim, ExtendLease, Complete and Fail.
var (
	// ErrGone: the feedback was deleted; its job can never succeed.
	ErrGone = errors.New("the feedback no longer exists")
	// ErrFinished: the feedback is already COMPLETED or FAILED.
	ErrFinished = errors.New("the feedback is already finished")
	// ErrLeased: another worker holds an unexpired lease on the feedback.
	ErrLeased = errors.New("another worker is processing the feedback")
	// ErrLeaseLost: the caller's lease was taken over or the feedback finished.
	ErrLeaseLost = errors.New("the processing lease was lost")
	// ErrNotItsJob: the job was made for another feedback row with this ID
	// (its key differs, or it has none): one of a database restored from a
	// backup, or of another deployment using the same queue. It must not
	// touch this row.
	ErrNotItsJob = errors.New("the job was made for another feedback with this ID " +
		"(a database restored from a backup, or another deployment on the same queue: give each deployment its own QUEUE_NAME)")
)

// Submission is new feedback from a user.
type Submission struct {
	ProjectID int
	TaskID    *int
	UserName  *string
	Text      string
	// Priority of its analysis (the zero value is queue.Normal). It is
	// carried by the job only, not stored: the backlog keeps it, while a
	// job the reconciler queues again runs at queue.Low.
	Priority queue.Priority
	// Admit, when set, decides in the transaction that stores the
	// feedback whether it may be stored (see Admission).
	Admit Admission
}

// Admission decides whether the viewer of ctx may submit (or retry)
// feedback in project: it counts the submissions made so far from s and
// returns an error to refuse. It runs in the transaction that stores the
// submission, once that transaction holds the locks of the viewer's and
// the project's submissions: concurrent submissions by the same user or to
// the same project, on any instance, wait until it commits, so each counts
// the ones before it. The API admits this way only while Redis cannot keep
// the budgets (ratelimit.SpendSubmissionFrom).
type Admission func(ctx context.Context, s *Submissions, user, project int) error

// Submit stores feedback as PENDING, announces it and queues its analysis.
// The viewer of ctx, if any, is recorded as its submitter; the privacy
// policies decide whether it may submit to the project.
// A queue outage does not fail the submission: the feedback is safely stored
// and the reconciler queues it once the queue is back.
func (p *Pipeline) Submit(ctx context.Context, s Submission) (*ent.Feedback, error) {
	exists, err := p.client.Project.Query().Where(project.ID(s.ProjectID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, ErrProjectNotFound
	}
	if s.TaskID != nil {
		t, err := p.client.Task.Get(ctx, *s.TaskID)
		if ent.IsNotFound(err) {
			return nil, ErrTaskNotFound
		}
		if err != nil {
			return nil, err
		}
		if t.ProjectID != s.ProjectID {
			return nil, ErrTaskNotInProject
		}
	}
	fb, err := store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		if err := admit(ctx, tx, s.Admit, s.ProjectID); err != nil {
			return nil, err
		}
		create := tx.Feedback.Create()
		if v := viewer.FromContext(ctx); v != nil {
			create.SetSubmittedByID(v.UserID)
		}
		// Normalised now, so that similar feedback is found before the
		// analysis too; the text is never changed afterwards.
		norm := reuse.Normalize(s.Text)
		fb, err := create.
			SetProjectID(s.ProjectID).
			SetNillableTaskID(s.TaskID).
			SetNillableUserName(s.UserName).
			SetFeedbackText(s.Text).
			SetNormalizedText(norm.Text).
			SetNormalizedTextHash(norm.Hash).
			Save(ctx)
		if err != nil {
			return nil, err
		}
		return fb, record(ctx, tx, fb, "")
	})
	if err != nil {
		return nil, err
	}
	p.enqueue(ctx, fb, s.Priority, p.jobs.Enqueue)
	return fb, nil
}

// Retry puts FAILED feedback back to PENDING and queues it again. A job of
// the same ID that was dead-lettered (it gave up before it could claim the
// feedback, so the attempt count did not move) is replaced, or the retry
// would find it and fail the feedback again. The viewer of ctx, if any, is
// recorded as who retried it, which counts as a submission (Submissions).
func (p *Pipeline) Retry(ctx context.Context, id int) (*ent.Feedback, error) {
	return p.RetryAdmitted(ctx, id, nil)
}

// RetryAdmitted is Retry, admitted by admit (nil: always) as Submit admits.
func (p *Pipeline) RetryAdmitted(ctx context.Context, id int, admission Admission) (*ent.Feedback, error) {
	fb, err := store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		if admission != nil {
			cur, err := tx.Feedback.Query().Where(feedback.ID(id)).Select(feedback.FieldProjectID).Only(ctx)
			if err != nil {
				return nil, err
			}
			if err := admit(ctx, tx, admission, cur.ProjectID); err != nil {
				return nil, err
			}
		}
		upd := tx.Feedback.UpdateOneID(id).
			Where(feedback.StatusEQ(feedback.StatusFailed)).
			SetStatus(feedback.StatusPending).
			AddVersion(1).
			ClearError().
			ClearProcessedAt().
			SetRetriedAt(p.now())
		if v := viewer.FromContext(ctx); v != nil && v.UserID != 0 {
			upd.SetRetriedByID(v.UserID)
		} else {
			upd.ClearRetriedByID()
		}
		fb, err := upd.Save(ctx)
		if err != nil {
			return nil, err
		}
		return fb, record(ctx, tx, fb, feedback.StatusFailed)
	})
	if ent.IsNotFound(err) {
		exists, qerr := p.client.Feedback.Query().Where(feedback.ID(id)).Exist(ctx)
		if qerr != nil {
			return nil, qerr
		}
		if exists {
			return nil, ErrNotFailed
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	// A retry is of old feedback: it must not delay fresh submissions.
	p.enqueue(ctx, fb, queue.Low, p.jobs.Rerun)
	return fb, nil
}

// JobFor is the job that processes fb in its current state, at NORMAL
// priority (its ID does not depend on the priority). Its ID holds the
// row's job key, so it is this row's alone, for good.
func JobFor(fb *ent.Feedback) queue.Job {
	return queue.Job{FeedbackID: fb.ID, Key: fb.JobKey.String(), Attempt: fb.Attempts}
}

// enqueue queues fb's job at priority with add. Whatever keeps it off the queue is
// logged, and the job joins the backlog, queued as soon as the queue is
// back; while the backlog is not empty the queue is known to be down, so
// the job joins it without waiting on the queue. (Should this process stop
// first, the reconciler queues the feedback after its grace period.)
func (p *Pipeline) enqueue(ctx context.Context, fb *ent.Feedback, priority queue.Priority, add func(context.Context, queue.Job) error) {
	job := JobFor(fb)
	job.Priority = priority
	if p.backlog.waiting() {
		p.logger.WarnContext(ctx, "the queue is unreachable; the feedback is queued as soon as it is back",
			"feedback_id", fb.ID, "job_id", job.ID())
		p.later(ctx, job, add)
		return
	}
	err := add(ctx, job)
	switch {
	case errors.Is(err, queue.ErrDuplicate):
		// This very job is still on the queue (or, for a submission,
		// dead-lettered, which the reconciler turns into FAILED).
		p.logger.InfoContext(ctx, "feedback's job is already queued", "feedback_id", fb.ID, "job_id", job.ID())
	case err != nil:
		p.logger.WarnContext(ctx, "could not queue feedback; it is queued as soon as the queue is back",
			"feedback_id", fb.ID, "job_id", job.ID(), "err", err)
		p.later(ctx, job, add)
	}
}

// Claim starts processing for owner: a PENDING feedback becomes
// PROCESSING; a PROCESSING one is taken over if its lease expired or owner
// already holds it (a redelivered job). The lease lasts for lease. Workers
// claim through ClaimJob.
func (p *Pipeline) Claim(ctx context.Context, id int, owner string, lease time.Duration) (*ent.Feedback, error) {
	return p.claim(ctx, id, nil, owner, lease)
}

// ClaimJob is Claim for job, its ID the owner. A job made for another row
// with this feedback ID gets ErrNotItsJob and changes nothing.
func (p *Pipeline) ClaimJob(ctx context.Context, job queue.Job, lease time.Duration) (*ent.Feedback, error) {
	return p.claim(ctx, job.FeedbackID, &job.Key, job.ID(), lease)
}

// claim is Claim; with key, only for the row with that job key.
func (p *Pipeline) claim(ctx context.Context, id int, key *string, owner string, lease time.Duration) (*ent.Feedback, error) {
	fb, err := store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		cur, err := tx.Feedback.Query().Where(feedback.ID(id)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return nil, ErrGone
		}
		if err != nil {
			return nil, err
		}
		if key != nil && *key != cur.JobKey.String() {
			return nil, ErrNotItsJob
		}
		now := p.now()
		switch cur.Status {
		case feedback.StatusCompleted, feedback.StatusFailed:
			return nil, ErrFinished
		case feedback.StatusProcessing:
			held := cur.LeaseOwner != nil && *cur.LeaseOwner != owner &&
				cur.LeasedUntil != nil && cur.LeasedUntil.After(now)
			if held {
				return nil, ErrLeased
			}
		}
		previous := cur.Status
		upd := tx.Feedback.UpdateOne(cur).
			SetStatus(feedback.StatusProcessing).
			AddAttempts(1).
			SetLeaseOwner(owner).
			SetLeasedUntil(now.Add(lease))
		if previous == feedback.StatusProcessing {
			return upd.Save(ctx) // a takeover: the status did not change
		}
		fb, err := upd.AddVersion(1).Save(ctx)
		if err != nil {
			return nil, err
		}
		return fb, record(ctx, tx, fb, previous)
	})
	if err != nil {
		return nil, err
	}
	return fb, nil
}

// ExtendLease keeps owner's claim alive for another lease.
func (p *Pipeline) ExtendLease(ctx context.Context, id int, owner string, lease time.Duration) error {
	return leaseKept(p.leased(id, owner).SetLeasedUntil(p.now().Add(lease)).Save(ctx))
}

// leased updates feedback id while owner holds it.
func (p *Pipeline) leased(id int, owner string) *ent.FeedbackUpdate {
	return p.client.Feedback.Update().
		Where(feedback.ID(id), feedback.StatusEQ(feedback.StatusProcessing), feedback.LeaseOwnerEQ(owner))
}

// leaseKept is ErrLeaseLost when a leased update changed no row.
func leaseKept(n int, err error) error {
	if err == nil && n == 0 {
		return ErrLeaseLost
	}
	return err
}

// Postpone keeps owner's claim over a wait of d (its job gives its worker
// slot back meanwhile and runs again after d): the lease lasts d plus
// lease. Its attempts then count the model calls the run made, not the run
// itself (calls-1 is added to the claim's one), so that a run that only
// waited is no attempt, and the job's next run knows the calls made so far.
func (p *Pipeline) Postpone(ctx context.Context, id int, owner string, d, lease time.Duration, calls int) error {
	return leaseKept(p.leased(id, owner).SetLeasedUntil(p.now().Add(d + lease)).AddAttempts(calls - 1).Save(ctx))
}

// Release ends owner's lease early, so that the job, put back on the queue
// by a shutting-down worker, can be claimed again at once.
func (p *Pipeline) Release(ctx context.Context, id int, owner string) error {
	_, err := p.leased(id, owner).SetLeasedUntil(p.now()).Save(ctx)
	return err
}

// Outcome is the result of a successful analysis.
type Outcome struct {
	Summary  string
	Provider string
	Model    string
	// FallbackReason says why a fallback provider answered ("" if the
	// first configured did).
	FallbackReason string
	// Usage is what the analysis's model calls used and cost.
	Usage
	// Latency is how long the analyzer took (0: not measured, as for a
	// reused analysis); stored with the primary Analysis row.
	Latency     time.Duration
	Adjustments []Suggestion
	// Dropped counts the suggestions of the answer left out as invalid;
	// DroppedReasons says why (bounded). Both are stored on the feedback.
	Dropped        int
	DroppedReasons []string
	// Text and State key the analysis for reuse (package reuse): the
	// normalised text it analysed and analysis.StateFingerprint of what
	// else it saw. Left empty, the stored ones stay.
	Text  reuse.Normalized
	State string
	// Embedding of the text, made by EmbeddingModel, when embeddings are
	// on (reuse.EncodeVector); nil keeps the stored one.
	Embedding      []byte
	EmbeddingModel string
	// ReusedFrom names the feedback whose analysis this is, when it was
	// reused instead of asking the model (nil: it was asked).
	ReusedFrom *int
}

// Suggestion becomes one Adjustment.
type Suggestion struct {
	Type        adjustment.AdjustmentType
	TaskID      *int
	Description string
	// ClaimedOriginalValue is what the analyzer said the task held. It is
	// kept only as information, when it differs from what the task holds:
	// the stored original value is read from the task.
	ClaimedOriginalValue *string
	NewValue             *string
	Reasoning            *string
	// Confidence is the analyzer's, 0 to 1 (nil: none given).
	Confidence *float64
}

// Complete stores the outcome and marks the feedback COMPLETED, in one
// transaction, if owner still holds it. A second Complete (a redelivered job
// that raced the first) gets ErrLeaseLost and stores nothing.
//
// Each suggestion's original value is what its task holds now, read in the
// same transaction, whatever the analyzer claimed (see Suggestion). A
// suggestion to change or remove a task that was deleted meanwhile is left
// out and counted with the dropped ones; advice about such a task is kept
// without the link.
func (p *Pipeline) Complete(ctx context.Context, id int, owner string, out Outcome) (*ent.Feedback, error) {
	fb, err := store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		builders, dropped, reasons, err := p.suggestions(ctx, tx, id, out)
		if err != nil {
			return nil, err
		}
		update := p.finish(tx.Feedback, id, owner)
		if out.FallbackReason == "" {
			update.ClearFallbackReason() // an earlier analysis's reason is not this one's
		} else {
			update.SetFallbackReason(out.FallbackReason)
		}
		out.Usage.addTo(update)
		if out.Text.Hash != "" {
			update.SetNormalizedText(out.Text.Text).SetNormalizedTextHash(out.Text.Hash)
		}
		if out.State != "" {
			update.SetStateFingerprint(out.State)
		}
		if out.Embedding != nil {
			update.SetEmbedding(out.Embedding).SetEmbeddingModel(out.EmbeddingModel)
		}
		update.SetNillableReusedFromID(out.ReusedFrom)
		if out.ReusedFrom == nil {
			update.ClearReusedFromID()
		}
		fb, err := update.
			SetStatus(feedback.StatusCompleted).
			SetSummary(out.Summary).
			SetProvider(out.Provider).
			SetModel(out.Model).
			SetDroppedSuggestions(dropped).
			SetDroppedReasons(reasons).
			ClearError().
			Save(ctx)
		if err != nil {
			return nil, leaseLost(err)
		}
		adjustments, err := tx.Adjustment.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("store adjustments: %w", err)
		}
		fb.Edges.Adjustments = adjustments // the event's snapshot carries them
		if err := primaryAnalysis(ctx, tx, fb, out, p.now()); err != nil {
			return nil, err
		}
		return fb, record(ctx, tx, fb, feedback.StatusProcessing)
	})
	if err != nil {
		return nil, err
	}
	return fb, nil
}

// primaryAnalysis records the analysis Complete stores as the feedback's
// primary Analysis, next to its comparison runs: what it cost and took, and
// what it claimed (its applicable suggestions are the adjustments).
func primaryAnalysis(ctx context.Context, tx *ent.Tx, fb *ent.Feedback, out Outcome, now time.Time) error {
	claims := make([]compare.Claim, 0, len(out.Adjustments))
	for _, s := range out.Adjustments {
		claims = append(claims, compare.Claim{Type: string(s.Type), TaskID: s.TaskID, Description: s.Description,
			OriginalValue: s.ClaimedOriginalValue, NewValue: s.NewValue, Reasoning: s.Reasoning})
	}
	create := tx.Analysis.Create().SetFeedbackID(fb.ID).SetProjectID(fb.ProjectID).SetPrimary(true).
		SetProvider(out.Provider).SetModel(out.Model).SetStatus(analysis.StatusCompleted).
		SetSummary(out.Summary).SetSuggestions(claims).SetDroppedSuggestions(fb.DroppedSuggestions).
		SetNillableInputTokens(out.InputTokens).SetNillableOutputTokens(out.OutputTokens).
		SetNillableEstimatedCost(out.EstimatedCost).SetCreatedAt(now).SetCompletedAt(now)
	if out.Latency > 0 {
		create.SetLatencyMs(int(out.Latency.Milliseconds()))
	}
	if err := create.Exec(ctx); err != nil {
		return fmt.Errorf("store the primary analysis: %w", err)
	}
	return nil
}

// suggestions prepares the adjustments of out for feedback id, with the
// original values their tasks hold now, and counts the suggestions left out
// (out's dropped ones and those about deleted tasks), with their reasons.
func (p *Pipeline) suggestions(ctx context.Context, tx *ent.Tx, id int, out Outcome) (_ []*ent.AdjustmentCreate, dropped int, reasons []string, _ error) {
	tasks, err := mentionedTasks(ctx, tx, id, out.Adjustments)
	if err != nil {
		return nil, 0, nil, err
	}
	rejected, err := p.rejections(ctx, tx, id, out)
	if err != nil {
		return nil, 0, nil, err
	}
	dropped, reasons = out.Dropped, slices.Clone(out.DroppedReasons)
	builders := make([]*ent.AdjustmentCreate, 0, len(out.Adjustments))
	for _, s := range out.Adjustments {
		kind, ok := suggestion.ByType(s.Type)
		if !ok {
			return nil, 0, nil, fmt.Errorf("store adjustments: unknown adjustment type %q", s.Type)
		}
		var t *ent.Task
		if s.TaskID != nil {
			t = tasks[*s.TaskID]
		}
		if kind.TargetsTask && t == nil {
			dropped++
			reasons = addReason(reasons, dropped,
				fmt.Sprintf("%s for task %s: the task was deleted before the analysis was stored", kind.Name, showID(s.TaskID)))
			continue
		}
		if r := repeats(kind, s, rejected); r != nil {
			dropped++
			about := kind.Name
			if s.TaskID != nil {
				about += " for task " + showID(s.TaskID)
			}
			reasons = addReason(reasons, dropped, fmt.Sprintf("%s: repeats a suggestion the team rejected on %s, within the rejection memory (%s)",
				about, r.DecidedAt.UTC().Format(time.DateOnly), memoryText(p.memory)))
			continue
		}
		original := plan.Original(kind, t) // nil for kinds about no existing task
		claimed := s.ClaimedOriginalValue
		if claimed != nil && kind.Same(original, *claimed) {
			claimed = nil
		}
		create := tx.Adjustment.Create().
			SetFeedbackID(id).
			SetPosition(len(builders)).
			SetAdjustmentType(s.Type).
			SetDescription(s.Description).
			SetNillableOriginalValue(original).
			SetNillableClaimedOriginalValue(claimed).
			SetNillableNewValue(s.NewValue).
			SetNillableReasoning(s.Reasoning).
			SetNillableConfidence(s.Confidence)
		if t != nil {
			create.SetTaskID(t.ID)
		}
		builders = append(builders, create)
	}
	return builders, dropped, reasons, nil
}

// mentionedTasks reads, in one query, the tasks of feedback id's project
// that the suggestions name, by ID. A task missing from the map was deleted.
func mentionedTasks(ctx context.Context, tx *ent.Tx, id int, suggestions []Suggestion) (map[int]*ent.Task, error) {
	var ids []int
	for _, s := range suggestions {
		if s.TaskID != nil {
			ids = append(ids, *s.TaskID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// The analysis only names tasks of the feedback's project; the
	// condition keeps it so whatever an analyzer returns.
	tasks, err := tx.Task.Query().
		Where(task.IDIn(ids...), task.HasProjectWith(project.HasFeedbacksWith(feedback.ID(id)))).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the tasks the suggestions are about: %w", err)
	}
	byID := make(map[int]*ent.Task, len(tasks))
	for _, t := range tasks {
		byID[t.ID] = t
	}
	return byID, nil
}

// addReason adds the reason of one more dropped suggestion (dropped counts
// them all, this one included), keeping at most bounds.MaxDroppedReasons: the
// last then sums up the rest, as the answer's validation does.
func addReason(reasons []string, dropped int, reason string) []string {
	if len(reasons) < bounds.MaxDroppedReasons {
		return append(reasons, reason)
	}
	shown := bounds.MaxDroppedReasons - 1
	return append(reasons[:shown:shown], fmt.Sprintf("and %d more", dropped-shown))
}

func showID(id *int) string {
	if id == nil {
		return "(none)"
	}
	return strconv.Itoa(*id)
}

// Fail marks the feedback FAILED with a reason for the user, if owner still holds it.
func (p *Pipeline) Fail(ctx context.Context, id int, owner, reason string) (*ent.Feedback, error) {
	return p.FailSpent(ctx, id, owner, reason, Usage{})
}

// FailSpent is Fail for an analysis whose model calls used tokens before it
// failed: they are added to the feedback's, so that they count toward the
// project's spend.
func (p *Pipeline) FailSpent(ctx context.Context, id int, owner, reason string, spent Usage) (*ent.Feedback, error) {
	return store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		update := p.finish(tx.Feedback, id, owner)
		spent.addTo(update)
		fb, err := update.
			SetStatus(feedback.StatusFailed).
			SetError(reason).
			Save(ctx)
		if err != nil {
			return nil, leaseLost(err)
		}
		return fb, record(ctx, tx, fb, feedback.StatusProcessing)
	})
}

// Abandon marks unfinished feedback FAILED whoever holds it: its job was
// dead-lettered, so nothing will process it any more. A job made for
// another row with this feedback ID gets ErrNotItsJob and changes nothing.
func (p *Pipeline) Abandon(ctx context.Context, job queue.Job, reason string) (*ent.Feedback, error) {
	return store.InTx(ctx, p.client, func(tx *ent.Tx) (*ent.Feedback, error) {
		cur, err := tx.Feedback.Query().Where(feedback.ID(job.FeedbackID)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return nil, ErrGone
		}
		if err != nil {
			return nil, err
		}
		if job.Key != cur.JobKey.String() {
			return nil, ErrNotItsJob
		}
		if cur.Status == feedback.StatusCompleted || cur.Status == feedback.StatusFailed {
			return nil, ErrFinished
		}
		fb, err := tx.Feedback.UpdateOne(cur).
			SetStatus(feedback.StatusFailed).
			SetError(reason).
			AddVersion(1).
			SetProcessedAt(p.now()).
			ClearLeaseOwner().
			ClearLeasedUntil().
			Save(ctx)
		if err != nil {
			return nil, err
		}
		return fb, record(ctx, tx, fb, cur.Status)
	})
}

// finish prepares the transition out of PROCESSING for owner.
func (p *Pipeline) finish(c *ent.FeedbackClient, id int, owner string) *ent.FeedbackUpdateOne {
	return c.UpdateOneID(id).
		Where(feedback.StatusEQ(feedback.StatusProcessing), feedback.LeaseOwnerEQ(owner)).
		AddVersion(1).
		SetProcessedAt(p.now()).
		ClearLeaseOwner().
		ClearLeasedUntil()
}

func leaseLost(err error) error {
	if ent.IsNotFound(err) {
		return ErrLeaseLost
	}
	return err
}

// record writes fb's status change to the outbox of tx, with a snapshot of
// the feedback (its adjustments included when they are loaded). The event
// commits with the change or not at all.
func record(ctx context.Context, tx *ent.Tx, fb *ent.Feedback, previous feedback.Status) error {
	actorID, actor := outbox.Actor(ctx)
	payload := outbox.FeedbackPayload{Feedback: fb, PreviousStatus: string(previous), Actor: actor}
	e, err := outbox.New(fb.ProjectID, outbox.KindFeedback, fb.ID, fb.Version, actorID, payload)
	if err != nil {
		return err
	}
	outbox.Record(tx, e)
	return nil
}
