package github_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/githubissue"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/integrations/github"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "github", &dbTemplate) }

const token = "ghp_unitTokenNeverLogged0123456789"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// answer is one scripted reply of the fake GitHub.
type answer struct {
	status int
	header map[string]string
	body   string
}

// fakeGitHub answers POST /repos/{o}/{r}/issues with its script, then 201.
type fakeGitHub struct {
	*httptest.Server
	mu     sync.Mutex
	script []answer
	auth   []string
	paths  []string
}

func newFake(t *testing.T, script ...answer) *fakeGitHub {
	f := &fakeGitHub{script: script}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.auth, f.paths = append(f.auth, r.Header.Get("Authorization")), append(f.paths, r.URL.Path)
		n := len(f.auth)
		var a answer
		if len(f.script) > 0 {
			a, f.script = f.script[0], f.script[1:]
		} else {
			a = answer{status: 201, body: fmt.Sprintf(`{"id":99%d,"number":%d,"state":"open","html_url":"https://github.com/%s/%s/issues/%d"}`,
				n, 100+n, r.PathValue("owner"), r.PathValue("repo"), 100+n)}
		}
		f.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.auth) }

type world struct {
	t       *testing.T
	client  *ent.Client
	clock   *clock
	fake    *fakeGitHub
	sealer  *webhooks.Sealer
	project int
}

func newWorld(t *testing.T, script ...answer) *world {
	db, _ := dbTemplate.Open(t)
	sealer, err := webhooks.NewSealer(strings.Repeat("s", 32))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, client: store.NewClient(db), clock: &clock{t: time.Now().UTC()}, fake: newFake(t, script...), sealer: sealer}
	w.project = w.newProject("octo-org", "web", "secret-of-the-project-one")
	w.dispatcher().DispatchOnce(context.Background()) // places the cursor
	return w
}

func (w *world) dispatcher() *github.Dispatcher {
	return github.NewDispatcher(github.Config{Client: w.client, GitHub: &github.Client{BaseURL: w.fake.URL}, Secrets: w.sealer,
		Now: w.clock.Now, RetryBase: time.Second, RetryMax: time.Minute})
}

// newProject creates a project linking owner/repo, its token and secret
// sealed as linkGitHubRepository stores them.
func (w *world) newProject(owner, repo, secret string) int {
	ctx := accesstest.System()
	p := w.client.Project.Create().SetName(owner + "/" + repo).SaveX(ctx)
	sealedToken, _ := w.sealer.Seal(token)
	sealedSecret, _ := w.sealer.Seal(secret)
	w.client.GitHubRepository.Create().SetProjectID(p.ID).SetOwner(owner).SetRepo(repo).
		SetToken(sealedToken).SetWebhookSecret(sealedSecret).ExecX(ctx)
	return p.ID
}

// applyNewTask creates a task and its NEW_TASK decision's outbox event, as
// plan.Apply does.
func (w *world) applyNewTask(project int, title string) int {
	w.t.Helper()
	t, err := store.InTx(accesstest.System(), w.client, func(tx *ent.Tx) (*ent.Task, error) {
		t, err := tx.Task.Create().SetProjectID(project).SetTitle(title).Save(accesstest.System())
		if err != nil {
			return nil, err
		}
		e, err := outbox.New(project, outbox.KindAdjustment, 1, 2, nil, outbox.AdjustmentPayload{Adjustment: &ent.Adjustment{
			ID: 1, AdjustmentType: adjustment.AdjustmentTypeNewTask, Status: adjustment.StatusApplied, TaskID: &t.ID}})
		if err != nil {
			return nil, err
		}
		outbox.Record(tx, e)
		return t, nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return t.ID
}

func (w *world) send(d *github.Dispatcher) {
	w.t.Helper()
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	if _, err := d.SendDue(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) issue(taskID int) *ent.GitHubIssue {
	return w.client.GitHubIssue.Query().Where(githubissue.TaskID(taskID)).OnlyX(accesstest.System())
}

// Two workers dispatching and sending at once open the issue once, with
// the token opened from its sealed form, and record it on the task.
func TestAnIssueIsOpenedOnceAndRecordedOnItsTask(t *testing.T) {
	w := newWorld(t)
	if stored := w.client.GitHubRepository.Query().OnlyX(accesstest.System()).Token; stored == token {
		t.Fatal("the token is stored in the clear")
	}
	id := w.applyNewTask(w.project, "Dark mode")
	a, b := w.dispatcher(), w.dispatcher()
	var wg sync.WaitGroup
	for _, d := range []*github.Dispatcher{a, b, a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); w.send(d) }()
	}
	wg.Wait()
	if n := w.fake.calls(); n != 1 {
		t.Fatalf("GitHub was asked %d times", n)
	}
	if w.fake.auth[0] != "Bearer "+token || w.fake.paths[0] != "/repos/octo-org/web/issues" {
		t.Errorf("asked %s with %q", w.fake.paths[0], w.fake.auth[0])
	}
	tk := w.client.Task.GetX(accesstest.System(), id)
	if tk.GithubIssueNumber == nil || *tk.GithubIssueNumber != 101 || tk.GithubIssueURL == nil ||
		*tk.GithubIssueURL != "https://github.com/octo-org/web/issues/101" || tk.Version != 2 {
		t.Errorf("task %+v", tk)
	}
	if is := w.issue(id); is.Status != githubissue.StatusCreated || is.Number == nil || *is.Number != 101 {
		t.Errorf("issue row %+v", is)
	}
	w.send(a)
	if n := w.fake.calls(); n != 1 {
		t.Errorf("a later round asked again: %d", n)
	}
}

// GitHub's 5xx and rate limits are retried no sooner than it asks:
// Retry-After, or x-ratelimit-reset when the limit is exhausted.
func TestServerErrorsAndRateLimitsAreRetriedWhenGitHubSays(t *testing.T) {
	now := time.Now().UTC()
	reset := now.Add(10 * time.Minute).Unix()
	w := newWorld(t,
		answer{status: 503, header: map[string]string{"Retry-After": "120"}, body: `{"message":"Service Unavailable"}`},
		answer{status: 403, header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(reset, 10)},
			body: `{"message":"API rate limit exceeded"}`},
	)
	w.clock.t = now
	id := w.applyNewTask(w.project, "Search box")
	d := w.dispatcher()
	w.send(d)
	is := w.issue(id)
	if is.Status != githubissue.StatusPending || is.NextAttemptAt.Sub(now) < 119*time.Second || is.Error == nil || !strings.Contains(*is.Error, "503") {
		t.Fatalf("after a 503 with Retry-After: 120: %+v", is)
	}
	w.clock.Add(60 * time.Second)
	w.send(d)
	if n := w.fake.calls(); n != 1 {
		t.Fatalf("retried before Retry-After: %d calls", n)
	}
	w.clock.Add(61 * time.Second)
	w.send(d)
	is = w.issue(id)
	if w.fake.calls() != 2 || is.Status != githubissue.StatusPending || is.NextAttemptAt.Unix() < reset {
		t.Fatalf("after the rate limit: %d calls, %+v (reset %d)", w.fake.calls(), is, reset)
	}
	w.clock.t = time.Unix(reset, 0).UTC().Add(time.Second)
	w.send(d)
	if is = w.issue(id); is.Status != githubissue.StatusCreated || w.fake.calls() != 3 {
		t.Fatalf("after the reset: %d calls, %+v", w.fake.calls(), is)
	}
}

// A refusal (bad token, no such repository) is not retried, and its error
// says what GitHub said without the token.
func TestARefusalFailsAtOnce(t *testing.T) {
	w := newWorld(t, answer{status: 401, body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`})
	id := w.applyNewTask(w.project, "Export")
	d := w.dispatcher()
	w.send(d)
	w.clock.Add(time.Hour)
	w.send(d)
	is := w.issue(id)
	if is.Status != githubissue.StatusFailed || w.fake.calls() != 1 || is.Error == nil ||
		!strings.Contains(*is.Error, "Bad credentials") || strings.Contains(*is.Error, token) {
		t.Fatalf("%d calls, %+v", w.fake.calls(), is)
	}
}

// A task deleted before its issue is opened gets none; a project without
// a linked repository gets no issues.
func TestDeletedTasksAndUnlinkedProjectsGetNoIssue(t *testing.T) {
	w := newWorld(t)
	id := w.applyNewTask(w.project, "Gone soon")
	other := w.client.Project.Create().SetName("unlinked").SaveX(accesstest.System()).ID
	w.applyNewTask(other, "Never an issue")
	d := w.dispatcher()
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.InTx(accesstest.System(), w.client, func(tx *ent.Tx) (int, error) {
		return tx.Task.Delete().Where(task.ID(id)).Exec(accesstest.System())
	}); err != nil {
		t.Fatal(err)
	}
	w.send(d)
	if is := w.issue(id); is.Status != githubissue.StatusSkipped || w.fake.calls() != 0 {
		t.Fatalf("%d calls, %+v", w.fake.calls(), is)
	}
	if n := w.client.GitHubIssue.Query().CountX(accesstest.System()); n != 1 {
		t.Errorf("%d issue rows, want the linked project's only", n)
	}
}

var deliveryID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

func post(t *testing.T, h http.Handler, event, signature string, body []byte) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/integrations/github/webhook", bytes.NewReader(body))
	r.Header.Set("X-GitHub-Event", event)
	r.Header.Set("X-GitHub-Delivery", deliveryID)
	if signature != "" {
		r.Header.Set("X-Hub-Signature-256", signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

func closed(number int) []byte {
	return fmt.Appendf(nil, `{"action":"closed","issue":{"number":%d},"repository":{"name":"web","full_name":"octo-org/web","owner":{"login":"octo-org"}}}`, number)
}

// Two projects link the same repository: a delivery signed with one's
// secret closes only that project's tasks.
func TestAWebhookClosesOnlyItsProjectsTask(t *testing.T) {
	w := newWorld(t)
	id := w.applyNewTask(w.project, "Dark mode")
	w.send(w.dispatcher())
	number := *w.issue(id).Number
	w.newProject("octo-org", "web", "secret-of-the-project-two")
	h := github.Webhook(w.client, w.sealer, nil)

	if code := post(t, h, "issues", github.Sign("secret-of-the-project-two", closed(number)), closed(number)); code != http.StatusAccepted {
		t.Errorf("the other project's signature got %d, want 202 (not its issue)", code)
	}
	if st := w.client.Task.GetX(accesstest.System(), id).Status; st == task.StatusDone {
		t.Fatal("another project's secret closed the task")
	}
	if code := post(t, h, "issues", "sha256=00"+github.Sign("secret-of-the-project-one", closed(number))[9:], closed(number)); code != http.StatusUnauthorized {
		t.Errorf("a corrupted signature got %d", code)
	}
	reopened := bytes.Replace(closed(number), []byte(`"closed"`), []byte(`"reopened"`), 1)
	if code := post(t, h, "issues", github.Sign("secret-of-the-project-one", reopened), reopened); code != http.StatusAccepted {
		t.Errorf("another action got %d, want 202", code)
	}
	if code := post(t, h, "issues", github.Sign("secret-of-the-project-one", closed(number)), closed(number)); code != http.StatusOK {
		t.Fatalf("the signed close got %d", code)
	}
	if tk := w.client.Task.GetX(accesstest.System(), id); tk.Status != task.StatusDone {
		t.Fatalf("task %+v", tk)
	}
	// Someone reopens the task here; GitHub redelivers the same close: no
	// change. A new close (the issue reopened and closed again) is one.
	if _, err := store.InTx(accesstest.System(), w.client, func(tx *ent.Tx) (*ent.Task, error) {
		return tx.Task.UpdateOneID(id).SetStatus(task.StatusTodo).Save(accesstest.System())
	}); err != nil {
		t.Fatal(err)
	}
	if code := post(t, h, "issues", github.Sign("secret-of-the-project-one", closed(number)), closed(number)); code != http.StatusOK {
		t.Errorf("the redelivery got %d", code)
	}
	if tk := w.client.Task.GetX(accesstest.System(), id); tk.Status != task.StatusTodo {
		t.Errorf("the redelivery changed the task: %s", tk.Status)
	}
	deliveryID = "8f3b1c2e-0000-11e3-81ab-4c9367dc0958"
	if code := post(t, h, "issues", github.Sign("secret-of-the-project-one", closed(number)), closed(number)); code != http.StatusOK ||
		w.client.Task.GetX(accesstest.System(), id).Status != task.StatusDone {
		t.Errorf("a new close got %d and left the task open", code)
	}
	big := append(closed(number), bytes.Repeat([]byte(" "), github.MaxWebhookBytes)...)
	if code := post(t, h, "issues", github.Sign("secret-of-the-project-one", big), big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized body got %d", code)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"zen":"x"}`)
	sig := github.Sign("It's a Secret to Everybody", body)
	for _, c := range []struct {
		secret, header string
		want           bool
	}{
		{"It's a Secret to Everybody", sig, true},
		{"It's a Secret to Everybody", strings.TrimPrefix(sig, "sha256="), false},
		{"It's a Secret to Everybody", "sha1=" + sig[7:], false},
		{"It's a Secret to Everybody", "sha256=zz", false},
		{"another secret", sig, false},
		{"", github.Sign("", body), false},
	} {
		if got := github.Verify(c.secret, body, c.header); got != c.want {
			t.Errorf("Verify(%q, %q) = %v", c.secret, c.header, got)
		}
	}
	// GitHub's documented example (docs.github.com, validating webhook deliveries).
	if !github.Verify("It's a Secret to Everybody", []byte("Hello, World!"),
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17") {
		t.Error("GitHub's example does not verify")
	}
}

// Server errors are retried for a day, then the issue is FAILED; an issue
// whose project unlinked the repository meanwhile is skipped.
func TestRetriesEndAfterADayAndUnlinkingSkips(t *testing.T) {
	w := newWorld(t, answer{status: 500, body: `{"message":"Server Error"}`}, answer{status: 502, body: `<html>bad gateway</html>`})
	id := w.applyNewTask(w.project, "Flaky")
	d := w.dispatcher()
	w.send(d)
	if is := w.issue(id); is.Status != githubissue.StatusPending || is.AttemptCount != 1 {
		t.Fatalf("after a 500: %+v", is)
	}
	w.clock.Add(github.RetryFor + time.Minute)
	w.send(d)
	if is := w.issue(id); is.Status != githubissue.StatusFailed || is.Error == nil || !strings.Contains(*is.Error, "gave up after a day") {
		t.Fatalf("after a day: %+v", is)
	}

	other := w.applyNewTask(w.project, "Unlinked before sending")
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.client.GitHubRepository.Delete().ExecX(accesstest.System())
	w.send(d)
	if is := w.issue(other); is.Status != githubissue.StatusSkipped || w.fake.calls() != 2 {
		t.Fatalf("%d calls, %+v", w.fake.calls(), is)
	}
}
