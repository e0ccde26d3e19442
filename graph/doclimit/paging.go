package doclimit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// pageLimit rejects operations whose connection fields would return more
// than max items, before any resolver runs.
//
// It has to run before execution: entgql eager-loads nested connections
// from the query document while resolving the parent, so a limit applied in
// the nested resolver would come after the rows were read. For the same
// reason every connection must say first or last: there is no implicit
// default page (GitHub's and Shopify's APIs behave the same way).
type pageLimit struct {
	max    int
	shapes *shapes
}

var (
	_ graphql.HandlerExtension        = pageLimit{}
	_ graphql.OperationContextMutator = pageLimit{}
)

func (pageLimit) ExtensionName() string                   { return "PageLimit" }
func (pageLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (p pageLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	// A fragment's connections and their arguments are the same wherever
	// it is spread, so the shape lists each once.
	for _, c := range p.shapes.of(ctx, oc).connections {
		if err := p.checkField(c.field, c.path, c.arguments(oc.Variables)); err != nil {
			return err
		}
	}
	return nil
}

// checkField checks the page arguments of the connection field f, found at
// the response path where.
func (p pageLimit) checkField(f *ast.Field, where string, args map[string]any) *gqlerror.Error {
	for _, arg := range []string{"after", "before"} {
		if v, ok := args[arg]; ok && v != nil && !isOurCursor(v) {
			return inputErrorAt(f, where+"."+arg, arg+" is not a cursor this API issued: pass a pageInfo.endCursor or startCursor (or an edge's cursor) of this connection")
		}
	}
	first, hasFirst := intArg(args, "first")
	last, hasLast := intArg(args, "last")
	var problem, arg string
	switch {
	case !hasFirst && !hasLast:
		arg, problem = "first", fmt.Sprintf("%s needs first or last: pass the page size, at most %d", f.Name, p.max)
	case hasFirst && hasLast:
		arg, problem = "last", fmt.Sprintf("%s: pass first or last, not both", f.Name)
	case hasFirst && (first < 0 || first > int64(p.max)):
		arg, problem = "first", fmt.Sprintf("%s: first must be between 0 and %d (got %d)", f.Name, p.max, first)
	case hasLast && (last < 0 || last > int64(p.max)):
		arg, problem = "last", fmt.Sprintf("%s: last must be between 0 and %d (got %d)", f.Name, p.max, last)
	default:
		return nil
	}
	return inputErrorAt(f, where+"."+arg, problem)
}

// inputErrorAt is a BAD_USER_INPUT error about an argument of f.
func inputErrorAt(f *ast.Field, field, problem string) *gqlerror.Error {
	err := &gqlerror.Error{
		Message:    problem,
		Extensions: map[string]any{"code": CodeBadUserInput, "field": field},
	}
	if f.Position != nil {
		err.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return err
}

// isOurCursor reports whether v decodes as a cursor of the kind this API
// issues: an ID and at most one scalar ordering value. Anything else would
// reach the database as an argument it cannot compare.
func isOurCursor(v any) bool {
	var c entgql.Cursor[int]
	if err := c.UnmarshalGQL(v); err != nil {
		return false
	}
	switch c.Value.(type) {
	case nil, string, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint, float32, float64, time.Time:
		return true
	}
	return false
}

func intArg(args map[string]any, name string) (int64, bool) {
	switch v := args[name].(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case float64:
		return int64(v), true
	case interface{ Int64() (int64, error) }: // json.Number from variables
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func isConnection(t *ast.Type) bool {
	return t != nil && t.Elem == nil && strings.HasSuffix(t.NamedType, "Connection")
}
