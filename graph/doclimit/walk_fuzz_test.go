package doclimit

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// FuzzWalkers feeds documents to the checks before execution (depth, page
// size, complexity, root fields, NUL). None may panic, and on documents small
// enough to expand, each must agree with the plain recursive walk it replaces
// (gqlgen's own complexity calculation, for complexity), for two sets of
// variables in turn: the second request finds the shape the first one
// cached, and must still be judged by its own variables.
func FuzzWalkers(f *testing.F) {
	for _, seed := range []string{
		`{ projects(first: 2) { totalCount edges { node { id tasks(first: 3) { edges { node { title } } } } } } }`,
		`{ ...A } fragment A on Query { ...B ...B } fragment B on Query { projects(first: 1) { totalCount } __typename }`,
		`query($n: Int) { tasks(first: $n) { edges { node { project { name } } } } }`,
		`query($n: Int) { projects(first: 3) { edges { node { ...T } } } } fragment T on Project { a: tasks(first: $n) { totalCount } ...U ...U } fragment U on Project { b: tasks(last: 2) { totalCount } }`,
		`query($n: Int, $s: String) { ...A ...A } fragment A on Query { ...B ...B } fragment B on Query { projects(first: $n, where: {nameContains: $s}) { totalCount } }`,
		`{ node(id: "x") { id ... on Project { tasks(last: 5) { totalCount } } } }`,
		`{ __schema { types { name fields { name } } } projects(first: 200) { totalCount } }`,
		`{ a: projects(first: 1) { ...P } b: projects(first: 2) { ...P } } fragment P on ProjectConnection { edges { node { ...N } } } fragment N on Project { id name }`,
		`mutation { createProject(input: {name: "x"}) { id tasks(first: 3) { totalCount } } }`,
		`{ a: __schema { types { name } } b: __schema { queryType { name } } ...S } fragment S on Query { c: __schema { types { name } } __type(name: "Project") { name } }`,
		`mutation { a: submitFeedback(input: {projectID: "x", feedbackText: "y\u0000"}) { id } ...M } fragment M on Mutation { b: retryFeedback(id: "z") { id } a: submitFeedback(input: {projectID: "x", feedbackText: "y\u0000"}) { id } }`,
		`query($s: ID!) { node(id: $s) { id } }`,
		`mutation($s: String!) { submitFeedback(input: {projectID: "x", feedbackText: $s}) { id } }`,
	} {
		f.Add(seed)
	}
	es := testSchema()
	schema := es.Schema()
	f.Fuzz(func(t *testing.T, src string) {
		doc, errs := gqlparser.LoadQuery(schema, src)
		if len(errs) > 0 || len(doc.Operations) == 0 {
			return
		}
		op := doc.Operations[0]
		checks := Checks(es, CheckLimits{MaxComplexity: math.MaxInt, MaxDepth: math.MaxInt, MaxRootFields: math.MaxInt, MaxSubmissions: math.MaxInt, MaxPageSize: testPageSize, SubmissionFields: []string{"submitFeedback", "retryFeedback"}})
		for _, vars := range []map[string]any{
			{"n": int64(7), "s": "plain"},
			{"n": int64(150), "s": "with\x00NUL"},
		} {
			oc := &graphql.OperationContext{Doc: doc, Operation: op, OperationName: op.Name, Variables: vars}
			ctx := graphql.WithOperationContext(context.Background(), oc)
			errs := map[string]*gqlerror.Error{}
			for _, c := range checks {
				if m, ok := c.(graphql.OperationContextMutator); ok {
					errs[c.ExtensionName()] = m.MutateOperationContext(ctx, oc)
				}
			}
			shape := oc.Stats.GetExtension(shapeStatsKey).(*operationShape)
			cost := extension.GetComplexityStats(ctx)

			if len(doc.Fragments) > 8 || strings.Count(src, "...") > 24 {
				return // the plain walks could take exponential time
			}
			if want := naiveDepth(op.SelectionSet); shape.depth != want {
				t.Fatalf("depth %d, plain walk %d", shape.depth, want)
			}
			if want := naivePageCheck(oc, op.SelectionSet); (errs["PageLimit"] == nil) != want {
				t.Fatalf("page check error %v, plain walk ok=%v (variables %v)", errs["PageLimit"], want, vars)
			}
			if want := naiveValueCheck(oc, op.SelectionSet); (errs["CheckValues"] == nil) != want {
				t.Fatalf("value check error %v, plain walk ok=%v (variables %v)", errs["CheckValues"], want, vars)
			}
			// gqlgen prices __schema at 0; this package prices it like any field.
			if cost == nil {
				t.Fatalf("no complexity recorded")
			}
			if want := gqlcomplexity.Calculate(ctx, es, op, vars) + naiveSchemaCost(op.SelectionSet); cost.Complexity != want {
				t.Fatalf("complexity %d, gqlgen's plus __schema's %d (variables %v)", cost.Complexity, want, vars)
			}
			want := map[string]string{}
			naiveRootKeys(op.SelectionSet, want)
			if fmt.Sprint(shape.rootKeys) != fmt.Sprint(want) {
				t.Fatalf("root keys %v, plain walk %v", shape.rootKeys, want)
			}
		}
	})
}

// naiveValueCheck reports whether no argument, at any spread, holds a
// value checkValues refuses.
func naiveValueCheck(oc *graphql.OperationContext, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, arg := range sel.Arguments {
				if v, err := arg.Value.Value(oc.Variables); err == nil {
					if valueProblem(v, arg.Name) != nil {
						return false
					}
				}
			}
			if !naiveValueCheck(oc, sel.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if !naiveValueCheck(oc, sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if sel.Definition != nil && !naiveValueCheck(oc, sel.Definition.SelectionSet) {
				return false
			}
		}
	}
	return true
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
	p := pageLimit{max: testPageSize}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Definition != nil && isConnection(sel.Definition.Type) && p.checkField(sel, "", sel.ArgumentMap(oc.Variables)) != nil {
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

// BenchmarkWalkersOnAFragmentBomb is the cost of first sight of a document
// whose fragments spread each other twice, 60 levels deep: what an attacker
// pays for with every new document.
func BenchmarkWalkersOnAFragmentBomb(b *testing.B) {
	es := testSchema()
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
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{Doc: doc, Operation: op})
	shapes := newShapes(es, nil)
	b.ReportAllocs()
	for b.Loop() {
		shape := shapes.walk(ctx, op)
		if shape.cost.fixed < 1<<40 {
			b.Fatalf("the bomb costs %d", shape.cost.fixed)
		}
	}
}
