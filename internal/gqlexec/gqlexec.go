// Package gqlexec holds what gqlgen's generated execution (graph/generated)
// calls in place of gqlgen's own, for speed: the generated code is
// rewritten to call it by ./rewrite, which go generate runs after gqlgen.
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
// deferred group, a hash of its selections), and reads a plain struct field
// without a field context when no field interceptor could see the
// difference (Operation.PlainFields).
package gqlexec

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
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

// FieldSet stands in for an object's *graphql.FieldSet, and is the
// object's marshaller itself. One allocation, values inline for up to four
// fields, where gqlgen's field set and its values take two, and writing
// it a map more.
//
// A field resolved concurrently or deferred (a task's project, say) is
// handed to a gqlgen field set that shares the values, made for the first
// such field the operation selects: an object whose selection has none,
// like a task's id, title and status in a page, needs none of gqlgen's
// scheduling.
type FieldSet struct {
	Values    []graphql.Marshaler
	Invalids  uint32
	fields    []graphql.CollectedField
	scheduled *graphql.FieldSet
	inline    [4]graphql.Marshaler
}

// NewFieldSet returns a field set for fields.
func NewFieldSet(fields []graphql.CollectedField) *FieldSet {
	fs := &FieldSet{fields: fields}
	if len(fields) <= len(fs.inline) {
		fs.Values = fs.inline[:len(fields)]
	} else {
		fs.Values = make([]graphql.Marshaler, len(fields))
	}
	return fs
}

// ResolveConcurrently is graphql.FieldSet.ResolveConcurrently: it
// schedules field i (or defers it) on the gqlgen field set sharing fs's
// values.
func (fs *FieldSet) ResolveConcurrently(oc *graphql.OperationContext, deferred *graphql.DeferredGroup, i int,
	recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	if fs.scheduled == nil {
		fs.scheduled = graphql.NewFieldSet(fs.fields)
		fs.scheduled.Values = fs.Values
	}
	fs.scheduled.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
}

// Dispatch runs the fields scheduled by ResolveConcurrently, as gqlgen's
// does, and counts their invalid values with the others; with none, it
// does nothing.
func (fs *FieldSet) Dispatch(ctx context.Context) {
	if fs.scheduled == nil {
		return
	}
	fs.scheduled.Dispatch(ctx)
	atomic.AddUint32(&fs.Invalids, atomic.LoadUint32(&fs.scheduled.Invalids))
}

// MarshalGQL writes the object as gqlgen's field set does, each
// alias once (the fields of fragments on different types can share one),
// the first field's value, without the map of aliases gqlgen allocates for
// each object: with a handful of fields, looking back is cheaper.
func (fs *FieldSet) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	written := 0
	for i := range fs.fields {
		alias := fs.fields[i].Alias
		if aliasBefore(fs.fields[:i], alias) {
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
		fs.Values[i].MarshalGQL(w)
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

// Operation is what the rewritten executor keeps for one operation: the
// generated executionContext holds it (nil when the server did not call
// Prepare, and then every method falls back to gqlgen's behaviour).
type Operation struct {
	plainFields bool

	mu sync.Mutex
	// The fields of the operation's selection sets: a few in a list,
	// which is quicker to search than a map is to hash, the rest in a map.
	few  []collected
	more map[selectionKey][]graphql.CollectedField
}

// fewSelections is how many selection sets are searched in a list: a
// page of projects with their tasks has 7.
const fewSelections = 16

type collected struct {
	key    selectionKey
	fields []graphql.CollectedField
}

// operationKey is where Prepare leaves the operation in its statistics,
// the one per-operation place gqlgen gives extensions.
const operationKey = "feedbackloop.operation"

// Prepare sets up oc for the rewritten executor: call it for every
// operation, before execution, from an OperationContextMutator. plainFields
// says that no field interceptor (graphql.FieldInterceptor) runs, which is
// what would see plain fields skip their field contexts.
func Prepare(oc *graphql.OperationContext, plainFields bool) {
	oc.Stats.SetExtension(operationKey, &Operation{plainFields: plainFields})
}

// OperationOf returns what Prepare left in oc, or nil.
func OperationOf(oc *graphql.OperationContext) *Operation {
	if oc == nil {
		return nil
	}
	op, _ := oc.Stats.GetExtension(operationKey).(*Operation)
	return op
}

// PlainFields reports whether the operation's plain fields, those that
// read a struct field of their object, may skip graphql.ResolveField: its
// middleware call and closures cost about ten allocations a field. The
// rewritten code then marshals a field whose marshaller cannot fail
// straight from the struct, and gives any other plain field its field
// context and panic recovery (RecoverField) before marshalling it.
func (op *Operation) PlainFields() bool {
	return op != nil && op.plainFields
}

// RecoverField is what graphql.ResolveField does when a field panics,
// for the plain path that replaces it: report the panic as the field's
// error and make the field null. Defer it with the field's context.
func RecoverField(ctx context.Context, oc *graphql.OperationContext, ret *graphql.Marshaler) {
	if r := recover(); r != nil {
		oc.Error(ctx, oc.Recover(ctx, r))
		*ret = graphql.Null
	}
}

// selectionKey identifies a selection set within an operation: the
// executor passes an object's selections down as the same slice to every
// element of a list, and a slice's first element and length identify its
// contents while the operation runs.
type selectionKey struct {
	first     *ast.Selection
	n         int
	satisfies *string
}

// CollectFields is graphql.CollectFields remembered per selection set and
// type for the operation. gqlgen remembers them too, under a key it hashes
// from the selections each time: for a page of 10 projects with 10 tasks,
// hashing for 231 objects cost more than collecting the fields.
func (op *Operation) CollectFields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if op == nil || len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	key := selectionKey{first: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	op.mu.Lock()
	fields, ok := op.lookup(key)
	op.mu.Unlock()
	if ok {
		return fields
	}
	fields = graphql.CollectFields(oc, sel, satisfies)
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.few) < fewSelections {
		op.few = append(op.few, collected{key, fields})
		return fields
	}
	if op.more == nil {
		op.more = make(map[selectionKey][]graphql.CollectedField)
	}
	op.more[key] = fields
	return fields
}

func (op *Operation) lookup(key selectionKey) ([]graphql.CollectedField, bool) {
	for i := range op.few {
		if op.few[i].key == key {
			return op.few[i].fields, true
		}
	}
	fields, ok := op.more[key]
	return fields, ok
}

// The marshallers of plain fields that cannot fail (see
// Operation.PlainFields) read the field when the response is written rather
// than when it is resolved: a pointer to the field is all they hold, which
// an interface holds without an allocation, where graphql.MarshalString and
// its kind allocate a closure for each value. The object is not changed
// while its response is written, as for gqlgen's concurrent fields, which
// read it from other goroutines.

// MarshalStringAt writes *p as graphql.MarshalString does.
func MarshalStringAt(p *string) graphql.Marshaler { return stringAt{p} }

// MarshalIntAt writes *p as graphql.MarshalInt does.
func MarshalIntAt(p *int) graphql.Marshaler { return intAt{p} }

// MarshalBooleanAt writes *p as graphql.MarshalBoolean does.
func MarshalBooleanAt(p *bool) graphql.Marshaler { return booleanAt{p} }

// MarshalerAt writes *p with its own MarshalGQL, as the generated
// marshaller of an enum does (it returns the value).
func MarshalerAt[T graphql.Marshaler](p *T) graphql.Marshaler { return marshalerAt[T]{p} }

type (
	stringAt                         struct{ p *string }
	intAt                            struct{ p *int }
	booleanAt                        struct{ p *bool }
	marshalerAt[T graphql.Marshaler] struct{ p *T }
)

func (s stringAt) MarshalGQL(w io.Writer)       { graphql.MarshalString(*s.p).MarshalGQL(w) }
func (i intAt) MarshalGQL(w io.Writer)          { graphql.MarshalInt(*i.p).MarshalGQL(w) }
func (b booleanAt) MarshalGQL(w io.Writer)      { graphql.MarshalBoolean(*b.p).MarshalGQL(w) }
func (m marshalerAt[T]) MarshalGQL(w io.Writer) { (*m.p).MarshalGQL(w) }
