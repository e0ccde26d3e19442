// Package analysis turns one feedback on a project into re-planning
// suggestions. An Analyzer is either a model reached through langchaingo
// (NewLLM) or the built-in rule-based planner (NewBuiltin). Every answer, from
// either, passes the same strict validation (ParseAnswer).
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

// AdjustmentTypes lists every kind, in the order the prompt explains them.
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
	MaxAdjustments  = 20
	maxSummary      = 4000
	maxText         = 2000
	maxPriority     = 5
	taskStatusNames = "TODO, IN_PROGRESS, BLOCKED, DONE"
)

// InvalidAnswerError lists what is wrong with a model's answer.
type InvalidAnswerError struct {
	Problems []string
}

func (e *InvalidAnswerError) Error() string {
	return "the model's answer was invalid: " + strings.Join(e.Problems, "; ")
}

// answer is the JSON shape asked of a model.
type answer struct {
	Summary     *string        `json:"summary"`
	Adjustments []answerAdjust `json:"adjustments"`
}

type answerAdjust struct {
	Type          *string `json:"type"`
	TaskID        *int    `json:"task_id"`
	Description   *string `json:"description"`
	OriginalValue *scalar `json:"original_value"`
	NewValue      *scalar `json:"new_value"`
	Reasoning     *scalar `json:"reasoning"`
}

// scalar is a string field that also accepts a JSON number or boolean
// (models often write "new_value": 4 for a priority); anything else is a
// type error.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		*s = scalar(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("must be a string, not %s", shortJSON(b))
		}
		*s = scalar(n.String())
	}
	return nil
}

// ParseAnswer decodes and validates a model's answer for req. Unknown task
// IDs are not errors: such a suggestion is kept as a general one, linked to
// no task, so a model can never attach a change to another project's task.
func ParseAnswer(raw string, req Request) (Result, error) {
	text := stripFences(raw)
	if text == "" {
		return Result{}, &InvalidAnswerError{Problems: []string{"the answer is empty; expected a JSON object with summary and adjustments"}}
	}
	var a answer
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&a); err != nil {
		return Result{}, &InvalidAnswerError{Problems: []string{"the answer is not the expected JSON object: " + decodeProblem(err)}}
	}
	if dec.More() {
		return Result{}, &InvalidAnswerError{Problems: []string{"the answer has text after the JSON object"}}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var res Result
	switch {
	case a.Summary == nil || strings.TrimSpace(*a.Summary) == "":
		add("summary is required")
	case utf8.RuneCountInString(*a.Summary) > maxSummary:
		add("summary must be at most %d characters", maxSummary)
	default:
		res.Summary = strings.TrimSpace(*a.Summary)
	}
	if a.Adjustments == nil {
		add("adjustments is required (an array, possibly empty)")
	}
	if len(a.Adjustments) > MaxAdjustments {
		add("adjustments must have at most %d items, got %d", MaxAdjustments, len(a.Adjustments))
		a.Adjustments = a.Adjustments[:MaxAdjustments]
	}
	known := make(map[int]bool, len(req.Tasks))
	for _, t := range req.Tasks {
		known[t.ID] = true
	}
	for i, in := range a.Adjustments {
		at := fmt.Sprintf("adjustments[%d]", i)
		adj, adjProblems := validateAdjustment(in, known)
		for _, p := range adjProblems {
			add("%s.%s", at, p)
		}
		if len(adjProblems) == 0 {
			res.Adjustments = append(res.Adjustments, adj)
		}
	}
	if len(problems) > 0 {
		return Result{}, &InvalidAnswerError{Problems: problems}
	}
	return res, nil
}

func validateAdjustment(in answerAdjust, known map[int]bool) (Adjustment, []string) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var out Adjustment

	if in.Type == nil {
		add("type is required")
	} else if typ := AdjustmentType(strings.ToLower(strings.TrimSpace(*in.Type))); !slices.Contains(adjustmentTypes, typ) {
		add("type must be one of %s, got %q", typeList(), truncate(*in.Type, 40))
	} else {
		out.Type = typ
	}
	if in.Description == nil || strings.TrimSpace(*in.Description) == "" {
		add("description is required")
	} else if utf8.RuneCountInString(*in.Description) > maxText {
		add("description must be at most %d characters", maxText)
	} else {
		out.Description = strings.TrimSpace(*in.Description)
	}
	for name, v := range map[string]*scalar{"original_value": in.OriginalValue, "new_value": in.NewValue, "reasoning": in.Reasoning} {
		if v != nil && utf8.RuneCountInString(string(*v)) > maxText {
			add("%s must be at most %d characters", name, maxText)
		}
	}
	out.OriginalValue, out.NewValue, out.Reasoning = optional(in.OriginalValue), optional(in.NewValue), optional(in.Reasoning)
	if len(problems) > 0 {
		return out, problems
	}

	switch {
	case out.Type == NewTask:
		// A new task has no ID yet; a model that sent one is ignored.
		if out.NewValue == nil {
			add("new_value is required for new_task (the new task's title)")
		}
	case out.Type.needsTask() && in.TaskID == nil:
		add("task_id is required for %s", out.Type)
	case in.TaskID != nil && !known[*in.TaskID]:
		// Not a task of this project: keep the advice, never the link.
		note := fmt.Sprintf("(suggested as %s for task %d, which is not a task of this project)", out.Type, *in.TaskID)
		out.Type = General
		out.Reasoning = appendNote(out.Reasoning, note)
	case in.TaskID != nil:
		id := *in.TaskID
		out.TaskID = &id
	}
	if out.Type == NewTask || len(problems) > 0 {
		return out, problems
	}
	if out.NewValue != nil {
		v := strings.TrimSpace(*out.NewValue)
		switch out.Type {
		case TaskPriority:
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > maxPriority {
				add("new_value for task_priority must be a whole number from 0 to %d, got %q", maxPriority, truncate(v, 40))
			}
		case TaskStatus:
			if !slices.Contains(strings.Split(taskStatusNames, ", "), strings.ToUpper(v)) {
				add("new_value for task_status must be one of %s, got %q", taskStatusNames, truncate(v, 40))
			}
		case TaskEstimate:
			if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				add("new_value for task_estimate must be a number of hours, 0 or more, got %q", truncate(v, 40))
			}
		}
	} else if out.Type == TaskPriority || out.Type == TaskStatus {
		add("new_value is required for %s", out.Type)
	}
	return out, problems
}

func optional(v *scalar) *string {
	if v == nil {
		return nil
	}
	s := strings.TrimSpace(string(*v))
	if s == "" {
		return nil
	}
	return &s
}

func appendNote(s *string, note string) *string {
	if s == nil {
		return &note
	}
	joined := *s + " " + note
	return &joined
}

func typeList() string {
	names := make([]string, len(adjustmentTypes))
	for i, t := range adjustmentTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// stripFences removes surrounding whitespace and a Markdown code fence,
// which chat models add even when told not to.
func stripFences(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if nl := strings.IndexByte(s, '\n'); nl >= 0 && !strings.ContainsAny(s[:nl], "{[") {
		s = s[nl+1:] // the language tag, such as json
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, "```")
	return strings.TrimSpace(s)
}

func decodeProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf("expected an object, got a JSON %s", typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s must be %s, got a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early (was the answer cut off?)"
	}
	return truncate(err.Error(), 200)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int":
		return "an integer"
	case "slice":
		return "an array"
	case "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

func shortJSON(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return truncate(string(b), 20)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
