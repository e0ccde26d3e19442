package graph_test

import (
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/analysis"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

const compareMutation = `mutation($f: ID!, $p: [String!]!) { compareAnalyses(feedbackID: $f, providers: $p) { id primary status provider model } }`

// compareAnalyses checks its list before anything runs: empty, too long,
// or naming models that are not configured is BAD_USER_INPUT, and the
// message names every unknown entry and what is configured.
func TestCompareAnalysesRefusesBadProviders(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "cmp-bad")
	for _, c := range []struct {
		providers []string
		say       []string
	}{
		{[]string{}, []string{"at least one"}},
		{[]string{"builtin", "builtin", "builtin", "builtin", "builtin", "builtin"}, []string{"at most 5"}},
		{[]string{"builtin", "nope", "openai:gpt-9"}, []string{`"nope"`, `"openai:gpt-9"`, "builtin:rules-v1"}},
		{[]string{strings.Repeat("x", 300)}, []string{"longer than"}},
	} {
		resp := gqltest.PostAs(t, e.url, w.owner, compareMutation, map[string]any{"f": w.ownFeedback, "p": c.providers})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput {
			t.Errorf("%q: want BAD_USER_INPUT, got %+v", c.providers, resp.Errors)
			continue
		}
		for _, s := range c.say {
			if !strings.Contains(resp.Errors[0].Message, s) {
				t.Errorf("%q: message %q lacks %q", c.providers, resp.Errors[0].Message, s)
			}
		}
	}
	if n := e.client.Analysis.Query().CountX(accesstest.System()); n != 0 {
		t.Errorf("%d analyses stored by refused requests", n)
	}
}

// A request stores PENDING comparison runs (repeats count once) next to the
// primary analysis, which Feedback.analyses lists first; a feedback keeps at
// most 20 runs.
func TestCompareAnalysesStoresRunsNextToThePrimary(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "cmp-ok")
	var got struct {
		CompareAnalyses []struct {
			ID, Status, Provider, Model string
			Primary                     bool
		}
	}
	e.as(t, w.editor, compareMutation, map[string]any{"f": w.ownFeedback, "p": []string{"builtin", "BUILTIN:rules-v1"}}, &got)
	if len(got.CompareAnalyses) != 1 {
		t.Fatalf("runs %+v, want one: the two entries name one model", got.CompareAnalyses)
	}
	run := got.CompareAnalyses[0]
	if run.Primary || run.Status != "PENDING" || run.Provider != "builtin" || run.Model != "rules-v1" {
		t.Fatalf("run %+v", run)
	}
	ctx := accesstest.System()
	fb := e.client.Feedback.GetX(ctx, dbID(t, w.ownFeedback))
	primary := e.client.Analysis.Create().SetFeedbackID(fb.ID).SetProjectID(fb.ProjectID).SetPrimary(true).
		SetProvider("openai").SetModel("stub").SetStatus(analysis.StatusCompleted).SaveX(ctx)
	var list struct {
		Node struct {
			Analyses []struct {
				Primary bool
				Model   string
			}
		}
	}
	e.as(t, w.reader, `query($f: ID!) { node(id: $f) { ... on Feedback { analyses { primary model } } } }`, map[string]any{"f": w.ownFeedback}, &list)
	if a := list.Node.Analyses; len(a) != 2 || !a[0].Primary || a[0].Model != primary.Model || a[1].Primary {
		t.Fatalf("analyses %+v, want the primary first, then the run", a)
	}

	for i := 1; i < 20; i++ {
		e.as(t, w.editor, compareMutation, map[string]any{"f": w.ownFeedback, "p": []string{"builtin"}}, nil)
	}
	resp := gqltest.PostAs(t, e.url, w.editor, compareMutation, map[string]any{"f": w.ownFeedback, "p": []string{"builtin"}})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || !strings.Contains(resp.Errors[0].Message, "at most 20") {
		t.Fatalf("the 21st run: %+v, want BAD_USER_INPUT", resp.Errors)
	}
}
