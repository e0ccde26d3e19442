package analysis_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
)

func TestParseAnswer(t *testing.T) {
	adj := func(fields string) string { return `{"summary":"s","adjustments":[{` + fields + `}]}` }
	cases := []struct {
		name, raw string
		problems  []string // substrings of the error; nil means valid
		check     func(t *testing.T, r analysis.Result)
	}{
		{"valid", analysistest.Good, nil, func(t *testing.T, r analysis.Result) {
			a := r.Adjustments[0]
			if r.Summary != "Fix checkout" || a.Type != analysis.TaskPriority || *a.TaskID != 11 || *a.NewValue != "5" ||
				*a.OriginalValue != "2" || *a.Reasoning != "stuck" || a.Description != "Raise it" || r.Provider != "" || r.Model != "" {
				t.Errorf("%+v", r)
			}
		}},
		{"fenced", "\n ```json\n" + analysistest.Good + "\n```\n", nil, nil},
		{"fenced without language", "```\n" + analysistest.Good + "```", nil, nil},
		{"no adjustments", `{"summary":"nothing to change","adjustments":[]}`, nil, func(t *testing.T, r analysis.Result) {
			if len(r.Adjustments) != 0 {
				t.Errorf("%+v", r)
			}
		}},
		{"numbers and booleans as values", adj(`"type":"task_priority","task_id":11.0,"description":"d","new_value":4.0,"original_value":true`), nil,
			func(t *testing.T, r analysis.Result) {
				a := r.Adjustments[0]
				if *a.NewValue != "4" || *a.OriginalValue != "true" || *a.TaskID != 11 {
					t.Errorf("%+v", a)
				}
			}},
		{"normalised values", `{"summary":"s","adjustments":[{"type":" Task_Status ","task_id":11,"description":" d ","new_value":"done"},
			{"type":"task_estimate","task_id":12,"description":"d","new_value":" 7.50 "}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				if a := r.Adjustments[0]; a.Type != analysis.TaskStatus || *a.NewValue != "DONE" || a.Description != "d" {
					t.Errorf("%+v", a)
				}
				if a := r.Adjustments[1]; *a.NewValue != "7.5" {
					t.Errorf("estimate %q", *a.NewValue)
				}
			}},
		{"blank values are missing", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":"  ","reasoning":""`), nil,
			func(t *testing.T, r analysis.Result) {
				if a := r.Adjustments[0]; a.NewValue != nil || a.Reasoning != nil {
					t.Errorf("%+v", a)
				}
			}},
		{"unknown task becomes general and unlinked", adj(`"type":"task_status","task_id":999,"description":"Mark it done","new_value":"DONE"`), nil,
			func(t *testing.T, r analysis.Result) {
				a := r.Adjustments[0]
				if a.Type != analysis.General || a.TaskID != nil || !strings.HasPrefix(a.Description, "Mark it done") ||
					!strings.Contains(a.Description, "task_status for task 999, which is not a task of this project") {
					t.Errorf("%+v", a)
				}
			}},
		{"unknown task with a long description stays within the limit", adj(`"type":"remove_task","task_id":-4,"description":"` + strings.Repeat("é", 2000) + `"`), nil,
			func(t *testing.T, r analysis.Result) {
				if d := r.Adjustments[0].Description; utf8.RuneCountInString(d) > 2000 || !strings.Contains(d, "task -4") {
					t.Errorf("%d runes: %q", utf8.RuneCountInString(d), d[len(d)-100:])
				}
			}},
		{"new task drops its task id", adj(`"type":"new_task","task_id":11,"description":"d","new_value":"Refunds"`), nil,
			func(t *testing.T, r analysis.Result) {
				if a := r.Adjustments[0]; a.TaskID != nil || a.Type != analysis.NewTask {
					t.Errorf("%+v", a)
				}
			}},
		{"general may name a task", adj(`"type":"general","task_id":12,"description":"d"`), nil,
			func(t *testing.T, r analysis.Result) {
				if *r.Adjustments[0].TaskID != 12 {
					t.Error("lost the task")
				}
			}},
		{"long summary is cut", `{"summary":"` + strings.Repeat("s", 5000) + `","adjustments":[]}`, nil,
			func(t *testing.T, r analysis.Result) {
				if n := utf8.RuneCountInString(r.Summary); n != 4000 {
					t.Errorf("summary of %d runes", n)
				}
			}},
		{"NUL characters are removed", `{"summary":"a\u0000b","adjustments":[{"type":"general","description":"\u0000d"}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				if r.Summary != "ab" || r.Adjustments[0].Description != "d" {
					t.Errorf("%q %q", r.Summary, r.Adjustments[0].Description)
				}
			}},

		{"empty", "  \n", []string{"the answer is empty"}, nil},
		{"empty fence", "```json\n```", []string{"the answer is empty"}, nil},
		{"null", "null", []string{"must be a JSON object", "got null"}, nil},
		{"array", `[1,2]`, []string{"must be a JSON object", "got an array"}, nil},
		{"string", `"hello"`, []string{"got a string"}, nil},
		{"not JSON", "Sure! Focus on checkout.", []string{"not the expected JSON object", "invalid JSON"}, nil},
		{"cut off", `{"summary":"s","adjustments":[{"type":`, []string{"ends early"}, nil},
		{"trailing text", analysistest.Good + " hope this helps", []string{"text after the JSON"}, nil},
		{"two objects", analysistest.Good + analysistest.Good, []string{"text after the JSON"}, nil},
		{"wrong types", `{"summary":42,"adjustments":"none"}`, []string{"summary must be a string, got a number", "adjustments must be an array, got a string"}, nil},
		{"wrong types inside", `{"summary":"s","adjustments":[7,{"type":3,"task_id":"11","description":["d"],"new_value":{"a":1},"reasoning":[]}]}`, []string{
			"adjustments[0] must be an object, got a number",
			"adjustments[1].type must be a string, got a number",
			"adjustments[1].task_id must be an integer or null, got a string",
			"adjustments[1].description must be a string, got an array",
			"adjustments[1].new_value must be a string or null, got an object",
			"adjustments[1].reasoning must be a string or null, got an array",
		}, nil},
		{"fractional task id", adj(`"type":"remove_task","task_id":11.5,"description":"d"`), []string{"adjustments[0].task_id must be an integer or null, got 11.5"}, nil},
		{"unknown type", adj(`"type":"rewrite","description":"d"`), []string{`adjustments[0].type must be one of task_priority, task_description, task_status, new_task, remove_task, task_estimate, general, got "rewrite"`}, nil},
		{"missing fields", `{"summary":" ","adjustments":[{"task_id":11}]}`, []string{"summary is required", "adjustments[0].type is required", "adjustments[0].description is required"}, nil},
		{"missing adjustments", `{"summary":"s"}`, []string{"adjustments is required"}, nil},
		{"empty object", `{}`, []string{"summary is required", "adjustments is required"}, nil},
		{"task type without task", adj(`"type":"remove_task","task_id":null,"description":"d"`), []string{"adjustments[0].task_id is required for remove_task"}, nil},
		{"priority without value", adj(`"type":"task_priority","task_id":11,"description":"d"`), []string{"adjustments[0].new_value is required for task_priority"}, nil},
		{"priority out of range", adj(`"type":"task_priority","task_id":11,"description":"d","new_value":"9"`), []string{"new_value for task_priority must be a whole number from 0 to 5"}, nil},
		{"priority not a number", adj(`"type":"task_priority","task_id":11,"description":"d","new_value":"high"`), []string{`got "high"`}, nil},
		{"bad status", adj(`"type":"task_status","task_id":11,"description":"d","new_value":"LATER"`), []string{"one of TODO, IN_PROGRESS, BLOCKED, DONE"}, nil},
		{"negative estimate", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":-3`), []string{"number of hours, 0 or more"}, nil},
		{"estimate not a number", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":"NaN"`), []string{"number of hours"}, nil},
		{"too long", adj(`"type":"general","description":"` + strings.Repeat("x", 2001) + `","reasoning":"` + strings.Repeat("y", 2001) + `"`),
			[]string{"adjustments[0].description must be at most 2000 characters", "adjustments[0].reasoning must be at most 2000 characters"}, nil},
		{"too many", `{"summary":"s","adjustments":[` + strings.TrimSuffix(strings.Repeat(`{"type":"general","description":"d"},`, 21), ",") + `]}`,
			[]string{"adjustments must have at most 20 items, got 21"}, nil},
		{"problems of several adjustments", `{"summary":"s","adjustments":[{"type":"general","description":"ok"},{"type":"x","description":"d"},{"type":"general"}]}`,
			[]string{"adjustments[1].type must be one of", "adjustments[2].description is required"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := analysis.ParseAnswer(c.raw, analysistest.Request())
			if c.problems == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.check != nil {
					c.check(t, res)
				}
				return
			}
			var invalid *analysis.InvalidAnswerError
			if !errors.As(err, &invalid) {
				t.Fatalf("got %v, want an InvalidAnswerError", err)
			}
			if !strings.HasPrefix(err.Error(), "the model's answer was invalid: ") {
				t.Errorf("message %q", err)
			}
			for _, p := range c.problems {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
		})
	}
}

func TestParseAnswerBoundsTheProblemList(t *testing.T) {
	raw := `{"summary":"s","adjustments":[` + strings.TrimSuffix(strings.Repeat(`{"type":1,"description":2,"task_id":"x"},`, 20), ",") + `]}`
	_, err := analysis.ParseAnswer(raw, analysistest.Request())
	var invalid *analysis.InvalidAnswerError
	if !errors.As(err, &invalid) || len(invalid.Problems) != 31 || invalid.Problems[30] != "and 30 more problems" {
		t.Fatalf("%d problems: %v", len(invalid.Problems), err)
	}
}

// FuzzParseAnswer: no input panics, and whatever is accepted keeps the
// promises the worker and the database rely on. The seed corpus is in
// testdata/fuzz/FuzzParseAnswer.
func FuzzParseAnswer(f *testing.F) {
	f.Add(analysistest.Good)
	f.Add("```json\n{}\n```")
	f.Add(`{"summary":"s","adjustments":[{"type":"general","task_id":-1,"description":"d","reasoning":1e400}]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		req := analysistest.Request()
		res, err := analysis.ParseAnswer(raw, req)
		if err != nil {
			var invalid *analysis.InvalidAnswerError
			if !errors.As(err, &invalid) || len(invalid.Problems) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if strings.TrimSpace(res.Summary) == "" || utf8.RuneCountInString(res.Summary) > 4000 || len(res.Adjustments) > analysis.MaxAdjustments {
			t.Fatalf("accepted %q as %+v", raw, res)
		}
		for _, a := range res.Adjustments {
			if a.Description == "" || utf8.RuneCountInString(a.Description) > 2000 {
				t.Fatalf("accepted description %q: %q", a.Description, raw)
			}
			if a.TaskID != nil && *a.TaskID != 11 && *a.TaskID != 12 {
				t.Fatalf("linked a foreign task %d: %q", *a.TaskID, raw)
			}
			switch a.Type {
			case analysis.NewTask:
				if a.TaskID != nil {
					t.Fatalf("new_task linked to a task: %q", raw)
				}
			case analysis.TaskPriority, analysis.TaskDescription, analysis.TaskStatus, analysis.RemoveTask, analysis.TaskEstimate:
				if a.TaskID == nil {
					t.Fatalf("%s without a task: %q", a.Type, raw)
				}
			case analysis.General:
			default:
				t.Fatalf("accepted type %q", a.Type)
			}
			for _, v := range []*string{a.OriginalValue, a.NewValue, a.Reasoning} {
				if v != nil && (utf8.RuneCountInString(*v) > 2000 || strings.Contains(*v, "\x00")) {
					t.Fatalf("accepted value %q: %q", *v, raw)
				}
			}
			if strings.Contains(a.Description, "\x00") {
				t.Fatalf("accepted a NUL: %q", raw)
			}
		}
	})
}
