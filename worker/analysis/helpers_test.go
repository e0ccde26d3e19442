package analysis_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

func http(code int) string { return strconv.Itoa(code) }

// toJSON writes a Result in the answer shape models use.
func toJSON(t *testing.T, r analysis.Result) string {
	t.Helper()
	type adj struct {
		Type          string  `json:"type"`
		TaskID        *int    `json:"task_id"`
		Description   string  `json:"description"`
		OriginalValue *string `json:"original_value"`
		NewValue      *string `json:"new_value"`
		Reasoning     *string `json:"reasoning"`
	}
	out := struct {
		Summary     string `json:"summary"`
		Adjustments []adj  `json:"adjustments"`
	}{Summary: r.Summary, Adjustments: []adj{}}
	for _, a := range r.Adjustments {
		out.Adjustments = append(out.Adjustments, adj{string(a.Type), a.TaskID, a.Description, a.OriginalValue, a.NewValue, a.Reasoning})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
