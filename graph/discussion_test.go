package graph_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent/adjustmentvote"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

const commentFields = `id body version editedAt author { subject } mentions { subject } feedback { id } adjustment { id }`

type commentOut struct {
	ID         string
	Body       string
	Version    int
	EditedAt   *string
	Author     *struct{ Subject string }
	Mentions   []struct{ Subject string }
	Feedback   *struct{ ID string }
	Adjustment *struct{ ID string }
}

func (c commentOut) mentioned() string {
	var s []string
	for _, m := range c.Mentions {
		s = append(s, m.Subject)
	}
	return strings.Join(s, ",")
}

// addComment as cred on target (a Feedback or Adjustment ID).
func (e *env) addComment(t *testing.T, cred, target, body string) commentOut {
	t.Helper()
	var out struct{ AddComment commentOut }
	e.as(t, cred, `mutation($t: ID!, $b: String!) { addComment(input: {targetID: $t, body: $b}) { `+commentFields+` } }`,
		map[string]any{"t": target, "b": body}, &out)
	return out.AddComment
}

// mustRefuse runs a request as cred that must fail with one error of code,
// and returns the error.
func (e *env) mustRefuse(t *testing.T, cred, query string, vars map[string]any, code string) gqlError {
	t.Helper()
	resp := gqltest.PostAs(t, e.url, cred, query, vars)
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != code {
		t.Fatalf("want one %s error, got %+v (data %s)", code, resp.Errors, resp.Data)
	}
	return resp.Errors[0]
}

// Who may write, edit and delete comments, mentions, and the project's
// switch for VIEWERs.
func TestCommentsRightsAndMentions(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "c")
	edit := `mutation($id: ID!, $b: String!) { editComment(id: $id, body: $b) { ` + commentFields + ` } }`
	del := `mutation($id: ID!) { deleteComment(id: $id) }`

	// A VIEWER comments; members are mentioned, others stay text.
	c := e.addComment(t, w.reader, w.ownFeedback, "  @editor-c please look; cc @outsider-c, @nobody and mail@editor-c  ")
	if c.Body != "@editor-c please look; cc @outsider-c, @nobody and mail@editor-c" || c.Author.Subject != "reader-c" || c.Version != 1 ||
		c.EditedAt != nil || c.mentioned() != "editor-c" || c.Feedback == nil || c.Feedback.ID != w.ownFeedback || c.Adjustment != nil {
		t.Fatalf("added %+v", c)
	}
	// Only the author edits; the mentions are read again.
	err := e.mustRefuse(t, w.editor, edit, map[string]any{"id": c.ID, "b": "mine now"}, graph.CodeForbidden)
	if !strings.Contains(err.Message, "only its author") {
		t.Fatalf("editing another's comment: %+v", err)
	}
	e.mustRefuse(t, w.owner, edit, map[string]any{"id": c.ID, "b": "mine now"}, graph.CodeForbidden)
	var edited struct{ EditComment commentOut }
	e.as(t, w.reader, edit, map[string]any{"id": c.ID, "b": "@owner-c @reader-c instead"}, &edited)
	if ed := edited.EditComment; ed.Body != "@owner-c @reader-c instead" || ed.Version != 2 || ed.EditedAt == nil || ed.mentioned() != "owner-c,reader-c" {
		t.Fatalf("edited %+v", ed)
	}
	// Bad bodies and targets name the argument.
	if err := e.mustRefuse(t, w.reader, edit, map[string]any{"id": c.ID, "b": "   "}, graph.CodeBadUserInput); err.Extensions["field"] != "body" {
		t.Fatalf("empty body: %+v", err)
	}
	add := `mutation($t: ID!, $b: String!) { addComment(input: {targetID: $t, body: $b}) { id } }`
	if err := e.mustRefuse(t, w.reader, add, map[string]any{"t": w.ownTask, "b": "hi"}, graph.CodeBadUserInput); err.Extensions["field"] != "input.targetID" {
		t.Fatalf("a task as target: %+v", err)
	}
	e.mustRefuse(t, w.reader, add, map[string]any{"t": w.ownFeedback, "b": strings.Repeat("x", 5001)}, graph.CodeBadUserInput)
	e.mustRefuse(t, w.outsider, add, map[string]any{"t": w.ownFeedback, "b": "hi"}, graph.CodeNotFound)
	e.mustRefuse(t, w.outsider, del, map[string]any{"id": c.ID}, graph.CodeNotFound)

	// OWNERs turn VIEWERs' comments off; an EDITOR may not.
	setting := `mutation($p: ID!, $on: Boolean!) { updateProject(id: $p, input: {viewersMayComment: $on}) { viewersMayComment } }`
	if err := e.mustRefuse(t, w.editor, setting, map[string]any{"p": w.own, "on": false}, graph.CodeForbidden); err.Extensions["requiredRole"] != "OWNER" {
		t.Fatalf("an EDITOR changing the setting: %+v", err)
	}
	var set struct {
		UpdateProject struct{ ViewersMayComment bool }
	}
	e.as(t, w.owner, setting, map[string]any{"p": w.own, "on": false}, &set)
	if set.UpdateProject.ViewersMayComment {
		t.Fatal("still on")
	}
	if err := e.mustRefuse(t, w.reader, add, map[string]any{"t": w.ownFeedback, "b": "hi"}, graph.CodeForbidden); err.Extensions["requiredRole"] != "EDITOR" ||
		!strings.Contains(err.Message, "viewersMayComment") {
		t.Fatalf("a VIEWER commenting while off: %+v", err)
	}
	e.mustRefuse(t, w.reader, edit, map[string]any{"id": c.ID, "b": "still?"}, graph.CodeForbidden)
	e.addComment(t, w.editor, w.ownFeedback, "EDITORs still may")

	// Deleting: another's needs OWNER; one's own is always allowed.
	if err := e.mustRefuse(t, w.editor, del, map[string]any{"id": c.ID}, graph.CodeForbidden); err.Extensions["requiredRole"] != "OWNER" {
		t.Fatalf("an EDITOR deleting another's comment: %+v", err)
	}
	mine := e.addComment(t, w.editor, w.ownFeedback, "to be withdrawn")
	e.as(t, w.editor, del, map[string]any{"id": mine.ID}, nil)
	e.as(t, w.reader, del, map[string]any{"id": c.ID}, nil) // comments off, but one's own may go
	other := e.addComment(t, w.editor, w.ownFeedback, "an OWNER removes this")
	e.as(t, w.owner, del, map[string]any{"id": other.ID}, nil)
	for _, id := range []string{c.ID, mine.ID, other.ID} {
		e.mustRefuse(t, w.owner, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, graph.CodeNotFound)
	}
	var count struct {
		Node struct{ Comments struct{ TotalCount int } }
	}
	e.as(t, w.reader, `query($id: ID!) { node(id: $id) { ... on Feedback { comments(first: 1) { totalCount } } } }`, map[string]any{"id": w.ownFeedback}, &count)
	if count.Node.Comments.TotalCount != 1 {
		t.Fatalf("%d comments left, want 1", count.Node.Comments.TotalCount)
	}
}

// Comments on suggestions, and pages of a thread: oldest first, through
// the node and nested in a list (one page per parent).
func TestCommentsOnSuggestionsAndPaging(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "cp")
	_, priority, advice := e.completed(t, w.owner, w.own, w.ownTask)
	on := e.addComment(t, w.reader, priority, "why 5?")
	if on.Adjustment == nil || on.Adjustment.ID != priority || on.Feedback != nil {
		t.Fatalf("comment on a suggestion: %+v", on)
	}
	for _, b := range []string{"one", "two", "three"} {
		e.addComment(t, w.editor, advice, b)
	}
	type page struct {
		TotalCount int
		Edges      []struct{ Node struct{ Body string } }
		PageInfo   pageInfo
	}
	bodies := func(p page) string {
		var s []string
		for _, e := range p.Edges {
			s = append(s, e.Node.Body)
		}
		return strings.Join(s, ",")
	}
	var first struct{ Node struct{ Comments page } }
	q := `query($id: ID!, $after: Cursor) { node(id: $id) { ... on Adjustment { comments(first: 2, after: $after) { totalCount edges { node { body } } pageInfo { hasNextPage endCursor } } } } }`
	e.as(t, w.reader, q, map[string]any{"id": advice}, &first)
	if p := first.Node.Comments; p.TotalCount != 3 || bodies(p) != "one,two" || !p.PageInfo.HasNextPage {
		t.Fatalf("first page %+v", p)
	}
	var second struct{ Node struct{ Comments page } }
	e.as(t, w.reader, q, map[string]any{"id": advice, "after": *first.Node.Comments.PageInfo.EndCursor}, &second)
	if p := second.Node.Comments; bodies(p) != "three" || p.PageInfo.HasNextPage {
		t.Fatalf("second page %+v", p)
	}
	// Nested in a list: every suggestion's own page and count.
	var nested struct {
		Node struct {
			Adjustments struct {
				Edges []struct {
					Node struct {
						ID       string
						Comments page
					}
				}
			}
		}
	}
	e.as(t, w.reader, `query($p: ID!) { node(id: $p) { ... on Project { adjustments(first: 10) { edges { node { id
		comments(first: 2) { totalCount edges { node { body } } } } } } } } }`, map[string]any{"p": w.own}, &nested)
	got := map[string]string{}
	for _, ed := range nested.Node.Adjustments.Edges {
		got[ed.Node.ID] = bodies(ed.Node.Comments) + "/" + string(rune('0'+ed.Node.Comments.TotalCount))
	}
	if got[priority] != "why 5?/1" || got[advice] != "one,two/3" {
		t.Fatalf("nested pages %v", got)
	}
	// And feedback's threads, nested in a project's feedback.
	e.addComment(t, w.reader, w.ownFeedback, "on the feedback")
	var fbs struct {
		Node struct {
			Feedbacks struct {
				Edges []struct {
					Node struct {
						ID       string
						Comments page
					}
				}
			}
		}
	}
	e.as(t, w.reader, `query($p: ID!) { node(id: $p) { ... on Project { feedbacks(first: 10) { edges { node { id
		comments(first: 5) { totalCount edges { node { body } } } } } } } } }`, map[string]any{"p": w.own}, &fbs)
	for _, ed := range fbs.Node.Feedbacks.Edges {
		want := ""
		if ed.Node.ID == w.ownFeedback {
			want = "on the feedback"
		}
		if bodies(ed.Node.Comments) != want {
			t.Fatalf("feedback %s: %+v", ed.Node.ID, ed.Node.Comments)
		}
	}
}

// One vote per member and suggestion; the score follows, lists order by it.
func TestVotes(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "v")
	_, priority, advice := e.completed(t, w.owner, w.own, w.ownTask)
	vote := `mutation($id: ID!, $v: Vote!) { voteAdjustment(id: $id, value: $v) { id score viewerVote } }`
	type voted struct {
		VoteAdjustment struct {
			ID         string
			Score      int
			ViewerVote *string
		}
	}
	cast := func(cred, id, value string, wantScore int, wantVote string) {
		t.Helper()
		var out voted
		e.as(t, cred, vote, map[string]any{"id": id, "v": value}, &out)
		got := ""
		if out.VoteAdjustment.ViewerVote != nil {
			got = *out.VoteAdjustment.ViewerVote
		}
		if out.VoteAdjustment.Score != wantScore || got != wantVote {
			t.Fatalf("%s on %s: score %d vote %q, want %d %q", value, id, out.VoteAdjustment.Score, got, wantScore, wantVote)
		}
	}
	cast(w.reader, priority, "UP", 1, "UP")
	cast(w.reader, priority, "UP", 1, "UP") // again: still one vote
	cast(w.editor, priority, "DOWN", 0, "DOWN")
	cast(w.reader, priority, "DOWN", -2, "DOWN")
	cast(w.reader, priority, "NONE", -1, "")
	cast(w.reader, priority, "NONE", -1, "")
	cast(w.reader, advice, "UP", 1, "UP")
	cast(w.owner, advice, "UP", 2, "UP")
	// Each reader sees their own vote.
	var seen struct {
		Node struct {
			Adjustments struct {
				Edges []struct {
					Node struct {
						ID         string
						Score      int
						ViewerVote *string
					}
				}
			}
		}
	}
	q := `query($p: ID!, $dir: OrderDirection!) { node(id: $p) { ... on Project { adjustments(first: 10, orderBy: {field: SCORE, direction: $dir}) {
		edges { node { id score viewerVote } } } } } }`
	e.as(t, w.editor, q, map[string]any{"p": w.own, "dir": "DESC"}, &seen)
	edges := seen.Node.Adjustments.Edges
	if len(edges) != 2 || edges[0].Node.ID != advice || edges[0].Node.Score != 2 || edges[0].Node.ViewerVote != nil ||
		edges[1].Node.ID != priority || edges[1].Node.Score != -1 || edges[1].Node.ViewerVote == nil || *edges[1].Node.ViewerVote != "DOWN" {
		t.Fatalf("by score, descending: %+v", edges)
	}
	e.as(t, w.editor, q, map[string]any{"p": w.own, "dir": "ASC"}, &seen)
	if edges := seen.Node.Adjustments.Edges; edges[0].Node.ID != priority {
		t.Fatalf("by score, ascending: %+v", edges)
	}
	// A page reads the caller's votes once, however many suggestions it has.
	before := e.statements.len()
	e.as(t, w.reader, q, map[string]any{"p": w.own, "dir": "DESC"}, &seen)
	reads := 0
	for _, st := range e.statements.since(before) {
		if strings.Contains(st, "adjustment_votes") {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads of votes for a page of 2, want 1", reads)
	}
	if edges := seen.Node.Adjustments.Edges; edges[0].Node.ViewerVote == nil || *edges[0].Node.ViewerVote != "UP" || edges[1].Node.ViewerVote != nil {
		t.Fatalf("the reader's votes: %+v", edges)
	}
	// Votes are no decision: the suggestion's version and status stay.
	var a struct {
		Node struct {
			Version int
			Status  string
		}
	}
	e.as(t, w.reader, `query($id: ID!) { node(id: $id) { ... on Adjustment { version status } } }`, map[string]any{"id": advice}, &a)
	if a.Node.Version != 1 || a.Node.Status != "PROPOSED" {
		t.Fatalf("after votes: %+v", a.Node)
	}
	// Outsiders cannot see it, so cannot vote.
	e.mustRefuse(t, w.outsider, vote, map[string]any{"id": advice, "v": "UP"}, graph.CodeNotFound)
	e.mustRefuse(t, w.outsider, vote, map[string]any{"id": advice, "v": "NONE"}, graph.CodeNotFound)
}

// projectEvents delivers comments (created, edited, deleted) and scores,
// in commit order, to a member's websocket.
func TestCommentAndVoteEventsAreDelivered(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "ce")
	_, priority, _ := e.completed(t, w.owner, w.own, w.ownTask)
	const sub = `subscription($p: ID!) { projectEvents(projectID: $p) {
		__typename
		... on CommentEvent { change version comment { id body } by { subject } cursor }
		... on VoteEvent { score adjustment { id score } by { subject } cursor }
	} }`
	c := gqltest.DialAs(t, e.url, gqltest.TransportWS, w.reader)
	c.Subscribe("1", sub, map[string]any{"p": w.own})
	testutil.WaitFor(t, "the subscription", func() bool { return e.bus.Subscribers() >= 1 })
	type event struct {
		Typename   string `json:"__typename"`
		Change     string
		Version    int
		Score      int
		Comment    *struct{ ID, Body string }
		Adjustment *struct {
			ID    string
			Score int
		}
		By     *struct{ Subject string }
		Cursor string
	}
	next := func() event {
		t.Helper()
		m := nextFor(t, c, "1")
		var body struct{ Data struct{ ProjectEvents event } }
		if err := json.Unmarshal(m.Payload, &body); err != nil || m.Kind != "data" {
			t.Fatalf("%s %s", m.Kind, m.Payload)
		}
		return body.Data.ProjectEvents
	}
	added := e.addComment(t, w.editor, w.ownFeedback, "first")
	if ev := next(); ev.Typename != "CommentEvent" || ev.Change != "CREATED" || ev.Version != 1 || ev.Comment.ID != added.ID ||
		ev.Comment.Body != "first" || ev.By.Subject != "editor-ce" || ev.Cursor == "" {
		t.Fatalf("created: %+v", ev)
	}
	e.as(t, w.editor, `mutation($id: ID!) { editComment(id: $id, body: "second") { id } }`, map[string]any{"id": added.ID}, nil)
	if ev := next(); ev.Change != "EDITED" || ev.Version != 2 || ev.Comment.Body != "second" {
		t.Fatalf("edited: %+v", ev)
	}
	e.as(t, w.owner, `mutation($id: ID!, $v: Vote!) { voteAdjustment(id: $id, value: $v) { score } }`, map[string]any{"id": priority, "v": "UP"}, nil)
	if ev := next(); ev.Typename != "VoteEvent" || ev.Score != 1 || ev.Adjustment.ID != priority || ev.Adjustment.Score != 1 || ev.By.Subject != "owner-ce" {
		t.Fatalf("vote: %+v", ev)
	}
	// A vote that changes nothing is no event: the next one is the deletion.
	e.as(t, w.owner, `mutation($id: ID!, $v: Vote!) { voteAdjustment(id: $id, value: $v) { score } }`, map[string]any{"id": priority, "v": "UP"}, nil)
	e.as(t, w.owner, `mutation($id: ID!) { deleteComment(id: $id) }`, map[string]any{"id": added.ID}, nil)
	if ev := next(); ev.Change != "DELETED" || ev.Version != 3 || ev.Comment.ID != added.ID || ev.By.Subject != "owner-ce" {
		t.Fatalf("deleted: %+v", ev)
	}
}

// COMMENT_LIMIT_PER_MINUTE: writing and editing count, per user; the
// refusal says when to retry, and writes nothing.
func TestCommentRateLimit(t *testing.T) {
	rdb, ns := testredis.Client(t), testredis.Namespace(t)
	e := newEnvAuth(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey}, func(cfg *graph.Config) {
		cfg.RateLimit = ratelimit.New(rdb, ratelimit.Config{Prefix: "rlc-" + ns, CommentsPerMinute: 2})
	})
	w := e.newWorld(t, "rl") // the reader wrote none yet
	c := e.addComment(t, w.reader, w.ownFeedback, "one")
	e.as(t, w.reader, `mutation($id: ID!) { editComment(id: $id, body: "one, edited") { id } }`, map[string]any{"id": c.ID}, nil)
	add := `mutation($t: ID!, $b: String!) { addComment(input: {targetID: $t, body: $b}) { id } }`
	err := e.mustRefuse(t, w.reader, add, map[string]any{"t": w.ownFeedback, "b": "three"}, graph.CodeRateLimited)
	if err.Extensions["budget"] != ratelimit.BudgetClientComments || err.Extensions["limit"] != float64(2) ||
		!strings.Contains(err.Message, "2 comments within a minute") || !strings.Contains(err.Message, "retry in") {
		t.Fatalf("over the limit: %+v", err)
	}
	// Another member has a budget of their own; deleting costs nothing.
	e.addComment(t, w.editor, w.ownFeedback, "mine")
	e.as(t, w.reader, `mutation($id: ID!) { deleteComment(id: $id) }`, map[string]any{"id": c.ID}, nil)
	var count struct {
		Node struct{ Comments struct{ TotalCount int } }
	}
	e.as(t, w.reader, `query($id: ID!) { node(id: $id) { ... on Feedback { comments(first: 1) { totalCount } } } }`, map[string]any{"id": w.ownFeedback}, &count)
	if count.Node.Comments.TotalCount != 1 {
		t.Fatalf("%d comments, want the editor's alone", count.Node.Comments.TotalCount)
	}
}

// Votes at once, by several members and several times each, leave the
// score equal to the votes stored: each vote moves it under the
// suggestion's lock.
func TestConcurrentVotesKeepTheScore(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "cv")
	id := e.suggestionOn(t, w.ownFeedback)
	vote := `mutation($id: ID!, $v: Vote!) { voteAdjustment(id: $id, value: $v) { score } }`
	var wg sync.WaitGroup
	for _, cred := range []string{w.reader, w.editor, w.owner} {
		for _, v := range []string{"UP", "DOWN", "UP", "NONE", "UP"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp := gqltest.PostAs(t, e.url, cred, vote, map[string]any{"id": id, "v": v}); len(resp.Errors) > 0 {
					t.Errorf("%s: %+v", v, resp.Errors)
				}
			}()
		}
	}
	wg.Wait()
	var got struct{ Node struct{ Score int } }
	e.as(t, w.owner, `query($id: ID!) { node(id: $id) { ... on Adjustment { score } } }`, map[string]any{"id": id}, &got)
	sum := 0
	for _, v := range e.client.AdjustmentVote.Query().Where(adjustmentvote.AdjustmentID(dbID(t, id))).AllX(accesstest.System()) {
		sum += v.Value
	}
	if got.Node.Score != sum {
		t.Fatalf("score %d, but the stored votes sum to %d", got.Node.Score, sum)
	}
}
