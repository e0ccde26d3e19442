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
//
// The rewritten code also spares each object the allocations gqlgen makes
// for it whether they are needed or not (a map of the aliases written, a
// deferred group), and reads a plain struct field without a field context
// when no field interceptor could see the difference (PlainFields).
package gqlexec

import (
	"context"
	"io"

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
// fields, just before they are processed. Without deferred fields the group
// holds neither a field set nor a map: gqlgen touches them only for a
// deferred field (FieldSet.ResolveConcurrently) and processes the group
// only when it has some.
func NewDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.DeferredGroup{
				FieldSet: graphql.NewFieldSet(nil),
				Defers:   make(map[string]*graphql.FieldSetView),
				Context:  ctx,
			}
		}
	}
	return graphql.DeferredGroup{Context: ctx}
}

// Object is what an object's generated marshaller returns in place of its
// *graphql.FieldSet, once every value is resolved: the same JSON object,
// written without the map of aliases that gqlgen allocates for each object
// to write an alias once (the fields of fragments on different types can
// share one). With a handful of fields, looking back is cheaper.
func Object(fields []graphql.CollectedField, values []graphql.Marshaler) graphql.Marshaler {
	return object{fields: fields, values: values}
}

type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o object) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	written := 0
	for i := range o.fields {
		alias := o.fields[i].Alias
		if aliasBefore(o.fields[:i], alias) {
			continue
		}
		if written > 0 {
			_, _ = io.WriteString(w, ",")
		}
		written++
		// An alias is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*, as the
		// parser checks): nothing in it needs escaping.
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

func aliasBefore(fields []graphql.CollectedField, alias string) bool {
	for i := range fields {
		if fields[i].Alias == alias {
			return true
		}
	}
	return false
}

// plainFieldsKey marks an operation whose fields no interceptor sees.
const plainFieldsKey = "feedbackloop.plainFields"

// MarkPlainFields lets the operation's plain fields skip their field
// context: the server calls it for every operation when it has no field
// interceptor (graphql.FieldInterceptor), which is what would see the
// difference. Call it before execution, from an OperationContextMutator.
func MarkPlainFields(oc *graphql.OperationContext) {
	oc.Stats.SetExtension(plainFieldsKey, true)
}

// PlainFields reports whether MarkPlainFields marked the operation. The
// rewritten code then marshals a field that is a struct field of its
// object, with a marshaller that cannot fail, straight from the struct,
// without the field context, middleware call and closures that
// graphql.ResolveField costs (about ten allocations a field).
func PlainFields(oc *graphql.OperationContext) bool {
	plain, _ := oc.Stats.GetExtension(plainFieldsKey).(bool)
	return plain
}
