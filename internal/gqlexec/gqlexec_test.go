package gqlexec

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// Each element is marshalled in order with its own index in its field
// context, and a panic nulls that element alone and is reported, as gqlgen
// does it.
func TestMarshalSliceKeepsGqlgensSemantics(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Project", Field: graphql.CollectedField{}})
	var order []int
	got := MarshalSlice(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i)
		if idx := graphql.GetFieldContext(ctx).Index; idx == nil || *idx != i {
			t.Errorf("element %d: field context index %v", i, idx)
		}
		if i == 2 {
			panic("element 2 broke")
		}
		return graphql.MarshalInt(i)
	})
	if len(order) != 4 || order[0] != 0 || order[3] != 3 {
		t.Errorf("marshalled in order %v, want 0 1 2 3", order)
	}
	var b bytes.Buffer
	got.MarshalGQL(&b)
	if b.String() != "[0,1,null,3]" {
		t.Errorf("got %s, want [0,1,null,3]", b.String())
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 {
		t.Errorf("errors %v, want the one panic", errs)
	}
}
