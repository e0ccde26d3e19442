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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/internal/text"
	"github.com/feedbackloop/feedbackloop/suggestion"
)

// Request is what an analysis looks at, and how its job may wait.
type Request struct {
	Project  Project
	Tasks    []Task
	Feedback Feedback

	// Priority is the job's: Low -1, Normal 0, High 1. Calls waiting for
	// a provider's turn are served by it.
	Priority int
	// MayWaitLater lets the analyzer return a *WaitError instead of
	// sitting out a long wait (a provider's pause, a backoff), so that
	// the job gives its worker slot back meanwhile.
	MayWaitLater bool
	// EarlierCalls counts the model calls of this job's earlier runs
	// (runs that waited): they count toward the attempts allowed.
	EarlierCalls int

	// Decisions are the project's latest decisions on suggestions, newest
	// first, at most MaxDecisions: the prompt shows them as data.
	Decisions []Decision
	// Record counts the project's decisions by kind within the rejection
	// memory: the built-in planner down-ranks kinds the team keeps
	// rejecting.
	Record []KindRecord
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

// Adjustment is one suggested change. Its Type is a kind of the suggestion
// table; the wire name models use is that kind's Name.
type Adjustment struct {
	Type                               adjustment.AdjustmentType
	TaskID                             *int
	Description                        string
	OriginalValue, NewValue, Reasoning *string
	// Confidence is the analyzer's confidence in the suggestion, 0 to 1:
	// a claim, checked to be in range; nil when the analyzer gave none.
	Confidence *float64
}

// Result is a validated analysis.
type Result struct {
	Summary     string
	Adjustments []Adjustment
	// DroppedSuggestions counts the suggestions of the answer that were left
	// out as invalid; DroppedReasons says why, one entry per dropped
	// suggestion and at most MaxDroppedReasons, the last summing up the rest.
	DroppedSuggestions int
	DroppedReasons     []string
	Provider, Model    string
	// FallbackReason says why another provider than the first configured
	// produced the result; empty when the first one did.
	FallbackReason string
	// Usage is the tokens the model calls of the analysis reported, every
	// call counted (a repair's too); nil when no call reported any. The
	// built-in rules use none: a zero Usage.
	Usage *Usage
}

// Usage counts a model's tokens.
type Usage struct {
	InputTokens, OutputTokens int
}

// Add returns the sum of u and more; nil when both are.
func (u *Usage) Add(more *Usage) *Usage {
	switch {
	case u == nil:
		return more
	case more == nil:
		return u
	}
	return &Usage{InputTokens: u.InputTokens + more.InputTokens, OutputTokens: u.OutputTokens + more.OutputTokens}
}

// Usable reports whether r is worth storing: it has a summary or a
// suggestion.
func (r Result) Usable() bool { return r.Summary != "" || len(r.Adjustments) > 0 }

// Analyzer analyses feedback.
type Analyzer interface {
	// Analyze returns the suggestions for req. Its errors are shown to users
	// as the reason the feedback FAILED: they say what went wrong in plain
	// words.
	Analyze(ctx context.Context, req Request) (Result, error)
	Provider() string
	Model() string
}

// UnavailableError marks a failure of the provider rather than of the
// request: its retries were used up on errors that may pass (timeouts, rate
// limits, server errors, unreachable). Another provider may answer instead.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// SpentError is an analysis that failed after its model calls used tokens:
// what they used is stored with the failure, so that it counts toward the
// project's spend.
type SpentError struct {
	Err             error
	Provider, Model string
	Usage           *Usage
}

func (e *SpentError) Error() string { return e.Err.Error() }
func (e *SpentError) Unwrap() error { return e.Err }

// Unavailable reports whether err says the provider, not the request, failed.
func Unavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// WaitError says the analysis must wait After before it can go on (a
// provider asked every caller to wait, or a backoff between attempts). It is
// returned only for a Request with MayWaitLater: the job then gives its
// worker slot back and runs again after After.
type WaitError struct {
	After time.Duration
	Err   error // why
	// Calls counts the model calls the analysis made before it had to
	// wait: the attempts it used.
	Calls int
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("waiting %s: %v", e.After.Round(time.Millisecond), e.Err)
}
func (e *WaitError) Unwrap() error { return e.Err }

// Limits of a valid answer.
const (
	MaxAdjustments    = 20
	MaxSummary        = 4000 // runes; longer summaries are cut
	MaxText           = 2000 // runes, per description or value (the database's limit for descriptions)
	MaxDroppedReasons = bounds.MaxDroppedReasons
	maxReason         = 300 // runes per dropped suggestion's reason
)

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
//	  "reasoning": string|null, "confidence": number|null}]}
//
// optionally inside a Markdown code fence. "adjustment_type" is accepted for
// "type", and a task_id may be a string of digits. Unknown fields are
// ignored. A task_id that is not one of req.Tasks is not an error: the
// suggestion is kept as a general one linked to no task, so a model can never
// attach a change to another project's task.
//
// It reports every problem it finds, not only the first, so that one repair
// request can fix them all. Even then the Result holds the valid part of the
// answer, the salvage for when no repair is left: the summary if it is valid,
// every valid suggestion (one whose only fault is its task reference, missing
// or unreadable, kept as a general one), and the count of the others with
// their reasons. Usable tells whether that is worth storing. Provider and
// Model of the result are left empty.
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
	var reasons []string
	beyond := max(0, len(items)-MaxAdjustments)
	if beyond > 0 {
		v.add("adjustments", "must have at most %d items, got %d", MaxAdjustments, len(items))
		items = items[:MaxAdjustments]
	}
	known := make(map[int]bool, len(req.Tasks))
	for _, t := range req.Tasks {
		known[t.ID] = true
	}
	res.Adjustments = make([]Adjustment, 0, len(items))
	for i, item := range items {
		adj, problems, keep := readAdjustment(fmt.Sprintf("adjustments[%d]", i), item, known)
		v.problems = append(v.problems, problems...)
		if keep {
			res.Adjustments = append(res.Adjustments, adj)
		} else {
			reasons = append(reasons, text.Truncate(strings.Join(problems, "; "), maxReason))
		}
	}
	res.DroppedSuggestions = len(reasons) + beyond
	if beyond > 0 {
		reasons = append(reasons, fmt.Sprintf("%d suggestions beyond the first %d", beyond, MaxAdjustments))
	}
	if len(reasons) > MaxDroppedReasons {
		shown := MaxDroppedReasons - 1
		reasons = append(reasons[:shown:shown], fmt.Sprintf("and %d more", res.DroppedSuggestions-shown))
	}
	res.DroppedReasons = reasons
	if len(v.problems) > 0 {
		problems := v.problems
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("and %d more problems", len(v.problems)-maxProblems))
		}
		return res, &InvalidAnswerError{Problems: problems}
	}
	return res, nil
}

// readAdjustment reads one suggestion. It is kept when its only problems are
// about its task reference: it then becomes a general suggestion linked to
// no task, while the problems still ask for a repair.
func readAdjustment(path string, raw json.RawMessage, known map[int]bool) (adj Adjustment, problems []string, keep bool) {
	v, ref := &validator{}, &validator{}
	if k := kind(raw); k != "an object" {
		v.add(path, "must be an object, got %s", k)
		return Adjustment{}, v.problems, false
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		v.add(path, "must be an object")
		return Adjustment{}, v.problems, false
	}
	k, _ := v.kindOf(path, f)
	if s := v.text(path+".description", f["description"], true, MaxText); s != nil {
		adj.Description = *s
	}
	adj.OriginalValue = v.value(path+".original_value", f["original_value"])
	adj.NewValue = v.value(path+".new_value", f["new_value"])
	adj.Reasoning = v.value(path+".reasoning", f["reasoning"])
	adj.Confidence = v.confidence(path+".confidence", f["confidence"])
	taskID, hasTaskID := ref.taskID(path+".task_id", f["task_id"])
	if len(v.problems) > 0 {
		return Adjustment{}, append(v.problems, ref.problems...), false
	}

	adj.Type = k.Type
	switch {
	case !k.TargetsTask && k.Field != "":
		// It creates a task (new_task), which has no ID yet: one sent is ignored.
		ref.problems = nil
	case len(ref.problems) > 0:
		adj = unlinked(adj, k, "for a task it did not identify")
	case !hasTaskID && k.TargetsTask:
		ref.add(path+".task_id", "is required for %s", k.Name)
		adj = unlinked(adj, k, "without saying for which task")
	case hasTaskID && !known[taskID]:
		// Not a task of this project: keep the advice, never the link.
		adj = unlinked(adj, k, fmt.Sprintf("for task %d, which is not a task of this project", taskID))
	case hasTaskID:
		adj.TaskID = &taskID
	}
	if adj.Type == k.Type {
		v.newValue(path+".new_value", k, &adj)
	}
	if len(v.problems) > 0 {
		return Adjustment{}, append(v.problems, ref.problems...), false
	}
	return adj, ref.problems, true
}

// unlinked turns a suggestion whose task is unknown into general advice,
// saying in its description what the model meant.
func unlinked(a Adjustment, k suggestion.Kind, why string) Adjustment {
	note := fmt.Sprintf(" (The model suggested this as %s %s.)", k.Name, why)
	a.Description = text.Truncate(a.Description, MaxText-utf8.RuneCountInString(note)) + note
	a.Type = adjustment.AdjustmentTypeGeneral
	a.TaskID = nil
	return a
}

// validator collects problems while reading an answer.
type validator struct {
	problems []string
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, path+" "+fmt.Sprintf(format, args...))
}

// kindOf reads the kind of a suggestion from "type" or, as the original
// design wrote it, "adjustment_type".
func (v *validator) kindOf(path string, f map[string]json.RawMessage) (suggestion.Kind, bool) {
	key, raw := "type", f["type"]
	if k := kind(raw); k == "nothing" || k == "null" {
		key, raw = "adjustment_type", f["adjustment_type"]
		if k := kind(raw); k == "nothing" || k == "null" {
			key, raw = "type", f["type"] // report the field the prompt asks for
		}
	} else if other := kind(f["adjustment_type"]); other == "a string" && k == "a string" {
		var a, b string
		_ = json.Unmarshal(raw, &a)                  // a string per kind
		_ = json.Unmarshal(f["adjustment_type"], &b) // a string per kind
		if !strings.EqualFold(clean(a), clean(b)) {
			v.add(path, "has type %q and adjustment_type %q; give one", text.Truncate(a, 40), text.Truncate(b, 40))
			return suggestion.Kind{}, false
		}
	}
	s := v.text(path+"."+key, raw, true, 0)
	if s == nil {
		return suggestion.Kind{}, false
	}
	k, ok := suggestion.ByName(*s)
	if !ok {
		v.add(path+"."+key, "must be one of %s, got %q", typeList(), text.Truncate(*s, 40))
	}
	return k, ok
}

// newValue checks and normalises the new value of a suggestion of kind k.
func (v *validator) newValue(path string, k suggestion.Kind, a *Adjustment) {
	if a.NewValue == nil {
		if k.NewValueRequired {
			v.add(path, "is required for %s", k.Name)
		}
		return
	}
	n, err := k.NewValue(*a.NewValue)
	if err != nil {
		v.add(path, "for %s %s, got %q", k.Name, err, text.Truncate(*a.NewValue, 40))
		return
	}
	a.NewValue = &n
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

// confidence reads a suggestion's confidence: a number from 0 to 1, or null
// or missing (nil: the model gave none). A number written as a string
// ("0.8") is accepted, as values are; anything else, or a number out of
// range, is a problem that drops the suggestion: a confidence the model got
// wrong says its suggestion cannot be weighed.
func (v *validator) confidence(path string, raw json.RawMessage) *float64 {
	var n string
	switch k := kind(raw); k {
	case "nothing", "null":
		return nil
	case "a number":
		n = string(raw)
	case "a string":
		var s string
		_ = json.Unmarshal(raw, &s) // a string per kind
		if n = clean(s); n == "" {
			return nil
		}
	default:
		v.add(path, "must be a number from 0 to 1 or null, got %s", k)
		return nil
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		v.add(path, "must be a number from 0 to 1 or null, got %s", text.Truncate(n, 20))
		return nil
	}
	return &f
}

// taskID reads task_id: an integer, a string of digits, or null. An
// integral number such as 11.0 is accepted; JSON does not tell the two apart.
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
	case "a string":
		var s string
		_ = json.Unmarshal(raw, &s) // a string per kind
		if s = clean(s); s == "" {
			return 0, false
		}
		if n, err := strconv.ParseInt(s, 10, 0); err == nil {
			return int(n), true
		}
		v.add(path, "must be an integer or null, got %q", text.Truncate(s, 20))
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

// typeList names every kind, for messages.
func typeList() string {
	var names []string
	for _, k := range suggestion.Kinds() {
		names = append(names, k.Name)
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
