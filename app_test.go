package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	_ "github.com/lib/pq"

	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/testbrowser"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// The web app at /app, as its users meet it, with authentication on: an
// editor signs in, creates a project and its tasks, and submits feedback in
// one page while a second page (another browser profile, signed in on its
// own) watches it go PENDING → PROCESSING → COMPLETED live; applying the
// built-in analyzer's suggestion moves the task on the board in both pages.
// A viewer, in a phone-sized window, sees the suggestions without buttons to
// decide them, and the API refuses the decision when it forces it. Votes
// and comments reach the other pages; a page that lost its connection
// catches up by cursor; a CONFLICT shows the task's current value and can be
// forced. axe-core finds no serious or critical violation on any screen.
//
// Screenshots of each screen are written to $APP_SCREENSHOTS when set (CI
// keeps them as artefacts), else to a temporary directory named in the log.
func TestWebAppInABrowser(t *testing.T) {
	const secret, admin = "a-secret-for-the-web-app-test-0123456789", "an-admin-key-for-the-web-app-test"
	base, _ := startServer(t, map[string]string{"JWT_SECRET": secret, "ADMIN_API_KEY": admin})
	mint := func(subject, name string) string {
		token, err := hs256.Mint([]byte(secret), subject, name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	ada, bob := mint("ada", "Ada"), mint("bob", "Bob")
	shots := screenshotDir(t)
	browser := testbrowser.New(t)

	// The editor signs in and creates a project with two tasks.
	editor := browser.LongTab(t, 5*time.Minute)
	inTab(t, editor, "open the app", chromedp.Navigate(base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#credential")))
	testbrowser.CheckAccessibility(t, editor, "sign-in")
	screenshot(t, editor, shots, "sign-in")
	signIn(t, editor, ada)
	testbrowser.CheckAccessibility(t, editor, "projects")
	screenshot(t, editor, shots, "projects")
	inTab(t, editor, "create a project",
		chromedp.SendKeys(chromedp.CSS("#project-name"), "Checkout"),
		chromedp.Click(chromedp.Search(`//button[text()="Create project"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.stream[data-live="true"]`)))
	projectURL := waitJS[string](t, editor, "the project's page", `() => document.querySelector('h1')?.textContent === 'Checkout' ? location.href : null`)
	addTask(t, editor, "Write the checkout copy", "TODO")
	addTask(t, editor, "Design the payment page", "IN_PROGRESS")

	// A second page, signed in on its own, watches the project.
	watcher := browser.LongTab(t, 5*time.Minute)
	// The test cuts this page's websockets later, and holds new ones back
	// for a while, to see the page catch up by cursor.
	if _, err := chromedp.Call(watcher, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
		const Native = window.WebSocket;
		window.testSockets = [];
		window.testHoldSockets = false;
		window.WebSocket = class extends Native {
			constructor(...args) {
				if (window.testHoldSockets) throw new Error('websockets held back by the test');
				super(...args);
				window.testSockets.push(this);
			}
		};
	})()`}); err != nil {
		t.Fatal(err)
	}
	inTab(t, watcher, "open the app", chromedp.Navigate(base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#credential")))
	signIn(t, watcher, ada)
	inTab(t, watcher, "open the project", chromedp.Navigate(projectURL), chromedp.WaitVisible(chromedp.CSS(`.stream[data-live="true"]`)))
	waitJS[bool](t, watcher, "the board's tasks", `() => document.querySelectorAll('[data-task-id]').length === 2 || null`)
	// Feedback submitted before the server holds both pages' subscriptions
	// would not be seen from its start: wait for them.
	testutil.WaitFor(t, "both pages' subscriptions to be open", func() bool {
		return strings.Contains(get(t, base+"/metrics", admin), "\nfeedbackloop_active_subscriptions 2\n")
	})
	inTab(t, watcher, "watch the feedback's statuses", chromedp.Evaluate[chromedp.Void](`(() => {
		window.statusesShown = [];
		const seen = () => {
			const item = document.querySelector('[data-feedback-id]');
			const s = item && item.dataset.status;
			if (s && window.statusesShown.at(-1) !== s) window.statusesShown.push(s);
		};
		new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
	})()`))

	// The editor submits feedback; the watcher sees it analysed, live.
	inTab(t, editor, "submit feedback",
		chromedp.SendKeys(chromedp.CSS("#feedback-text"), "The checkout copy is urgent and its writers are blocked"),
		chromedp.Click(chromedp.Search(`//button[text()="Submit feedback"]`)))
	statuses := waitJS[[]string](t, watcher, "the feedback to complete in the second page", `() => window.statusesShown.at(-1) === 'COMPLETED' ? window.statusesShown : null`)
	// PROCESSING may be skipped: a subscriber that falls behind is resynced
	// to the feedback's current state.
	if !slices.Equal(statuses, []string{"PENDING", "PROCESSING", "COMPLETED"}) && !slices.Equal(statuses, []string{"PENDING", "COMPLETED"}) {
		t.Errorf("the second page showed the feedback %v, want PENDING, (PROCESSING,) COMPLETED", statuses)
	}

	// The editor applies the suggestion to block the task: it moves to the
	// Blocked column in both pages.
	suggestion := waitJS[string](t, editor, "the suggestion to block the task", `() => {
		const s = [...document.querySelectorAll('[data-suggestion-id][data-status="PROPOSED"]')].find(e => e.textContent.includes('as blocked'));
		return s ? s.dataset.suggestionId : null;
	}`)
	if got := waitJS[string](t, editor, "the suggestion's reasoning", `() => document.querySelector('.reasoning')?.textContent || null`); !strings.HasPrefix(got, "Why: ") {
		t.Errorf("the suggestion's reasoning reads %q", got)
	}
	inTab(t, editor, "apply the suggestion", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button.primary`, suggestion))))
	blocked := `() => document.querySelector('[data-column="BLOCKED"] [data-task-id]')?.textContent.includes('Write the checkout copy') &&
		![...document.querySelectorAll('[data-column="TODO"] [data-task-id]')].some(e => e.textContent.includes('Write the checkout copy')) || null`
	waitJS[bool](t, editor, "the task blocked in the editor's page", blocked)
	waitJS[bool](t, watcher, "the task blocked in the second page", blocked)
	waitJS[bool](t, watcher, "the suggestion applied in the second page", fmt.Sprintf(`() => document.querySelector('[data-suggestion-id=%q]')?.dataset.status === 'APPLIED' || null`, suggestion))
	testbrowser.CheckAccessibility(t, editor, "board")
	screenshot(t, editor, shots, "board")

	// The charts, loaded on demand.
	inTab(t, editor, "open the charts", chromedp.Navigate(projectURL+"/insights"), chromedp.WaitVisible(chromedp.CSS(".recharts-surface")), chromedp.WaitVisible(chromedp.CSS("#c-themes")))
	testbrowser.CheckAccessibility(t, editor, "charts")
	screenshot(t, editor, shots, "charts")

	// Bob is made a VIEWER of the project.
	added := graphQLInTab(t, editor, "Bob to be added as a viewer", `mutation($p: ID!) { addProjectMember(input: {projectID: $p, subject: "bob", role: VIEWER}) { role } }`, map[string]any{"p": projectID(projectURL)})
	if !strings.Contains(added, `"role":"VIEWER"`) {
		t.Fatalf("adding Bob as a viewer: %s", added)
	}

	// The viewer, 375 px wide, sees the suggestions but no decisions.
	viewer := browser.LongTab(t, 5*time.Minute)
	inTab(t, viewer, "open the app at 375 px", chromedp.EmulateViewport(375, 812), chromedp.Navigate(base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#credential")))
	signIn(t, viewer, bob)
	inTab(t, viewer, "open the project", chromedp.Navigate(projectURL), chromedp.WaitVisible(chromedp.CSS(`.stream[data-live="true"]`)))
	proposed := waitJS[string](t, viewer, "the suggestions", `() => document.querySelector('[data-suggestion-id][data-status="PROPOSED"]')?.dataset.suggestionId || null`)
	buttons := waitJS[[]string](t, viewer, "the page's buttons", `() => [...document.querySelectorAll('main button')].map(b => b.textContent)`)
	for _, b := range buttons {
		if b == "Apply" || b == "Reject" || b == "Revert" || strings.Contains(b, "force") {
			t.Errorf("a viewer sees the button %q", b)
		}
	}
	if w := waitJS[float64](t, viewer, "the page's width", `() => document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("at 375 px the page is %v px wide: it scrolls sideways", w)
	}
	testbrowser.CheckAccessibility(t, viewer, "board as a viewer at 375 px")
	screenshot(t, viewer, shots, "board-viewer-375px")
	refused := graphQLInTab(t, viewer, "the forced decision's answer", `mutation($id: ID!) { applyAdjustment(id: $id, force: true) { adjustment { status } } }`, map[string]any{"id": proposed})
	if !strings.Contains(refused, `"code":"FORBIDDEN"`) || strings.Contains(refused, `"status":"APPLIED"`) {
		t.Errorf("a viewer forcing applyAdjustment got %s, want FORBIDDEN", refused)
	}

	// Someone changes the task's priority before the editor applies the
	// suggestion to raise it: the app shows the CONFLICT as the task's
	// current value, and applies it only when told to force it.
	inTab(t, editor, "go back to the board", chromedp.Navigate(projectURL), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button.primary`, proposed))))
	// Votes and comments reach the other pages live.
	inTab(t, viewer, "vote for the suggestion and open its comments",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button[aria-label="Vote up"]`, proposed))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button[aria-expanded]`, proposed))))
	waitJS[bool](t, editor, "the viewer's vote", fmt.Sprintf(`() => document.querySelector('[data-suggestion-id=%q] .score')?.textContent === 'Score 1' || null`, proposed))
	inTab(t, editor, "comment on the suggestion",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button[aria-expanded]`, proposed))),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] .comments input`, proposed)), "Agreed: the copy blocks the release"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] .comments button[type=submit]`, proposed))))
	waitJS[bool](t, viewer, "the editor's comment", fmt.Sprintf(`() => document.querySelector('[data-suggestion-id=%q] .comments')?.textContent.includes('Ada: Agreed: the copy blocks the release') || null`, proposed))

	// The second page loses its connection; a change made meanwhile reaches
	// it once it is back, resumed after the last event it saw.
	inTab(t, watcher, "cut the second page's connection", chromedp.Evaluate[chromedp.Void](`window.testHoldSockets = true; window.testSockets.forEach(s => s.close(3000, 'cut by the test'))`))
	waitJS[bool](t, watcher, "the second page to see it is offline", `() => document.querySelector('.stream')?.dataset.live === 'false' || null`)
	task := waitJS[string](t, editor, "the task's ID", `() => [...document.querySelectorAll('[data-task-id]')].find(e => e.textContent.includes('Write the checkout copy'))?.dataset.taskId || null`)
	changed := graphQLInTab(t, editor, "the task's priority to be changed elsewhere", `mutation($id: ID!) { updateTask(id: $id, input: {priority: 4}) { priority } }`, map[string]any{"id": task})
	if !strings.Contains(changed, `"priority":4`) {
		t.Fatalf("updateTask: %s", changed)
	}
	inTab(t, watcher, "let the second page reconnect", chromedp.Evaluate[chromedp.Void](`window.testHoldSockets = false`))
	waitJS[bool](t, watcher, "the priority change in the second page, after it reconnected", `() => [...document.querySelectorAll('[data-task-id]')].some(e => e.textContent.includes('Write the checkout copy') && e.textContent.includes('Priority 4')) || null`)
	inTab(t, editor, "apply the stale suggestion", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-suggestion-id=%q] button.primary`, proposed))))
	conflict := waitJS[string](t, editor, "the conflict", `() => document.querySelector('.conflict')?.textContent || null`)
	if !strings.Contains(conflict, "is now 4") || !strings.Contains(conflict, "Request ID: ") {
		t.Errorf("the conflict reads %q; want the current value, 4, and the request ID", conflict)
	}
	testbrowser.CheckAccessibility(t, editor, "conflict")
	screenshot(t, editor, shots, "conflict")
	inTab(t, editor, "force the suggestion", chromedp.Click(chromedp.Search(`//button[text()="Apply anyway (force)"]`)))
	for _, tab := range []context.Context{editor, watcher} {
		waitJS[bool](t, tab, "the forced suggestion applied", fmt.Sprintf(`() => document.querySelector('[data-suggestion-id=%q]')?.dataset.status === 'APPLIED' &&
			[...document.querySelectorAll('[data-task-id]')].some(e => e.textContent.includes('Write the checkout copy') && e.textContent.includes('Priority 2')) || null`, proposed))
	}
}

func signIn(t *testing.T, tab context.Context, credential string) {
	t.Helper()
	inTab(t, tab, "sign in",
		chromedp.SendKeys(chromedp.CSS("#credential"), credential),
		chromedp.Click(chromedp.Search(`//button[text()="Sign in"]`)),
		chromedp.WaitVisible(chromedp.CSS("#projects-title")))
}

func addTask(t *testing.T, tab context.Context, title, status string) {
	t.Helper()
	inTab(t, tab, "add the task "+title,
		chromedp.SendKeys(chromedp.CSS("#task-title"), title),
		chromedp.SetValue(chromedp.CSS("#task-status"), status),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#task-status').dispatchEvent(new Event('change', { bubbles: true }))`),
		chromedp.Click(chromedp.Search(`//button[text()="Add task"]`)))
	waitJS[bool](t, tab, "the task "+title+" on the board", fmt.Sprintf(`() => document.querySelector('[data-column=%q]')?.textContent.includes(%q) || null`, status, title))
}

func inTab(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, text)
	}
}

// waitJS polls fn in tab until it returns something but null.
// graphQLInTab sends a GraphQL request from tab, with the credential the
// app signed in with, and returns the answer's body: what the page itself
// could send, such as a mutation its buttons do not offer.
func graphQLInTab(t *testing.T, tab context.Context, what, query string, vars map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return waitJS[string](t, tab, what, fmt.Sprintf(`() => {
		const body = %q, answers = (window.testAnswers ??= {});
		if (!(body in answers)) {
			answers[body] = null;
			fetch('/query', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + sessionStorage.getItem('feedbackloop.credential') },
				body,
			}).then(r => r.text()).then(t => { answers[body] = t; });
		}
		return answers[body];
	}`, body))
}

func waitJS[T any](t *testing.T, tab context.Context, what, fn string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.PollFunction[T](fn, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, text)
	}
	return v
}

func projectID(link string) string {
	id := link[strings.Index(link, "/projects/")+len("/projects/"):]
	if i := strings.IndexAny(id, "/?#"); i >= 0 {
		id = id[:i]
	}
	if unescaped, err := url.PathUnescape(id); err == nil {
		return unescaped
	}
	return id
}

func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("APP_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := t.TempDir()
	t.Logf("screenshots in %s (set APP_SCREENSHOTS to keep them)", dir)
	return dir
}

func screenshot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A project with 1,000 tasks and 10,000 feedback, seeded straight into the
// database, stays usable: the board shows each status column's true total
// but only its first page of cards, the feedback list its first page with a
// way to load more, "Show more" adds exactly one page, and no GraphQL
// response the page receives is large (nothing is fetched whole).
func TestWebAppLargeProject(t *testing.T) {
	const (
		tasksPerStatus = 250   // × 4 statuses = 1,000 tasks
		feedbacks      = 10000 // all COMPLETED: no worker is involved
		boardPage      = 20    // the app's page sizes (webapp/src/Project.tsx)
		feedbackPage   = 10
		maxResponse    = 64 << 10 // bytes; 1,000 task cards alone are more
	)
	dbURL := newDatabaseURL(t)
	base, _ := startServer(t, map[string]string{"DATABASE_URL": dbURL})
	pid := postGraphQL(t, base, `mutation { createProject(input: {name: "Large"}) { id } }`, nil)["createProject"].(map[string]any)["id"].(string)

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct {
		sql string
		n   int
	}{
		{`INSERT INTO tasks (created_at, updated_at, title, status, priority, version, project_id)
		 SELECT now() - i * interval '1 second', now(), 'Task ' || i, (ARRAY['TODO','IN_PROGRESS','BLOCKED','DONE'])[i % 4 + 1], i % 5, 1, p.id
		 FROM generate_series(1, $1::int) AS i, projects AS p`, 4 * tasksPerStatus},
		{`INSERT INTO feedbacks (created_at, updated_at, feedback_text, status, version, attempts, summary, processed_at, project_id)
		 SELECT now() - i * interval '1 second', now(), 'Feedback number ' || i, 'COMPLETED', 1, 1, 'Summary ' || i, now(), p.id
		 FROM generate_series(1, $1::int) AS i, projects AS p`, feedbacks},
	} {
		if _, err := db.Exec(q.sql, q.n); err != nil {
			t.Fatalf("seeding: %v\n%s", err, q.sql)
		}
	}

	browser := testbrowser.New(t)
	tab := browser.LongTab(t, 3*time.Minute)
	inTab(t, tab, "open the large project", chromedp.Navigate(base+"/app/projects/"+url.PathEscape(pid)), chromedp.WaitVisible(chromedp.CSS(".board")))
	type column struct {
		Count string `json:"count"`
		Cards int    `json:"cards"`
		More  bool   `json:"more"`
	}
	columns := `() => {
		const cols = {};
		for (const c of document.querySelectorAll('[data-column]')) cols[c.dataset.column] = {
			count: c.querySelector('.count')?.textContent, cards: c.querySelectorAll('[data-task-id]').length,
			more: [...c.querySelectorAll('button')].some(b => b.textContent.startsWith('Show more')) };
		return Object.keys(cols).length === 4 && Object.values(cols).every(c => c.cards > 0) ? cols : null;
	}`
	first := waitJS[map[string]column](t, tab, "the board's columns", columns)
	for status, c := range first {
		if c.Count != fmt.Sprint(tasksPerStatus) || c.Cards > boardPage || !c.More {
			t.Errorf("column %s shows count %q, %d cards, Show more %v; want %d, at most %d, true", status, c.Count, c.Cards, c.More, tasksPerStatus, boardPage)
		}
	}
	type feedbackList struct {
		Count string `json:"count"`
		Items int    `json:"items"`
		More  bool   `json:"more"`
	}
	fb := waitJS[feedbackList](t, tab, "the feedback list", `() => {
		const s = document.querySelector('.feedback-section');
		const items = s ? s.querySelectorAll('[data-feedback-id]').length : 0;
		return items > 0 ? { count: s.querySelector('#feedback-title .count')?.textContent, items,
			more: [...s.querySelectorAll('button')].some(b => b.textContent.startsWith('Show older')) } : null;
	}`)
	if fb.Count != fmt.Sprint(feedbacks) || fb.Items > feedbackPage || !fb.More {
		t.Errorf("the feedback list shows count %q, %d items, load more %v; want %d, at most %d, true", fb.Count, fb.Items, fb.More, feedbacks, feedbackPage)
	}

	// "Show more" in the To do column adds exactly one page.
	inTab(t, tab, "show more to-do tasks", chromedp.Click(chromedp.CSS(`[data-column="TODO"] button`)))
	want := 2 * first["TODO"].Cards
	second := waitJS[map[string]column](t, tab, "the second page of to-do tasks", fmt.Sprintf(`() => { const c = (%s)(); return c && c.TODO.cards !== %d ? c : null; }`, columns, first["TODO"].Cards))
	for status, c := range second {
		if w := first[status].Cards; status == "TODO" && c.Cards != want || status != "TODO" && c.Cards != w {
			t.Errorf("after Show more in TODO, column %s has %d cards; want %d", status, c.Cards, map[bool]int{true: want, false: w}[status == "TODO"])
		}
	}

	type response struct {
		URL   string `json:"url"`
		Bytes int    `json:"bytes"`
	}
	responses := waitJS[[]response](t, tab, "the page's GraphQL responses", `() => {
		const r = performance.getEntriesByType('resource').filter(e => e.initiatorType === 'fetch' && new URL(e.name).pathname === '/query');
		return r.length > 0 ? r.map(e => ({ url: e.name.slice(0, 200), bytes: e.decodedBodySize })) : null;
	}`)
	for _, r := range responses {
		if r.Bytes > maxResponse {
			t.Errorf("a GraphQL response of %d bytes (more than %d): %s", r.Bytes, maxResponse, r.URL)
		}
	}
	// The API caps a page at 100, so fetching a list whole would show as
	// many requests rather than one large response.
	if len(responses) > 20 {
		t.Errorf("the page made %d GraphQL requests over HTTP; a paged board needs a handful", len(responses))
	}
	sizes := make([]int, len(responses))
	for i, r := range responses {
		sizes[i] = r.Bytes
	}
	t.Logf("GraphQL responses over HTTP, in bytes: %v", sizes)
	screenshot(t, tab, screenshotDir(t), "board-large-project")
}
