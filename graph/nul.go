package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noNUL refuses string arguments containing the NUL character before
// anything runs. PostgreSQL cannot store NUL in text and rejects it in
// comparisons, so without this check any string could turn a request into
// an INTERNAL error.
type noNUL struct{}

var (
	_ graphql.HandlerExtension        = noNUL{}
	_ graphql.OperationContextMutator = noNUL{}
)

func (noNUL) ExtensionName() string                   { return "NoNUL" }
func (noNUL) Validate(graphql.ExecutableSchema) error { return nil }

func (noNUL) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return findNUL(oc, oc.Operation.SelectionSet, map[string]bool{})
}

// findNUL checks the arguments of every field of set. A fragment's arguments
// are the same wherever it is spread, so each fragment is checked once.
func findNUL(oc *graphql.OperationContext, set ast.SelectionSet, checked map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, arg := range sel.Arguments {
				v, err := arg.Value.Value(oc.Variables)
				if err != nil {
					continue // validation reports it
				}
				if path, ok := nulIn(v, arg.Name); ok {
					e := gqlerror.Errorf("%s must not contain the NUL character (\\u0000)", path)
					e.Extensions = map[string]any{"code": CodeBadUserInput, "field": path}
					if sel.Position != nil {
						e.Locations = []gqlerror.Location{{Line: sel.Position.Line, Column: sel.Position.Column}}
					}
					return e
				}
			}
			if err := findNUL(oc, sel.SelectionSet, checked); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := findNUL(oc, sel.SelectionSet, checked); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if sel.Definition == nil || checked[sel.Name] {
				continue
			}
			checked[sel.Name] = true
			if err := findNUL(oc, sel.Definition.SelectionSet, checked); err != nil {
				return err
			}
		}
	}
	return nil
}

// nulIn returns the path of the first string in v that contains NUL.
func nulIn(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case map[string]any:
		for k, item := range v {
			if p, ok := nulIn(item, path+"."+k); ok {
				return p, true
			}
		}
	case []any:
		for i, item := range v {
			if p, ok := nulIn(item, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}
