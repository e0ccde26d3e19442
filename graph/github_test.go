package graph_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/githubrepository"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

const linkGitHub = `mutation($in: LinkGitHubRepositoryInput!) { linkGitHubRepository(input: $in) { repository { id owner repo linkedAt } webhookSecret } }`

// Every field of linkGitHubRepository is held to its limits, each refusal
// naming its field; nothing is linked.
func TestLinkGitHubRepositoryChecksItsInput(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "ghin")
	resp := gqltest.PostAs(t, e.url, w.owner, linkGitHub, map[string]any{"in": map[string]any{
		"projectID": w.own, "owner": "-octo", "repo": "..", "token": "ghp with spaces", "webhookSecret": "short"}})
	var fields []string
	for _, err := range resp.Errors {
		if err.Extensions["code"] != graph.CodeBadUserInput {
			t.Errorf("%+v", err)
		}
		fields = append(fields, err.Extensions["field"].(string))
	}
	sort.Strings(fields)
	if strings.Join(fields, ",") != "input.owner,input.repo,input.token,input.webhookSecret" {
		t.Errorf("refused fields %v: %+v", fields, resp.Errors)
	}
	long := gqltest.PostAs(t, e.url, w.owner, linkGitHub, map[string]any{"in": map[string]any{
		"projectID": w.own, "owner": strings.Repeat("a", 40), "repo": strings.Repeat("r", 101), "token": strings.Repeat("t", 256)}})
	if len(long.Errors) != 3 {
		t.Errorf("over-long values: %+v", long.Errors)
	}
	if n := e.client.GitHubRepository.Query().CountX(accesstest.System()); n != 0 {
		t.Errorf("%d repositories linked by refused input", n)
	}
}

// Linking again replaces the link; the generated secret is shown once; a
// READER sees which repository is linked, and nobody its token.
func TestLinkingAgainReplacesTheLink(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "ghre")
	var out struct {
		LinkGitHubRepository struct {
			Repository    struct{ ID, Owner, Repo string }
			WebhookSecret *string
		}
	}
	e.as(t, w.owner, linkGitHub, map[string]any{"in": map[string]any{"projectID": w.own, "owner": "octo-org", "repo": "old", "token": "ghp_first"}}, &out)
	if s := out.LinkGitHubRepository.WebhookSecret; s == nil || len(*s) < 32 {
		t.Fatalf("generated secret %v", s)
	}
	e.as(t, w.owner, linkGitHub, map[string]any{"in": map[string]any{"projectID": w.own, "owner": "octo-org", "repo": "new.site",
		"token": "ghp_second", "webhookSecret": "chosen-secret-0123"}}, &out)
	if out.LinkGitHubRepository.WebhookSecret != nil {
		t.Error("a chosen secret was returned")
	}
	links := e.client.GitHubRepository.Query().Where(githubrepository.ProjectID(dbID(t, w.own))).AllX(accesstest.System())
	if len(links) != 1 || links[0].Repo != "new.site" || links[0].Token != "ghp_second" {
		t.Fatalf("links %+v", links)
	}
	var read struct {
		Node struct {
			GithubRepository *struct{ Owner, Repo string }
		}
	}
	e.as(t, w.reader, `query($p: ID!) { node(id: $p) { ... on Project { githubRepository { owner repo linkedAt } } } }`, map[string]any{"p": w.own}, &read)
	if read.Node.GithubRepository == nil || read.Node.GithubRepository.Repo != "new.site" {
		t.Errorf("the READER reads %+v", read)
	}
	e.as(t, w.owner, `mutation($p: ID!) { unlinkGitHubRepository(projectID: $p) }`, map[string]any{"p": w.own}, nil)
	e.as(t, w.reader, `query($p: ID!) { node(id: $p) { ... on Project { githubRepository { owner repo } } } }`, map[string]any{"p": w.own}, &read)
	if read.Node.GithubRepository != nil {
		t.Errorf("still linked after unlinking: %+v", read.Node.GithubRepository)
	}
}
