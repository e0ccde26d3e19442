package gqlexec

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// Each element is marshalled in order with its own index in its field
// context, and a panic nulls that element alone and is reported, as gqlgen
// does it.
func TestMarshalSliceKeepsGqlgensSemantics(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Project", Field: graphql.CollectedField{}})
	var order []int
	got := MarshalSlice(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i)
		if idx := graphql.GetFieldContext(ctx).Index; idx == nil || *idx != i {
			t.Errorf("element %d: field context index %v", i, idx)
		}
		if i == 2 {
			panic("element 2 broke")
		}
		return graphql.MarshalInt(i)
	})
	if len(order) != 4 || order[0] != 0 || order[3] != 3 {
		t.Errorf("marshalled in order %v, want 0 1 2 3", order)
	}
	var b bytes.Buffer
	got.MarshalGQL(&b)
	if b.String() != "[0,1,null,3]" {
		t.Errorf("got %s, want [0,1,null,3]", b.String())
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 {
		t.Errorf("errors %v, want the one panic", errs)
	}
}

// A field set writes each alias once, the first field's value, in order,
// as gqlgen's does when fragments on different types share an alias; to
// the executor's bytes.Buffer and to any other writer alike.
func TestFieldSetWritesEachAliasOnce(t *testing.T) {
	fields := []graphql.CollectedField{
		{Field: &ast.Field{Alias: "id"}},
		{Field: &ast.Field{Alias: "title"}},
		{Field: &ast.Field{Alias: "id"}},
		{Field: &ast.Field{Alias: "_done2"}},
	}
	fs := NewFieldSet(fields)
	copy(fs.Values, []graphql.Marshaler{graphql.MarshalString("a"), graphql.MarshalString(`"quoted"`), graphql.MarshalString("b"), graphql.Null})
	var b bytes.Buffer
	var plain testutil.PlainWriter
	for _, w := range []io.Writer{&b, &plain} {
		fs.MarshalGQL(w)
		NewFieldSet(nil).MarshalGQL(w)
	}
	const want = `{"id":"a","title":"\"quoted\"","_done2":null}{}`
	if b.String() != want || string(plain) != want {
		t.Errorf("got %s to a buffer and %s to a writer, want %s", b.String(), string(plain), want)
	}
}

// Only an object with a deferred field gets the field set and map that
// gqlgen's ResolveConcurrently fills for it.
func TestDeferredGroupOnlyForDeferredFields(t *testing.T) {
	plain := []graphql.CollectedField{{Field: &ast.Field{Alias: "id"}}}
	if g := NewDeferredGroup(context.Background(), plain); g.FieldSet != nil || g.Defers != nil {
		t.Errorf("no deferred field: group %+v, want neither field set nor map", g)
	}
	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Alias: "slow"}, Deferrables: []*graphql.Deferrable{{Label: "later"}}})
	if g := NewDeferredGroup(context.Background(), deferred); g.FieldSet == nil || g.Defers == nil {
		t.Errorf("a deferred field: group %+v, want a field set and a map", g)
	}
}

// An operation is plain only when Prepare says so, and one never prepared
// (an execution the server's extensions did not see) is not.
func TestPlainFieldsOnlyWhenPrepared(t *testing.T) {
	for _, plain := range []bool{false, true} {
		oc := &graphql.OperationContext{}
		Prepare(oc, plain)
		if got := OperationOf(oc).PlainFields(); got != plain {
			t.Errorf("Prepare(plain %v): PlainFields() = %v", plain, got)
		}
	}
	if OperationOf(&graphql.OperationContext{}).PlainFields() || OperationOf(nil).PlainFields() {
		t.Error("an operation never prepared reads as plain")
	}
}

// CollectFields answers as gqlgen's does, once per selection set and type
// in an operation, @skip and @include decided by the operation's variables.
func TestCollectFieldsPerSelectionAndType(t *testing.T) {
	skip := ast.DirectiveList{{Name: "skip", Arguments: ast.ArgumentList{{Name: "if", Value: &ast.Value{Kind: ast.Variable, Raw: "hide"}}}}}
	sel := ast.SelectionSet{
		&ast.Field{Alias: "id", Name: "id"},
		&ast.Field{Alias: "title", Name: "title", Directives: skip},
		&ast.InlineFragment{TypeCondition: "Project", SelectionSet: ast.SelectionSet{&ast.Field{Alias: "name", Name: "name"}}},
	}
	task, project := []string{"Task", "Node"}, []string{"Project", "Node"}
	aliases := func(fields []graphql.CollectedField) (out []string) {
		for _, f := range fields {
			out = append(out, f.Alias)
		}
		return out
	}
	for _, hide := range []bool{false, true} {
		oc := &graphql.OperationContext{Variables: map[string]any{"hide": hide}}
		Prepare(oc, true)
		op := OperationOf(oc)
		for _, tc := range []struct {
			satisfies []string
			want      []string
		}{
			{task, []string{"id", "title"}},
			{project, []string{"id", "title", "name"}},
		} {
			want := tc.want
			if hide {
				want = slices.DeleteFunc(slices.Clone(want), func(a string) bool { return a == "title" })
			}
			first := op.CollectFields(oc, sel, tc.satisfies)
			if got := aliases(first); !slices.Equal(got, want) {
				t.Errorf("hide %v, %v: fields %v, want %v", hide, tc.satisfies, got, want)
			}
			if got := aliases(graphql.CollectFields(&graphql.OperationContext{Variables: oc.Variables}, sel, tc.satisfies)); !slices.Equal(got, want) {
				t.Errorf("hide %v, %v: gqlgen collects %v, want %v", hide, tc.satisfies, got, want)
			}
			if again := op.CollectFields(oc, sel, tc.satisfies); &again[0] != &first[0] {
				t.Errorf("hide %v, %v: other fields the second time", hide, tc.satisfies)
			}
		}
		if n := len(*op.selections.few.Load()); n != 2 {
			t.Errorf("hide %v: the operation holds %d selections, want 2 (one per type)", hide, n)
		}
	}
	var never *Operation
	if got := aliases(never.CollectFields(&graphql.OperationContext{Variables: map[string]any{"hide": false}}, sel, task)); !slices.Equal(got, []string{"id", "title"}) {
		t.Errorf("without Prepare: fields %v, want gqlgen's", got)
	}
}

// Past the first selection sets, which are kept in a list, the others are
// remembered as well.
func TestCollectFieldsRemembersManySelections(t *testing.T) {
	oc := &graphql.OperationContext{}
	Prepare(oc, true)
	op := OperationOf(oc)
	task := []string{"Task"}
	sels := make([]ast.SelectionSet, 3*fewRemembered)
	firsts := make([]*graphql.CollectedField, len(sels))
	for i := range sels {
		sels[i] = ast.SelectionSet{&ast.Field{Alias: "f" + strconv.Itoa(i), Name: "id"}}
		fields := op.CollectFields(oc, sels[i], task)
		if len(fields) != 1 || fields[0].Alias != "f"+strconv.Itoa(i) {
			t.Fatalf("selection %d: fields %+v", i, fields)
		}
		firsts[i] = &fields[0]
	}
	for i := range sels {
		if again := op.CollectFields(oc, sels[i], task); &again[0] != firsts[i] {
			t.Errorf("selection %d of %d: other fields the second time", i, len(sels))
		}
	}
	// gqlgen's own cache would give the same fields back: count what the
	// operation holds, once per selection set.
	if n := len(*op.selections.few.Load()); n != fewRemembered || len(op.selections.more) != len(sels)-fewRemembered {
		t.Errorf("remembered %d in the list and %d in the map, want %d and %d", n, len(op.selections.more), fewRemembered, len(sels)-fewRemembered)
	}
}

// gqlexec's field set holds a value per field, inline or not, and writes
// them as an object, each alias once.
func TestFieldSetWritesItsValues(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, `{}`},
		{2, `{"f0":0,"f1":1}`},
		{4, `{"f0":0,"f1":1,"f2":2}`}, // f0 again at 3: written once
		{5, `{"f0":0,"f1":1,"f2":2}`}, // past the inline values
		{9, `{"f0":0,"f1":1,"f2":2}`},
	} {
		fields := make([]graphql.CollectedField, tc.n)
		fs := NewFieldSet(fields)
		for i := range fields {
			fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: "f" + strconv.Itoa(i%3)}}
			fs.Values[i] = graphql.MarshalInt(i)
		}
		fs.Dispatch(context.Background())
		var got bytes.Buffer
		fs.MarshalGQL(&got)
		if got.String() != tc.want || len(fs.Values) != tc.n {
			t.Errorf("%d fields: wrote %s with %d values, want %s", tc.n, got.String(), len(fs.Values), tc.want)
		}
	}
}

// Fields resolved concurrently go through a gqlgen field set that shares
// the values: they run at Dispatch, a non-null one that resolves to null
// makes the object invalid, a deferred one is null until its payload, and
// an object that selects none of them schedules nothing.
func TestFieldSetSchedulesConcurrentFields(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	oc := &graphql.OperationContext{RecoverFunc: graphql.DefaultRecover}
	field := func(alias string, deferrable *graphql.Deferrable) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}, Deferrables: func() []*graphql.Deferrable {
			if deferrable == nil {
				return nil
			}
			return []*graphql.Deferrable{deferrable}
		}()}
	}
	fields := []graphql.CollectedField{field("id", nil), field("project", nil), field("owner", nil), field("late", &graphql.Deferrable{Label: "later"})}
	fs := NewFieldSet(fields)
	deferred := graphql.DeferredGroup{FieldSet: graphql.NewFieldSet(nil), Defers: map[string]*graphql.FieldSetView{}, Context: ctx}
	var ran atomic.Int32 // gqlgen runs the second field in a goroutine of its own
	fs.Values[0] = graphql.MarshalInt(1)
	fs.ResolveConcurrently(oc, &deferred, 1, true, true, func(context.Context) graphql.Marshaler { ran.Add(1); return graphql.MarshalString("p") })
	fs.ResolveConcurrently(oc, &deferred, 2, true, false, func(context.Context) graphql.Marshaler { ran.Add(1); return graphql.Null })
	fs.ResolveConcurrently(oc, &deferred, 3, true, true, func(context.Context) graphql.Marshaler { ran.Add(1); return graphql.MarshalString("x") })
	if ran.Load() != 0 || fs.Values[1] != nil {
		t.Fatalf("resolved before Dispatch: %d ran", ran.Load())
	}
	fs.Dispatch(ctx)
	var got bytes.Buffer
	fs.MarshalGQL(&got)
	if want := `{"id":1,"project":"p","owner":null,"late":null}`; got.String() != want || ran.Load() != 2 || fs.Invalids != 0 {
		t.Errorf("wrote %s after %d resolvers with %d invalid, want %s after 2 with none", got.String(), ran.Load(), fs.Invalids, want)
	}
	if len(deferred.Defers) != 1 || deferred.Defers["later"] == nil {
		t.Errorf("deferred %v, want the field under label later", deferred.Defers)
	}

	invalid := NewFieldSet(fields[:2])
	invalid.ResolveConcurrently(oc, &deferred, 1, true, true, func(context.Context) graphql.Marshaler { return graphql.Null })
	invalid.Dispatch(ctx)
	if invalid.Invalids != 1 {
		t.Errorf("a non-null field resolved to null: %d invalid, want 1", invalid.Invalids)
	}

	plain := NewFieldSet(fields[:1])
	plain.Values[0] = graphql.MarshalInt(1)
	plain.Dispatch(ctx)
	if plain.scheduled != nil {
		t.Error("an object with no concurrent field made a gqlgen field set")
	}
}

// A plain field that panics is null and reports the panic at its own path,
// as graphql.ResolveField makes it.
func TestRecoverFieldNullsThePanickingField(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	oc := &graphql.OperationContext{RecoverFunc: graphql.DefaultRecover}
	field := func(ctx context.Context) (ret graphql.Marshaler) {
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "TaskEdge", Field: graphql.CollectedField{Field: &ast.Field{Alias: "node", Name: "node"}}})
		defer RecoverField(ctx, oc, &ret)
		panic("marshalling the task broke")
	}
	if got := field(ctx); got != graphql.Null {
		t.Errorf("the field gave %v, want null", got)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Path.String() != "node" {
		t.Errorf("errors %v, want one at node", errs)
	}
}

type testEnum string

func (e testEnum) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(e))) }

// The At marshallers write what gqlgen's write for the same value, the
// value the field holds when the response is written, and cost no
// allocation.
func TestMarshalAtWritesAsGqlgen(t *testing.T) {
	written := func(m graphql.Marshaler) string {
		var b bytes.Buffer
		m.MarshalGQL(&b)
		return b.String()
	}
	for _, s := range []string{"", "plain", "quote \" back\\slash", "tab\tnew\nline\r", "bell\x07 é ✓"} {
		if got, want := written(MarshalStringAt(&s)), written(graphql.MarshalString(s)); got != want {
			t.Errorf("MarshalStringAt(%q) wrote %s, gqlgen %s", s, got, want)
		}
	}
	for _, i := range []int{0, -1, 7, 1 << 40} {
		if got, want := written(MarshalIntAt(&i)), written(graphql.MarshalInt(i)); got != want {
			t.Errorf("MarshalIntAt(%d) wrote %s, gqlgen %s", i, got, want)
		}
	}
	for _, b := range []bool{false, true} {
		if got, want := written(MarshalBooleanAt(&b)), written(graphql.MarshalBoolean(b)); got != want {
			t.Errorf("MarshalBooleanAt(%v) wrote %s, gqlgen %s", b, got, want)
		}
	}
	e := testEnum("IN_PROGRESS")
	if got := written(MarshalerAt(&e)); got != `"IN_PROGRESS"` {
		t.Errorf("MarshalerAt wrote %s", got)
	}

	title := "before"
	m := MarshalStringAt(&title)
	title = "after"
	if got := written(m); got != `"after"` {
		t.Errorf("wrote %s, want the value when written", got)
	}

	n, ok := 3, true
	var sink graphql.Marshaler
	if allocs := testing.AllocsPerRun(100, func() {
		sink = MarshalStringAt(&title)
		sink = MarshalIntAt(&n)
		sink = MarshalBooleanAt(&ok)
		sink = MarshalerAt(&e)
	}); allocs != 0 {
		t.Errorf("%v allocations, want none", allocs)
	}
	_ = sink
}

// contextFreeSchema has the shapes ContextFree tells apart; contextFreeObjects
// is the table the rewrite would write for it (createdAt is not plain).
const contextFreeSchema = `
type Query { connection: TaskConnection, required: Task!, strict: [Task!], search: [Result] }
interface Node { id: ID! }
type TaskConnection { edges: [TaskEdge], totalCount: Int! }
type TaskEdge { node: Task, cursor: String! }
type Task implements Node { id: ID! title: String! createdAt: String! project: Project owner: Task! }
type Project implements Node { id: ID! }
union Result = Task | Project
`

var contextFreeObjects = Objects{
	"TaskConnection": {Implementors: []string{"TaskConnection"}, Fields: map[string]FieldKind{"edges": Descends, "totalCount": Bare}},
	"TaskEdge":       {Implementors: []string{"TaskEdge"}, Fields: map[string]FieldKind{"node": Descends, "cursor": Bare}},
	"Task":           {Implementors: []string{"Task", "Node"}, Fields: map[string]FieldKind{"id": Bare, "title": Bare, "project": Descends, "owner": Descends}},
	"Project":        {Implementors: []string{"Project", "Node"}, Fields: map[string]FieldKind{"id": Bare}},
}

// A plain field that descends skips its field context only when nothing
// selected below it, at any depth, could read one: a resolver, a
// marshaller that can fail, a deferred fragment, or a null the schema does
// not allow (each an error whose path the context gives).
func TestContextFree(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: contextFreeSchema})
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`{ connection { totalCount edges { cursor node { id title __typename } } } }`, true},
		{`{ connection { edges { node { id project { id ... on Node { id } } } } } }`, true},
		{`query($hide: Boolean = true) { connection { edges { node { id createdAt @skip(if: $hide) } } } }`, true},
		// createdAt is not plain: its marshaller could fail.
		{`{ connection { edges { node { id createdAt } } } }`, false},
		{`{ connection { edges { node { project { id } createdAt } } } }`, false},
		// owner is an object the schema does not let be null.
		{`{ connection { edges { node { owner { id } } } } }`, false},
		{`{ connection { edges { node { id ... @defer { title } } } } }`, false},
		{`{ connection { edges { cursor } } }`, true},
		// The descending fields themselves: non-null, a list of non-null
		// elements, a union.
		{`{ required { id } }`, false},
		{`{ strict { id } }`, false},
		{`{ search { ... on Task { id } } }`, false},
	} {
		doc, errs := gqlparser.LoadQuery(schema, tc.query)
		if errs != nil {
			t.Fatalf("%s: %v", tc.query, errs)
		}
		oc := &graphql.OperationContext{Doc: doc, Variables: map[string]any{"hide": true}}
		Prepare(oc, true)
		op := OperationOf(oc)
		root := op.CollectFields(oc, doc.Operations[0].SelectionSet, []string{"Query"})[0]
		field := root
		if root.Name == "connection" { // its edges: the list below the connection
			for _, f := range op.CollectFields(oc, root.Selections, contextFreeObjects["TaskConnection"].Implementors) {
				if f.Name == "edges" {
					field = f
				}
			}
		}
		ctx := context.Background()
		for range 2 { // the second answer is the remembered one
			got, ok := op.ContextFree(ctx, oc, field, contextFreeObjects)
			if ok != tc.want {
				t.Errorf("%s: context-free %v, want %v", tc.query, ok, tc.want)
			}
			if !ok && got != ctx {
				t.Errorf("%s: not context-free, yet a new context", tc.query)
			}
			// A list's elements share one context, marked for MarshalSlice.
			if fc := graphql.GetFieldContext(got); ok && (fc == nil || fc.Result != elementsShareContext{} || fc.Field.Name != field.Name) {
				t.Errorf("%s: the list's context has field context %+v, want the list's, shared", tc.query, fc)
			}
		}
	}
}

// Under ContextFree's context a list's elements share it: no context per
// element, and a panic still nulls its element and is reported, at the list.
func TestMarshalSliceSharesAContextFreeContext(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	edges := graphql.CollectedField{Field: &ast.Field{Alias: "edges", Name: "edges"}}
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: edges, Result: elementsShareContext{}})
	got := MarshalSlice(ctx, 3, 0, false, func(elementCtx context.Context, i int) graphql.Marshaler {
		if elementCtx != ctx {
			t.Errorf("element %d: a context of its own", i)
		}
		if i == 1 {
			panic("element 1 broke")
		}
		return graphql.MarshalInt(i)
	})
	var b bytes.Buffer
	got.MarshalGQL(&b)
	if b.String() != "[0,null,2]" {
		t.Errorf("got %s, want [0,null,2]", b.String())
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || errs[0].Path.String() != "edges" {
		t.Errorf("errors %v, want the panic at edges", errs)
	}
	element := func(ctx context.Context, i int) graphql.Marshaler { return graphql.Null }
	if n := testing.AllocsPerRun(100, func() { MarshalSlice(ctx, 10, 0, false, element) }); n != 1 {
		t.Errorf("%v allocations for 10 elements, want 1 (the array)", n)
	}
}

// The operation's field sets come from shared blocks: each is its own
// (values written to one stay there), goroutines running concurrent fields
// may take them at once, and a page's 231 objects cost a handful of
// allocations rather than 231.
func TestOperationSharesOutFieldSets(t *testing.T) {
	fields := []graphql.CollectedField{{Field: &ast.Field{Alias: "id"}}, {Field: &ast.Field{Alias: "title"}}}
	oc := &graphql.OperationContext{}
	Prepare(oc, true)
	op := OperationOf(oc)
	const perGoroutine, goroutines = 100, 4
	sets := make([][]*FieldSet, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				fs := op.NewFieldSet(fields)
				fs.Values[0] = graphql.MarshalInt(g*perGoroutine + i)
				fs.Values[1] = graphql.Null
				sets[g] = append(sets[g], fs)
			}
		})
	}
	wg.Wait()
	seen := map[*FieldSet]bool{}
	for g := range sets {
		for i, fs := range sets[g] {
			var b bytes.Buffer
			fs.MarshalGQL(&b)
			if want := `{"id":` + strconv.Itoa(g*perGoroutine+i) + `,"title":null}`; b.String() != want || seen[fs] {
				t.Fatalf("field set %d of goroutine %d: %s (seen before: %v), want %s", i, g, b.String(), seen[fs], want)
			}
			seen[fs] = true
		}
	}
	if n := testing.AllocsPerRun(10, func() {
		op := &Operation{}
		for range 231 {
			op.NewFieldSet(fields)
		}
	}); n > 10 {
		t.Errorf("%v allocations for 231 field sets, want at most 10", n)
	}
	var none *Operation
	if fs := none.NewFieldSet(fields); len(fs.Values) != 2 {
		t.Errorf("without an operation: %d values, want 2", len(fs.Values))
	}
}

// A field's arguments are remembered per field of the document, and only
// while no field interceptor could change them (PlainFields).
func TestArgsAreRememberedPerField(t *testing.T) {
	first := graphql.CollectedField{Field: &ast.Field{Alias: "a", Name: "tasks"}}
	second := graphql.CollectedField{Field: &ast.Field{Alias: "b", Name: "tasks"}}
	for _, plain := range []bool{true, false} {
		oc := &graphql.OperationContext{}
		Prepare(oc, plain)
		op := OperationOf(oc)
		if _, ok := op.Args(first); ok {
			t.Fatalf("plain %v: arguments before any were remembered", plain)
		}
		op.RememberArgs(first, map[string]any{"first": 1})
		got, ok := op.Args(first)
		if ok != plain || (plain && got["first"] != 1) {
			t.Errorf("plain %v: remembered %v (%v), want them only with plain fields", plain, got, ok)
		}
		if _, ok := op.Args(second); ok {
			t.Errorf("plain %v: another field got the first's arguments", plain)
		}
	}
	// Past the list, in the map.
	oc := &graphql.OperationContext{}
	Prepare(oc, true)
	op := OperationOf(oc)
	fields := make([]graphql.CollectedField, 3*fewRemembered)
	for i := range fields {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: "f" + strconv.Itoa(i)}}
		op.RememberArgs(fields[i], map[string]any{"i": i})
	}
	for i := range fields {
		if got, ok := op.Args(fields[i]); !ok || got["i"] != i {
			t.Errorf("field %d of %d: arguments %v (%v)", i, len(fields), got, ok)
		}
	}
}
