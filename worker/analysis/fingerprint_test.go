package analysis_test

import (
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

func TestStateFingerprintChangesWithWhatThePromptSees(t *testing.T) {
	hours := 3.0
	about := 11
	base := func() analysis.Request {
		return analysis.Request{
			Project: analysis.Project{ID: 1, Name: "Site", Status: "ACTIVE", Description: "the web site"},
			Tasks: []analysis.Task{
				{ID: 11, Title: "Login", Description: "form", Status: "TODO", Priority: 2, EstimatedHours: &hours},
				{ID: 12, Title: "Search", Status: "DONE", Priority: 1},
			},
			Feedback: analysis.Feedback{ID: 7, Text: "login broken", UserName: "ann", TaskID: &about},
		}
	}
	fp := analysis.StateFingerprint(base())
	counted := func(r *analysis.Request, order ...int) {
		record := []analysis.KindRecord{{Type: "TASK_STATUS", Rejected: 2}, {Type: "NEW_TASK", Applied: 1}}
		for _, i := range order {
			r.Record = append(r.Record, record[i])
		}
	}
	withCounts := base()
	counted(&withCounts, 0, 1)
	reordered := base()
	counted(&reordered, 1, 0)
	if analysis.StateFingerprint(withCounts) != analysis.StateFingerprint(reordered) {
		t.Error("the order of the decision counts changed the fingerprint")
	}
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q: want 64 hex characters", fp)
	}

	same := map[string]func(r *analysis.Request){
		"another feedback ID":    func(r *analysis.Request) { r.Feedback.ID = 8 },
		"another submitter":      func(r *analysis.Request) { r.Feedback.UserName = "bob" },
		"another text":           func(r *analysis.Request) { r.Feedback.Text = "something else" },
		"tasks in another order": func(r *analysis.Request) { r.Tasks[0], r.Tasks[1] = r.Tasks[1], r.Tasks[0] },
		"an equal hours pointer": func(r *analysis.Request) { h := 3.0; r.Tasks[0].EstimatedHours = &h },
	}
	for name, change := range same {
		r := base()
		change(&r)
		if got := analysis.StateFingerprint(r); got != fp {
			t.Errorf("%s changed the fingerprint", name)
		}
	}

	differs := map[string]func(r *analysis.Request){
		"project ID":          func(r *analysis.Request) { r.Project.ID = 2 },
		"project name":        func(r *analysis.Request) { r.Project.Name = "Shop" },
		"project status":      func(r *analysis.Request) { r.Project.Status = "ARCHIVED" },
		"project description": func(r *analysis.Request) { r.Project.Description = "" },
		"task title":          func(r *analysis.Request) { r.Tasks[1].Title = "Find" },
		"task description":    func(r *analysis.Request) { r.Tasks[0].Description = "the form" },
		"task status":         func(r *analysis.Request) { r.Tasks[0].Status = "DONE" },
		"task priority":       func(r *analysis.Request) { r.Tasks[0].Priority = 3 },
		"task hours":          func(r *analysis.Request) { h := 4.0; r.Tasks[0].EstimatedHours = &h },
		"task hours removed":  func(r *analysis.Request) { r.Tasks[0].EstimatedHours = nil },
		"a task more":         func(r *analysis.Request) { r.Tasks = append(r.Tasks, analysis.Task{ID: 13, Title: "New"}) },
		"a task less":         func(r *analysis.Request) { r.Tasks = r.Tasks[:1] },
		"another target task": func(r *analysis.Request) { other := 12; r.Feedback.TaskID = &other },
		"no target task":      func(r *analysis.Request) { r.Feedback.TaskID = nil },
		"a decision": func(r *analysis.Request) {
			r.Decisions = []analysis.Decision{{Type: "TASK_STATUS", TaskID: &about, Rejected: true}}
		},
		"a decision's reason": func(r *analysis.Request) {
			why := "no"
			r.Decisions = []analysis.Decision{{Type: "TASK_STATUS", TaskID: &about, Rejected: true, Reason: &why}}
		},
		"decision counts": func(r *analysis.Request) { r.Record = []analysis.KindRecord{{Type: "TASK_STATUS", Rejected: 1}} },
	}
	for name, change := range differs {
		r := base()
		change(&r)
		if got := analysis.StateFingerprint(r); got == fp {
			t.Errorf("a changed %s left the fingerprint as it was", name)
		}
	}
}
