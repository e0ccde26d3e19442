package doclimit

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Bounds of one argument's value. Filters nest (not, and, or, has…With)
// and every level and predicate becomes SQL that PostgreSQL parses and
// plans: a where 5,000 levels deep exhausted its parser's memory, and
// 5,000 predicates ran past the execution time, for one point each.
const (
	MaxInputDepth  = 10  // input objects inside one another
	MaxInputFields = 100 // input object fields set in one argument, in all
	MaxInputList   = 100 // items of one list inside an input object
)

// checkValues refuses, before anything runs, argument values that no
// resolver should see: strings containing the NUL character (PostgreSQL
// cannot store it in text and rejects it in comparisons, so any string
// could turn a request into an INTERNAL error), and input objects past the
// bounds above. The error is BAD_USER_INPUT naming the value's path.
type checkValues struct{ shapes *shapes }

var (
	_ graphql.HandlerExtension        = checkValues{}
	_ graphql.OperationContextMutator = checkValues{}
)

func (checkValues) ExtensionName() string                   { return "CheckValues" }
func (checkValues) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the arguments the operation's shape lists:
// literals were checked once, when the shape was made; arguments that use
// variables are checked with this request's.
func (c checkValues) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, site := range c.shapes.of(ctx, oc).arguments {
		p := site.problem
		if p == nil {
			v, err := site.arg.Value.Value(oc.Variables)
			if err != nil {
				continue // validation reports it
			}
			if p = valueProblem(v, site.arg.Name); p == nil {
				continue
			}
		}
		return inputErrorAt(site.field, p.path, p.path+" "+p.problem)
	}
	return nil
}

// problem is what is wrong with an argument's value, and where.
type problem struct{ path, problem string }

// valueProblem returns the first problem of the value v of argument name.
func valueProblem(v any, name string) *problem {
	var w valueWalk
	return w.check(v, name, 0)
}

type valueWalk struct{ fields int }

func (w *valueWalk) check(v any, path string, depth int) *problem {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return &problem{path, "must not contain the NUL character (\\u0000)"}
		}
	case map[string]any:
		if depth++; depth > MaxInputDepth {
			return &problem{path, fmt.Sprintf("nests input objects more than %d deep: write the filter flatter, with and/or lists", MaxInputDepth)}
		}
		if w.fields += len(v); w.fields > MaxInputFields {
			return &problem{path, fmt.Sprintf("brings the argument past %d input fields in all: split the request, or filter with lists such as idIn", MaxInputFields)}
		}
		for k, item := range v {
			if p := w.check(item, path+"."+k, depth); p != nil {
				return p
			}
		}
	case []any:
		if depth > 0 && len(v) > MaxInputList {
			return &problem{path, fmt.Sprintf("lists %d items, more than the %d allowed", len(v), MaxInputList)}
		}
		for i, item := range v {
			if p := w.check(item, fmt.Sprintf("%s[%d]", path, i), depth); p != nil {
				return p
			}
		}
	}
	return nil
}
