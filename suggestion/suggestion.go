// Package suggestion is the one table of the kinds of change an analysis may
// suggest for a project's plan. Each kind names itself on the wire (in model
// answers and prompts) and in the database (the adjustment_type enum), says
// whether it targets an existing task and which task field it changes, and
// checks its new value. The analysis (prompt, answer schema, validation) and
// the code that stores or applies suggestions all read this table.
package suggestion

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/task"
)

// Limits of new values. The task schema enforces the same priority range and
// title length, which this package's tests check, and the same estimate
// bound (bounds.MaxEstimatedHours).
const (
	MaxPriority      = 5
	MaxEstimateHours = bounds.MaxEstimatedHours
	maxTitle         = 255 // characters
)

// Kind is one kind of suggested change. How an apply step reads a kind:
// TargetsTask with a Field sets that field of the task to the new value;
// TargetsTask without a Field removes the task; a Field without TargetsTask
// creates a task whose Field is the new value; neither is advice only.
type Kind struct {
	Type adjustment.AdjustmentType // the database's enum value, such as TASK_PRIORITY
	Name string                    // the wire name, such as task_priority
	// TargetsTask: a suggestion of this kind is about one existing task and
	// needs its ID.
	TargetsTask bool
	// Field is the ent name of the task field the new value is for
	// (task.FieldPriority, ...), or "".
	Field string
	// NewValueRequired: a suggestion of this kind without a new value is
	// incomplete.
	NewValueRequired bool
	// Hint explains the kind to a model, in the prompt's list of kinds.
	Hint string

	expect    string                      // what a valid new value is, for errors ("" for any text)
	normalize func(string) (string, bool) // nil: any text
}

// NewValue checks a new value for this kind and returns it normalised (a
// priority as a whole number, a status upper-cased, ...). Its error says what
// a valid value is.
func (k Kind) NewValue(v string) (string, error) {
	if k.normalize == nil {
		return v, nil
	}
	if n, ok := k.normalize(v); ok {
		return n, nil
	}
	return "", errors.New("must be " + k.expect)
}

// statuses are the task statuses, in the order prompts list them.
var statuses = []task.Status{task.StatusTodo, task.StatusInProgress, task.StatusBlocked, task.StatusDone}

// table lists every kind, in the order prompts explain them.
var table = func() []Kind {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	priority := "a whole number from 0 to " + strconv.Itoa(MaxPriority)
	status := "one of " + strings.Join(names, ", ")
	hours := "a number of hours from 0 to " + strconv.Itoa(MaxEstimateHours)
	title := "a title of at most " + strconv.Itoa(maxTitle) + " characters"
	return []Kind{
		{Type: adjustment.AdjustmentTypeTaskPriority, Name: "task_priority", TargetsTask: true, Field: task.FieldPriority,
			NewValueRequired: true, Hint: "new_value: " + priority + ", " + strconv.Itoa(MaxPriority) + " most urgent",
			expect: priority, normalize: normalizePriority},
		{Type: adjustment.AdjustmentTypeTaskDescription, Name: "task_description", TargetsTask: true, Field: task.FieldDescription,
			NewValueRequired: true, Hint: "new_value: the better description"},
		{Type: adjustment.AdjustmentTypeTaskStatus, Name: "task_status", TargetsTask: true, Field: task.FieldStatus,
			NewValueRequired: true, Hint: "new_value: " + status,
			expect: status, normalize: normalizeStatus},
		{Type: adjustment.AdjustmentTypeNewTask, Name: "new_task", Field: task.FieldTitle,
			NewValueRequired: true, Hint: "new_value: the new task's title; task_id null",
			expect: title, normalize: normalizeTitle},
		{Type: adjustment.AdjustmentTypeRemoveTask, Name: "remove_task", TargetsTask: true,
			Hint: "the task is not needed"},
		{Type: adjustment.AdjustmentTypeTaskEstimate, Name: "task_estimate", TargetsTask: true, Field: task.FieldEstimatedHours,
			NewValueRequired: true, Hint: "new_value: " + hours,
			expect: hours, normalize: normalizeHours},
		{Type: adjustment.AdjustmentTypeGeneral, Name: "general",
			Hint: "advice that changes no single task; task_id null"},
	}
}()

// Kinds returns every kind, in the order prompts explain them.
func Kinds() []Kind { return append([]Kind(nil), table...) }

// ByName finds a kind by its wire name, ignoring case and surrounding space.
func ByName(name string) (Kind, bool) {
	name = strings.TrimSpace(name)
	for _, k := range table {
		if strings.EqualFold(k.Name, name) {
			return k, true
		}
	}
	return Kind{}, false
}

// ByType finds a kind by its database enum value.
func ByType(t adjustment.AdjustmentType) (Kind, bool) {
	for _, k := range table {
		if k.Type == t {
			return k, true
		}
	}
	return Kind{}, false
}

func normalizePriority(v string) (string, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > MaxPriority {
		return "", false
	}
	return strconv.Itoa(n), true
}

// normalizeStatus accepts any case and "in progress" or "in-progress".
func normalizeStatus(v string) (string, bool) {
	s := task.Status(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToUpper(strings.TrimSpace(v))))
	if task.StatusValidator(s) != nil {
		return "", false
	}
	return string(s), true
}

func normalizeHours(v string) (string, bool) {
	h, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(h) || h < 0 || h > MaxEstimateHours {
		return "", false
	}
	return strconv.FormatFloat(h+0, 'f', -1, 64), true // +0 turns -0 into 0
}

func normalizeTitle(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > maxTitle {
		return "", false
	}
	return v, true
}
