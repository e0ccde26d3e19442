// Package analysis defines what analysing one feedback on a project means:
// the request, the suggestions (Result), the Analyzer interface, the prompt
// and the strict validation every answer passes (ParseAnswer). The analyzers
// live elsewhere: a model reached through langchaingo (worker/llm) and the
// built-in rule-based planner (worker/rules).
package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/internal/text"
)

// Request is what an analysis looks at.
type Request struct {
	Project  Project
	Tasks    []Task
	Feedback Feedback
}

// Project is the project the feedback is about.
type Project struct {
	ID                        int
	Name, Description, Status string
}

// Task is one task of the project.
type Task struct {
	ID                         int
	Title, Description, Status string
	Priority                   int
	EstimatedHours             *float64
}

// Feedback is the feedback to analyse. TaskID names the task it is about, if any.
type Feedback struct {
	ID             int
	Text, UserName string
	TaskID         *int
}

// AdjustmentType is the kind of a suggested change.
type AdjustmentType string

// The kinds of suggested changes.
const (
	TaskPriority    AdjustmentType = "task_priority"
	TaskDescription AdjustmentType = "task_description"
	TaskStatus      AdjustmentType = "task_status"
	NewTask         AdjustmentType = "new_task"
	RemoveTask      AdjustmentType = "remove_task"
	TaskEstimate    AdjustmentType = "task_estimate"
	General         AdjustmentType = "general"
)

// adjustmentTypes lists every kind, in the order the prompt explains them.
var adjustmentTypes = []AdjustmentType{TaskPriority, TaskDescription, TaskStatus, NewTask, RemoveTask, TaskEstimate, General}

// needsTask reports whether a suggestion of this kind changes one existing task.
func (t AdjustmentType) needsTask() bool {
	return t != NewTask && t != General
}

// Adjustment is one suggested change.
type Adjustment struct {
	Type                               AdjustmentType
	TaskID                             *int
	Description                        string
	OriginalValue, NewValue, Reasoning *string
}

// Result is a validated analysis.
type Result struct {
	Summary         string
	Adjustments     []Adjustment
	Provider, Model string
}

// Analyzer analyses feedback.
type Analyzer interface {
	// Analyze returns the suggestions for req. Its errors are shown to users
	// as the reason the feedback FAILED: they say what went wrong in plain
	// words.
	Analyze(ctx context.Context, req Request) (Result, error)
	Provider() string
	Model() string
}

// Limits of a valid answer.
const (
	MaxAdjustments = 20
	MaxSummary     = 4000 // runes; longer summaries are cut
	MaxText        = 2000 // runes, per description or value (the database's limit for descriptions)
	MaxPriority    = 5
)

// taskStatuses are the statuses a task can have.
var taskStatuses = []string{"TODO", "IN_PROGRESS", "BLOCKED", "DONE"}

// InvalidAnswerError lists what is wrong with a model's answer. Each problem
// starts with a JSON-path-like location, such as adjustments[2].type.
type InvalidAnswerError struct {
	Problems []string
}

func (e *InvalidAnswerError) Error() string {
	return "the model's answer was invalid: " + strings.Join(e.Problems, "; ")
}

func invalid(problem string) *InvalidAnswerError {
	return &InvalidAnswerError{Problems: []string{problem}}
}

// maxProblems bounds the problems reported: enough to repair an answer,
// short enough to show.
const maxProblems = 30

// ParseAnswer decodes and validates a model's answer for req: a JSON object
//
//	{"summary": string, "adjustments": [{"type": string, "task_id": integer|null,
//	  "description": string, "original_value": string|null, "new_value": string|null,
//	  "reasoning": string|null}]}
//
// optionally inside a Markdown code fence. It reports every problem it finds,
// not only the first, so that one repair request can fix them all. Unknown
// fields are ignored. A task_id that is not one of req.Tasks is not an error:
// the suggestion is kept as a general one linked to no task, so a model can
// never attach a change to another project's task. Provider and Model of the
// result are left empty.
func ParseAnswer(raw string, req Request) (Result, error) {
	body := stripFences(raw)
	if body == "" {
		return Result{}, invalid("the answer is empty; expected a JSON object with summary and adjustments")
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var whole json.RawMessage
	if err := dec.Decode(&whole); err != nil {
		return Result{}, invalid("the answer is not the expected JSON object: " + decodeProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Result{}, invalid("the answer has text after the JSON object")
	}
	if k := kind(whole); k != "an object" {
		return Result{}, invalid("the answer must be a JSON object with summary and adjustments, got " + k)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(whole, &top); err != nil { // cannot fail after the check above; be safe
		return Result{}, invalid("the answer is not the expected JSON object: " + decodeProblem(err))
	}

	v := &validator{}
	var res Result
	if s := v.text("summary", top["summary"], true, 0); s != nil {
		res.Summary = text.Truncate(*s, MaxSummary) // long summaries are cut, not rejected: not worth a repair
	}
	items := v.array("adjustments", top["adjustments"])
	if len(items) > MaxAdjustments {
		v.add("adjustments", "must have at most %d items, got %d", MaxAdjustments, len(items))
		items = items[:MaxAdjustments]
	}
	known := make(map[int]bool, len(req.Tasks))
	for _, t := range req.Tasks {
		known[t.ID] = true
	}
	res.Adjustments = make([]Adjustment, 0, len(items))
	for i, item := range items {
		if adj, ok := v.adjustment(fmt.Sprintf("adjustments[%d]", i), item, known); ok {
			res.Adjustments = append(res.Adjustments, adj)
		}
	}
	if len(v.problems) > 0 {
		problems := v.problems
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("and %d more problems", len(v.problems)-maxProblems))
		}
		return Result{}, &InvalidAnswerError{Problems: problems}
	}
	return res, nil
}

// validator collects problems while reading an answer.
type validator struct {
	problems []string
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, path+" "+fmt.Sprintf(format, args...))
}

// adjustment reads one suggestion; ok is false when it has problems.
func (v *validator) adjustment(path string, raw json.RawMessage, known map[int]bool) (Adjustment, bool) {
	if k := kind(raw); k != "an object" {
		v.add(path, "must be an object, got %s", k)
		return Adjustment{}, false
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		v.add(path, "must be an object")
		return Adjustment{}, false
	}
	before := len(v.problems)
	var out Adjustment
	if s := v.text(path+".type", f["type"], true, 0); s != nil {
		if typ := AdjustmentType(strings.ToLower(*s)); slices.Contains(adjustmentTypes, typ) {
			out.Type = typ
		} else {
			v.add(path+".type", "must be one of %s, got %q", typeList(), text.Truncate(*s, 40))
		}
	}
	if s := v.text(path+".description", f["description"], true, MaxText); s != nil {
		out.Description = *s
	}
	out.OriginalValue = v.value(path+".original_value", f["original_value"])
	out.NewValue = v.value(path+".new_value", f["new_value"])
	out.Reasoning = v.value(path+".reasoning", f["reasoning"])
	taskID, hasTaskID := v.taskID(path+".task_id", f["task_id"])
	if len(v.problems) > before {
		return Adjustment{}, false
	}

	switch {
	case out.Type == NewTask:
		// A new task has no ID yet: a model that sent one is ignored.
	case !hasTaskID && out.Type.needsTask():
		v.add(path+".task_id", "is required for %s", out.Type)
	case hasTaskID && !known[taskID]:
		// Not a task of this project: keep the advice, never the link.
		note := fmt.Sprintf(" (The model suggested this as %s for task %d, which is not a task of this project.)", out.Type, taskID)
		out.Description = text.Truncate(out.Description, MaxText-utf8.RuneCountInString(note)) + note
		out.Type = General
	case hasTaskID:
		out.TaskID = &taskID
		v.newValue(path+".new_value", &out)
	}
	return out, len(v.problems) == before
}

// newValue checks and normalises the new value of a change to a task field.
func (v *validator) newValue(path string, a *Adjustment) {
	if a.NewValue == nil {
		if a.Type == TaskPriority || a.Type == TaskStatus {
			v.add(path, "is required for %s", a.Type)
		}
		return
	}
	s := *a.NewValue
	switch a.Type {
	case TaskPriority:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxPriority {
			v.add(path, "for task_priority must be a whole number from 0 to %d, got %q", MaxPriority, text.Truncate(s, 40))
			return
		}
		*a.NewValue = strconv.Itoa(n)
	case TaskStatus:
		up := strings.ToUpper(s)
		if !slices.Contains(taskStatuses, up) {
			v.add(path, "for task_status must be one of %s, got %q", strings.Join(taskStatuses, ", "), text.Truncate(s, 40))
			return
		}
		*a.NewValue = up
	case TaskEstimate:
		h, err := strconv.ParseFloat(s, 64)
		if err != nil || h < 0 || math.IsInf(h, 0) || math.IsNaN(h) {
			v.add(path, "for task_estimate must be a number of hours, 0 or more, got %q", text.Truncate(s, 40))
			return
		}
		*a.NewValue = strconv.FormatFloat(h, 'f', -1, 64)
	}
}

// text reads a string field of at most max runes (0: no limit). Surrounding
// space is trimmed; a blank string counts as missing.
func (v *validator) text(path string, raw json.RawMessage, required bool, max int) *string {
	if k := kind(raw); k != "a string" {
		if k == "nothing" || k == "null" {
			if required {
				v.add(path, "is required")
			}
		} else {
			v.add(path, "must be a string, got %s", k)
		}
		return nil
	}
	var s string
	_ = json.Unmarshal(raw, &s) // a string per kind
	s = clean(s)
	switch {
	case s == "" && required:
		v.add(path, "is required")
		return nil
	case s == "":
		return nil
	case max > 0 && utf8.RuneCountInString(s) > max:
		v.add(path, "must be at most %d characters, got %d", max, utf8.RuneCountInString(s))
		return nil
	}
	return &s
}

// value reads an optional value field. Models often write "new_value": 4 for
// a priority, so JSON numbers and booleans are accepted and kept as their
// text; objects and arrays are not.
func (v *validator) value(path string, raw json.RawMessage) *string {
	switch kind(raw) {
	case "a number":
		n := string(raw)
		if f, err := strconv.ParseFloat(n, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			n = strconv.FormatInt(int64(f), 10) // 4.0 means 4
		}
		if len(n) > MaxText {
			v.add(path, "must be at most %d characters", MaxText)
			return nil
		}
		return &n
	case "a boolean":
		b := string(raw)
		return &b
	case "an object", "an array":
		v.add(path, "must be a string or null, got %s", kind(raw))
		return nil
	}
	return v.text(path, raw, false, MaxText)
}

// taskID reads task_id: an integer or null. An integral number such as 11.0
// is accepted; JSON does not tell the two apart.
func (v *validator) taskID(path string, raw json.RawMessage) (int, bool) {
	switch k := kind(raw); k {
	case "nothing", "null":
		return 0, false
	case "a number":
		if n, err := strconv.ParseInt(string(raw), 10, 0); err == nil {
			return int(n), true
		}
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), true
		}
		v.add(path, "must be an integer or null, got %s", text.Truncate(string(raw), 20))
	default:
		v.add(path, "must be an integer or null, got %s", k)
	}
	return 0, false
}

// array reads the adjustments array; null or missing is a problem.
func (v *validator) array(path string, raw json.RawMessage) []json.RawMessage {
	switch k := kind(raw); k {
	case "an array":
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items) // an array per kind
		return items
	case "nothing", "null":
		v.add(path, "is required (an array, possibly empty)")
	default:
		v.add(path, "must be an array, got %s", k)
	}
	return nil
}

// kind names the JSON type of a (syntactically valid) value for messages.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// clean trims a string and removes NUL characters, which PostgreSQL text
// columns reject (JSON allows them as \u0000).
func clean(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
}

func typeList() string {
	names := make([]string, len(adjustmentTypes))
	for i, t := range adjustmentTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// stripFences removes surrounding whitespace and a Markdown code fence
// (```json ... ```), which chat models add even when told not to.
func stripFences(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = s[3:]
	if nl := strings.IndexByte(s, '\n'); nl >= 0 && !strings.ContainsAny(s[:nl], "{[\"") {
		s = s[nl+1:] // the language tag, such as json
	} else if len(s) >= 4 && strings.EqualFold(s[:4], "json") {
		s = s[4:]
	}
	if i := strings.LastIndex(s, "```"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func decodeProblem(err error) string {
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early (was the answer cut off?)"
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	}
	return text.Truncate(err.Error(), 200)
}
