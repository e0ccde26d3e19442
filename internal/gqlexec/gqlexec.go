// Package gqlexec holds two helpers that gqlgen's generated execution
// (graph/generated) calls in place of gqlgen's own, for speed: the
// generated code is rewritten to call them by ./rewrite, which go generate
// runs after gqlgen.
//
// gqlgen marshals every element of a list in a goroutine of its own and
// works out every object's path up front in case a field of it is
// deferred. For a page of 10 projects with 10 tasks each, that is 110
// goroutines and about 230 paths per request, and it made the service's
// nested reads 1.3 to 1.7 times slower (BenchmarkNestedQuery in graph/,
// bench/run.sh). Nothing here needs either: fields that batch do so by
// eager loading (ent's collection, one statement per level), not by
// resolving elements at the same time, and paths are needed only by
// deferred fields.
package gqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalSlice is graphql.MarshalSliceConcurrently (with the same
// signature, so that the generated call sites need only its name changed)
// marshalling the elements one after the other in the caller's goroutine.
// Each element gets a field context holding its index, as gqlgen's does;
// a panic in one element makes it null and adds the error, unless
// omitPanicHandler, and the others are still marshalled. workerLimit is
// ignored: there is one worker.
func MarshalSlice(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	// One allocation for every element's context rather than two each.
	fcs := make([]graphql.FieldContext, length)
	indices := make([]int, length)
	for i := range length {
		indices[i] = i
		fcs[i].Index = &indices[i]
		childCtx := graphql.WithFieldContext(ctx, &fcs[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalRecovering(childCtx, i, marshalElement)
	}
	return ret
}

func marshalRecovering(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// NewDeferredGroup is graphql.NewDeferredGroup without the object's path:
// the rewritten code sets the path only when the object has deferred
// fields, just before they are processed.
func NewDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	return graphql.DeferredGroup{
		FieldSet: graphql.NewFieldSet(nil),
		Defers:   make(map[string]*graphql.FieldSetView),
		Context:  ctx,
	}
}
