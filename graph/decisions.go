package graph

import (
	"errors"
	"fmt"

	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/plan"
)

// CodeConflict is a change the plan has moved past: the task no longer holds
// the value the decision expects.
const CodeConflict = "CONFLICT"

func payload(r plan.Result) *model.AdjustmentDecisionPayload {
	return &model.AdjustmentDecisionPayload{Adjustment: r.Adjustment, Task: r.Task}
}

// decisionError names the argument a decision failed on: field, or the
// index of a batch ("ids[2]").
func decisionError(err error, field string) error {
	var batch *plan.BatchError
	if errors.As(err, &batch) {
		field = fmt.Sprintf("%s[%d]", field, batch.Index)
		err = batch.Err
	}
	var state *plan.StateError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, plan.ErrNotFound):
		return &NotFoundError{Field: field, Type: "Adjustment"}
	case errors.As(err, &state):
		return &InputError{Field: field, Problem: "cannot be decided: " + state.Problem}
	}
	var conflict *plan.ConflictError
	if errors.As(err, &conflict) {
		return &ConflictError{Field: field, Err: conflict}
	}
	return err
}

// ConflictError is a decision refused because the task changed since.
type ConflictError struct {
	Field string
	Err   *plan.ConflictError
}

func (e *ConflictError) Error() string { return e.Err.Error() }
