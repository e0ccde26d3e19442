package main

import (
	"bytes"
	"strings"
	"testing"
)

// The rewrite swaps the helpers, sets the path where deferred fields are
// processed, imports gqlexec, and refuses output it does not recognise.
func TestRewrite(t *testing.T) {
	const generated = `package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

func (ec *executionContext) _Task(ctx context.Context) graphql.Marshaler {
	deferred := graphql.NewDeferredGroup(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}
	return graphql.MarshalSliceConcurrently(ctx, 2, 0, false, nil)
}
`
	out, err := rewrite([]byte(generated))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\t\"github.com/99designs/gqlgen/graphql\"\n\t\"github.com/feedbackloop/feedbackloop/internal/gqlexec\"\n",
		"deferred := gqlexec.NewDeferredGroup(ctx)",
		"deferred.Path = graphql.GetPath(ctx)\n\t\tec.ProcessDeferredGroup(deferred)",
		"return gqlexec.MarshalSlice(ctx, 2, 0, false, nil)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the rewritten file lacks %q:\n%s", want, out)
		}
	}
	if again, err := rewrite(out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second rewrite changed the file or failed (%v)", err)
	}
	changed := strings.Replace(generated, "graphql.MarshalSliceConcurrently(", "graphql.MarshalSliceInParallel(", 1)
	if _, err := rewrite([]byte(changed)); err == nil || !strings.Contains(err.Error(), "MarshalSliceConcurrently") {
		t.Errorf("a file without the call to rewrite: err %v, want one naming it", err)
	}
}
