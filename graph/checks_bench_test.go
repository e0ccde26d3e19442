package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/pricing"
)

// BenchmarkChecksBeforeExecution is the per-request cost of the limits
// (root fields, NUL, page sizes, depth, complexity) on the query the
// README's tour reads the graph with, a parsed document as gqlgen's query
// cache hands it to every request: with literal arguments (bench/'s readme
// query) and with the nested page size from a variable.
func BenchmarkChecksBeforeExecution(b *testing.B) {
	const query = `query VARS { projects(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { node { id name tasks(first: FIRST, orderBy: {field: PRIORITY, direction: DESC}, where: {statusNotIn: [DONE]}) {
			totalCount edges { node { id title priority status estimatedHours } } } } } } }`
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Complexity: pricing.Complexity(MaxNodes)})
	for _, first := range []string{"20", "$first"} {
		b.Run("first="+first, func(b *testing.B) {
			vars := ""
			if first == "$first" {
				vars = "($first: Int)"
			}
			doc, errs := gqlparser.LoadQuery(es.Schema(), strings.NewReplacer("FIRST", first, "VARS", vars).Replace(query))
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			checks := checksBeforeExecution(Limits{}.withDefaults(), es)
			b.ReportAllocs()
			for b.Loop() {
				oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{"first": int64(20)}}
				ctx := graphql.WithOperationContext(context.Background(), oc)
				for _, c := range checks {
					if m, ok := c.(graphql.OperationContextMutator); ok {
						if err := m.MutateOperationContext(ctx, oc); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

// BenchmarkHostileDocuments is what the document limits let through at
// worst, and what they refuse: each document is checked (lexed, measured,
// validated) as the first time a server sees it. "within" documents sit
// just under the default limits and are the slowest shapes found: fields of
// one response name compared pairwise at two levels, unknown fields with
// suggestions. "probe" documents are the hostile probe's, which validated
// for up to 20 s before the limits.
func BenchmarkHostileDocuments(b *testing.B) {
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Complexity: pricing.Complexity(MaxNodes)})
	repeat := func(n int, format string) string {
		var s strings.Builder
		for i := range n {
			fmt.Fprintf(&s, format, i)
		}
		return s.String()
	}
	nested := "{ " + strings.Repeat("p: projects(first: 1) { e: edges { n: node { "+strings.Repeat("t: tasks(first: 1) { c: totalCount } ", 26)+"} } } ", 26) + "}"
	for _, c := range []struct{ name, doc string }{
		{"within/same name, two levels", nested},
		{"within/1,990 unknown fields", "{ viewer { " + repeat(1990, "zz%d ") + "} }"},
		{"within/30 conflicting aliases x 27 names", "{ " + repeat(27*30, `x%[1]d: node(id: "%[1]d") { id } `) + "}"},
		{"probe/2,000 aliases of one name", "{ ...F } fragment F on Query { " + repeat(2000, `x: node(id: "%d") { id } `) + "}"},
		{"probe/16,000 repeats", "{ viewer { " + strings.Repeat("subject ", 16_000) + "} }"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				check := doclimit.New(doclimit.Config{Schema: es.Schema(), Cache: lru.New[*ast.QueryDocument](1), Suggestions: true})
				ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
				_ = check.MutateOperationParameters(ctx, &graphql.RawParams{Query: c.doc})
			}
		})
	}
}
