package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	entproject "github.com/feedbackloop/feedbackloop/ent/project"
	enttask "github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/graphiql"
	"github.com/feedbackloop/feedbackloop/viewer"
)

type taskPage struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   pageInfo `json:"pageInfo"`
	Edges      []struct {
		Cursor string `json:"cursor"`
		Node   task   `json:"node"`
	} `json:"edges"`
}

func (p taskPage) titles() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.Title)
	}
	return out
}

func TestPaginationBothDirections(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	other := e.createProject("Other")
	for i := 1; i <= 7; i++ {
		e.createTask(p.ID, fmt.Sprintf("t%d", i), 0)
	}
	e.createTask(other.ID, "not mine", 0)

	const pageQuery = `query($p: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
	  tasks(first: $first, after: $after, last: $last, before: $before,
	        orderBy: {field: TITLE}, where: {hasProjectWith: {id: $p}}) {
	    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	    edges { cursor node { id title } }
	  }
	}`
	page := func(vars map[string]any) taskPage {
		t.Helper()
		vars["p"] = p.ID
		var out struct{ Tasks taskPage }
		e.mustDo(pageQuery, vars, &out)
		if out.Tasks.TotalCount != 7 {
			t.Fatalf("totalCount = %d, want 7", out.Tasks.TotalCount)
		}
		return out.Tasks
	}

	// Forwards: 3, 3, 1.
	var forward []string
	vars := map[string]any{"first": 3}
	wantNext := []bool{true, true, false}
	for i := 0; i < 3; i++ {
		pg := page(vars)
		if pg.PageInfo.HasNextPage != wantNext[i] {
			t.Errorf("forward page %d: hasNextPage = %v", i, pg.PageInfo.HasNextPage)
		}
		forward = append(forward, pg.titles()...)
		vars = map[string]any{"first": 3, "after": *pg.PageInfo.EndCursor}
	}
	if want := []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"}; !slices.Equal(forward, want) {
		t.Errorf("forward = %v, want %v", forward, want)
	}

	// Backwards: the last 3, then the 3 before, then the one left.
	var backward [][]string
	vars = map[string]any{"last": 3}
	wantPrev := []bool{true, true, false}
	for i := 0; i < 3; i++ {
		pg := page(vars)
		if pg.PageInfo.HasPreviousPage != wantPrev[i] {
			t.Errorf("backward page %d: hasPreviousPage = %v", i, pg.PageInfo.HasPreviousPage)
		}
		backward = append(backward, pg.titles())
		vars = map[string]any{"last": 3, "before": *pg.PageInfo.StartCursor}
	}
	want := [][]string{{"t5", "t6", "t7"}, {"t2", "t3", "t4"}, {"t1"}}
	if fmt.Sprint(backward) != fmt.Sprint(want) {
		t.Errorf("backward = %v, want %v", backward, want)
	}

	// The same through the nested connection.
	var nested struct {
		Node struct {
			Tasks taskPage `json:"tasks"`
		} `json:"node"`
	}
	e.mustDo(`query($p: ID!) { node(id: $p) { ... on Project { tasks(last: 2, orderBy: {field: TITLE, direction: DESC}) {
	  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id title } } } } } }`,
		map[string]any{"p": p.ID}, &nested)
	if got := nested.Node.Tasks.titles(); !slices.Equal(got, []string{"t2", "t1"}) || nested.Node.Tasks.TotalCount != 7 {
		t.Errorf("nested last 2 DESC = %v (total %d)", got, nested.Node.Tasks.TotalCount)
	}
}

func TestFilteringAndOrdering(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	alpha := e.createProject("Alpha launch")
	beta := e.createProject("Beta")
	e.mustDo(`mutation($id: ID!) { updateProject(id: $id, input: {status: ARCHIVED}) { id } }`, map[string]any{"id": beta.ID}, nil)
	e.createTask(alpha.ID, "Write copy", 2)
	e.createTask(alpha.ID, "Design hero", 5)
	e.createTask(alpha.ID, "Copy review", 1)
	e.createTask(beta.ID, "Copy beta", 4)

	var projects struct {
		Projects struct {
			TotalCount int
			Edges      []struct{ Node project }
		}
	}
	e.mustDo(`{ projects(first: 10, where: {statusIn: [ACTIVE, ON_HOLD]}) { totalCount edges { node { `+projectFields+` } } } }`, nil, &projects)
	if projects.Projects.TotalCount != 1 || projects.Projects.Edges[0].Node.Name != "Alpha launch" {
		t.Errorf("statusIn = %+v", projects.Projects)
	}
	e.mustDo(`{ projects(first: 10, orderBy: {field: NAME, direction: DESC}) { totalCount edges { node { `+projectFields+` } } } }`, nil, &projects)
	if got := []string{projects.Projects.Edges[0].Node.Name, projects.Projects.Edges[1].Node.Name}; !slices.Equal(got, []string{"Beta", "Alpha launch"}) {
		t.Errorf("NAME DESC = %v", got)
	}

	var tasks struct{ Tasks taskPage }
	e.mustDo(`{ tasks(first: 10, orderBy: {field: PRIORITY, direction: DESC},
	  where: {titleContainsFold: "copy", hasProjectWith: {nameHasPrefix: "Alpha"}}) {
	  totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { title priority } } } }`, nil, &tasks)
	if got := tasks.Tasks.titles(); !slices.Equal(got, []string{"Write copy", "Copy review"}) {
		t.Errorf("filtered tasks by priority DESC = %v", got)
	}
	e.mustDo(`{ tasks(first: 10, orderBy: {field: CREATED_AT, direction: DESC}, where: {priorityGTE: 2, or: [{titleHasPrefix: "Design"}, {titleHasPrefix: "Copy"}]}) {
	  totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { title } } } }`, nil, &tasks)
	if got := tasks.Tasks.titles(); !slices.Equal(got, []string{"Copy beta", "Design hero"}) {
		t.Errorf("or/priorityGTE by CREATED_AT DESC = %v", got)
	}

	pid := dbID(t, alpha.ID)
	e.client.Feedback.Create().SetProjectID(pid).SetFeedbackText("one").SaveX(ctx)
	e.client.Feedback.Create().SetProjectID(pid).SetFeedbackText("two").SetStatus(feedback.StatusFailed).SaveX(ctx)
	var fbs struct {
		Feedbacks struct {
			TotalCount int
			Edges      []struct {
				Node struct{ FeedbackText, Status string }
			}
		}
	}
	e.mustDo(`{ feedbacks(first: 5, where: {statusIn: [FAILED]}) { totalCount edges { node { feedbackText status } } } }`, nil, &fbs)
	if fbs.Feedbacks.TotalCount != 1 || fbs.Feedbacks.Edges[0].Node.FeedbackText != "two" {
		t.Errorf("feedbacks statusIn FAILED = %+v", fbs.Feedbacks)
	}
}

func TestPageSizeLimits(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	for _, tc := range []struct {
		name, query, field, msg string
		vars                    map[string]any
	}{
		{"first above max", `{ projects(first: 101) { totalCount } }`, "projects.first", "projects: first must be between 0 and 100 (got 101)", nil},
		{"last above max", `{ tasks(last: 1000) { totalCount } }`, "tasks.last", "tasks: last must be between 0 and 100 (got 1000)", nil},
		{"negative first", `{ feedbacks(first: -1) { totalCount } }`, "feedbacks.first", "feedbacks: first must be between 0 and 100 (got -1)", nil},
		{"no page size", `{ projects { totalCount } }`, "projects.first", "projects needs first or last: pass the page size, at most 100", nil},
		{"from a variable", `query($n: Int) { projects(first: $n) { totalCount } }`, "projects.first", "projects: first must be between 0 and 100 (got 500)", map[string]any{"n": 500}},
		{"nested, aliased, in a fragment", `query($p: ID!) { node(id: $p) { ...F } } fragment F on Project { big: tasks(first: 200) { totalCount } }`,
			"node.big.first", "tasks: first must be between 0 and 100 (got 200)", map[string]any{"p": p.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.queries.Load()
			got := e.mustFail(tc.query, tc.vars, "BAD_USER_INPUT")
			if got.Message != tc.msg || got.Extensions["field"] != tc.field {
				t.Errorf("got %q (field %v), want %q (field %s)", got.Message, got.Extensions["field"], tc.msg, tc.field)
			}
			if n := e.queries.Load() - before; n != 0 {
				t.Errorf("rejected query still ran %d SQL statements", n)
			}
		})
	}
	var ok struct{ Projects struct{ TotalCount int } }
	e.mustDo(`{ projects(first: 100) { totalCount } }`, nil, &ok)
	e.mustDo(`{ projects(first: 0) { totalCount } }`, nil, &ok)
	if ok.Projects.TotalCount != 1 {
		t.Errorf("totalCount with first: 0 = %d", ok.Projects.TotalCount)
	}
}

func TestNodeLookups(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	tk := e.createTask(p.ID, "T", 3)
	gone := e.createProject("Gone")
	e.mustDo(`mutation($id: ID!) { deleteProject(id: $id) }`, map[string]any{"id": gone.ID}, nil)

	var one struct {
		Node struct {
			Typename string `json:"__typename"`
			ID       string
			Name     string
			Title    string
			Project  struct{ Name string }
		}
	}
	const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id ... on Project { name } ... on Task { title project { name } } } }`
	e.mustDo(nodeQuery, map[string]any{"id": p.ID}, &one)
	if one.Node.Typename != "Project" || one.Node.ID != p.ID || one.Node.Name != "P" {
		t.Errorf("node(project) = %+v", one.Node)
	}
	e.mustDo(nodeQuery, map[string]any{"id": tk.ID}, &one)
	if one.Node.Typename != "Task" || one.Node.Title != "T" || one.Node.Project.Name != "P" {
		t.Errorf("node(task) = %+v", one.Node)
	}
	for _, id := range []string{gone.ID, "bm9wZQ", ""} {
		got := e.mustFail(nodeQuery, map[string]any{"id": id}, "NOT_FOUND")
		if got.Message != "no object has this ID" {
			t.Errorf("node(%q): message %q", id, got.Message)
		}
	}

	resp := e.do(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": []string{tk.ID, gone.ID, p.ID}})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "NOT_FOUND" || fmt.Sprint(resp.Errors[0].Path) != "[nodes 1]" {
		t.Errorf("nodes errors = %+v", resp.Errors)
	}
	if got := string(resp.Data); got != fmt.Sprintf(`{"nodes":[{"__typename":"Task","id":%q},null,{"__typename":"Project","id":%q}]}`, tk.ID, p.ID) {
		t.Errorf("nodes data = %s", got)
	}
}

// TestNestedQueryIsBatched proves a four-level query costs a fixed number of
// SQL statements per level, however many rows each level has; that nested
// pages and counts are read per parent with LATERAL (never ROW_NUMBER() or
// GROUP BY over every child of the parents); and that with authorization on
// the privacy filters are part of those same statements, not extra ones.
func TestNestedQueryIsBatched(t *testing.T) {
	t.Run("open mode", func(t *testing.T) {
		testNestedQueryIsBatched(t, newEnv(t), "")
	})
	t.Run("a VIEWER, authorization on", func(t *testing.T) {
		testNestedQueryIsBatched(t, newSecureEnv(t), bearer(t, "nested-viewer"))
	})
}

func testNestedQueryIsBatched(t *testing.T, e *env, cred string) {
	ctx := accesstest.System()
	const query = `{ projects(first: 50, orderBy: {field: NAME}) { totalCount edges { node { name
	  tasks(first: 10, orderBy: {field: PRIORITY, direction: DESC}) { totalCount edges { node { title priority } } }
	  feedbacks(first: 10) { totalCount edges { node { feedbackText task { title }
	    adjustments { adjustmentType description task { title } } } } } } } } }`

	var member *ent.User
	if cred != "" {
		// The first request stores the token's user.
		e.as(t, cred, `{ viewer { id } }`, nil, nil)
		member = e.client.User.Query().Where(user.Subject("nested-viewer")).OnlyX(ctx)
	}
	seed := func(from, to int) {
		for i := from; i < to; i++ {
			p := e.client.Project.Create().SetName(fmt.Sprintf("p%02d", i)).SaveX(ctx)
			if member != nil {
				e.client.ProjectMember.Create().SetProjectID(p.ID).SetUserID(member.ID).SetRole(viewer.Reader).SaveX(ctx)
			}
			var tasks []*ent.Task
			for j := 0; j < 3; j++ {
				tasks = append(tasks, e.client.Task.Create().SetProjectID(p.ID).SetTitle(fmt.Sprintf("t%d", j)).SetPriority(j).SaveX(ctx))
			}
			for j := 0; j < 2; j++ {
				fb := e.client.Feedback.Create().SetProjectID(p.ID).SetTaskID(tasks[j].ID).SetFeedbackText("fb").SaveX(ctx)
				for k := 0; k < 2; k++ {
					e.client.Adjustment.Create().SetFeedbackID(fb.ID).SetTaskID(tasks[k].ID).
						SetAdjustmentType(adjustment.AdjustmentTypeTaskPriority).SetDescription("d").SetPosition(k).SaveX(ctx)
				}
			}
		}
		// A project the viewer is no member of.
		if member != nil {
			other := e.client.Project.Create().SetName(fmt.Sprintf("other%02d", from)).SaveX(ctx)
			e.client.Task.Create().SetProjectID(other.ID).SetTitle("hidden").SaveX(ctx)
		}
	}
	measure := func(wantProjects int) []string {
		t.Helper()
		var out struct {
			Projects struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Tasks struct {
							TotalCount int
							Edges      []struct{ Node struct{ Title string } }
						}
						Feedbacks struct {
							Edges []struct {
								Node struct {
									Task        *struct{ Title string }
									Adjustments []struct{ Task *struct{ Title string } }
								}
							}
						}
					}
				}
			}
		}
		before := e.statements.len()
		if cred == "" {
			e.mustDo(query, nil, &out)
		} else {
			e.as(t, cred, query, nil, &out)
		}
		var stmts []string
		for _, s := range e.statements.since(before) {
			if !strings.HasPrefix(s, `INSERT INTO "users"`) { // the authenticator's
				stmts = append(stmts, s)
			}
		}
		if out.Projects.TotalCount != wantProjects || len(out.Projects.Edges) != wantProjects {
			t.Fatalf("got %d projects (totalCount %d), want %d", len(out.Projects.Edges), out.Projects.TotalCount, wantProjects)
		}
		for _, pe := range out.Projects.Edges {
			titles := []string{}
			for _, te := range pe.Node.Tasks.Edges {
				titles = append(titles, te.Node.Title)
			}
			if pe.Node.Tasks.TotalCount != 3 || !slices.Equal(titles, []string{"t2", "t1", "t0"}) || len(pe.Node.Feedbacks.Edges) != 2 {
				t.Fatalf("project shape: %+v", pe.Node)
			}
			for _, fe := range pe.Node.Feedbacks.Edges {
				if fe.Node.Task == nil || len(fe.Node.Adjustments) != 2 || fe.Node.Adjustments[1].Task == nil {
					t.Fatalf("feedback shape: %+v", fe.Node)
				}
			}
		}
		return stmts
	}

	seed(0, 2)
	small := measure(2)
	seed(2, 12)
	large := measure(12)
	t.Logf("SQL statements: %d for 2 projects, %d for 12 projects", len(small), len(large))
	if len(small) != len(large) {
		t.Errorf("statement count grows with rows: %d for 2 projects, %d for 12", len(small), len(large))
	}
	// projects + count, tasks + count, feedbacks + count, feedback.task,
	// adjustments, adjustment.task: one statement per edge and per totalCount.
	if len(large) > 9 {
		t.Errorf("nested query took %d statements, want at most 9:\n%s", len(large), strings.Join(large, "\n"))
	}
	pages, counts := 0, 0
	for _, s := range large {
		if strings.Contains(s, "ROW_NUMBER") || strings.Contains(s, "GROUP BY") {
			t.Errorf("a nested page or count over every child of the parents instead of per parent: %s", s)
		}
		if strings.Contains(s, "CROSS JOIN LATERAL") {
			if strings.Contains(s, "COUNT(*)") {
				counts++
			} else {
				pages++
			}
		}
		if member == nil {
			continue
		}
		// Every read of project data carries the viewer's memberships in
		// the same statement; in a nested page or count, inside the
		// per-parent subquery.
		if !strings.Contains(s, `"project_members"`) {
			t.Errorf("a statement without the privacy filter: %s", s)
		}
		if _, sub, ok := strings.Cut(s, "CROSS JOIN LATERAL"); ok && !strings.Contains(sub, `"project_members"`) {
			t.Errorf("a nested page or count without the privacy filter in its subquery: %s", s)
		}
	}
	// The tasks and feedbacks pages, and one statement per nested totalCount.
	if pages != 2 || counts != 2 {
		t.Errorf("%d LATERAL pages and %d LATERAL counts, want 2 and 2:\n%s", pages, counts, strings.Join(large, "\n"))
	}
}

func TestInternalErrorsAreMasked(t *testing.T) {
	e := newEnv(t)
	e.createProject("P")
	// Break the database under the API: the driver's error must stay in the log.
	if _, err := e.db.ExecContext(context.Background(), `ALTER TABLE projects RENAME COLUMN name TO title_broken`); err != nil {
		t.Fatal(err)
	}
	got := e.mustFail(`{ projects(first: 5) { edges { node { name } } } }`, nil, "INTERNAL")
	id, _ := got.Extensions["requestId"].(string)
	if id == "" || got.Message != "internal error (request "+id+")" {
		t.Errorf("error = %+v", got)
	}
	if strings.Contains(got.Message, "column") || strings.Contains(got.Message, "pq") {
		t.Errorf("driver message leaked: %q", got.Message)
	}
	if !e.logs.Contains(`"request_id":"`+id+`"`) || !e.logs.Contains("does not exist") {
		t.Errorf("log lacks the request ID or the cause:\n%s", e.logs.String())
	}
}

func TestProbesGraphiQLAndRequestIDs(t *testing.T) {
	e := newEnv(t)
	get := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/readyz"); resp.StatusCode != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, "graphiql@4") || !strings.Contains(body, "subscriptionUrl") || !strings.Contains(body, `"/query"`) {
		t.Errorf("GraphiQL page: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := get("/healthz", "X-Request-ID", "trace-abc.1"); resp.Header.Get("X-Request-ID") != "trace-abc.1" {
		t.Errorf("caller's request ID not kept: %q", resp.Header.Get("X-Request-ID"))
	}
	if resp, _ := get("/healthz", "X-Request-ID", "bad id\u00e9"); len(resp.Header.Get("X-Request-ID")) != 16 {
		t.Errorf("unsafe request ID not replaced: %q", resp.Header.Get("X-Request-ID"))
	}
	if resp, _ := get("/nope"); resp.StatusCode != 404 {
		t.Errorf("/nope: %d", resp.StatusCode)
	}
}

// TestNestedPagesMatchOneProjectsPage pages through projects' tasks nested
// under projects(first:), which reads every project's page in one
// statement, and checks each page against the same connection asked of one
// project at a time through node(id:), which is a plain ORDER BY … LIMIT:
// edges, cursors, pageInfo and totalCount must agree for every argument.
func TestNestedPagesMatchOneProjectsPage(t *testing.T) {
	// Some 2,500 requests: more than a client's request budget.
	e := newEnvWith(t, func(c *graph.Config) { c.RateLimit = nil })
	ctx := accesstest.System()
	statuses := []enttask.Status{enttask.StatusTodo, enttask.StatusInProgress, enttask.StatusBlocked, enttask.StatusDone}
	var projects []string
	for i, n := range []int{0, 1, 5, 12} { // an empty project, a single task, some, more than a page
		p := e.createProject(fmt.Sprintf("p%d", i))
		projects = append(projects, p.ID)
		for j := 0; j < n; j++ {
			e.client.Task.Create().SetProjectID(dbID(t, p.ID)).SetTitle(fmt.Sprintf("t%02d", (j*7)%n)).
				SetPriority(j % 3).SetStatus(statuses[j%4]).SaveX(ctx)
		}
	}
	const fields = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id title priority status } }`
	const args = `(first: $first, after: $after, last: $last, before: $before, orderBy: $order, where: $where)`
	const decl = `$first: Int, $after: Cursor, $last: Int, $before: Cursor, $order: TaskOrder, $where: TaskWhereInput`
	nested := `query(` + decl + `) { projects(first: 10, orderBy: {field: NAME}) { edges { node { id tasks` + args + ` { ` + fields + ` } } } } }`
	single := `query($p: ID!, ` + decl + `) { node(id: $p) { ... on Project { tasks` + args + ` { ` + fields + ` } } } }`

	one := func(p string, vars map[string]any) taskPage {
		t.Helper()
		v := map[string]any{"p": p}
		maps.Copy(v, vars)
		var out struct{ Node struct{ Tasks taskPage } }
		e.mustDo(single, v, &out)
		return out.Node.Tasks
	}
	// totalCount as the top-level tasks connection counts it, a plain COUNT.
	counted := func(p string, where map[string]any) int {
		t.Helper()
		w := map[string]any{"hasProjectWith": []map[string]any{{"id": p}}}
		maps.Copy(w, where)
		var out struct{ Tasks struct{ TotalCount int } }
		e.mustDo(`query($w: TaskWhereInput) { tasks(first: 1, where: $w) { totalCount } }`, map[string]any{"w": w}, &out)
		return out.Tasks.TotalCount
	}
	// Cursors to start from: the 3rd and 8th task of the largest project
	// in each order, and one of the small project.
	cursorsIn := func(order map[string]any) []string {
		all := one(projects[3], map[string]any{"first": 100, "order": order})
		small := one(projects[2], map[string]any{"first": 100, "order": order})
		return []string{all.Edges[2].Cursor, all.Edges[7].Cursor, small.Edges[1].Cursor}
	}

	checked := 0
	for _, order := range []map[string]any{
		nil,
		{"field": "PRIORITY", "direction": "DESC"},
		{"field": "TITLE", "direction": "ASC"},
		{"field": "STATUS", "direction": "DESC"},
	} {
		cursors := cursorsIn(order)
		for _, where := range []map[string]any{nil, {"statusNotIn": []string{"DONE"}}, {"priorityGTE": 1, "titleContains": "0"}} {
			var cases []map[string]any
			for _, n := range []int{1, 3, 20} {
				cases = append(cases, map[string]any{"first": n}, map[string]any{"last": n})
				for _, c := range cursors {
					cases = append(cases, map[string]any{"first": n, "after": c}, map[string]any{"last": n, "before": c})
				}
			}
			cases = append(cases, map[string]any{"first": 2, "after": cursors[0], "before": cursors[1]})
			for _, vars := range cases {
				vars["order"], vars["where"] = order, where
				var out struct {
					Projects struct {
						Edges []struct {
							Node struct {
								ID    string
								Tasks taskPage
							}
						}
					}
				}
				resp := e.do(nested, vars)
				if len(resp.Errors) > 0 {
					t.Fatalf("%v: %+v\nlog:\n%s", vars, resp.Errors, e.logs.String())
				}
				if err := json.Unmarshal(resp.Data, &out); err != nil {
					t.Fatal(err)
				}
				if len(out.Projects.Edges) != len(projects) {
					t.Fatalf("%d projects", len(out.Projects.Edges))
				}
				for _, pe := range out.Projects.Edges {
					want := one(pe.Node.ID, vars)
					if !reflect.DeepEqual(pe.Node.Tasks, want) {
						t.Errorf("%v in project %s:\nnested %+v\nalone  %+v", vars, pe.Node.ID, pe.Node.Tasks, want)
					}
					if n := counted(pe.Node.ID, where); pe.Node.Tasks.TotalCount != n {
						t.Errorf("%v in project %s: totalCount %d, the tasks query counts %d", vars, pe.Node.ID, pe.Node.Tasks.TotalCount, n)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d pages compared", checked)
}

// Suggestions filtered by a where argument are eager-loaded with their
// filter, one statement per alias for a whole list of feedback
// (ent/entgqltemplate applies the where to the eager load), rather than
// one per feedback, or an unfiltered load beside a filtered one.
func TestFilteredSuggestionsAreBatched(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	const projects, perProject = 12, 2
	for i := 0; i < projects; i++ {
		p := e.client.Project.Create().SetName(fmt.Sprintf("batched %02d", i)).SaveX(ctx)
		for j := 0; j < perProject; j++ {
			fb := e.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("fb").SaveX(ctx)
			for k, status := range []adjustment.Status{adjustment.StatusProposed, adjustment.StatusRejected, adjustment.StatusProposed} {
				e.client.Adjustment.Create().SetFeedbackID(fb.ID).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).
					SetDescription(fmt.Sprintf("d%d", k)).SetPosition(k).SetStatus(status).SaveX(ctx)
			}
		}
	}
	var out struct {
		Feedbacks struct {
			Edges []struct {
				Node struct {
					Proposed []struct{ Description string }
					Rejected []struct{ Description string }
					All      []struct{ Description string }
				}
			}
		}
	}
	before := e.statements.len()
	e.mustDo(`{ feedbacks(first: 100) { edges { node {
		proposed: adjustments(where: {status: PROPOSED}) { description }
		rejected: adjustments(where: {status: REJECTED}) { description }
		all: adjustments { description } } } } }`, nil, &out)
	var loads []string
	for _, s := range e.statements.since(before) {
		if strings.Contains(s, `FROM "adjustments"`) {
			loads = append(loads, s)
		}
	}
	if len(out.Feedbacks.Edges) != projects*perProject {
		t.Fatalf("got %d feedback, want %d", len(out.Feedbacks.Edges), projects*perProject)
	}
	descriptions := func(got []struct{ Description string }) string {
		var d []string
		for _, a := range got {
			d = append(d, a.Description)
		}
		return strings.Join(d, " ")
	}
	for _, edge := range out.Feedbacks.Edges {
		n := edge.Node
		if got := descriptions(n.Proposed) + " / " + descriptions(n.Rejected) + " / " + descriptions(n.All); got != "d0 d2 / d1 / d0 d1 d2" {
			t.Fatalf("suggestions of a feedback (proposed / rejected / all): %q, want %q, each in position order", got, "d0 d2 / d1 / d0 d1 d2")
		}
	}
	// One statement per alias, two of them filtered by status.
	filtered := 0
	for _, s := range loads {
		if strings.Contains(s, `"adjustments"."status" =`) {
			filtered++
		}
	}
	if len(loads) != 3 || filtered != 2 {
		t.Errorf("the suggestions of %d feedback under 3 aliases took %d statements, %d of them filtered; want 3, 2 filtered:\n%s",
			projects*perProject, len(loads), filtered, strings.Join(loads, "\n"))
	}
}

// A page of projects is read with one project past it, to tell whether
// there is a next page; the tasks and task counts of that project are not
// loaded (lateral.WithoutLookahead), and a page that ends the list loses no
// project's tasks.
func TestPageLoadsNoChildrenPastItself(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 3 {
		p := e.createProject(fmt.Sprintf("p%d", i))
		ids = append(ids, p.ID)
		for j := range 2 {
			e.createTask(p.ID, fmt.Sprintf("t%d-%d", i, j), j)
		}
	}
	const query = `query($first: Int, $last: Int, $after: Cursor) { projects(first: $first, last: $last, after: $after) {
		pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id tasks(first: 5) { totalCount edges { node { title } } } } } } }`
	type page struct {
		Projects struct {
			PageInfo struct{ HasNextPage, HasPreviousPage bool }
			Edges    []struct {
				Cursor string
				Node   struct {
					ID    string
					Tasks struct {
						TotalCount int
						Edges      []struct{ Node struct{ Title string } }
					}
				}
			}
		}
	}
	var all page
	e.mustDo(query, map[string]any{"first": 3}, &all)
	for _, tc := range []struct {
		name     string
		vars     map[string]any
		want     []string // the page's projects
		next     bool
		previous bool
	}{
		{"first 2 of 3: one read past the page", map[string]any{"first": 2}, ids[:2], true, false},
		{"first 3 of 3: the whole list", map[string]any{"first": 3}, ids, false, false},
		{"last 2 of 3: one read past the page", map[string]any{"last": 2}, ids[1:], false, true},
		{"first 2 after the first: the end of the list", map[string]any{"first": 2, "after": all.Projects.Edges[0].Cursor}, ids[1:], false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.statements.len()
			var out page
			e.mustDo(query, tc.vars, &out)
			var got []string
			for _, edge := range out.Projects.Edges {
				got = append(got, edge.Node.ID)
				if edge.Node.Tasks.TotalCount != 2 || len(edge.Node.Tasks.Edges) != 2 {
					t.Errorf("project %s: tasks %+v, want its 2", edge.Node.ID, edge.Node.Tasks)
				}
			}
			if !slices.Equal(got, tc.want) || out.Projects.PageInfo.HasNextPage != tc.next || out.Projects.PageInfo.HasPreviousPage != tc.previous {
				t.Fatalf("page %v %+v, want %v next %v previous %v", got, out.Projects.PageInfo, tc.want, tc.next, tc.previous)
			}
			var want []int
			for _, id := range tc.want {
				want = append(want, dbID(t, id))
			}
			slices.Sort(want)
			for _, part := range []string{`AS "parent"`, `) AS "tasks" ORDER BY`} { // counts, pages
				stmts := e.statements.argsOf(before, part)
				if len(stmts) != 1 || len(stmts[0]) == 0 {
					t.Fatalf("statements with %q: %v, want one", part, stmts)
				}
				var parents []int
				for _, s := range strings.Split(strings.Trim(fmt.Sprint(stmts[0][0]), "{}"), ",") {
					n, err := strconv.Atoi(s)
					if err != nil {
						t.Fatalf("parents %v: %v", stmts[0][0], err)
					}
					parents = append(parents, n)
				}
				slices.Sort(parents)
				if !slices.Equal(parents, want) {
					t.Errorf("statement with %q read the tasks of projects %v, want the page's %v", part, parents, want)
				}
			}
		})
	}
}

// The query GraphiQL opens with runs as it is.
func TestGraphiQLsFirstQueryRuns(t *testing.T) {
	e := newEnv(t)
	e.createProject("First")
	var out struct {
		Projects struct{ TotalCount int }
	}
	e.mustDo(graphiql.FirstQuery, nil, &out)
	if out.Projects.TotalCount != 1 {
		t.Fatalf("%+v", out)
	}
}

// Suggestions carry the analyzer's confidence, and lists order by it (those
// without one last when ascending, as PostgreSQL sorts nulls).
func TestAdjustmentsByConfidence(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("Confident")
	pid := e.client.Project.Query().Where(entproject.Name("Confident")).OnlyIDX(ctx)
	fb := e.client.Feedback.Create().SetProjectID(pid).SetFeedbackText("fb").SaveX(ctx)
	for i, c := range []*float64{ptr(0.2), ptr(0.9), nil, ptr(0.5)} {
		e.client.Adjustment.Create().SetFeedbackID(fb.ID).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).
			SetDescription(fmt.Sprintf("d%d", i)).SetPosition(i).SetNillableConfidence(c).SaveX(ctx)
	}
	var out struct {
		Node struct {
			Adjustments struct {
				Edges []struct {
					Node struct {
						Description string
						Confidence  *float64
					}
				}
			}
		}
	}
	e.mustDo(`query($p: ID!) { node(id: $p) { ... on Project { adjustments(first: 10, orderBy: {field: CONFIDENCE, direction: ASC}) {
		edges { node { description confidence } } } } } }`, map[string]any{"p": p.ID}, &out)
	var got []string
	for _, edge := range out.Node.Adjustments.Edges {
		c := "null"
		if edge.Node.Confidence != nil {
			c = strconv.FormatFloat(*edge.Node.Confidence, 'g', -1, 64)
		}
		got = append(got, edge.Node.Description+"="+c)
	}
	if want := "d0=0.2 d3=0.5 d1=0.9 d2=null"; strings.Join(got, " ") != want {
		t.Errorf("by confidence ascending: %s, want %s", strings.Join(got, " "), want)
	}
}
