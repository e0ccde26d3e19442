package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/graph/generated"
)

// FuzzWalkers feeds documents to the pre-execution walkers (depth, page size,
// complexity, root fields, NUL). None may panic, and on documents small enough to expand, each
// must agree with the plain recursive walk it replaces (gqlgen's own
// complexity calculation, for complexity).
func FuzzWalkers(f *testing.F) {
	for _, seed := range []string{
		`{ projects(first: 2) { totalCount edges { node { id tasks(first: 3) { edges { node { title } } } } } } }`,
		`{ ...A } fragment A on Query { ...B ...B } fragment B on Query { projects(first: 1) { totalCount } __typename }`,
		`query($n: Int) { tasks(first: $n) { edges { node { project { name } } } } }`,
		`{ node(id: "x") { id ... on Project { tasks(last: 5) { totalCount } } } }`,
		`{ __schema { types { name fields { name } } } projects(first: 200) { totalCount } }`,
		`{ a: projects(first: 1) { ...P } b: projects(first: 2) { ...P } } fragment P on ProjectConnection { edges { node { ...N } } } fragment N on Project { id name }`,
		`mutation { createProject(input: {name: "x"}) { id tasks(first: 3) { totalCount } } }`,
		`{ a: __schema { types { name } } b: __schema { queryType { name } } ...S } fragment S on Query { c: __schema { types { name } } __type(name: "Project") { name } }`,
		`mutation { a: submitFeedback(input: {projectID: "x", feedbackText: "y\u0000"}) { id } ...M } fragment M on Mutation { b: retryFeedback(id: "z") { id } a: submitFeedback(input: {projectID: "x", feedbackText: "y\u0000"}) { id } }`,
	} {
		f.Add(seed)
	}
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Complexity: complexity()})
	schema := es.Schema()
	limit := &complexityLimit{max: 1 << 40}
	if err := limit.Validate(es); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		doc, errs := gqlparser.LoadQuery(schema, src)
		if len(errs) > 0 || len(doc.Operations) == 0 {
			return
		}
		op := doc.Operations[0]
		oc := &graphql.OperationContext{Doc: doc, Operation: op, OperationName: op.Name, Variables: map[string]any{"n": int64(7)}}
		ctx := graphql.WithOperationContext(context.Background(), oc)

		depth := selectionDepth(op.SelectionSet, map[string]int{})
		pageErr := pageLimit{max: MaxPageSize}.check(oc, op.SelectionSet, nil, map[string]bool{})
		cw := complexityWalker{es: es, schema: schema, vars: oc.Variables, memo: map[string]int{}}
		cost := cw.selectionSet(ctx, op.SelectionSet)
		_ = limit.MutateOperationContext(ctx, oc)
		keys := map[string]string{}
		rootKeys(op.SelectionSet, keys, map[string]bool{})
		_ = findNUL(oc, op.SelectionSet, map[string]bool{})

		if len(doc.Fragments) > 8 || strings.Count(src, "...") > 24 {
			return // the plain walks could take exponential time
		}
		if want := naiveDepth(op.SelectionSet); depth != want {
			t.Fatalf("depth %d, plain walk %d", depth, want)
		}
		if want := naivePageCheck(oc, op.SelectionSet); (pageErr == nil) != want {
			t.Fatalf("page check error %v, plain walk ok=%v", pageErr, want)
		}
		// gqlgen prices __schema at 0; this package prices it like any field.
		if want := gqlcomplexity.Calculate(ctx, es, op, oc.Variables) + naiveSchemaCost(op.SelectionSet); cost != want {
			t.Fatalf("complexity %d, gqlgen's plus __schema's %d", cost, want)
		}
		want := map[string]string{}
		naiveRootKeys(op.SelectionSet, want)
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Fatalf("root keys %v, plain walk %v", keys, want)
		}
	})
}

// naiveSchemaCost prices the __schema fields of a root selection set, at
// every spread: one per field.
func naiveSchemaCost(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__schema" {
				total += naiveFieldCount(sel.SelectionSet) + 1
			}
		case *ast.InlineFragment:
			total += naiveSchemaCost(sel.SelectionSet)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				total += naiveSchemaCost(sel.Definition.SelectionSet)
			}
		}
	}
	return total
}

func naiveFieldCount(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			total += 1 + naiveFieldCount(sel.SelectionSet)
		case *ast.InlineFragment:
			total += naiveFieldCount(sel.SelectionSet)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				total += naiveFieldCount(sel.Definition.SelectionSet)
			}
		}
	}
	return total
}

// naiveRootKeys collects root response keys at every spread.
func naiveRootKeys(set ast.SelectionSet, keys map[string]string) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			keys[responseKey(sel)] = sel.Name
		case *ast.InlineFragment:
			naiveRootKeys(sel.SelectionSet, keys)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				naiveRootKeys(sel.Definition.SelectionSet, keys)
			}
		}
	}
}

// naiveDepth walks every spread, as the depth limit once did.
func naiveDepth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(sel.Name, "__") {
				deepest = max(deepest, 1+naiveDepth(sel.SelectionSet))
			}
		case *ast.InlineFragment:
			deepest = max(deepest, naiveDepth(sel.SelectionSet))
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				deepest = max(deepest, naiveDepth(sel.Definition.SelectionSet))
			}
		}
	}
	return deepest
}

// naivePageCheck reports whether every connection field, at every spread,
// asks for an allowed page.
func naivePageCheck(oc *graphql.OperationContext, set ast.SelectionSet) bool {
	p := pageLimit{max: MaxPageSize}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Definition != nil && isConnection(sel.Definition.Type) && p.checkField(oc, sel, nil) != nil {
				return false
			}
			if !naivePageCheck(oc, sel.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if !naivePageCheck(oc, sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if sel.Definition != nil && !naivePageCheck(oc, sel.Definition.SelectionSet) {
				return false
			}
		}
	}
	return true
}

func BenchmarkWalkersOnAFragmentBomb(b *testing.B) {
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Complexity: complexity()})
	var src strings.Builder
	src.WriteString("{...F0}\n")
	const n = 60
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&src, "fragment F%d on Query {...F%d ...F%d}\n", i, i+1, i+1)
	}
	fmt.Fprintf(&src, "fragment F%d on Query {__typename projects(first: 1) { totalCount }}\n", n-1)
	doc, errs := gqlparser.LoadQuery(es.Schema(), src.String())
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	op := doc.Operations[0]
	oc := &graphql.OperationContext{Doc: doc, Operation: op}
	ctx := graphql.WithOperationContext(context.Background(), oc)
	b.ReportAllocs()
	for b.Loop() {
		selectionDepth(op.SelectionSet, map[string]int{})
		_ = pageLimit{max: MaxPageSize}.check(oc, op.SelectionSet, nil, map[string]bool{})
		cw := complexityWalker{es: es, schema: es.Schema(), memo: map[string]int{}}
		cw.selectionSet(ctx, op.SelectionSet)
	}
}
