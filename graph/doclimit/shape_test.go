package doclimit

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/pricing"
)

// Requests carrying the same parsed operation (gqlgen's query cache hands
// it out) share one walk; another parse of the same text is walked afresh,
// since its fields are other pointers.
func TestShapeIsWalkedOncePerOperation(t *testing.T) {
	es := testSchema()
	const src = `query($n: Int) { projects(first: $n) { totalCount } }`
	parse := func() *graphql.OperationContext {
		doc, errs := gqlparser.LoadQuery(es.Schema(), src)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	}
	s := newShapes(es, nil)
	first := parse()
	again := &graphql.OperationContext{Doc: first.Doc, Operation: first.Operation}
	if a, b := s.of(context.Background(), first), s.of(context.Background(), again); a != b {
		t.Fatalf("the same operation was walked twice")
	}
	if a, b := s.of(context.Background(), first), s.of(context.Background(), parse()); a == b {
		t.Fatalf("another parse shares a shape that points into the first parse's fields")
	}
	if got := s.cost(context.Background(), &graphql.OperationContext{Doc: first.Doc, Operation: first.Operation, Variables: map[string]any{"n": int64(40)}}); got != 1+40*1 {
		t.Fatalf("cost %d with n = 40, want 41", got)
	}
}

// testPageSize is the page-size limit these tests check against.
const testPageSize = 100

// testSchema is the service's schema priced as the service prices it; the
// checks never call its resolvers.
func testSchema() graphql.ExecutableSchema {
	return generated.NewExecutableSchema(generated.Config{Complexity: pricing.Complexity(testPageSize)})
}
