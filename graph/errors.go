package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// Error codes set in extensions.code. Clients branch on these, never on messages.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeForbidden       = "FORBIDDEN"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL"
)

// InputError is a value the API does not accept. Field is the argument path
// ("input.name", "first"); Problem says what is wrong and what is allowed.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string { return e.Field + " " + e.Problem }

// NotFoundError is a reference to an object that does not exist (or is of
// another type than the argument requires).
type NotFoundError struct {
	Field string // argument path, e.g. "input.projectID"
	Type  string // GraphQL type, e.g. "Project"
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: no %s has this ID", e.Field, e.Type)
}

// presentError maps every error a resolver returns onto a client-facing
// GraphQL error with extensions.code. Anything unexpected is logged with the
// request ID and reported as INTERNAL without its text, so SQL and driver
// messages never reach clients.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		cause := out.Err
		if cause == nil {
			// Built by gqlgen or gqlparser for the client (syntax, validation,
			// coercion): its message is meant to be read.
			if code, _ := out.Extensions["code"].(string); code == CodeNotFound {
				out.Message = "no object has this ID"
			}
			return out
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Whatever failed, it failed because the execution deadline
			// passed (the driver reports that in words of its own).
			return withCode(out, CodeTimeout, "the request took longer than the server's execution time limit; ask for less (smaller pages, fewer fields) or split it")
		}
		var (
			inputErr    *InputError
			notFoundErr *NotFoundError
			validErr    *ent.ValidationError
			entNotFound *ent.NotFoundError
			conflict    *ConflictError
			forbidden   *access.ForbiddenError
			hidden      *access.NotFoundError
			lastOwner   access.LastOwnerError
		)
		switch {
		case errors.As(cause, &conflict):
			ext := []any{"field", conflict.Field}
			if c := conflict.Err; c.Field != "" {
				ext = append(ext, "taskField", c.Field, "currentValue", c.Current, "expectedValue", c.Expected)
			}
			return withCode(out, CodeConflict, conflict.Error(), ext...)
		case errors.As(cause, &forbidden):
			ext := []any{}
			if forbidden.Need != "" {
				ext = append(ext, "requiredRole", string(forbidden.Need))
			}
			return withCode(out, CodeForbidden, forbidden.Error(), ext...)
		case errors.As(cause, &hidden):
			return withCode(out, CodeNotFound, hidden.Error())
		case errors.As(cause, &lastOwner):
			return withCode(out, CodeBadUserInput, lastOwner.Error(), "field", "id")
		case errors.Is(cause, access.ErrUnauthenticated):
			return withCode(out, CodeUnauthenticated, "this operation needs credentials")
		case errors.Is(cause, privacy.Deny):
			return withCode(out, CodeForbidden, "you may not do this")
		case errors.As(cause, &inputErr):
			return withCode(out, CodeBadUserInput, inputErr.Error(), "field", inputErr.Field)
		case errors.As(cause, &validErr):
			field := inputField(ctx, validErr.Name)
			return withCode(out, CodeBadUserInput, field+" "+innermost(validErr).Error(), "field", field)
		case errors.As(cause, &notFoundErr):
			return withCode(out, CodeNotFound, notFoundErr.Error(), "field", notFoundErr.Field)
		case errors.Is(cause, gid.ErrInvalid):
			return withCode(out, CodeNotFound, "no object has this ID")
		case errors.As(cause, &entNotFound):
			return withCode(out, CodeNotFound, strings.TrimPrefix(entNotFound.Error(), "ent: "))
		case ent.IsConstraintError(cause) && strings.Contains(cause.Error(), "foreign key"):
			// A referenced object vanished between our check and the write.
			return withCode(out, CodeNotFound, "an object this request refers to no longer exists")
		case postgres.IsUnavailable(cause):
			logger.WarnContext(ctx, "database unavailable", "err", cause, "path", out.Path.String())
			return withCode(out, CodeUnavailable, "the database is unavailable; retry in a few seconds")
		case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
			return withCode(out, CodeUnavailable, "the request was cancelled or timed out before it completed")
		}
		logger.ErrorContext(ctx, "internal error", "err", cause, "path", out.Path.String())
		return internalError(ctx, out)
	}
}

// recoverPanic turns a resolver panic into an INTERNAL error; the stack goes
// to the log only.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return internalError(ctx, &gqlerror.Error{Path: graphql.GetPath(ctx)})
	}
}

func internalError(ctx context.Context, out *gqlerror.Error) *gqlerror.Error {
	msg := "internal error"
	var extra []any
	if id, ok := logctx.Value(ctx, "request_id"); ok {
		msg += " (request " + id.String() + ")"
		extra = []any{"requestId", id.String()}
	}
	out.Err = nil
	return withCode(out, CodeInternal, msg, extra...)
}

func withCode(e *gqlerror.Error, code, message string, kv ...any) *gqlerror.Error {
	e.Message = message
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
	for i := 0; i+1 < len(kv); i += 2 {
		e.Extensions[kv[i].(string)] = kv[i+1]
	}
	return e
}

// inputField names an ent field the way the client wrote it: "input.feedbackText"
// for ent's "feedback_text" when the field has an input argument.
func inputField(ctx context.Context, entField string) string {
	name := camel(entField)
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		if _, ok := fc.Args["input"]; ok {
			return "input." + name
		}
	}
	return name
}

func camel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// innermost returns the error at the bottom of a wrap chain: the validator's
// own message, without ent's "validator failed for field" wrapping.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
