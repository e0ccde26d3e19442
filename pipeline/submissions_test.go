package pipeline_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// as is ctx of a new user with the rights to submit anywhere.
func (e *env) as(subject string) (context.Context, int) {
	e.t.Helper()
	u := e.client.User.Create().SetSubject(subject).SaveX(accesstest.System())
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Subject: subject, Kind: viewer.User, Admin: true}), u.ID
}

// counted is what an Admission saw.
type counted struct {
	byUser, inProject map[int]time.Time // by n: the nth latest
}

func count(ns ...int) (pipeline.Admission, *counted) {
	c := &counted{byUser: map[int]time.Time{}, inProject: map[int]time.Time{}}
	return func(ctx context.Context, s *pipeline.Submissions, user, project int) error {
		for _, n := range ns {
			if at, ok, err := s.NthLatestByUser(ctx, user, n, time.Now().Add(-time.Hour)); err != nil {
				return err
			} else if ok {
				c.byUser[n] = at
			}
			if at, ok, err := s.NthLatestInProject(ctx, project, n, time.Now().Add(-time.Hour)); err != nil {
				return err
			} else if ok {
				c.inProject[n] = at
			}
		}
		return nil
	}, c
}

// The feedback rows are the record of submissions: each row counts for its
// submitter when it was created and, retried, for who retried it last
// when they did; older than the window, it does not count.
func TestSubmissionsAreCountedFromTheRows(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.as("alice")
	bob, _ := e.as("bob")
	other := e.client.Project.Create().SetName("Other").SaveX(accesstest.System()).ID
	submit := func(ctx context.Context, project int, admit pipeline.Admission) *ent.Feedback {
		t.Helper()
		fb, err := e.p.Submit(ctx, pipeline.Submission{ProjectID: project, Text: "x", Admit: admit})
		if err != nil {
			t.Fatal(err)
		}
		return fb
	}
	old := submit(alice, e.pid, nil)
	// An hour and more ago: out of every window.
	if _, err := e.client.ExecContext(context.Background(), `UPDATE feedbacks SET created_at = now() - interval '2 hours' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	first := submit(alice, e.pid, nil)
	elsewhere := submit(alice, other, nil)
	byBob := submit(bob, e.pid, nil)
	// Alice retries Bob's feedback: her third, the project's fourth.
	e.fail(byBob.ID)
	admit, c := count(1, 2, 3, 4)
	e.clock.Add(time.Since(e.clock.Now())) // the pipeline's clock is real time again
	retried, err := e.p.RetryAdmitted(alice, byBob.ID, admit)
	if err != nil {
		t.Fatal(err)
	}
	if retried.RetriedAt == nil || retried.RetriedByID == nil || *retried.RetriedByID != viewer.FromContext(alice).UserID {
		t.Fatalf("retry recorded as %v by %v", retried.RetriedAt, retried.RetriedByID)
	}
	// Counted before the retry is stored: alice has 2, the project 2.
	if len(c.byUser) != 2 || !same(c.byUser[1], elsewhere.CreatedAt) || !same(c.byUser[2], first.CreatedAt) {
		t.Errorf("alice's latest: %v", c.byUser)
	}
	if len(c.inProject) != 2 || !same(c.inProject[2], first.CreatedAt) || !same(c.inProject[1], byBob.CreatedAt) {
		t.Errorf("the project's latest: %v (first %v, bob's %v)", c.inProject, first.CreatedAt, byBob.CreatedAt)
	}
	admit, c = count(1, 2, 3, 4)
	submit(alice, e.pid, admit)
	if len(c.byUser) != 3 || !same(c.byUser[1], *retried.RetriedAt) {
		t.Errorf("alice's latest after her retry: %v (retried at %v)", c.byUser, retried.RetriedAt)
	}
	if len(c.inProject) != 3 || !same(c.inProject[1], *retried.RetriedAt) || !same(c.inProject[3], first.CreatedAt) {
		t.Errorf("the project's latest after the retry: %v", c.inProject)
	}
	// An admission's error refuses the submission, and nothing is stored.
	before := e.client.Feedback.Query().CountX(accesstest.System())
	refused := errors.New("no")
	if _, err := e.p.Submit(alice, pipeline.Submission{ProjectID: e.pid, Text: "x",
		Admit: func(context.Context, *pipeline.Submissions, int, int) error { return refused }}); !errors.Is(err, refused) {
		t.Fatalf("refused submission: %v", err)
	}
	if _, err := e.p.RetryAdmitted(alice, byBob.ID, func(context.Context, *pipeline.Submissions, int, int) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("refused retry: %v", err)
	}
	if n := e.client.Feedback.Query().CountX(accesstest.System()); n != before {
		t.Errorf("%d feedbacks after a refusal, want %d", n, before)
	}
}

// same: PostgreSQL keeps microseconds.
func same(a, b time.Time) bool { return a.Sub(b).Abs() < time.Microsecond }

// fail drives feedback to FAILED as a worker would.
func (e *env) fail(id int) {
	e.t.Helper()
	if _, err := e.p.Claim(accesstest.System(), id, "w", time.Minute); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.p.Fail(accesstest.System(), id, "w", "model down"); err != nil {
		e.t.Fatal(err)
	}
}

// Concurrent admissions, as several API instances make them while Redis is
// down, count one after another: a budget of 4 admits 4 of 12 submissions
// racing for it, per user and per project, whatever their timing.
func TestAdmissionsAreSerialised(t *testing.T) {
	e := newEnv(t)
	// Two pipelines, as two instances have, on one database.
	second := pipeline.New(pipeline.Config{Client: e.client, Jobs: e.jobs})
	full := errors.New("budget spent")
	// Each admission counts, then takes its time (a slow instance: without
	// the locks, the others would count meanwhile), then decides.
	admission := func(byUser bool) pipeline.Admission {
		return func(ctx context.Context, s *pipeline.Submissions, user, project int) error {
			nth, key := s.NthLatestInProject, project
			if byUser {
				nth, key = s.NthLatestByUser, user
			}
			_, spent, err := nth(ctx, key, 4, time.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			if spent {
				return full
			}
			return nil
		}
	}
	byUser, inProject := admission(true), admission(false)

	race := func(admit pipeline.Admission, ctxs []context.Context, project int) (admitted int) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i, ctx := range ctxs {
			p := e.p
			if i%2 == 1 {
				p = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Submit(ctx, pipeline.Submission{ProjectID: project, Text: "racing", Admit: admit})
				switch {
				case err == nil:
					mu.Lock()
					admitted++
					mu.Unlock()
				case !errors.Is(err, full):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return admitted
	}
	alice, _ := e.as("alice")
	var ctxs []context.Context
	for range 12 {
		ctxs = append(ctxs, alice)
	}
	if n := race(byUser, ctxs, e.pid); n != 4 {
		t.Errorf("one user: %d of 12 admitted, want 4", n)
	}
	project := e.client.Project.Create().SetName("Busy").SaveX(accesstest.System()).ID
	ctxs = nil
	for i := range 12 {
		ctx, _ := e.as("user" + string(rune('a'+i)))
		ctxs = append(ctxs, ctx)
	}
	if n := race(inProject, ctxs, project); n != 4 {
		t.Errorf("one project: %d of 12 admitted, want 4", n)
	}
}

// Feedback stored while the queue's Redis is down is queued as soon as it
// is back, without waiting for the reconciler; later submissions wait in
// line behind it rather than on the unreachable queue.
func TestFeedbackIsQueuedAsSoonAsTheQueueIsBack(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	client := store.NewClient(db)
	srv := testredis.Start(t)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries, opts.DialTimeout = -1, 200*time.Millisecond
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	jobs := queue.NewClient(rdb, queue.Options{Name: "q-back"})
	t.Cleanup(func() { jobs.Close() })
	logs := &testutil.Buffer{}
	p := pipeline.New(pipeline.Config{Client: client, Jobs: jobs, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	sys := accesstest.System()
	pid := client.Project.Create().SetName("P").SaveX(sys).ID

	srv.Stop(t)
	var ids []int
	for range 3 {
		fb, err := p.Submit(sys, pipeline.Submission{ProjectID: pid, Text: "while Redis is down"})
		if err != nil {
			t.Fatalf("submission with the queue down: %v", err)
		}
		if fb.Status != feedback.StatusPending {
			t.Fatalf("stored %s", fb.Status)
		}
		ids = append(ids, fb.ID)
	}
	// Submissions behind a waiting job join the backlog without trying
	// the unreachable queue first (each try would wait for a dial).
	if n := strings.Count(logs.String(), "the queue is unreachable; the feedback is queued as soon as it is back"); n != len(ids)-1 {
		t.Errorf("%d submissions went straight to the backlog, want %d", n, len(ids)-1)
	}
	srv.Restart(t)
	for _, id := range ids {
		fb := client.Feedback.GetX(sys, id)
		testutil.WaitForWithin(t, 10*time.Second, "the job queued", func() bool {
			_, err := jobs.State(context.Background(), pipeline.JobFor(fb))
			return err == nil
		})
		if !logs.Contains(`"feedback_id":` + strconv.Itoa(id)) {
			t.Errorf("no log line names feedback %d", id)
		}
	}
	p.Close()
}
