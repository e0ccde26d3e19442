package doclimit

import (
	"context"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The checks after validation: what an operation that is valid may still
// not ask, refused before any resolver runs, with the request's variables.
// They share one walk of each operation (shapes), cached by operation.

// CheckLimits bound what a valid operation may ask. Zero values are not
// defaults here: the caller passes its configured limits.
type CheckLimits struct {
	MaxDepth       int // nesting of fields, introspection excluded
	MaxComplexity  int // the schema's complexity functions' price
	MaxRootFields  int // root fields, aliases counted
	MaxSubmissions int // root fields named in SubmissionFields
	MaxPageSize    int // first/last of a connection
	// SubmissionFields are the root mutations that spend model calls,
	// bounded by MaxSubmissions.
	SubmissionFields []string
	// NoIntrospection refuses __schema and __type.
	NoIntrospection bool
}

// Error codes of the checks' refusals (extensions.code).
const (
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeRootFieldLimit  = "ROOT_FIELD_LIMIT_EXCEEDED"
	CodeSubmissionLimit = "SUBMISSION_LIMIT_EXCEEDED"
	CodeBadUserInput    = "BAD_USER_INPUT"
)

// Checks returns the checks after validation, in order (the first refusal
// wins): root fields and submissions, argument values, page sizes, depth
// and complexity. es prices fields (its complexity functions).
func Checks(es graphql.ExecutableSchema, l CheckLimits) []graphql.HandlerExtension {
	shapes := newShapes(es, l.SubmissionFields)
	return []graphql.HandlerExtension{
		rootFieldLimit{maxFields: l.MaxRootFields, maxSubmissions: l.MaxSubmissions, noIntrospection: l.NoIntrospection, shapes: shapes},
		checkValues{shapes: shapes},
		pageLimit{max: l.MaxPageSize, shapes: shapes},
		depthLimit{max: l.MaxDepth, shapes: shapes},
		complexityLimit{max: l.MaxComplexity, shapes: shapes},
	}
}

// Complexity is the price the checks found for oc's operation.
func Complexity(oc *graphql.OperationContext) int {
	if s, ok := oc.Stats.GetExtension(complexityStatsKey).(*extension.ComplexityStats); ok {
		return s.Complexity
	}
	return 0
}

// RootFields is the number of root fields (response keys) of oc's operation.
func RootFields(oc *graphql.OperationContext) int { return rootStatsOf(oc).Fields }

// depthLimit rejects operations nested deeper than max fields, before any
// resolver runs. Introspection is not counted: tools such as GraphiQL send a
// deep but cheap introspection query.
type depthLimit struct {
	max    int
	shapes *shapes
}

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := d.shapes.of(ctx, oc).depth; depth > d.max {
		err := gqlerror.Errorf("the query is nested %d levels deep; the limit is %d: split it into several queries", depth, d.max)
		err.Extensions = map[string]any{"code": CodeDepthLimit, "depth": depth, "limit": d.max}
		return err
	}
	return nil
}

// selectionDepth is the depth of the deepest field of set. Fragments count
// where they are spread. A fragment's depth does not depend on where it is
// spread, so each is measured once (memo): without that, fragments that
// spread others twice make the walk exponential in the document's size.
// Validation has already rejected fragment cycles; memo guards the walk
// anyway (a fragment being measured counts as depth 0).
func selectionDepth(set ast.SelectionSet, memo map[string]int) int {
	deepest := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			deepest = max(deepest, 1+selectionDepth(sel.SelectionSet, memo))
		case *ast.InlineFragment:
			deepest = max(deepest, selectionDepth(sel.SelectionSet, memo))
		case *ast.FragmentSpread:
			if sel.Definition == nil {
				continue
			}
			d, seen := memo[sel.Name]
			if !seen {
				memo[sel.Name] = 0
				d = selectionDepth(sel.Definition.SelectionSet, memo)
				memo[sel.Name] = d
			}
			deepest = max(deepest, d)
		}
	}
	return deepest
}

// complexityLimit rejects operations whose complexity exceeds max before any
// resolver runs. The operation's shape prices what does not depend on
// variables once; see costExpr.
type complexityLimit struct {
	max    int
	shapes *shapes
}

var (
	_ graphql.HandlerExtension        = complexityLimit{}
	_ graphql.OperationContextMutator = complexityLimit{}
)

func (complexityLimit) ExtensionName() string                   { return "ComplexityLimit" }
func (complexityLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (c complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	cost := c.shapes.cost(ctx, oc)
	oc.Stats.SetExtension(complexityStatsKey, &extension.ComplexityStats{Complexity: cost, ComplexityLimit: c.max})
	if cost > c.max {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, c.max)
		err.Extensions = map[string]any{"code": CodeComplexityLimit, "complexity": cost, "limit": c.max}
		return err
	}
	return nil
}

// complexityStatsKey is where the operation's cost is kept, so
// extension.GetComplexityStats reads it as it would gqlgen's.
const complexityStatsKey = "ComplexityLimit"

// saturatingAdd adds non-negative costs without overflowing, so a huge
// document cannot wrap around to a small cost.
func saturatingAdd(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if c := a + b; c >= a {
		return c
	}
	return math.MaxInt
}
