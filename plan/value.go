package plan

import (
	"strconv"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/suggestion"
)

// TaskValue is a task field's value in text form, as suggestions hold values
// (nil when the field is empty).
func TaskValue(t *ent.Task, field string) *string {
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

// Original is what t holds that a suggestion of kind k starts from: the
// field the kind changes, or the title for a removal (it names what would
// go). Kinds about no existing task have none (nil). Stored suggestions
// take their original value from here, never from an analyzer's claim, so
// that the conflict check on apply compares the task with what it really
// held.
func Original(k suggestion.Kind, t *ent.Task) *string {
	switch {
	case !k.TargetsTask:
		return nil
	case k.Field == "":
		return TaskValue(t, task.FieldTitle)
	}
	return TaskValue(t, k.Field)
}
