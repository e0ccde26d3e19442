package gqlexec

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
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

// An object writes each alias once, the first field's value, in order, as
// gqlgen's field set does when fragments on different types share an alias.
func TestObjectWritesEachAliasOnce(t *testing.T) {
	fields := []graphql.CollectedField{
		{Field: &ast.Field{Alias: "id"}},
		{Field: &ast.Field{Alias: "title"}},
		{Field: &ast.Field{Alias: "id"}},
		{Field: &ast.Field{Alias: "_done2"}},
	}
	values := []graphql.Marshaler{graphql.MarshalString("a"), graphql.MarshalString(`"quoted"`), graphql.MarshalString("b"), graphql.Null}
	var b bytes.Buffer
	Object(fields, values).MarshalGQL(&b)
	const want = `{"id":"a","title":"\"quoted\"","_done2":null}`
	if b.String() != want {
		t.Errorf("got %s, want %s", b.String(), want)
	}
	b.Reset()
	Object(nil, nil).MarshalGQL(&b)
	if b.String() != "{}" {
		t.Errorf("no fields: got %s, want {}", b.String())
	}
}

// Only an object with a deferred field gets the field set and map that
// gqlgen's ResolveConcurrently fills for it.
func TestDeferredGroupOnlyForDeferredFields(t *testing.T) {
	plain := []graphql.CollectedField{{Field: &ast.Field{Alias: "id"}}}
	if g := NewDeferredGroup(context.Background(), plain); g.FieldSet != nil || g.Defers != nil {
		t.Errorf("no deferred field: group %+v, want neither field set nor map", g)
	}
	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Alias: "slow"}, Deferrables: []*graphql.Deferrable{{Label: "later"}}})
	if g := NewDeferredGroup(context.Background(), deferred); g.FieldSet == nil || g.Defers == nil {
		t.Errorf("a deferred field: group %+v, want a field set and a map", g)
	}
}

// Operations are not plain until the server marks them so.
func TestPlainFieldsOnlyWhenMarked(t *testing.T) {
	oc := &graphql.OperationContext{}
	if PlainFields(oc) {
		t.Error("an unmarked operation reads as plain")
	}
	MarkPlainFields(oc)
	if !PlainFields(oc) {
		t.Error("a marked operation does not read as plain")
	}
}
