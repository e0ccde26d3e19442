package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/graph/scalar"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/ratelimit"
)

// Error codes set in extensions.code. Clients branch on these, never on messages.
const (
	CodeBadUserInput    = doclimit.CodeBadUserInput
	CodeNotFound        = "NOT_FOUND"
	CodeForbidden       = wstransport.CodeForbidden
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeUnavailable     = wstransport.CodeUnavailable
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
func presentError(logger *slog.Logger, schema *ast.Schema) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		cause := out.Err
		if cause == nil {
			// Built by gqlgen or gqlparser for the client (syntax, validation,
			// coercion): its message is meant to be read.
			switch code, _ := out.Extensions["code"].(string); code {
			case CodeNotFound:
				out.Message = "no object has this ID"
			case "":
				// Every error has a code ("no operation provided", ...).
				return withCode(out, CodeBadRequest, out.Message)
			case errcode.ValidationFailed:
				nameTheValueSent(ctx, schema, out)
			}
			return out
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Whatever failed, it failed because the execution deadline
			// passed (the driver reports that in words of its own).
			return withCode(out, CodeTimeout, "the request took longer than the server's execution time limit; ask for less (smaller pages, fewer fields) or split it")
		}
		var (
			limited     *ratelimit.LimitedError
			inputErr    *InputError
			notFoundErr *NotFoundError
			validErr    *ent.ValidationError
			entNotFound *ent.NotFoundError
			conflict    *ConflictError
			forbidden   *access.ForbiddenError
			hidden      *access.NotFoundError
			lastOwner   access.LastOwnerError
			lastOrgOwn  access.LastOrgOwnerError
		)
		switch {
		case errors.As(cause, &conflict):
			ext := []any{"field", conflict.Field}
			if c := conflict.Err; c.Field != "" {
				ext = append(ext, "taskField", c.Field, "currentValue", c.Current, "expectedValue", c.Expected)
			}
			return withCode(out, CodeConflict, conflict.Error(), ext...)
		case errors.As(cause, &limited):
			return withCode(out, CodeRateLimited, limited.Error(), "retryAfter", limited.Status.RetryAfterSeconds(),
				"budget", limited.Budget, "limit", limited.Status.Limit, "resetAt", limited.Status.ResetAt.UTC().Format(time.RFC3339))
		case errors.Is(cause, ratelimit.ErrUnavailable), errors.Is(cause, errRateLimitUnknown):
			return withCode(out, CodeUnavailable, cause.Error())
		case errors.Is(cause, scalar.ErrInvalidTime):
			field := "value"
			if len(out.Path) > 0 {
				if name, ok := out.Path[len(out.Path)-1].(ast.PathName); ok {
					field = string(name)
				}
			}
			return withCode(out, CodeBadUserInput, field+" "+cause.Error(), "field", field)
		case isCursorError(out, cause):
			field := string(out.Path[len(out.Path)-1].(ast.PathName))
			return withCode(out, CodeBadUserInput, field+" is not a cursor this API issued: pass a pageInfo.endCursor or startCursor (or an edge's cursor) of this connection", "field", field)
		case postgres.IsDataException(cause):
			// A value PostgreSQL cannot compare or store: a cursor of
			// another ordering, say. It is the request's fault; log it
			// quietly, in case it points at a check we lack.
			logger.InfoContext(ctx, "value refused by the database", "err", cause, "path", out.Path.String())
			return withCode(out, CodeBadUserInput, "a value in this request is not valid here (a cursor from another connection or ordering, or a character the database cannot store)")
		case errors.As(cause, &forbidden):
			ext := []any{}
			if forbidden.Need != "" {
				ext = append(ext, "requiredRole", string(forbidden.Need))
			}
			if forbidden.NeedOrg != "" {
				ext = append(ext, "requiredOrganizationRole", string(forbidden.NeedOrg))
			}
			return withCode(out, CodeForbidden, forbidden.Error(), ext...)
		case errors.As(cause, &hidden):
			return withCode(out, CodeNotFound, hidden.Error())
		case errors.As(cause, &lastOwner):
			return withCode(out, CodeBadUserInput, lastOwner.Error(), "field", "id")
		case errors.As(cause, &lastOrgOwn):
			return withCode(out, CodeBadUserInput, lastOrgOwn.Error(), "field", "id")
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

// isCursorError reports whether cause is an after or before argument that
// could not be decoded as a cursor.
func isCursorError(out *gqlerror.Error, cause error) bool {
	if len(out.Path) == 0 {
		return false
	}
	last, ok := out.Path[len(out.Path)-1].(ast.PathName)
	if !ok || (last != "after" && last != "before") {
		return false
	}
	msg := cause.Error()
	return strings.HasPrefix(msg, "cannot decode cursor") || strings.HasSuffix(msg, "is not a string")
}

// nameTheValueSent rewrites gqlparser's messages for a variable of the
// wrong type ("cannot use value 0 as Int", which does not even show the
// value) to name the value as the client sent it: "1.5 is not an Int".
func nameTheValueSent(ctx context.Context, schema *ast.Schema, out *gqlerror.Error) {
	if len(out.Path) < 2 || out.Path[0] != ast.PathName("variable") || !graphql.HasOperationContext(ctx) ||
		!(strings.HasPrefix(out.Message, "cannot use ") || strings.HasPrefix(out.Message, "must be a ")) ||
		strings.Contains(out.Message, "2^53") {
		return
	}
	oc := graphql.GetOperationContext(ctx)
	name, _ := out.Path[1].(ast.PathName)
	if oc.Operation == nil || schema == nil {
		return
	}
	def := oc.Operation.VariableDefinitions.ForName(string(name))
	if def == nil {
		return
	}
	typ := def.Type
	raw, _ := oc.Stats.GetExtension(rawVariablesKey).(map[string]any)
	value := raw[string(name)]
	for _, el := range out.Path[2:] {
		switch el := el.(type) {
		case ast.PathName:
			obj, ok := value.(map[string]any)
			t := schema.Types[typ.Name()]
			if !ok || t == nil || t.Fields.ForName(string(el)) == nil {
				return
			}
			value, typ = obj[string(el)], t.Fields.ForName(string(el)).Type
		case ast.PathIndex:
			list, ok := value.([]any)
			if !ok || int(el) >= len(list) || typ.Elem == nil {
				return
			}
			value, typ = list[el], typ.Elem
		}
	}
	if typ.Elem != nil {
		return
	}
	sent, err := json.Marshal(value)
	if err != nil {
		return
	}
	article := "a"
	if strings.ContainsRune("AEIOU", rune(typ.Name()[0])) {
		article = "an"
	}
	out.Message = fmt.Sprintf("%s is not %s %s (variable $%s)", sent, article, typ.Name(), name)
}

// rawVariables keeps the variables as the client sent them, for error
// messages: gqlparser's coercion errors do not show the value.
type rawVariables struct{}

var (
	_ graphql.HandlerExtension          = rawVariables{}
	_ graphql.OperationParameterMutator = rawVariables{}
)

const rawVariablesKey = "RawVariables"

func (rawVariables) ExtensionName() string                   { return "RawVariables" }
func (rawVariables) Validate(graphql.ExecutableSchema) error { return nil }

func (rawVariables) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if graphql.HasOperationContext(ctx) {
		graphql.GetOperationContext(ctx).Stats.SetExtension(rawVariablesKey, params.Variables)
	}
	return nil
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
