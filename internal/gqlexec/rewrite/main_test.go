package main

import (
	"bytes"
	"strings"
	"testing"
)

// The rewrite swaps the helpers, sets the path where deferred fields are
// processed, returns gqlexec's object, gives plain fields their path (and
// writes the table of them that ContextFree reads), shares fields'
// arguments, imports gqlexec, and refuses output it does not recognise.
func TestRewrite(t *testing.T) {
	out, err := rewrite([]byte(generated))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\t\"github.com/99designs/gqlgen/graphql\"\n\t\"github.com/feedbackloop/feedbackloop/internal/gqlexec\"\n",
		"deferred := gqlexec.NewDeferredGroup(ctx, fields)",
		"deferred.Path = graphql.GetPath(ctx)\n\t\tec.ProcessDeferredGroup(deferred)",
		// An object filled in order gets gqlexec's field set, and so does
		// one with a field resolved concurrently; a root type's keeps
		// gqlgen's.
		"out := ec.op.NewFieldSet(fields)\n\tdeferred := gqlexec.NewDeferredGroup(ctx, fields)\n\tfor i, field := range fields {\n\t\tswitch field.Name {\n\t\tcase \"title\":",
		"\n\treturn out\n}\n\nvar taskEdgeImplementors",
		"out := ec.op.NewFieldSet(fields)\n\tdeferred := gqlexec.NewDeferredGroup(ctx, fields)\n\tfor i, field := range fields {\n\t\tout.ResolveConcurrently(",
		"\n\treturn out\n}\n\nfunc (ec *executionContext) _Query(",
		"out := graphql.NewFieldSet(fields)\n\tdeferred := gqlexec.NewDeferredGroup(ctx, fields)\n\tfor i, field := range fields {\n\t\tout.ResolveRootConcurrently(",
		"\n\treturn out\n}\n\nfunc (ec *executionContext) marshalTasks(",
		"return gqlexec.MarshalSlice(ctx, 2, 0, false, nil)",
		"\top *gqlexec.Operation\n}",
		"gqlexec.OperationOf(opCtx),\n",
		"fields := ec.op.CollectFields(ec.OperationContext, sel, taskImplementors)",
		// Plain: a struct field, a marshaller that cannot fail.
		// It is read through a pointer when written: no allocation.
		"_Task_title(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {\n" +
			"\tif ec.op.PlainFields() {\n\t\treturn gqlexec.MarshalStringAt(&obj.Title)\n\t}\n",
		"_Task_status(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {\n" +
			"\tif ec.op.PlainFields() {\n\t\treturn gqlexec.MarshalerAt(&obj.Status)\n\t}\n",
		// A nullable one is null when its pointer is nil.
		"_Task_note(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {\n" +
			"\tif ec.op.PlainFields() {\n\t\tif obj.Note == nil {\n\t\t\treturn graphql.Null\n\t\t}\n\t\treturn gqlexec.MarshalStringAt(obj.Note)\n\t}\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the rewritten file lacks %q:\n%s", want, out)
		}
	}
	// Plain, of an object: it keeps its context unless nothing below
	// reads it.
	if want := "_TaskEdge_node(ctx context.Context, field graphql.CollectedField, obj *ent.TaskEdge) (ret graphql.Marshaler) {\n" +
		"\tif ec.op.PlainFields() {\n\t\tif ctx, ok := ec.op.ContextFree(ctx, ec.OperationContext, field, contextFreeObjects); ok {\n" +
		"\t\t\treturn ec.marshalOTask2ᚖentᚐTask(ctx, field.Selections, obj.Node)\n\t\t}\n" +
		"\t\tfc, err := ec.fieldContext_TaskEdge_node(ctx, field)\n"; !strings.Contains(string(out), want) {
		t.Errorf("the rewritten file lacks %q:\n%s", want, out)
	}
	// The table ContextFree reads: each object's plain fields by kind.
	table := strings.Join(strings.Fields(string(out[strings.Index(string(out), "var contextFreeObjects"):])), " ")
	const wantTable = `var contextFreeObjects = gqlexec.Objects{ ` +
		`"Task": {Implementors: taskImplementors, Fields: map[string]gqlexec.FieldKind{ "note": gqlexec.Bare, "status": gqlexec.Bare, "title": gqlexec.Bare, }}, ` +
		`"TaskEdge": {Implementors: taskEdgeImplementors, Fields: map[string]gqlexec.FieldKind{ "node": gqlexec.Descends, }}, }`
	if table != wantTable {
		t.Errorf("table\n%s\nwant\n%s", table, wantTable)
	}
	// A field's arguments are worked out once per operation.
	if want := "\tif args, ok := ec.op.Args(field); ok {\n\t\tfc.Args = args\n" +
		"\t} else if fc.Args, err = ec.field_Project_tasks_args(ctx, field.ArgumentMap(ec.Variables)); err != nil {\n\t\tec.Error(ctx, err)\n\t\treturn fc, err\n" +
		"\t} else {\n\t\tec.op.RememberArgs(field, fc.Args)\n\t}\n\treturn fc, nil\n"; !strings.Contains(string(out), want) {
		t.Errorf("the rewritten file lacks %q:\n%s", want, out)
	}
	// Plain with a marshaller that can fail: the field keeps its context.
	for _, field := range []string{"createdAt", "score"} {
		want := "_Task_" + field + "(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {\n" +
			"\tif ec.op.PlainFields() {\n\t\tfc, err := ec.fieldContext_Task_" + field + "(ctx, field)\n\t\tif err != nil {\n\t\t\treturn graphql.Null\n\t\t}\n" +
			"\t\tctx = graphql.WithFieldContext(ctx, fc)\n\t\tdefer gqlexec.RecoverField(ctx, ec.OperationContext, &ret)\n"
		if !strings.Contains(string(out), want) {
			t.Errorf("the rewritten file lacks %q:\n%s", want, out)
		}
	}
	// Not plain: a method.
	if i := strings.Index(string(out), "_Task_project("); i < 0 || strings.Contains(string(out[i:i+200]), "PlainFields") {
		t.Errorf("_Task_project got a plain path (or is missing):\n%s", out)
	}
	if again, err := rewrite(out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second rewrite changed the file or failed (%v)", err)
	}
	for _, tc := range []struct{ from, to, named string }{
		{"graphql.MarshalSliceConcurrently(", "graphql.MarshalSliceInParallel(", "MarshalSliceConcurrently"},
		{"\treturn out\n", "\treturn out.Values\n", "4 field sets and 3 returned"},
		{"\tout := graphql.NewFieldSet(fields)\n", "\tout := graphql.NewFieldSet(fields)\n\tout := graphql.NewFieldSet(fields)\n",
			"4 deferred groups, 4 places that process them, 5 field sets and 4 returned"},
		{"res := graphql.MarshalString(v)", "res := graphql.MarshalAny(v)", "marshalNString2string"},
		{"return obj.Title, nil", "return obj.Title(), nil", "3 plain fields, 0 of them marshalled bare"},
		{"return ec.marshalOTask2ᚖentᚐTask(", "return ec.marshalOThing2ᚖentᚐThing(", "no plain field of an object"},
		{"field.ArgumentMap(ec.Variables)", "field.ArgumentMap(nil)", "no field context that works out its arguments"},
		{"func newExecutionContext(", "func newExecutionContext2(opCtx *graphql.OperationContext) *executionContext {\n" +
			"\treturn &executionContext{\n\t\tExecutionContextState: nil,\n\t}\n}\n\nfunc newExecutionContext(", "2 of"},
	} {
		changed := strings.Replace(generated, tc.from, tc.to, 1)
		if tc.named == "3 plain fields, 0 of them marshalled bare" {
			changed = strings.Replace(changed, "return obj.Status, nil", "return ec.resolvers.Task().Status(ctx, obj)", 1)
			changed = strings.Replace(changed, "return obj.Note, nil", "return obj.Note(), nil", 1)
		}
		if _, err := rewrite([]byte(changed)); err == nil || !strings.Contains(err.Error(), tc.named) {
			t.Errorf("with %q in place of %q: err %v, want one naming %q", tc.to, tc.from, err, tc.named)
		}
	}
}

// generated has the shapes of gqlgen's output that the rewrite changes.
const generated = `package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

type executionContext struct {
	*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]
}

func newExecutionContext(opCtx *graphql.OperationContext) *executionContext {
	return &executionContext{
		ExecutionContextState: graphql.NewExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot](opCtx),
	}
}

var taskImplementors = []string{"Task", "Node"}

func (ec *executionContext) _Task(ctx context.Context, sel ast.SelectionSet, obj *ent.Task) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, taskImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		switch field.Name {
		case "title":
			out.Values[i] = ec._Task_title(ctx, field, obj)
		case "note":
			out.Values[i] = ec._Task_note(ctx, field, obj)
		case "status":
			out.Values[i] = ec._Task_status(ctx, field, obj)
		case "createdAt":
			out.Values[i] = ec._Task_createdAt(ctx, field, obj)
		case "score":
			out.Values[i] = ec._Task_score(ctx, field, obj)
		}
	}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}

var taskEdgeImplementors = []string{"TaskEdge"}

func (ec *executionContext) _TaskEdge(ctx context.Context, sel ast.SelectionSet, obj *ent.TaskEdge) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, taskEdgeImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		switch field.Name {
		case "node":
			out.Values[i] = ec._TaskEdge_node(ctx, field, obj)
		}
	}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}

func (ec *executionContext) _Project(ctx context.Context, sel ast.SelectionSet, obj *ent.Project) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, projectImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		out.ResolveConcurrently(ec.OperationContext, &deferred, i, true, true, nil)
	}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}

func (ec *executionContext) _Query(ctx context.Context, sel ast.SelectionSet) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, queryImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		out.ResolveRootConcurrently(ctx, ec.OperationContext, i, true, true, nil)
	}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}

func (ec *executionContext) marshalTasks(ctx context.Context) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, 2, 0, false, nil)
}

func (ec *executionContext) _TaskEdge_node(ctx context.Context, field graphql.CollectedField, obj *ent.TaskEdge) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_TaskEdge_node(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Node, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *ent.Task) graphql.Marshaler {
			return ec.marshalOTask2ᚖentᚐTask(ctx, selections, v)
		},
		true,
		false,
	)
}

func (ec *executionContext) _Task_title(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_title(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Title, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Task_note(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_note(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Note, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *string) graphql.Marshaler {
			return ec.marshalOString2ᚖstring(ctx, selections, v)
		},
		true,
		false,
	)
}

func (ec *executionContext) _Task_status(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_status(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Status, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v task.Status) graphql.Marshaler {
			return ec.marshalNTaskStatus(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Task_createdAt(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_createdAt(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.CreatedAt, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v time.Time) graphql.Marshaler {
			return ec.marshalNTime2timeᚐTime(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Task_project(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_project(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Project(ctx)
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *ent.Project) graphql.Marshaler {
			return ec.marshalNProject(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Task_score(ctx context.Context, field graphql.CollectedField, obj *ent.Task) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Task_score(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Score, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v float64) graphql.Marshaler {
			return ec.marshalNFloat2float64(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) fieldContext_Project_tasks(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object: "Project",
		Field:  field,
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	if fc.Args, err = ec.field_Project_tasks_args(ctx, field.ArgumentMap(ec.Variables)); err != nil {
		ec.Error(ctx, err)
		return fc, err
	}
	return fc, nil
}

func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalOString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalString(*v)
	return res
}

func (ec *executionContext) marshalNID2int(ctx context.Context, sel ast.SelectionSet, v int) graphql.Marshaler {
	_ = sel
	res := gid.MarshalID(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "ID!")
	}
	return res
}

func (ec *executionContext) marshalNTaskStatus(ctx context.Context, sel ast.SelectionSet, v task.Status) graphql.Marshaler {
	return v
}

func (ec *executionContext) marshalNTime2timeᚐTime(ctx context.Context, sel ast.SelectionSet, v time.Time) graphql.Marshaler {
	_ = sel
	res := scalar.MarshalTime(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Time!")
	}
	return res
}

func (ec *executionContext) marshalNFloat2float64(ctx context.Context, sel ast.SelectionSet, v float64) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalFloatContext(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Float!")
	}
	return graphql.WrapContextMarshaler(ctx, res)
}
`
