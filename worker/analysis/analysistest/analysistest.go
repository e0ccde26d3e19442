// Package analysistest holds the fixtures the tests of the analysis packages
// share: a request, a valid answer to it, and the encoding of a Result in the
// answer shape models use.
package analysistest

import (
	"encoding/json"
	"testing"

	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// Request is a project with two tasks, 11 and 12, and a feedback about 11.
func Request() analysis.Request {
	est := 6.0
	taskID := 11
	return analysis.Request{
		Project: analysis.Project{ID: 1, Name: "Website", Description: "Relaunch in May", Status: "ACTIVE"},
		Tasks: []analysis.Task{
			{ID: 11, Title: "Checkout page", Description: "Pay by card", Status: "IN_PROGRESS", Priority: 2, EstimatedHours: &est},
			{ID: 12, Title: "Blog", Status: "TODO"},
		},
		Feedback: analysis.Feedback{ID: 5, Text: "Checkout is urgent, customers are stuck", UserName: "Ada", TaskID: &taskID},
	}
}

// Good is a valid answer for Request.
const Good = `{"summary":"Fix checkout","adjustments":[{"type":"task_priority","task_id":11,"description":"Raise it","original_value":"2","new_value":"5","reasoning":"stuck"}]}`

// AnswerJSON writes r in the answer shape models use.
func AnswerJSON(t testing.TB, r analysis.Result) string {
	t.Helper()
	type adj struct {
		Type          string   `json:"type"`
		TaskID        *int     `json:"task_id"`
		Description   string   `json:"description"`
		OriginalValue *string  `json:"original_value"`
		NewValue      *string  `json:"new_value"`
		Reasoning     *string  `json:"reasoning"`
		Confidence    *float64 `json:"confidence"`
	}
	out := struct {
		Summary     string `json:"summary"`
		Adjustments []adj  `json:"adjustments"`
	}{Summary: r.Summary, Adjustments: []adj{}}
	for _, a := range r.Adjustments {
		k, ok := suggestion.ByType(a.Type)
		if !ok {
			t.Fatalf("adjustment of unknown type %q", a.Type)
		}
		out.Adjustments = append(out.Adjustments, adj{k.Name, a.TaskID, a.Description, a.OriginalValue, a.NewValue, a.Reasoning, a.Confidence})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
