package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/task"
)

// Inputs are checked whole, with the schema's own validators, before they
// are saved: a form learns all its mistakes in one round trip, where ent's
// builders stop at the first. The builders still validate on save.

// projectProblems checks the fields of createProject's and updateProject's
// inputs; nil means not set.
func projectProblems(name, description *string) []error {
	var ps []error
	check(&ps, "input.name", project.NameValidator, trimmed(name))
	check(&ps, "input.description", project.DescriptionValidator, description)
	return ps
}

// taskProblems checks the fields of createTask's and updateTask's inputs.
func taskProblems(title, description *string, priority *int, estimatedHours *float64) []error {
	var ps []error
	check(&ps, "input.title", task.TitleValidator, trimmed(title))
	check(&ps, "input.description", task.DescriptionValidator, description)
	check(&ps, "input.priority", task.PriorityValidator, priority)
	check(&ps, "input.estimatedHours", task.EstimatedHoursValidator, estimatedHours)
	return ps
}

// errNotFailed refuses to retry feedback that has not failed.
var errNotFailed = &InputError{Field: "id", Problem: "must name FAILED feedback: only failed analyses can be retried"}

func feedbackProblems(text, userName *string) []error {
	var ps []error
	check(&ps, "input.feedbackText", feedback.FeedbackTextValidator, trimmed(text))
	check(&ps, "input.userName", feedback.UserNameValidator, trimmed(userName))
	return ps
}

// check adds field's problem, if the input sets it and validate rejects it.
func check[T any](problems *[]error, field string, validate func(T) error, v *T) {
	if v == nil {
		return
	}
	if err := validate(*v); err != nil {
		*problems = append(*problems, &InputError{Field: field, Problem: err.Error()})
	}
}

// trimmed is the value the schema's trim hook will save.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	return &t
}

// reportAll sends every error in errs to the client, each with its field,
// and returns the last one for the resolver to return (nil if none).
func reportAll(ctx context.Context, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs[:len(errs)-1] {
		graphql.AddError(ctx, err)
	}
	return errs[len(errs)-1]
}
