package analysis_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/suggestion"
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
			if r.Summary != "Fix checkout" || a.Type != adjustment.AdjustmentTypeTaskPriority || *a.TaskID != 11 || *a.NewValue != "5" ||
				*a.OriginalValue != "2" || *a.Reasoning != "stuck" || a.Description != "Raise it" || r.Provider != "" || r.Model != "" {
				t.Errorf("%+v", r)
			}
		}},
		{"fenced", "\n ```json\n" + analysistest.Good + "\n```\n", nil, nil},
		{"confidence", `{"summary":"s","adjustments":[{"type":"general","description":"a","confidence":0.8},
			{"type":"general","description":"b","confidence":"0.25"},{"type":"general","description":"c","confidence":null},
			{"type":"general","description":"d"},{"type":"general","description":"e","confidence":1},{"type":"general","description":"f","confidence":0}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				var got []string
				for _, a := range r.Adjustments {
					if a.Confidence == nil {
						got = append(got, "null")
					} else {
						got = append(got, strconv.FormatFloat(*a.Confidence, 'g', -1, 64))
					}
				}
				if want := []string{"0.8", "0.25", "null", "null", "1", "0"}; !slices.Equal(got, want) {
					t.Errorf("confidences %q, want %q", got, want)
				}
			}},
		{"confidence out of range or not a number", `{"summary":"s","adjustments":[{"type":"general","description":"a","confidence":1.5},
			{"type":"general","description":"b","confidence":-0.1},{"type":"general","description":"c","confidence":"high"},
			{"type":"general","description":"d","confidence":[0.5]},{"type":"general","description":"e","confidence":0.5},{"type":"general","description":"f","confidence":80}]}`,
			[]string{"adjustments[0].confidence must be a number from 0 to 1 or null, got 1.5", "adjustments[1].confidence must be a number from 0 to 1 or null, got -0.1",
				`adjustments[2].confidence must be a number from 0 to 1 or null, got high`, "adjustments[3].confidence must be a number from 0 to 1 or null, got an array",
				"adjustments[5].confidence must be a number from 0 to 1 or null, got 80"},
			func(t *testing.T, r analysis.Result) {
				if len(r.Adjustments) != 1 || r.Adjustments[0].Description != "e" || *r.Adjustments[0].Confidence != 0.5 || r.DroppedSuggestions != 5 ||
					!strings.Contains(r.DroppedReasons[0], "confidence must be a number from 0 to 1") {
					t.Errorf("kept %+v, dropped %d %q", r.Adjustments, r.DroppedSuggestions, r.DroppedReasons)
				}
			}},
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
				if a := r.Adjustments[0]; a.Type != adjustment.AdjustmentTypeTaskStatus || *a.NewValue != "DONE" || a.Description != "d" {
					t.Errorf("%+v", a)
				}
				if a := r.Adjustments[1]; *a.NewValue != "7.5" {
					t.Errorf("estimate %q", *a.NewValue)
				}
			}},
		{"blank values are missing", adj(`"type":"remove_task","task_id":11,"description":"d","new_value":"  ","reasoning":""`), nil,
			func(t *testing.T, r analysis.Result) {
				if a := r.Adjustments[0]; a.NewValue != nil || a.Reasoning != nil {
					t.Errorf("%+v", a)
				}
			}},
		{"unknown task becomes general and unlinked", adj(`"type":"task_status","task_id":999,"description":"Mark it done","new_value":"DONE"`), nil,
			func(t *testing.T, r analysis.Result) {
				a := r.Adjustments[0]
				if a.Type != adjustment.AdjustmentTypeGeneral || a.TaskID != nil || !strings.HasPrefix(a.Description, "Mark it done") ||
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
				if a := r.Adjustments[0]; a.TaskID != nil || a.Type != adjustment.AdjustmentTypeNewTask {
					t.Errorf("%+v", a)
				}
			}},
		{"general may name a task", adj(`"type":"general","task_id":12,"description":"d"`), nil,
			func(t *testing.T, r analysis.Result) {
				if *r.Adjustments[0].TaskID != 12 {
					t.Error("lost the task")
				}
			}},
		{"the original design's shape", `{"summary": "Fix checkout", "adjustments": [{"adjustment_type": "task_priority", "description": "Raise it",
			"original_value": "2", "new_value": "5", "reasoning": "stuck", "task_id": "11"},
			{"adjustment_type": "TASK_STATUS", "type": "task_status", "description": "Unblock", "new_value": "in progress", "task_id": " 12 "}]}`, nil,
			func(t *testing.T, r analysis.Result) {
				a, b := r.Adjustments[0], r.Adjustments[1]
				if a.Type != adjustment.AdjustmentTypeTaskPriority || a.TaskID == nil || *a.TaskID != 11 || *a.NewValue != "5" {
					t.Errorf("%+v", a)
				}
				if b.Type != adjustment.AdjustmentTypeTaskStatus || b.TaskID == nil || *b.TaskID != 12 || *b.NewValue != "IN_PROGRESS" {
					t.Errorf("%+v", b)
				}
			}},
		{"a string of digits naming another project's task", adj(`"type":"remove_task","task_id":"99","description":"d"`), nil,
			func(t *testing.T, r analysis.Result) {
				if a := r.Adjustments[0]; a.Type != adjustment.AdjustmentTypeGeneral || a.TaskID != nil || !strings.Contains(a.Description, "task 99") {
					t.Errorf("%+v", a)
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
		{"wrong types inside", `{"summary":"s","adjustments":[7,{"type":3,"task_id":"T-11","description":["d"],"new_value":{"a":1},"reasoning":[]}]}`, []string{
			"adjustments[0] must be an object, got a number",
			"adjustments[1].type must be a string, got a number",
			`adjustments[1].task_id must be an integer or null, got "T-11"`,
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
		{"negative estimate", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":-3`), []string{"new_value for task_estimate must be a number of hours from 0 to 10000, got \"-3\""}, nil},
		{"estimate not a number", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":"NaN"`), []string{"number of hours"}, nil},
		{"estimate too large", adj(`"type":"task_estimate","task_id":11,"description":"d","new_value":"10001"`), []string{"number of hours from 0 to 10000"}, nil},
		{"changes without a value", `{"summary":"s","adjustments":[{"type":"task_estimate","task_id":11,"description":"d"},
			{"type":"task_description","task_id":11,"description":"d","new_value":" "},{"type":"new_task","description":"d"}]}`,
			[]string{"adjustments[0].new_value is required for task_estimate", "adjustments[1].new_value is required for task_description",
				"adjustments[2].new_value is required for new_task"}, nil},
		{"new task title too long", adj(`"type":"new_task","description":"d","new_value":"` + strings.Repeat("t", 256) + `"`),
			[]string{"new_value for new_task must be a title of at most 255 characters"}, nil},
		{"type and adjustment_type disagree", adj(`"type":"task_status","adjustment_type":"remove_task","task_id":11,"description":"d","new_value":"DONE"`),
			[]string{`adjustments[0] has type "task_status" and adjustment_type "remove_task"; give one`}, nil},
		{"unknown adjustment_type", adj(`"adjustment_type":"rewrite","description":"d"`), []string{`adjustments[0].adjustment_type must be one of task_priority`}, nil},
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
			if c.check != nil { // the salvage
				c.check(t, res)
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

// After the repair round, the valid part of an answer is what is left.
func TestParseAnswerSalvagesTheValidPart(t *testing.T) {
	raw := `{"summary":"Mixed","adjustments":[
		{"type":"task_priority","task_id":11,"description":"Raise it","new_value":"5"},
		{"type":"rewrite","task_id":11,"description":"d"},
		{"type":"task_status","description":"Mark it done","new_value":"DONE"},
		{"type":"task_priority","task_id":12,"description":"d","new_value":"9"},
		{"adjustment_type":"remove_task","task_id":"the blog","description":"Drop the blog"},
		{"type":"task_status","task_id":999,"description":"Foreign"},
		"oops"]}`
	res, err := analysis.ParseAnswer(raw, analysistest.Request())
	var invalid *analysis.InvalidAnswerError
	if !errors.As(err, &invalid) {
		t.Fatalf("got %v, want an InvalidAnswerError", err)
	}
	for _, p := range []string{"adjustments[1].type must be one of", "adjustments[2].task_id is required for task_status",
		"adjustments[3].new_value for task_priority must be a whole number", `adjustments[4].task_id must be an integer or null, got "the blog"`,
		"adjustments[6] must be an object"} {
		if !slices.ContainsFunc(invalid.Problems, func(s string) bool { return strings.HasPrefix(s, p) }) {
			t.Errorf("problems %q lack %q", invalid.Problems, p)
		}
	}
	if len(invalid.Problems) != 5 {
		t.Errorf("%d problems, want 5 (a task of another project is no problem): %q", len(invalid.Problems), invalid.Problems)
	}

	if res.Summary != "Mixed" || !res.Usable() || len(res.Adjustments) != 4 {
		t.Fatalf("salvaged %+v", res)
	}
	if a := res.Adjustments[0]; a.Type != adjustment.AdjustmentTypeTaskPriority || *a.TaskID != 11 || *a.NewValue != "5" {
		t.Errorf("valid suggestion changed: %+v", a)
	}
	for i, note := range map[int]string{1: "as task_status without saying for which task", 2: "as remove_task for a task it did not identify",
		3: "as task_status for task 999, which is not a task of this project"} {
		if a := res.Adjustments[i]; a.Type != adjustment.AdjustmentTypeGeneral || a.TaskID != nil || !strings.Contains(a.Description, note) {
			t.Errorf("suggestion %d: %+v, want a general one noting %q", i, a, note)
		}
	}
	if res.DroppedSuggestions != 3 || len(res.DroppedReasons) != 3 ||
		!strings.HasPrefix(res.DroppedReasons[0], "adjustments[1].type must be one of") ||
		!strings.HasPrefix(res.DroppedReasons[1], "adjustments[3].new_value for task_priority") ||
		res.DroppedReasons[2] != "adjustments[6] must be an object, got a string" {
		t.Errorf("dropped %d: %q", res.DroppedSuggestions, res.DroppedReasons)
	}

	t.Run("reasons are bounded", func(t *testing.T) {
		raw := `{"summary":"s","adjustments":[` + strings.TrimSuffix(strings.Repeat(`{"type":"x","description":"`+strings.Repeat("d", 1000)+`"},`, 25), ",") + `]}`
		res, err := analysis.ParseAnswer(raw, analysistest.Request())
		if err == nil || res.DroppedSuggestions != 25 || len(res.DroppedReasons) != analysis.MaxDroppedReasons || len(res.Adjustments) != 0 {
			t.Fatalf("dropped %d, %d reasons, %v", res.DroppedSuggestions, len(res.DroppedReasons), err)
		}
		if last := res.DroppedReasons[len(res.DroppedReasons)-1]; last != "and 16 more" {
			t.Errorf("last reason %q", last)
		}
		for _, r := range res.DroppedReasons {
			if utf8.RuneCountInString(r) > 300 {
				t.Errorf("reason of %d characters", utf8.RuneCountInString(r))
			}
		}
	})
	t.Run("too many suggestions", func(t *testing.T) {
		raw := `{"summary":"s","adjustments":[` + strings.TrimSuffix(strings.Repeat(`{"type":"general","description":"d"},`, 23), ",") + `]}`
		res, err := analysis.ParseAnswer(raw, analysistest.Request())
		if err == nil || len(res.Adjustments) != 20 || res.DroppedSuggestions != 3 ||
			strings.Join(res.DroppedReasons, "|") != "3 suggestions beyond the first 20" {
			t.Fatalf("%d kept, dropped %d %q, %v", len(res.Adjustments), res.DroppedSuggestions, res.DroppedReasons, err)
		}
	})
	t.Run("nothing usable", func(t *testing.T) {
		for _, raw := range []string{`{"summary":" ","adjustments":[{"type":"x","description":"d"}]}`, `{"summary":7}`, "not JSON", `[]`} {
			if res, err := analysis.ParseAnswer(raw, analysistest.Request()); err == nil || res.Usable() {
				t.Errorf("%s: %+v, %v", raw, res, err)
			}
		}
	})
}

// FuzzParseAnswer: no input panics, and whatever is accepted, or salvaged
// from an invalid answer, keeps the promises the worker and the database
// rely on. The seed corpus is in testdata/fuzz/FuzzParseAnswer.
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
		} else if strings.TrimSpace(res.Summary) == "" || res.DroppedSuggestions != 0 {
			t.Fatalf("accepted %q as %+v", raw, res)
		}
		if res.Usable() != (res.Summary != "" || len(res.Adjustments) > 0) || utf8.RuneCountInString(res.Summary) > 4000 ||
			len(res.Adjustments) > analysis.MaxAdjustments || len(res.DroppedReasons) > analysis.MaxDroppedReasons ||
			len(res.DroppedReasons) > res.DroppedSuggestions || (res.DroppedSuggestions > 0 && len(res.DroppedReasons) == 0) {
			t.Fatalf("%q gave %+v", raw, res)
		}
		for _, a := range res.Adjustments {
			if a.Description == "" || utf8.RuneCountInString(a.Description) > 2000 {
				t.Fatalf("accepted description %q: %q", a.Description, raw)
			}
			if a.TaskID != nil && *a.TaskID != 11 && *a.TaskID != 12 {
				t.Fatalf("linked a foreign task %d: %q", *a.TaskID, raw)
			}
			k, ok := suggestion.ByType(a.Type)
			switch {
			case !ok:
				t.Fatalf("accepted type %q", a.Type)
			case k.TargetsTask && a.TaskID == nil:
				t.Fatalf("%s without a task: %q", a.Type, raw)
			case a.Type == adjustment.AdjustmentTypeNewTask && a.TaskID != nil:
				t.Fatalf("new_task linked to a task: %q", raw)
			case k.NewValueRequired && a.NewValue == nil:
				t.Fatalf("%s without a new value: %q", a.Type, raw)
			}
			if a.NewValue != nil {
				if again, err := k.NewValue(*a.NewValue); err != nil || again != *a.NewValue {
					t.Fatalf("%s new value %q is not normalised: %q", a.Type, *a.NewValue, raw)
				}
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
