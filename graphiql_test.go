package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/feedbackloop/feedbackloop/internal/graphiql"
	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/testbrowser"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// GraphiQL, as the README's tour uses it, with authentication on:
// the page renders offline, runs a query with the token from its Headers
// tab, and one window watches a subscription (the token going into
// connection_init) while a second window of the same browser submits
// feedback, which the built-in analyzer completes.
func TestGraphiQLInABrowser(t *testing.T) {
	const secret, admin = "a-secret-for-the-graphiql-test-0123456789", "an-admin-key-for-the-graphiql-test"
	base, _ := startServer(t, map[string]string{"JWT_SECRET": secret, "ADMIN_API_KEY": admin})
	token, err := hs256.Mint([]byte(secret), "ada", "Ada", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	headers := fmt.Sprintf(`{"Authorization": "Bearer %s"}`, token)
	browser := testbrowser.New(t)

	watcher := openGraphiQL(t, browser.Tab(t), base)
	// A fresh browser opens on a first query for this API, not GraphiQL's welcome text.
	if q, err := chromedp.Run(watcher, chromedp.Evaluate[string](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`)); err != nil || q != graphiql.FirstQuery {
		t.Errorf("a fresh GraphiQL holds %q (%v), want graphiql.FirstQuery", q, err)
	}
	// Without the token the API says so.
	runInGraphiQL(t, watcher, `{ viewer { subject } }`, "")
	waitForResult(t, watcher, `"UNAUTHENTICATED"`)
	runInGraphiQL(t, watcher, `mutation { createProject(input: {name: "From GraphiQL", description: "in a browser"}) { id name } }`, headers)
	shown := waitForResult(t, watcher, `"createProject"`)
	var created struct {
		Data struct{ CreateProject struct{ ID, Name string } }
	}
	if err := json.Unmarshal([]byte(shown), &created); err != nil || created.Data.CreateProject.Name != "From GraphiQL" {
		t.Fatalf("the result pane shows %s (%v)", shown, err)
	}
	project := created.Data.CreateProject.ID

	// Record what the result pane shows as events arrive, and the frames
	// GraphiQL sends on its websocket.
	if err := chromedp.Do(watcher, chromedp.Evaluate[chromedp.Void](`(() => {
		window.statusesShown = [];
		const pane = document.querySelector('.graphiql-response .CodeMirror').CodeMirror;
		pane.on('change', () => {
			const m = pane.getValue().match(/"status": "(\w+)"/);
			if (m && window.statusesShown.at(-1) !== m[1]) window.statusesShown.push(m[1]);
		});
	})()`)); err != nil {
		t.Fatal(err)
	}
	sent := chromedp.Events(watcher, network.WebSocketFrameSent)

	runInGraphiQL(t, watcher, fmt.Sprintf(`subscription { projectFeedbackEvents(projectID: %q) { status previousStatus feedback { id summary } } }`, project),
		headers)
	// Feedback submitted before the server holds the subscription would
	// not be seen: wait for it.
	testutil.WaitFor(t, "the subscription to be open", func() bool {
		return strings.Contains(get(t, base+"/metrics", admin), "\nfeedbackloop_active_subscriptions 1\n")
	})

	submitter := openGraphiQL(t, browser.TabBeside(t, watcher), base)
	// As the README's tour says, a second window starts with the first one's query.
	if q, err := chromedp.Run(submitter, chromedp.Evaluate[string](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`)); err != nil || !strings.Contains(q, "projectFeedbackEvents") {
		t.Errorf("the second window's query editor holds %q (%v), want the first window's subscription", q, err)
	}
	runInGraphiQL(t, submitter, fmt.Sprintf(`mutation { submitFeedback(input: {projectID: %q, userName: "Ada", feedbackText: "Writing the copy is urgent"}) { id status } }`, project), headers)
	waitForResult(t, submitter, `"status": "PENDING"`)

	statuses, err := chromedp.Run(watcher, chromedp.PollFunction[[]string](`() => {
		const s = window.statusesShown;
		return s.at(-1) === 'COMPLETED' ? s : null;
	}`, chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		statuses, _ := chromedp.Run(watcher, chromedp.Evaluate[[]string](`window.statusesShown`))
		t.Fatalf("the subscription's pane never showed COMPLETED (it showed %v): %v", statuses, err)
	}
	// PROCESSING may be skipped: a subscriber that falls behind is resynced
	// to the feedback's current state.
	if !slices.Equal(statuses, []string{"PENDING", "PROCESSING", "COMPLETED"}) && !slices.Equal(statuses, []string{"PENDING", "COMPLETED"}) {
		t.Errorf("the subscription's pane showed %v, want PENDING, (PROCESSING,) COMPLETED", statuses)
	}

	// Headers from the Headers tab are the connection_init payload, as typed.
	var frames []string
	for ev, err := range sent {
		if err != nil {
			t.Fatalf("read websocket frames: %v (got %q)", err, frames)
		}
		frames = append(frames, string(ev.Response.PayloadData))
		if strings.Contains(frames[len(frames)-1], `"subscribe"`) {
			break
		}
	}
	if want := `{"type":"connection_init","payload":{"Authorization":"Bearer ` + token + `"}}`; len(frames) < 2 || frames[0] != want {
		t.Errorf("GraphiQL sent %q, want %s first", frames, want)
	}
}

// openGraphiQL opens the page in tab and waits until GraphiQL has
// rendered from files served by base.
func openGraphiQL(t *testing.T, tab context.Context, base string) context.Context {
	t.Helper()
	wait, cancel := context.WithTimeout(tab, testutil.WaitTimeout)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button"))); err != nil {
		t.Fatalf("GraphiQL did not render within %v: %v", testutil.WaitTimeout, err)
	}
	var page struct {
		Loading     bool
		Explorer    bool
		Stylesheets []string
	}
	raw, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](`({
		loading: document.body.innerText.includes('Loading…'),
		explorer: typeof GraphiQLPluginExplorer === 'object',
		stylesheets: [...document.styleSheets].filter(s => s.href && s.cssRules.length > 0).map(s => new URL(s.href).pathname),
	})`))
	if err == nil {
		err = json.Unmarshal(raw, &page)
	}
	if err != nil || page.Loading || !page.Explorer || len(page.Stylesheets) != 2 {
		t.Fatalf("GraphiQL's page: %+v, %v; want no \"Loading…\", the explorer and two style sheets", page, err)
	}
	return tab
}

// runInGraphiQL puts query and headers into the tab's editors, as if
// typed, and presses Run.
func runInGraphiQL(t *testing.T, tab context.Context, query, headers string) {
	t.Helper()
	err := chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(%s);
			[...document.querySelectorAll('.graphiql-editor-tools button')].find(b => b.textContent === 'Headers').click();
		})()`, jsString(query))),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror`)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror.setValue(%s)`, jsString(headers))),
		// GraphiQL reads an edited query 100 ms later (it is only then known to
		// be a subscription), and saves it at that moment.
		chromedp.PollFunction[chromedp.Void](`(q) => localStorage.getItem('feedbackloopgraphiql:query') === q`,
			chromedp.WithPollingArgs(query), chromedp.WithPollingInterval(20*time.Millisecond)),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	)
	if err != nil {
		t.Fatalf("run %s in GraphiQL: %v", query, err)
	}
}

// waitForResult waits until GraphiQL's result pane contains want and
// returns the pane's text.
func waitForResult(t *testing.T, tab context.Context, want string) string {
	t.Helper()
	got, err := chromedp.Run(tab, chromedp.PollFunction[string](`(want) => {
		const v = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();
		return v.includes(want) ? v : null;
	}`, chromedp.WithPollingArgs(want), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		shown, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()`))
		t.Fatalf("the result pane never showed %s; it shows %q: %v", want, shown, err)
	}
	return got
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// get reads url, as the admin when adminKey is set.
func get(t *testing.T, url, adminKey string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if adminKey != "" {
		req.Header.Set("Authorization", "Bearer "+adminKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
