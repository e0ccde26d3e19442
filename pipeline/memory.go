package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/suggestion"
)

// maxRejections bounds the rejections one analysis is compared with: the
// latest, should a task have had more within the memory.
const maxRejections = 1000

// DefaultRejectionMemory is how long a rejection keeps the same suggestion
// from coming back (REJECTION_MEMORY).
const DefaultRejectionMemory = 30 * 24 * time.Hour

// RejectionMemory is how long a rejected suggestion keeps its repeats out:
// the stored setting, 0 when it is off.
func (p *Pipeline) RejectionMemory() time.Duration { return p.memory }

// rejections reads the suggestions of feedback id's project that the team
// rejected within the rejection memory and that out's suggestions might
// repeat: the same kind for one of the tasks they name, or a new task.
func (p *Pipeline) rejections(ctx context.Context, tx *ent.Tx, id int, out Outcome) ([]*ent.Adjustment, error) {
	if p.memory <= 0 {
		return nil, nil
	}
	var ids []int
	var types []adjustment.AdjustmentType
	newTask := false
	for _, s := range out.Adjustments {
		if !remembered(s.Type) {
			continue
		}
		types = append(types, s.Type)
		if s.TaskID != nil {
			ids = append(ids, *s.TaskID)
		}
		newTask = newTask || s.Type == adjustment.AdjustmentTypeNewTask
	}
	if len(types) == 0 {
		return nil, nil
	}
	var which []predicate.Adjustment
	if len(ids) > 0 {
		which = append(which, adjustment.TaskIDIn(ids...))
	}
	if newTask {
		which = append(which, adjustment.And(adjustment.AdjustmentTypeEQ(adjustment.AdjustmentTypeNewTask), adjustment.TaskIDIsNil()))
	}
	if len(which) == 0 {
		return nil, nil
	}
	// The suggestions of this feedback's project, this feedback's earlier
	// analyses included.
	rejected, err := tx.Adjustment.Query().
		Where(adjustment.HasFeedbackWith(feedback.HasProjectWith(project.HasFeedbacksWith(feedback.ID(id)))),
			adjustment.StatusEQ(adjustment.StatusRejected),
			adjustment.DecidedAtGTE(p.now().Add(-p.memory)),
			adjustment.AdjustmentTypeIn(types...),
			adjustment.Or(which...)).
		Select(adjustment.FieldAdjustmentType, adjustment.FieldTaskID, adjustment.FieldNewValue, adjustment.FieldDecidedAt).
		Order(ent.Desc(adjustment.FieldDecidedAt), ent.Desc(adjustment.FieldID)).
		Limit(maxRejections).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the rejected suggestions: %w", err)
	}
	return rejected, nil
}

// remembered reports whether a rejection of a suggestion of kind t keeps
// its repeats out: changes to a task and new tasks, which a value and a
// task identify; not general advice, which has neither.
func remembered(t adjustment.AdjustmentType) bool { return t != adjustment.AdjustmentTypeGeneral }

// repeats returns the rejected suggestion s repeats, if any: the same kind,
// the same task (none for a new task) and the same value, compared
// normalised (suggestion.Kind.Same; text case and spacing aside).
func repeats(k suggestion.Kind, s Suggestion, rejected []*ent.Adjustment) *ent.Adjustment {
	if !remembered(s.Type) {
		return nil
	}
	for _, r := range rejected {
		if r.AdjustmentType != s.Type || !sameTask(r.TaskID, s.TaskID) {
			continue
		}
		if sameValue(k, r.NewValue, s.NewValue) {
			return r
		}
	}
	return nil
}

// memoryText says how long d is, in days when it is whole days.
func memoryText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

func sameTask(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sameValue(k suggestion.Kind, a, b *string) bool {
	named := ""
	if b != nil {
		named = *b
	}
	if k.Same(a, named) {
		return true
	}
	fold := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return a != nil && fold(*a) == fold(named)
}
