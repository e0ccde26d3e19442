package graph_test

import (
	"encoding/base64"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
)

func TestCreateProject(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("  Website relaunch \n")
	if p.Name != "Website relaunch" {
		t.Errorf("name = %q, want it trimmed", p.Name)
	}
	if p.Status != "ACTIVE" || p.Description != nil {
		t.Errorf("defaults: status %q description %v, want ACTIVE and null", p.Status, p.Description)
	}
	if _, err := strconv.Atoi(p.ID); err == nil {
		t.Errorf("id %q is a bare integer, want an opaque global ID", p.ID)
	}
	stored, err := e.client.Project.Get(accesstest.System(), dbID(t, p.ID))
	if err != nil || stored.Name != "Website relaunch" {
		t.Fatalf("stored project: %v, %v", stored, err)
	}

	// Every field of the input, and a 255-character name in a multi-byte script.
	long := strings.Repeat("é", 255)
	var out struct{ CreateProject project }
	e.mustDo(`mutation { createProject(input: {name: "`+long+`", description: "Q3", status: ON_HOLD}) { `+projectFields+` } }`, nil, &out)
	if out.CreateProject.Name != long || *out.CreateProject.Description != "Q3" || out.CreateProject.Status != "ON_HOLD" {
		t.Errorf("created %+v", out.CreateProject)
	}
}

func TestCreateProjectValidation(t *testing.T) {
	e := newEnv(t)
	const create = `mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`
	for _, tc := range []struct {
		name  string
		input map[string]any
		field string
		msg   string
	}{
		{"empty name", map[string]any{"name": ""}, "input.name", "input.name must be 1 to 255 characters (got 0)"},
		{"blank name", map[string]any{"name": " \t "}, "input.name", "input.name must be 1 to 255 characters (got 0)"},
		{"long name", map[string]any{"name": strings.Repeat("a", 256)}, "input.name", "input.name must be 1 to 255 characters (got 256)"},
		{"long description", map[string]any{"name": "ok", "description": strings.Repeat("d", 10001)}, "input.description", "input.description must be at most 10000 characters (got 10001)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.mustFail(create, map[string]any{"in": tc.input}, "BAD_USER_INPUT")
			if got.Message != tc.msg || got.Extensions["field"] != tc.field {
				t.Errorf("got %q (field %v), want %q (field %s)", got.Message, got.Extensions["field"], tc.msg, tc.field)
			}
			if len(got.Path) != 1 || got.Path[0] != "createProject" {
				t.Errorf("path = %v, want [createProject]", got.Path)
			}
		})
	}
	t.Run("unknown status", func(t *testing.T) {
		got := e.mustFail(create, map[string]any{"in": map[string]any{"name": "x", "status": "PAUSED"}}, "GRAPHQL_VALIDATION_FAILED")
		if !strings.Contains(got.Message, "ProjectStatus") {
			t.Errorf("message %q does not name the enum", got.Message)
		}
	})
	n, err := e.client.Project.Query().Count(accesstest.System())
	if err != nil || n != 0 {
		t.Errorf("rejected input stored %d projects (err %v)", n, err)
	}
}

func TestUpdateProject(t *testing.T) {
	e := newEnv(t)
	var created struct{ CreateProject project }
	e.mustDo(`mutation { createProject(input: {name: "Old", description: "to clear"}) { `+projectFields+` } }`, nil, &created)
	p := created.CreateProject
	time.Sleep(5 * time.Millisecond) // timestamps have microsecond precision; make the change visible

	var out struct{ UpdateProject project }
	e.mustDo(`mutation($id: ID!) { updateProject(id: $id, input: {name: " New ", status: COMPLETED, clearDescription: true}) { `+projectFields+` } }`,
		map[string]any{"id": p.ID}, &out)
	u := out.UpdateProject
	if u.ID != p.ID || u.Name != "New" || u.Status != "COMPLETED" || u.Description != nil {
		t.Errorf("updated %+v", u)
	}
	if u.CreatedAt != p.CreatedAt {
		t.Errorf("createdAt changed: %s -> %s", p.CreatedAt, u.CreatedAt)
	}
	if !parseTime(t, u.UpdatedAt).After(parseTime(t, p.UpdatedAt)) {
		t.Errorf("updatedAt did not advance: %s -> %s", p.UpdatedAt, u.UpdatedAt)
	}

	// Omitted fields keep their values.
	e.mustDo(`mutation($id: ID!) { updateProject(id: $id, input: {description: "d"}) { `+projectFields+` } }`, map[string]any{"id": p.ID}, &out)
	if out.UpdateProject.Name != "New" || out.UpdateProject.Status != "COMPLETED" {
		t.Errorf("partial update changed other fields: %+v", out.UpdateProject)
	}

	got := e.mustFail(`mutation($id: ID!) { updateProject(id: $id, input: {name: ""}) { id } }`, map[string]any{"id": p.ID}, "BAD_USER_INPUT")
	if got.Extensions["field"] != "input.name" {
		t.Errorf("field = %v", got.Extensions["field"])
	}
}

func TestMutationsOnMissingOrForeignIDs(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	tk := e.createTask(p.ID, "T", 1)
	gone := e.createProject("Gone")
	e.mustDo(`mutation($id: ID!) { deleteProject(id: $id) }`, map[string]any{"id": gone.ID}, nil)

	// An ID edited to claim another type, and strings that were never IDs.
	forged := base64.RawURLEncoding.EncodeToString([]byte("Task:" + strconv.Itoa(dbID(t, p.ID))))
	for _, tc := range []struct{ name, mutation, id string }{
		{"deleted project", `updateProject(id: $id, input: {name: "x"}) { id }`, gone.ID},
		{"task ID as project", `updateProject(id: $id, input: {name: "x"}) { id }`, tk.ID},
		{"project ID as task", `updateTask(id: $id, input: {title: "x"}) { id }`, p.ID},
		{"delete deleted project", `deleteProject(id: $id)`, gone.ID},
		{"delete task by project ID", `deleteTask(id: $id)`, p.ID},
		{"forged type", `updateTask(id: $id, input: {title: "x"}) { id }`, forged},
		{"garbage", `deleteProject(id: $id)`, "not-an-id"},
		{"integer string", `deleteProject(id: $id)`, strconv.Itoa(dbID(t, p.ID))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.mustFail(`mutation($id: ID!) { `+tc.mutation+` }`, map[string]any{"id": tc.id}, "NOT_FOUND")
			if strings.Contains(got.Message, strconv.Itoa(dbID(t, p.ID))) {
				t.Errorf("message leaks an internal ID: %q", got.Message)
			}
		})
	}
	// The project and task survived all of that.
	if n, _ := e.client.Task.Query().Count(accesstest.System()); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
}

func TestDeleteProjectCascades(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("Doomed")
	keep := e.createProject("Keep")
	tk := e.createTask(p.ID, "T1", 0)
	e.createTask(p.ID, "T2", 0)
	kept := e.createTask(keep.ID, "K", 0)
	fb := e.client.Feedback.Create().SetProjectID(dbID(t, p.ID)).SetTaskID(dbID(t, tk.ID)).SetFeedbackText("slow").SaveX(ctx)
	e.client.Adjustment.Create().SetFeedbackID(fb.ID).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).SetDescription("d").SetPosition(0).SaveX(ctx)

	var out struct{ DeleteProject string }
	e.mustDo(`mutation($id: ID!) { deleteProject(id: $id) }`, map[string]any{"id": p.ID}, &out)
	if out.DeleteProject != p.ID {
		t.Errorf("deleteProject returned %q, want %q", out.DeleteProject, p.ID)
	}
	counts := map[string]int{
		"projects":    e.client.Project.Query().CountX(ctx),
		"tasks":       e.client.Task.Query().CountX(ctx),
		"feedbacks":   e.client.Feedback.Query().CountX(ctx),
		"adjustments": e.client.Adjustment.Query().CountX(ctx),
	}
	want := map[string]int{"projects": 1, "tasks": 1, "feedbacks": 0, "adjustments": 0}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s left: %d, want %d", k, counts[k], v)
		}
	}
	if _, err := e.client.Task.Get(ctx, dbID(t, kept.ID)); err != nil {
		t.Errorf("the other project's task was deleted: %v", err)
	}
}

func TestCreateTask(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	var out struct{ CreateTask task }
	e.mustDo(`mutation($p: ID!) { createTask(input: {projectID: $p, title: " Write docs "}) { id title status priority estimatedHours projectID } }`,
		map[string]any{"p": p.ID}, &out)
	got := out.CreateTask
	if got.Title != "Write docs" || got.Status != "TODO" || got.Priority != 0 || got.EstimatedHours != nil || got.ProjectID != p.ID {
		t.Errorf("created %+v", got)
	}
	e.mustDo(`mutation($p: ID!) { createTask(input: {projectID: $p, title: "Ship", status: BLOCKED, priority: 5, estimatedHours: 2.5, description: "x"}) { id title status priority estimatedHours projectID } }`,
		map[string]any{"p": p.ID}, &out)
	if got := out.CreateTask; got.Status != "BLOCKED" || got.Priority != 5 || *got.EstimatedHours != 2.5 {
		t.Errorf("created %+v", got)
	}
}

func TestCreateTaskValidation(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	other := e.createTask(p.ID, "other", 0)
	const create = `mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }`
	for _, tc := range []struct {
		name  string
		input map[string]any
		code  string
		field string
		msg   string
	}{
		{"empty title", map[string]any{"title": " "}, "BAD_USER_INPUT", "input.title", "input.title must be 1 to 255 characters (got 0)"},
		{"priority too high", map[string]any{"title": "t", "priority": 6}, "BAD_USER_INPUT", "input.priority", "input.priority must be between 0 and 5 (got 6)"},
		{"priority negative", map[string]any{"title": "t", "priority": -1}, "BAD_USER_INPUT", "input.priority", "input.priority must be between 0 and 5 (got -1)"},
		{"negative estimate", map[string]any{"title": "t", "estimatedHours": -0.5}, "BAD_USER_INPUT", "input.estimatedHours", "input.estimatedHours must be zero or more (got -0.5)"},
		{"project is a task", map[string]any{"title": "t", "projectID": other.ID}, "NOT_FOUND", "input.projectID", "input.projectID: no Project has this ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"projectID": p.ID}
			for k, v := range tc.input {
				in[k] = v
			}
			got := e.mustFail(create, map[string]any{"in": in}, tc.code)
			if got.Message != tc.msg || got.Extensions["field"] != tc.field {
				t.Errorf("got %q (field %v), want %q (field %s)", got.Message, got.Extensions["field"], tc.msg, tc.field)
			}
		})
	}
	if n := e.client.Task.Query().CountX(accesstest.System()); n != 1 {
		t.Errorf("rejected input stored tasks: %d, want 1", n)
	}
}

func TestUpdateAndDeleteTask(t *testing.T) {
	e := newEnv(t)
	ctx := accesstest.System()
	p := e.createProject("P")
	var created struct{ CreateTask task }
	e.mustDo(`mutation($p: ID!) { createTask(input: {projectID: $p, title: "T", estimatedHours: 3}) { id title status priority estimatedHours projectID } }`,
		map[string]any{"p": p.ID}, &created)
	tk := created.CreateTask
	before := e.client.Task.GetX(ctx, dbID(t, tk.ID))
	time.Sleep(5 * time.Millisecond)

	var out struct{ UpdateTask task }
	e.mustDo(`mutation($id: ID!) { updateTask(id: $id, input: {status: IN_PROGRESS, priority: 4, clearEstimatedHours: true}) { id title status priority estimatedHours projectID } }`,
		map[string]any{"id": tk.ID}, &out)
	if u := out.UpdateTask; u.Status != "IN_PROGRESS" || u.Priority != 4 || u.EstimatedHours != nil || u.Title != "T" {
		t.Errorf("updated %+v", u)
	}
	after := e.client.Task.GetX(ctx, before.ID)
	if !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("updatedAt did not advance: %v -> %v", before.UpdatedAt, after.UpdatedAt)
	}
	got := e.mustFail(`mutation($id: ID!) { updateTask(id: $id, input: {priority: 9}) { id } }`, map[string]any{"id": tk.ID}, "BAD_USER_INPUT")
	if got.Extensions["field"] != "input.priority" {
		t.Errorf("field = %v", got.Extensions["field"])
	}

	// Feedback about a deleted task stays, without the task.
	fb := e.client.Feedback.Create().SetProjectID(dbID(t, p.ID)).SetTaskID(before.ID).SetFeedbackText("about T").SaveX(ctx)
	var del struct{ DeleteTask string }
	e.mustDo(`mutation($id: ID!) { deleteTask(id: $id) }`, map[string]any{"id": tk.ID}, &del)
	if del.DeleteTask != tk.ID {
		t.Errorf("deleteTask returned %q", del.DeleteTask)
	}
	if n := e.client.Task.Query().CountX(ctx); n != 0 {
		t.Errorf("tasks left: %d", n)
	}
	if fb = e.client.Feedback.GetX(ctx, fb.ID); fb.TaskID != nil {
		t.Errorf("feedback still points at deleted task %d", *fb.TaskID)
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse time %q: %v", s, err)
	}
	return v
}

// A form with several mistakes learns all of them in one round trip, each
// with its field, and nothing is stored.
func TestEveryInvalidFieldIsReported(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("P")
	tk := e.createTask(p.ID, "T", 1)
	long := strings.Repeat("x", 10001)
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        map[string]string // field → message
	}{
		{"createProject", `mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": "  ", "description": long}},
			map[string]string{
				"input.name":        "input.name must be 1 to 255 characters (got 0)",
				"input.description": "input.description must be at most 10000 characters (got 10001)",
			}},
		{"updateProject", `mutation($id: ID!, $in: UpdateProjectInput!) { updateProject(id: $id, input: $in) { id } }`,
			map[string]any{"id": p.ID, "in": map[string]any{"name": strings.Repeat("n", 256), "description": long}},
			map[string]string{
				"input.name":        "input.name must be 1 to 255 characters (got 256)",
				"input.description": "input.description must be at most 10000 characters (got 10001)",
			}},
		{"createTask", `mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"projectID": p.ID, "title": "", "priority": 9, "estimatedHours": -1}},
			map[string]string{
				"input.title":          "input.title must be 1 to 255 characters (got 0)",
				"input.priority":       "input.priority must be between 0 and 5 (got 9)",
				"input.estimatedHours": "input.estimatedHours must be zero or more (got -1)",
			}},
		{"updateTask", `mutation($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { id } }`,
			map[string]any{"id": tk.ID, "in": map[string]any{"title": " ", "priority": -2, "estimatedHours": -3}},
			map[string]string{
				"input.title":          "input.title must be 1 to 255 characters (got 0)",
				"input.priority":       "input.priority must be between 0 and 5 (got -2)",
				"input.estimatedHours": "input.estimatedHours must be zero or more (got -3)",
			}},
		{"submitFeedback", `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"projectID": p.ID, "feedbackText": " \n ", "userName": strings.Repeat("u", 256)}},
			map[string]string{
				"input.feedbackText": "input.feedbackText must be 1 to 10000 characters (got 0)",
				"input.userName":     "input.userName must be at most 255 characters (got 256)",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.query, c.vars)
			got := map[string]string{}
			for _, err := range resp.Errors {
				field, _ := err.Extensions["field"].(string)
				if err.Extensions["code"] != "BAD_USER_INPUT" || len(err.Path) != 1 || err.Path[0] != c.name {
					t.Errorf("error %+v: want BAD_USER_INPUT at path [%s]", err, c.name)
				}
				got[field] = err.Message
			}
			if len(resp.Errors) != len(c.want) || !maps.Equal(got, c.want) {
				t.Errorf("errors %+v, want one per field: %v", resp.Errors, c.want)
			}
		})
	}
	ctx := accesstest.System()
	if n := e.client.Project.Query().CountX(ctx); n != 1 {
		t.Errorf("%d projects stored, want 1", n)
	}
	if stored := e.client.Task.GetX(ctx, dbID(t, tk.ID)); stored.Title != "T" || stored.Priority != 1 {
		t.Errorf("the rejected update changed the task: %+v", stored)
	}
	if n := e.client.Task.Query().CountX(ctx); n != 1 {
		t.Errorf("%d tasks stored, want 1", n)
	}
	if n := e.client.Feedback.Query().CountX(ctx); n != 0 {
		t.Errorf("%d feedbacks stored, want 0", n)
	}
}
