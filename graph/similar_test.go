package graph_test

import (
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/reuse"
)

const similarQuery = `query($id: ID!, $n: Int!) { node(id: $id) { ... on Feedback { similar(first: $n) { score feedback { id feedbackText } } } } }`

type similarOut struct {
	Node *struct {
		Similar []struct {
			Score    float64
			Feedback struct{ ID, FeedbackText string }
		}
	}
}

// similar lists the nearest feedback of the same project, most similar
// first, with pg_trgm's score; never another project's, never itself.
func TestSimilarFeedbackListsTheNearestOfTheProject(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Shop")
	other := e.createProject("Blog")
	subject := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "The checkout page is slow"})
	same := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "the CHECKOUT page... is slow!"})
	near := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "The checkout page is very slow"})
	e.submit(map[string]any{"projectID": p.ID, "feedbackText": "Please add a dark mode"})
	e.submit(map[string]any{"projectID": other.ID, "feedbackText": "The checkout page is slow"})

	var got similarOut
	e.mustDo(similarQuery, map[string]any{"id": subject.ID, "n": 5}, &got)
	list := got.Node.Similar
	if len(list) != 2 || list[0].Feedback.ID != same.ID || list[1].Feedback.ID != near.ID {
		t.Fatalf("similar = %+v, want %s (same words) then %s (near); not the dark mode, not the other project's", list, same.ID, near.ID)
	}
	if list[0].Score != 1 || list[1].Score <= 0.5 || list[1].Score >= 1 {
		t.Errorf("scores %v and %v, want 1 and a high one below 1", list[0].Score, list[1].Score)
	}

	e.mustDo(similarQuery, map[string]any{"id": subject.ID, "n": 1}, &got)
	if len(got.Node.Similar) != 1 || got.Node.Similar[0].Feedback.ID != same.ID {
		t.Errorf("first: 1 gave %+v", got.Node.Similar)
	}
	e.mustDo(similarQuery, map[string]any{"id": subject.ID, "n": 0}, &got)
	if len(got.Node.Similar) != 0 {
		t.Errorf("first: 0 gave %+v", got.Node.Similar)
	}
	// The default is 5.
	var def similarOut
	e.mustDo(`query($id: ID!) { node(id: $id) { ... on Feedback { similar { score feedback { id feedbackText } } } } }`, map[string]any{"id": subject.ID}, &def)
	if len(def.Node.Similar) != 2 {
		t.Errorf("without first: %+v", def.Node.Similar)
	}
	for _, n := range []int{-1, 51} {
		bad := e.mustFail(similarQuery, map[string]any{"id": subject.ID, "n": n}, graph.CodeBadUserInput)
		if !strings.Contains(bad.Message, "first") || !strings.Contains(bad.Message, "50") {
			t.Errorf("first: %d: %q should name the argument and the bound", n, bad.Message)
		}
	}
}

// reusedFrom names the feedback whose analysis was reused.
func TestReusedFromIsExposed(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Shop")
	first := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "Slow checkout"})
	second := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "slow checkout"})
	e.client.Feedback.UpdateOneID(dbID(t, second.ID)).SetReusedFromID(dbID(t, first.ID)).ExecX(accesstest.System())
	var got struct {
		A, B struct{ ReusedFrom *struct{ ID string } }
	}
	e.mustDo(`query($a: ID!, $b: ID!) {
		a: node(id: $a) { ... on Feedback { reusedFrom { id } } }
		b: node(id: $b) { ... on Feedback { reusedFrom { id } } } }`, map[string]any{"a": first.ID, "b": second.ID}, &got)
	if got.A.ReusedFrom != nil || got.B.ReusedFrom == nil || got.B.ReusedFrom.ID != first.ID {
		t.Errorf("reusedFrom: %+v, %+v; want none and %s", got.A.ReusedFrom, got.B.ReusedFrom, first.ID)
	}
}

// Who may not see the feedback cannot list its neighbours; a member can.
func TestSimilarFeedbackFollowsPrivacy(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "similar")
	var f struct{ SubmitFeedback struct{ ID string } }
	// The world's feedback says "hm"; one more of the own project is similar.
	e.as(t, w.owner, `mutation($p: ID!) { submitFeedback(input: {projectID: $p, feedbackText: "hm!"}) { id } }`, map[string]any{"p": w.own}, &f)
	vars := map[string]any{"id": w.ownFeedback, "n": 5}

	var got similarOut
	e.as(t, w.reader, similarQuery, vars, &got)
	if got.Node == nil || len(got.Node.Similar) != 1 || got.Node.Similar[0].Feedback.ID != f.SubmitFeedback.ID {
		t.Errorf("a VIEWER member: %+v, want the project's similar feedback", got.Node)
	}
	for _, cred := range []string{w.outsider, w.stranger} {
		resp := gqltest.PostAs(t, e.url, cred, similarQuery, vars)
		if strings.Contains(string(resp.Data), f.SubmitFeedback.ID) || len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != graph.CodeNotFound {
			t.Errorf("a non-member: data %s, errors %+v; want NOT_FOUND and nothing listed", resp.Data, resp.Errors)
		}
	}
	// The foreign project's feedback "hm" is similar to the own one's, but
	// not listed: it is another project's, even for the admin.
	e.as(t, "Bearer "+testAdminKey, similarQuery, vars, &got)
	for _, s := range got.Node.Similar {
		if s.Feedback.ID == w.foreignFeedback {
			t.Errorf("the admin sees another project's feedback as similar: %+v", got.Node.Similar)
		}
	}
}

// By MEANING, similar ranks the project's feedback by their embeddings'
// cosine similarity, among those of the same embedding model.
func TestSimilarFeedbackByMeaning(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Shop")
	other := e.createProject("Blog")
	ctx := accesstest.System()
	embedded := func(projectID, text, model string, v ...float32) string {
		fb := e.submit(map[string]any{"projectID": projectID, "feedbackText": text})
		if v != nil {
			e.client.Feedback.UpdateOneID(dbID(t, fb.ID)).SetEmbedding(reuse.EncodeVector(v)).SetEmbeddingModel(model).ExecX(ctx)
		}
		return fb.ID
	}
	subject := embedded(p.ID, "Paying takes ages", "m", 1, 0, 0)
	near := embedded(p.ID, "The checkout is slow", "m", 0.9, 0.1, 0)
	far := embedded(p.ID, "Add a dark mode", "m", 0, 1, 0)
	embedded(p.ID, "Paying takes ages!", "another-model", 1, 0, 0)
	embedded(p.ID, "Paying is slow", "") // no embedding
	embedded(other.ID, "Paying takes ages", "m", 1, 0, 0)

	const q = `query($id: ID!, $n: Int!) { node(id: $id) { ... on Feedback { similar(first: $n, by: MEANING) { score feedback { id feedbackText } } } } }`
	var got similarOut
	e.mustDo(q, map[string]any{"id": subject, "n": 10}, &got)
	list := got.Node.Similar
	if len(list) != 2 || list[0].Feedback.ID != near || list[1].Feedback.ID != far {
		t.Fatalf("by meaning: %+v; want %s then %s, none of another project or embedding model", list, near, far)
	}
	if list[0].Score < 0.99 || list[0].Score >= 1 || list[1].Score != 0 {
		t.Errorf("scores %v, %v; want about 0.994 and 0", list[0].Score, list[1].Score)
	}
	e.mustDo(q, map[string]any{"id": subject, "n": 1}, &got)
	if len(got.Node.Similar) != 1 || got.Node.Similar[0].Feedback.ID != near {
		t.Errorf("first: 1 gave %+v", got.Node.Similar)
	}
	plain := e.submit(map[string]any{"projectID": p.ID, "feedbackText": "Paying takes ages"})
	e.mustDo(q, map[string]any{"id": plain.ID, "n": 10}, &got)
	if len(got.Node.Similar) != 0 {
		t.Errorf("a feedback without an embedding: %+v, want none", got.Node.Similar)
	}
	e.mustFail(q, map[string]any{"id": subject, "n": 51}, graph.CodeBadUserInput)
}
