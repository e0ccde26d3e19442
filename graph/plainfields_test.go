package graph_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	gqlgraphql "github.com/99designs/gqlgen/graphql"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/feedbackloop/feedbackloop/graph"
)

// Plain fields skip graphql.ResolveField unless an installed field
// interceptor needs to see them (third_party/PATCHES.md, gqlgen patch 0003).
// A server with one that sees every field must answer the same query with
// the same bytes; a server with tracing, whose interceptor passes plain
// fields through, writes them directly and still traces its resolvers.
func TestPlainFieldsAnswerAsResolvedFieldsDo(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tracing := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	t.Cleanup(func() { _ = tracing.Shutdown(context.Background()) })
	plain := newEnv(t)
	var intercepted atomic.Int64
	resolved := newEnvWith(t, func(c *graph.Config) {
		graph.AddFieldInterceptor(c, func(ctx context.Context, next gqlgraphql.Resolver) (any, error) {
			intercepted.Add(1)
			return next(ctx)
		})
	})
	traced := newEnvWith(t, func(c *graph.Config) { c.Tracing = tracing })

	// Fields of every plain kind: IDs, strings, a null and a set nullable
	// string, ints, enums, cursors; an alias used twice (fragment and field)
	// and one under two names.
	const query = `{ projects(first: 5) { totalCount edges { cursor node {
		id ... on Node { id } name description status
		tasks(first: 5) { edges { node { id title again: title description status priority version projectID } } }
	} } } }`
	var answers []string
	var queried int64 // fields the interceptor saw in the query
	for _, e := range []*env{plain, resolved, traced} {
		p := e.createProject("Checkout")
		e.mustDo(`mutation($id: ID!) { updateProject(id: $id, input: {description: "the new flow"}) { id } }`,
			map[string]any{"id": p.ID}, nil)
		e.createProject("Search")
		e.createTask(p.ID, `Fix "quotes" and \ slashes`, 3)
		e.createTask(p.ID, "Ship", 0)
		before := intercepted.Load()
		resp := e.do(query, nil)
		if e == resolved {
			queried = intercepted.Load() - before
		}
		if len(resp.Errors) > 0 {
			t.Fatalf("errors: %+v", resp.Errors)
		}
		answers = append(answers, string(resp.Data))
	}
	if answers[0] != answers[1] || answers[0] != answers[2] {
		t.Errorf("plain fields answered\n%s\nresolved fields answered\n%s\nwith tracing\n%s", answers[0], answers[1], answers[2])
	}
	// 3 at the root, 8 per project (2), 9 per task (2).
	if queried != 37 {
		t.Errorf("the interceptor saw %d fields of the query, want all 37", queried)
	}
	traced.do(query, nil)
	var projectsSpans int
	for _, s := range recorder.Ended() {
		if s.Name() == "Query/projects" {
			projectsSpans++
		}
	}
	if projectsSpans == 0 {
		t.Errorf("the traced server recorded no Query/projects span: its field interceptor did not run")
	}
}

// Lists are marshalled in order with their elements' field contexts made
// in one allocation (third_party/PATCHES.md, gqlgen patch 0001). An error
// below a resolver in a page still carries every list index and field on
// its path.
func TestErrorsBelowPagesKeepTheirPaths(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Checkout")
	e.createTask(p.ID, "Ship", 1)
	e.createTask(p.ID, "Test", 2)
	resp := e.do(`{ projects(first: 2) { edges { node { id tasks(first: 2) { edges { node { id title
		project { tasks(first: 1, where: {idIn: ["not-an-id"]}) { totalCount } } } } } } } } }`, nil)
	var paths []string
	for _, err := range resp.Errors {
		paths = append(paths, fmt.Sprint(err.Path))
	}
	slices.Sort(paths)
	want := []string{
		"[projects edges 0 node tasks edges 0 node project tasks where idIn 0]",
		"[projects edges 0 node tasks edges 1 node project tasks where idIn 0]",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("error paths %q, want %q (errors %+v)", paths, want, resp.Errors)
	}
}
