package doclimit

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// rootFieldLimit refuses, before anything runs, an operation with more root
// fields than maxFields (aliases count: each alias runs on its own), more
// submissions than maxSubmissions, more than one __schema, or, when
// introspection is off, an introspection field. It records what it counted
// for the rate limiter.
type rootFieldLimit struct {
	maxFields, maxSubmissions int
	noIntrospection           bool
	shapes                    *shapes
}

var (
	_ graphql.HandlerExtension        = rootFieldLimit{}
	_ graphql.OperationContextMutator = rootFieldLimit{}
)

func (rootFieldLimit) ExtensionName() string                   { return "RootFieldLimit" }
func (rootFieldLimit) Validate(graphql.ExecutableSchema) error { return nil }

// rootStats is what rootFieldLimit counted.
type rootStats struct {
	Fields      int // distinct response keys at the root
	Submissions int
}

const rootStatsKey = "RootFields"

func rootStatsOf(oc *graphql.OperationContext) rootStats {
	s, _ := oc.Stats.GetExtension(rootStatsKey).(rootStats)
	return s
}

func (r rootFieldLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	root := r.shapes.of(ctx, oc).root
	if r.noIntrospection && root.introspection {
		err := gqlerror.Errorf("introspection is disabled on this server (GRAPHQL_INTROSPECTION=false); the schema is in the project's schema.graphql")
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	stats, schemas := root.stats, root.schemas
	oc.Stats.SetExtension(rootStatsKey, stats)
	switch {
	case schemas > 1:
		// Each full introspection answers 140-170 KB and costs the server
		// ~25 ms; no client needs the same schema twice in one answer.
		err := gqlerror.Errorf("the operation asks for __schema %d times (aliases count); ask once", schemas)
		err.Extensions = map[string]any{"code": CodeRootFieldLimit, "field": "__schema", "rootFields": schemas, "limit": 1}
		return err
	case stats.Fields > r.maxFields:
		err := gqlerror.Errorf("the operation has %d root fields (aliases count); the limit is %d: split it into several requests", stats.Fields, r.maxFields)
		err.Extensions = map[string]any{"code": CodeRootFieldLimit, "rootFields": stats.Fields, "limit": r.maxFields}
		return err
	case stats.Submissions > r.maxSubmissions:
		err := gqlerror.Errorf("the operation submits %d feedbacks (%s, aliases count); the limit is %d per request", stats.Submissions, r.shapes.submissionNames(), r.maxSubmissions)
		err.Extensions = map[string]any{"code": CodeSubmissionLimit, "submissions": stats.Submissions, "limit": r.maxSubmissions}
		return err
	}
	return nil
}

// rootCount is what an operation's root fields say, whatever the
// variables: counted once per operation (operationShape).
type rootCount struct {
	stats         rootStats
	schemas       int  // __schema fields
	introspection bool // a __schema or __type field
}

func countRoot(keys map[string]string, submissions map[string]bool) rootCount {
	c := rootCount{stats: rootStats{Fields: len(keys)}}
	for _, name := range keys {
		if submissions[name] {
			c.stats.Submissions++
		}
		switch name {
		case "__schema":
			c.schemas++
			c.introspection = true
		case "__type":
			c.introspection = true
		}
	}
	return c
}

// rootKeys collects the response keys (alias, or name) of the fields of a
// root selection set, through fragments. Execution merges fields with the
// same key, so keys, not occurrences, are what runs. A fragment adds the
// same keys wherever it is spread, so each is walked once: the walk is
// linear in the document however often fragments spread each other.
func rootKeys(set ast.SelectionSet, keys map[string]string, walked map[string]bool) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			keys[responseKey(sel)] = sel.Name
		case *ast.InlineFragment:
			rootKeys(sel.SelectionSet, keys, walked)
		case *ast.FragmentSpread:
			if sel.Definition == nil || walked[sel.Name] {
				continue
			}
			walked[sel.Name] = true
			rootKeys(sel.Definition.SelectionSet, keys, walked)
		}
	}
}

func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}
