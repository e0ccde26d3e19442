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
	"bytes"
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
//
// Under a context from Operation.ContextFree, whose elements read no field
// context, they all share that one instead.
func MarshalSlice(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	shared := false
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		_, shared = fc.Result.(elementsShareContext)
	}
	var (
		// One allocation for every element's context rather than two each.
		fcs     []graphql.FieldContext
		indices []int
	)
	if !shared {
		fcs = make([]graphql.FieldContext, length)
		indices = make([]int, length)
	}
	for i := range length {
		elementCtx := ctx
		if !shared {
			indices[i] = i
			fcs[i].Index = &indices[i]
			elementCtx = graphql.WithFieldContext(ctx, &fcs[i])
		}
		if omitPanicHandler {
			ret[i] = marshalElement(elementCtx, i)
			continue
		}
		ret[i] = marshalRecovering(elementCtx, i, marshalElement)
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
	fs := &FieldSet{}
	fs.init(fields)
	return fs
}

func (fs *FieldSet) init(fields []graphql.CollectedField) {
	fs.fields = fields
	if len(fields) <= len(fs.inline) {
		fs.Values = fs.inline[:len(fields)]
	} else {
		fs.Values = make([]graphql.Marshaler, len(fields))
	}
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
	// The executor writes a response to a bytes.Buffer: each member's
	// name is appended to its spare capacity and written in one call.
	buf, _ := w.(*bytes.Buffer)
	writeByte(w, buf, '{')
	written := 0
	for i := range fs.fields {
		alias := fs.fields[i].Alias
		if aliasBefore(fs.fields[:i], alias) {
			continue
		}
		// An alias is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*, as the
		// parser checks): nothing in it needs escaping.
		var member []byte
		if buf != nil {
			buf.Grow(len(alias) + 4)
			member = buf.AvailableBuffer()
		}
		if written > 0 {
			member = append(member, ',')
		}
		member = append(append(append(member, '"'), alias...), '"', ':')
		_, _ = w.Write(member)
		written++
		fs.Values[i].MarshalGQL(w)
	}
	writeByte(w, buf, '}')
}

// writeByte writes c to buf, or to w when buf is nil.
func writeByte(w io.Writer, buf *bytes.Buffer, c byte) {
	if buf != nil {
		_ = buf.WriteByte(c)
		return
	}
	_, _ = w.Write([]byte{c})
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

	// The operation's selection sets, and the arguments of its fields.
	selections remembered[selectionKey, *selection]
	args       remembered[*ast.Field, map[string]any]

	// What is left of the current block of field sets (NewFieldSet), and
	// its size. Concurrent fields make objects in other goroutines.
	fieldSetsMu    sync.Mutex
	fieldSets      []FieldSet
	fieldSetsBlock int
}

// remembered is what an operation keeps by key: the first few in a list,
// which is quicker to search than a map is to hash and is read without a
// lock (a new list replaces it when one is added), the rest in a map.
type remembered[K comparable, V any] struct {
	few  atomic.Pointer[[]keyed[K, V]]
	mu   sync.Mutex
	more map[K]V
}

type keyed[K comparable, V any] struct {
	key K
	v   V
}

// fewRemembered is how many are searched in a list: a page of projects
// with their tasks has 7 selection sets.
const fewRemembered = 16

func (r *remembered[K, V]) get(key K) (V, bool) {
	if few := r.few.Load(); few != nil {
		for _, e := range *few {
			if e.key == key {
				return e.v, true
			}
		}
		if len(*few) < fewRemembered {
			var none V
			return none, false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.more[key]
	return v, ok
}

// put remembers v under key, unless another goroutine did first, and
// returns what is remembered.
func (r *remembered[K, V]) put(key K, v V) V {
	r.mu.Lock()
	defer r.mu.Unlock()
	few := r.few.Load()
	if few != nil {
		for _, e := range *few {
			if e.key == key {
				return e.v
			}
		}
	}
	if few == nil || len(*few) < fewRemembered {
		var grown []keyed[K, V]
		if few != nil {
			grown = append(make([]keyed[K, V], 0, len(*few)+1), *few...)
		}
		grown = append(grown, keyed[K, V]{key, v})
		r.few.Store(&grown)
		return v
	}
	if had, ok := r.more[key]; ok {
		return had
	}
	if r.more == nil {
		r.more = make(map[K]V)
	}
	r.more[key] = v
	return v
}

// The operation hands out field sets from blocks it allocates for many at
// once, of growing size: a point lookup needs a couple, a page of 10
// projects with 10 tasks 231.
const (
	firstFieldSets = 4
	mostFieldSets  = 64
)

// NewFieldSet is gqlexec.NewFieldSet taking the field set from a block the
// operation shares out: one allocation for many objects. The block lives as
// long as any of its field sets, all of which the operation's response
// holds until it is written.
func (op *Operation) NewFieldSet(fields []graphql.CollectedField) *FieldSet {
	if op == nil {
		return NewFieldSet(fields)
	}
	op.fieldSetsMu.Lock()
	if len(op.fieldSets) == 0 {
		op.fieldSetsBlock = min(max(2*op.fieldSetsBlock, firstFieldSets), mostFieldSets)
		op.fieldSets = make([]FieldSet, op.fieldSetsBlock)
	}
	fs := &op.fieldSets[0]
	op.fieldSets = op.fieldSets[1:]
	op.fieldSetsMu.Unlock()
	fs.init(fields)
	return fs
}

// selection is a selection set of the operation on one type: its
// collected fields and, once ContextFree has asked, whether they read no
// field context.
type selection struct {
	fields      []graphql.CollectedField
	contextFree atomic.Uint32 // unknown, or one of free, needsContext
}

const (
	unknown uint32 = iota
	free
	needsContext
)

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
	return op.selection(oc, sel, satisfies).fields
}

// selection returns the selection set sel on the type of satisfies (which
// must not be empty), collecting its fields the first time.
func (op *Operation) selection(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) *selection {
	key := selectionKey{first: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	if s, ok := op.selections.get(key); ok {
		return s
	}
	return op.selections.put(key, &selection{fields: graphql.CollectFields(oc, sel, satisfies)})
}

// Args returns the arguments field was given when it was first resolved
// in the operation (RememberArgs). They depend only on the field's place in
// the document and the operation's variables, yet gqlgen works them out (a
// map of the raw values, each unmarshalled into another map) every time
// the field is resolved: for tasks(first: 10) once per project of a page.
// The rewritten field contexts share them; nothing changes arguments once
// unmarshalled (no field interceptor runs while the operation's
// PlainFields, and resolvers read them).
func (op *Operation) Args(field graphql.CollectedField) (map[string]any, bool) {
	if op == nil || !op.plainFields || field.Field == nil {
		return nil, false
	}
	return op.args.get(field.Field)
}

// RememberArgs remembers the arguments field was given, for Args.
func (op *Operation) RememberArgs(field graphql.CollectedField, args map[string]any) {
	if op == nil || !op.plainFields || field.Field == nil {
		return
	}
	op.args.put(field.Field, args)
}

// FieldKind is what the rewritten code does for a plain field of an
// object (see PlainFields).
type FieldKind uint8

const (
	// Bare: marshalled straight from its struct field by a marshaller that
	// cannot fail, reading no context.
	Bare FieldKind = iota + 1
	// Descends: its value, an object or a list of objects, is marshalled
	// with the field's selections.
	Descends
)

// Object is what the rewritten code knows of an object type: the
// implementors its selections are collected with (the generated variable
// itself, so that CollectFields remembers them once) and its plain fields.
type Object struct {
	Implementors []string
	Fields       map[string]FieldKind
}

// Objects are a schema's object types by name, as ContextFree needs them.
type Objects map[string]Object

// elementsShareContext marks the field context ContextFree makes for a
// list whose elements all share it (see MarshalSlice).
type elementsShareContext struct{}

// ContextFree reports whether field, a plain field that descends (it is
// Descends in objects), may be marshalled without a field context of its
// own, and returns the context to marshal it with. That is so when its
// type is a nullable object or a nullable list of nullable objects and
// every field selected below it, at any depth, is __typename, Bare, or
// Descends and context-free in turn, none of them deferred. Then nothing
// below reads a field context: no resolver runs, no marshaller can fail
// and a missing value is a null the schema allows, so no error needs the
// path a field context would give; and the page's rows (a task's edge, its
// node) take no field context and context value each.
//
// The context returned is ctx for an object; for a list, one that all its
// elements share (MarshalSlice), whose field context is field's, so that
// a panic, which none of these fields should raise, is still reported at
// the list.
func (op *Operation) ContextFree(ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField, objects Objects) (context.Context, bool) {
	obj, list, ok := descendsTo(field, objects)
	if !ok || !op.selectionContextFree(oc, field.Selections, obj, objects) {
		return ctx, false
	}
	if list {
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: field, Result: elementsShareContext{}})
	}
	return ctx, true
}

// descendsTo returns the object type of field's value and whether it is a
// list of them, when the field's type is a nullable one or a nullable list
// of nullable ones and not deferred.
func descendsTo(field graphql.CollectedField, objects Objects) (Object, bool, bool) {
	if field.Field == nil || field.Definition == nil || field.IsDeferred() {
		return Object{}, false, false
	}
	t := field.Definition.Type
	if t == nil || t.NonNull {
		return Object{}, false, false
	}
	list := t.Elem != nil
	if list {
		if t = t.Elem; t.NonNull || t.Elem != nil {
			return Object{}, false, false
		}
	}
	obj, ok := objects[t.NamedType]
	return obj, list, ok && len(obj.Implementors) > 0
}

func (op *Operation) selectionContextFree(oc *graphql.OperationContext, sel ast.SelectionSet, obj Object, objects Objects) bool {
	if op == nil || len(sel) == 0 {
		return false
	}
	s := op.selection(oc, sel, obj.Implementors)
	switch s.contextFree.Load() {
	case free:
		return true
	case needsContext:
		return false
	}
	answer := needsContext
	if fieldsContextFree(op, oc, s.fields, obj, objects) {
		answer = free
	}
	s.contextFree.Store(answer)
	return answer == free
}

func fieldsContextFree(op *Operation, oc *graphql.OperationContext, fields []graphql.CollectedField, obj Object, objects Objects) bool {
	for _, f := range fields {
		if f.IsDeferred() {
			return false
		}
		if f.Name == "__typename" {
			continue
		}
		switch obj.Fields[f.Name] {
		case Bare:
			continue
		case Descends:
			below, _, ok := descendsTo(f, objects)
			if ok && op.selectionContextFree(oc, f.Selections, below, objects) {
				continue
			}
		}
		return false
	}
	return true
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
