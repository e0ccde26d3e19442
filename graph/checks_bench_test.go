package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"github.com/feedbackloop/feedbackloop/graph/generated"
)

// BenchmarkChecksBeforeExecution is the per-request cost of the limits
// (root fields, NUL, page sizes, depth, complexity) on the README's board
// query, a parsed document as gqlgen's query cache hands it to every
// request: with literal arguments (bench/'s query) and with the nested page
// size from a variable.
func BenchmarkChecksBeforeExecution(b *testing.B) {
	const query = `query VARS { projects(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { node { id name tasks(first: FIRST, orderBy: {field: PRIORITY, direction: DESC}, where: {statusNotIn: [DONE]}) {
			totalCount edges { node { id title priority status estimatedHours } } } } } } }`
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Complexity: complexity()})
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
