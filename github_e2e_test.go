package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/feedbackloop/feedbackloop/integrations/github"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// fakeGitHub speaks the part of GitHub's REST API the service uses:
// POST /repos/{owner}/{repo}/issues, answering as GitHub does.
type fakeGitHub struct {
	*httptest.Server
	token string
	mu    sync.Mutex
	reqs  []*http.Request
	body  []map[string]any
}

func newFakeGitHub(t *testing.T, token string) *fakeGitHub {
	f := &fakeGitHub{token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.reqs, f.body = append(f.reqs, r.Clone(r.Context())), append(f.body, in)
		n := 41 + len(f.reqs)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-GitHub-Api-Version-Selected", github.APIVersion)
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		o, rp := r.PathValue("owner"), r.PathValue("repo")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"url":"https://api.github.com/repos/%[1]s/%[2]s/issues/%[3]d","repository_url":"https://api.github.com/repos/%[1]s/%[2]s",
"id":2000000%[3]d,"node_id":"I_kwDOABCDEF","number":%[3]d,"title":%[4]q,"state":"open","locked":false,
"user":{"login":"feedbackloop-bot","id":1,"type":"Bot"},"labels":[],"assignees":[],"comments":0,
"created_at":"2026-12-06T10:00:00Z","updated_at":"2026-12-06T10:00:00Z","closed_at":null,"author_association":"NONE",
"html_url":"https://github.com/%[1]s/%[2]s/issues/%[3]d","body":%[5]q}`, o, rp, n, in["title"], in["body"])
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// deliver posts a GitHub webhook delivery to the service.
func deliver(t *testing.T, base, event, delivery, signature string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/integrations/github/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/abc123")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && strings.TrimSpace(string(b)) != "invalid signature" {
		t.Errorf("a refusal says more than that the signature is invalid: %q", b)
	}
	return resp.StatusCode
}

func issuesClosed(owner, repo string, number int) []byte {
	return fmt.Appendf(nil, `{"action":"closed","issue":{"number":%[3]d,"state":"closed","state_reason":"completed","html_url":"https://github.com/%[1]s/%[2]s/issues/%[3]d"},
"repository":{"id":1296269,"name":%[2]q,"full_name":"%[1]s/%[2]s","owner":{"login":%[1]q}},"sender":{"login":"octocat"}}`, owner, repo, number)
}

// The whole round trip in one process: a project links a repository;
// applying a NEW_TASK suggestion makes the worker open an issue with the
// token; GitHub's signed webhook closing it marks the task DONE, announced
// on projectEvents. The token appears in no response and no log line.
func TestGitHubIssuesRoundTrip(t *testing.T) {
	const token, secret = "ghp_e2eTokenNeverShown0123456789abcdef", "a-webhook-secret-of-github"
	gh := newFakeGitHub(t, token)
	base, logs := startServer(t, map[string]string{"GITHUB_API_URL": gh.URL, "WEBHOOK_SECRET_KEY": strings.Repeat("k", 32)})
	projectID, taskID := createProjectWithTask(t, base)

	link := gqltest.Post(t, base, `mutation($p: ID!, $t: String!, $s: String!) { linkGitHubRepository(input: {projectID: $p, owner: "octo-org", repo: "web.site", token: $t, webhookSecret: $s}) {
		repository { owner repo linkedAt } webhookSecret } }`, map[string]any{"p": projectID, "t": token, "s": secret})
	if len(link.Errors) > 0 {
		t.Fatalf("link: %+v", link.Errors)
	}
	var linked struct {
		Project struct{ GithubRepository struct{ Owner, Repo string } }
	}
	q := gqltest.Post(t, base, `query($p: ID!) { project: node(id: $p) { ... on Project { githubRepository { owner repo linkedAt } } } }`, map[string]any{"p": projectID})
	if err := json.Unmarshal(q.Data, &linked); err != nil || linked.Project.GithubRepository.Repo != "web.site" {
		t.Fatalf("githubRepository: %s %v", q.Data, err)
	}
	for _, raw := range [][]byte{link.Data, q.Data} {
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(secret)) {
			t.Errorf("a response holds the token or secret: %s", raw)
		}
	}

	ws := gqltest.Dial(t, base, gqltest.TransportWS)
	ws.Subscribe("events", `subscription($p: ID!) { projectEvents(projectID: $p) { __typename ... on TaskEvent { change version task { id status githubIssueNumber } } } }`,
		map[string]any{"p": projectID})

	id := submitFeedback(t, base, projectID, taskID, "Please add dark mode to the checkout page.")
	var fb struct {
		Node struct {
			Status      string
			Adjustments []struct{ ID, AdjustmentType string }
		}
	}
	testutil.WaitFor(t, "the analysis", func() bool {
		gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Feedback { status adjustments { id adjustmentType } } } }`, map[string]any{"id": id}, &fb)
		return fb.Node.Status == "COMPLETED"
	})
	newTask := ""
	for _, a := range fb.Node.Adjustments {
		if a.AdjustmentType == "NEW_TASK" {
			newTask = a.ID
		}
	}
	if newTask == "" {
		t.Fatalf("no NEW_TASK suggestion: %+v", fb)
	}
	var applied struct {
		ApplyAdjustment struct{ Task struct{ ID, Title string } }
	}
	gqltest.MustPost(t, base, `mutation($id: ID!) { applyAdjustment(id: $id) { task { id title } } }`, map[string]any{"id": newTask}, &applied)
	created := applied.ApplyAdjustment.Task

	var tk struct {
		Node struct {
			Status            string
			Version           int
			GithubIssueNumber *int
			GithubIssueURL    *string
		}
	}
	readTask := func() {
		gqltest.MustPost(t, base, `query($id: ID!) { node(id: $id) { ... on Task { status version githubIssueNumber githubIssueURL } } }`, map[string]any{"id": created.ID}, &tk)
	}
	testutil.WaitFor(t, "the task's GitHub issue", func() bool { readTask(); return tk.Node.GithubIssueNumber != nil })
	gh.mu.Lock()
	if len(gh.reqs) != 1 {
		t.Fatalf("GitHub was asked %d times, want once", len(gh.reqs))
	}
	r, sent := gh.reqs[0], gh.body[0]
	gh.mu.Unlock()
	if r.URL.Path != "/repos/octo-org/web.site/issues" || r.Header.Get("Accept") != "application/vnd.github+json" ||
		r.Header.Get("X-GitHub-Api-Version") != github.APIVersion || sent["title"] != created.Title {
		t.Errorf("request %s %v, body %v", r.URL.Path, r.Header, sent)
	}
	number := *tk.Node.GithubIssueNumber
	if want := fmt.Sprintf("https://github.com/octo-org/web.site/issues/%d", number); tk.Node.GithubIssueURL == nil || *tk.Node.GithubIssueURL != want {
		t.Errorf("githubIssueURL %v, want %s", tk.Node.GithubIssueURL, want)
	}

	body := issuesClosed("octo-org", "web.site", number)
	if code := deliver(t, base, "issues", "d-forged", github.Sign("not-the-secret-at-all", body), body); code != http.StatusUnauthorized {
		t.Errorf("a forged signature got %d, want 401", code)
	}
	if code := deliver(t, base, "issues", "d-unsigned", "", body); code != http.StatusUnauthorized {
		t.Errorf("no signature got %d, want 401", code)
	}
	readTask()
	if tk.Node.Status == "DONE" {
		t.Fatal("a refused delivery closed the task")
	}
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"name":"web.site","full_name":"octo-org/web.site","owner":{"login":"octo-org"}}}`)
	if code := deliver(t, base, "ping", "d-ping", github.Sign(secret, ping), ping); code != http.StatusOK {
		t.Errorf("ping got %d", code)
	}
	if code := deliver(t, base, "issues", "d-close", github.Sign(secret, body), body); code != http.StatusOK {
		t.Fatalf("the signed close got %d", code)
	}
	readTask()
	if tk.Node.Status != "DONE" {
		t.Fatalf("after the close the task is %s", tk.Node.Status)
	}
	version := tk.Node.Version
	if code := deliver(t, base, "issues", "d-close", github.Sign(secret, body), body); code != http.StatusOK {
		t.Errorf("the replay got %d", code)
	}
	readTask()
	if tk.Node.Version != version {
		t.Errorf("the replay changed the task: version %d → %d", version, tk.Node.Version)
	}

	for {
		var ev struct {
			ProjectEvents struct {
				Typename string `json:"__typename"`
				Change   string
				Task     struct{ ID, Status string }
			}
		}
		ws.NextData(&ev)
		e := ev.ProjectEvents
		if e.Typename == "TaskEvent" && e.Task.ID == created.ID && e.Change == "UPDATED" && e.Task.Status == "DONE" {
			break
		}
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), secret) {
		t.Error("the log holds the token or the secret")
	}
}
