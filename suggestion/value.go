package suggestion

import (
	"strconv"
	"strings"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/task"
)

// Value is a task field's value in text form, as suggestions hold values
// (nil when the field is empty).
func Value(t *ent.Task, field string) *string {
	var s string
	switch field {
	case task.FieldPriority:
		s = strconv.Itoa(t.Priority)
	case task.FieldStatus:
		s = string(t.Status)
	case task.FieldDescription:
		if t.Description == nil {
			return nil
		}
		s = *t.Description
	case task.FieldEstimatedHours:
		if t.EstimatedHours == nil {
			return nil
		}
		s = strconv.FormatFloat(*t.EstimatedHours, 'f', -1, 64)
	case task.FieldTitle:
		s = t.Title
	default:
		return nil
	}
	return &s
}

// Original is what t holds that a suggestion of this kind starts from: the
// field the kind changes, or the title for a removal (it names what would
// go). Kinds about no existing task have none (nil). Stored suggestions
// take their original value from here, never from an analyzer's claim, so
// that the conflict check on apply compares the task with what it really
// held.
func (k Kind) Original(t *ent.Task) *string {
	switch {
	case !k.TargetsTask:
		return nil
	case k.Field == "":
		return Value(t, task.FieldTitle)
	}
	return Value(t, k.Field)
}

// Same reports whether a task's value (current, in Value's form) is the one
// a suggestion of this kind names, comparing normalised forms (a priority
// "3.0" is 3, a status any case) and treating empty, "none" and "null"
// alike.
func (k Kind) Same(current *string, named string) bool {
	empty := func(s string) bool {
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "" || s == "none" || s == "null"
	}
	if current == nil || empty(*current) {
		return empty(named)
	}
	a, errA := k.NewValue(*current)
	b, errB := k.NewValue(named)
	if errA == nil && errB == nil {
		return a == b
	}
	return strings.TrimSpace(*current) == strings.TrimSpace(named)
}
