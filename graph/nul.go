package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noNUL refuses string arguments containing the NUL character before
// anything runs. PostgreSQL cannot store NUL in text and rejects it in
// comparisons, so without this check any string could turn a request into
// an INTERNAL error.
type noNUL struct{ shapes *shapes }

var (
	_ graphql.HandlerExtension        = noNUL{}
	_ graphql.OperationContextMutator = noNUL{}
)

func (noNUL) ExtensionName() string                   { return "NoNUL" }
func (noNUL) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the arguments the operation's shape lists:
// literals were checked once, when the shape was made; arguments that use
// variables are checked with this request's.
func (n noNUL) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, site := range n.shapes.of(ctx, oc).arguments {
		path := site.nulPath
		if path == "" {
			v, err := site.arg.Value.Value(oc.Variables)
			if err != nil {
				continue // validation reports it
			}
			var found bool
			if path, found = nulIn(v, site.arg.Name); !found {
				continue
			}
		}
		return inputErrorAt(site.field, path, path+" must not contain the NUL character (\\u0000)")
	}
	return nil
}

// nulIn returns the path of the first string in v that contains NUL.
func nulIn(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case map[string]any:
		for k, item := range v {
			if p, ok := nulIn(item, path+"."+k); ok {
				return p, true
			}
		}
	case []any:
		for i, item := range v {
			if p, ok := nulIn(item, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}
