// Command rewrite makes gqlgen's generated execution call package gqlexec
// in place of graphql.MarshalSliceConcurrently, graphql.NewDeferredGroup
// and the object's own *graphql.FieldSet marshaller, and gives each plain
// field a path that skips graphql.ResolveField (see gqlexec's documentation
// for why). go generate runs it after gqlgen:
//
//	go run ./internal/gqlexec/rewrite graph/generated/generated.go
//
// It fails, naming what it did not find, when gqlgen's output no longer
// has the shape it rewrites (after a gqlgen upgrade, say), rather than
// leaving a file half rewritten; rewriting a file twice changes nothing.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

const gqlexecImport = `"github.com/feedbackloop/feedbackloop/internal/gqlexec"`

// A replacement of every occurrence of old by new; once, when once is set.
type replacement struct {
	old, new string
	once     bool
}

var replacements = []replacement{
	{old: "graphql.MarshalSliceConcurrently(", new: "gqlexec.MarshalSlice("},
	{old: "deferred := graphql.NewDeferredGroup(ctx)", new: "deferred := gqlexec.NewDeferredGroup(ctx, fields)"},
	// The path that graphql.NewDeferredGroup set up front, set once it is
	// needed. Every object ends with this call (the counts are checked).
	{old: "\t\tec.ProcessDeferredGroup(deferred)\n", new: "\t\tdeferred.Path = graphql.GetPath(ctx)\n\t\tec.ProcessDeferredGroup(deferred)\n"},
	// Counted only: useOwnFieldSets decides per object which field set it
	// gets; either is the object's marshaller.
	{old: "\tout := graphql.NewFieldSet(fields)\n", new: "\tout := graphql.NewFieldSet(fields)\n"},
	{old: "\n\treturn out\n}\n", new: "\n\treturn out\n}\n"},
	// The execution context carries the operation's gqlexec state.
	{
		old:  "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}\n",
		new:  "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n\top *gqlexec.Operation\n}\n",
		once: true,
	},
	{
		old:  "\treturn &executionContext{\n\t\tExecutionContextState: ",
		new:  "\treturn &executionContext{\n\t\top: gqlexec.OperationOf(opCtx),\n\t\tExecutionContextState: ",
		once: true,
	},
	{old: "graphql.CollectFields(ec.OperationContext, sel, ", new: "ec.op.CollectFields(ec.OperationContext, sel, "},
}

// Indices in replacements whose counts must agree: each object builds one
// deferred group and one field set, and returns the field set once.
const (
	deferredGroups = 1
	processed      = 2
	fieldSets      = 3
	returned       = 4
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewrite FILE.go (gqlgen's generated execution)")
		os.Exit(2)
	}
	if err := rewriteFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func rewriteFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

// rewrite returns src with the replacements made and gqlexec imported.
func rewrite(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(gqlexecImport)) {
		return src, nil // rewritten already
	}
	counts := make([]int, len(replacements))
	for i, r := range replacements {
		counts[i] = bytes.Count(src, []byte(r.old))
		if counts[i] == 0 {
			return nil, fmt.Errorf("no %q: gqlgen's output changed; update internal/gqlexec/rewrite", r.old)
		}
		if r.once && counts[i] != 1 {
			return nil, fmt.Errorf("%d of %q, want one: gqlgen's output changed; update internal/gqlexec/rewrite", counts[i], r.old)
		}
		src = bytes.ReplaceAll(src, []byte(r.old), []byte(r.new))
	}
	if counts[deferredGroups] != counts[processed] || counts[deferredGroups] != counts[fieldSets] || counts[fieldSets] != counts[returned] {
		return nil, fmt.Errorf("%d deferred groups, %d places that process them, %d field sets and %d returned: gqlgen's output changed; update internal/gqlexec/rewrite",
			counts[deferredGroups], counts[processed], counts[fieldSets], counts[returned])
	}
	const graphqlImport = "\t\"github.com/99designs/gqlgen/graphql\"\n"
	if !bytes.Contains(src, []byte(graphqlImport)) {
		return nil, fmt.Errorf("no import of %s", graphqlImport)
	}
	src = bytes.Replace(src, []byte(graphqlImport), []byte(graphqlImport+"\t"+gqlexecImport+"\n"), 1)
	src, err := useOwnFieldSets(src)
	if err != nil {
		return nil, err
	}
	if src, err = shareArgs(src); err != nil {
		return nil, err
	}
	if src, err = addPlainPaths(src); err != nil {
		return nil, err
	}
	return format.Source(src)
}

// argsOfField is how a field context gets its arguments, worked out anew
// each time the field is resolved.
var argsOfField = regexp.MustCompile(`\tif fc\.Args, err = ec\.(field_\w+_args)\(ctx, field\.ArgumentMap\(ec\.Variables\)\); err != nil \{\n\t\tec\.Error\(ctx, err\)\n\t\treturn fc, err\n\t\}\n`)

// shareArgs gives a field context the arguments the operation remembers
// for its field (gqlexec.Operation.Args), working them out only the first
// time.
func shareArgs(src []byte) ([]byte, error) {
	if !argsOfField.Match(src) {
		return nil, fmt.Errorf("no field context that works out its arguments (%s): gqlgen's output changed; update internal/gqlexec/rewrite", argsOfField)
	}
	return argsOfField.ReplaceAll(src, []byte("\tif args, ok := ec.op.Args(field); ok {\n\t\tfc.Args = args\n"+
		"\t} else if fc.Args, err = ec.${1}(ctx, field.ArgumentMap(ec.Variables)); err != nil {\n\t\tec.Error(ctx, err)\n\t\treturn fc, err\n"+
		"\t} else {\n\t\tec.op.RememberArgs(field, fc.Args)\n\t}\n")), nil
}

const (
	gqlgenFieldSet = "out := graphql.NewFieldSet(fields)"
	ownFieldSet    = "out := ec.op.NewFieldSet(fields)"
)

// useOwnFieldSets gives gqlexec.FieldSet to every object whose function
// uses out for nothing but what gqlexec.FieldSet has: out.Values,
// out.Invalids, out.ResolveConcurrently and out.Dispatch. The others (the
// root types, whose fields go through ResolveRootConcurrently) keep
// gqlgen's.
func useOwnFieldSets(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "generated.go", src, 0)
	if err != nil {
		return nil, err
	}
	type span struct{ from, to int }
	var spans []span
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil {
			continue
		}
		from, to := fset.Position(fn.Body.Lbrace).Offset, fset.Position(fn.Body.Rbrace).Offset
		body := string(src[from:to])
		if strings.Count(body, gqlgenFieldSet) != 1 || !usesOwnFieldSet(fn.Body) {
			continue
		}
		spans = append(spans, span{from, to})
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("no object whose field set gqlexec.FieldSet can stand in for (%q): gqlgen's output changed; update internal/gqlexec/rewrite", gqlgenFieldSet)
	}
	out := slices.Clone(src)
	for _, sp := range slices.Backward(spans) {
		body := string(out[sp.from:sp.to])
		body = strings.Replace(body, gqlgenFieldSet, ownFieldSet, 1)
		out = slices.Concat(out[:sp.from], []byte(body), out[sp.to:])
	}
	return out, nil
}

// usesOwnFieldSet reports whether body uses out only as out.Values,
// out.Invalids, out.ResolveConcurrently and out.Dispatch, apart from
// declaring and returning it.
func usesOwnFieldSet(body *ast.BlockStmt) bool {
	allowed := map[string]bool{"Values": true, "Invalids": true, "Dispatch": true, "ResolveConcurrently": true}
	fine := map[*ast.Ident]bool{}
	ok := true
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, isOut := n.X.(*ast.Ident); isOut && id.Name == "out" {
				fine[id] = allowed[n.Sel.Name]
				ok = ok && allowed[n.Sel.Name]
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == 1 && isIdent(n.Lhs[0], "out") && n.Tok == token.DEFINE {
				fine[n.Lhs[0].(*ast.Ident)] = true
			}
		case *ast.ReturnStmt: // the object's marshaller, either field set
			if len(n.Results) == 1 && isIdent(n.Results[0], "out") {
				fine[n.Results[0].(*ast.Ident)] = true
			}
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		if id, isIdent := n.(*ast.Ident); isIdent && id.Name == "out" && !fine[id] {
			ok = false // out used whole: passed on
		}
		return ok
	})
	return ok
}

// addPlainPaths gives every plain field the path that
// gqlexec.Operation.PlainFields allows. A plain field is one whose
// generated resolver reads a struct field of its object (obj.F: no method,
// no resolver, no directive chain). When its marshaller cannot fail for
// any value (marshallersThatCannotFail), the path marshals the struct
// field straight away. Otherwise (an object, a list, a scalar that can be
// null) it still gives the field its field context, which the marshaller
// and the fields below read for their paths and errors, and recovers a
// panic as graphql.ResolveField does, but without the closures and the
// middleware call; except that a field whose value is an object or a list
// of objects first asks gqlexec.Operation.ContextFree whether anything
// below reads that context. The table ContextFree reads, which fields of
// each object are plain and of what kind, is added to the file.
func addPlainPaths(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "generated.go", src, 0)
	if err != nil {
		return nil, err
	}
	safe, err := marshallersThatCannotFail(fset, file, src)
	if err != nil {
		return nil, err
	}
	objects, fieldOf := objectTypes(file)
	type insertion struct {
		at   int
		text string
	}
	var inserts []insertion
	bare, descends := 0, 0
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !strings.HasPrefix(fn.Name.Name, "_") {
			continue
		}
		f, ok := plainField(fn)
		if !ok {
			continue
		}
		of, known := fieldOf[fn.Name.Name]
		var text string
		if at, ok := safe[f.marshal]; ok {
			bare++
			if known {
				of.object.fields[of.name] = "gqlexec.Bare"
			}
			if at.nullable {
				text = fmt.Sprintf("\n\tif ec.op.PlainFields() {\n\t\tif obj.%s == nil {\n\t\t\treturn graphql.Null\n\t\t}\n\t\treturn %s(obj.%s)\n\t}", f.field, at.fn, f.field)
			} else {
				text = fmt.Sprintf("\n\tif ec.op.PlainFields() {\n\t\treturn %s(&obj.%s)\n\t}", at.fn, f.field)
			}
		} else {
			recovery := ""
			if f.recoverFromPanic {
				recovery = "\n\t\tdefer gqlexec.RecoverField(ctx, ec.OperationContext, &ret)"
			}
			contextFree := ""
			if known && marshalsObjects(f.marshal, objects) {
				descends++
				of.object.fields[of.name] = "gqlexec.Descends"
				contextFree = fmt.Sprintf("\t\tif ctx, ok := ec.op.ContextFree(ctx, ec.OperationContext, field, %s); ok {\n\t\t\treturn ec.%s(ctx, field.Selections, obj.%s)\n\t\t}\n",
					contextFreeTable, f.marshal, f.field)
			}
			text = fmt.Sprintf("\n\tif ec.op.PlainFields() {\n%s\t\tfc, err := ec.%s(ctx, field)\n\t\tif err != nil {\n\t\t\treturn graphql.Null\n\t\t}\n"+
				"\t\tctx = graphql.WithFieldContext(ctx, fc)%s\n\t\tfc.Result = obj.%s\n\t\treturn ec.%s(ctx, field.Selections, obj.%s)\n\t}",
				contextFree, f.fieldContext, recovery, f.field, f.marshal, f.field)
		}
		inserts = append(inserts, insertion{at: fset.Position(fn.Body.Lbrace).Offset + 1, text: text})
	}
	if bare == 0 || bare == len(inserts) {
		return nil, fmt.Errorf("%d plain fields, %d of them marshalled bare (return graphql.ResolveField(…, func(…) { return obj.F, nil }, nil, …)): gqlgen's output changed; update internal/gqlexec/rewrite", len(inserts), bare)
	}
	if descends == 0 {
		return nil, fmt.Errorf("no plain field of an object (case \"f\": out.Values[i] = ec._T_f(ctx, field, obj) in func _T, which collects its fields with tImplementors = []string{\"T\", …}) whose value is an object: gqlgen's output changed; update internal/gqlexec/rewrite")
	}
	out := slices.Clone(src)
	for _, ins := range slices.Backward(inserts) {
		out = slices.Insert(out, ins.at, []byte(ins.text)...)
	}
	return append(out, objectsTable(objects)...), nil
}

// contextFreeTable is the variable the rewrite adds: gqlexec.Objects.
const contextFreeTable = "contextFreeObjects"

// object is an object type of the generated file: the variable of its
// implementors and the kinds of its plain fields, by name.
type object struct {
	name, implementors string
	fields             map[string]string
}

// fieldOfObject is the field a field function resolves.
type fieldOfObject struct {
	object *object
	name   string
}

// objectTypes finds the functions that marshal an object,
//
//	func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
//		fields := ec.op.CollectFields(ec.OperationContext, sel, tImplementors)
//		…
//		case "f":
//			out.Values[i] = ec._T_f(ctx, field, obj)
//
// with tImplementors = []string{"T", …}, and returns the object types by
// name and, for each field function found in a case, its object and field.
func objectTypes(file *ast.File) (map[string]*object, map[string]fieldOfObject) {
	typeOf := map[string]string{} // implementors variable → object name
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasSuffix(vs.Names[0].Name, "Implementors") {
				continue
			}
			if lit, ok := vs.Values[0].(*ast.CompositeLit); ok && len(lit.Elts) > 0 {
				if s, ok := lit.Elts[0].(*ast.BasicLit); ok && s.Kind == token.STRING {
					typeOf[vs.Names[0].Name] = strings.Trim(s.Value, `"`)
				}
			}
		}
	}
	objects := map[string]*object{}
	fieldOf := map[string]fieldOfObject{}
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil || len(fn.Body.List) == 0 {
			continue
		}
		implementors, ok := collectsWith(fn.Body.List[0])
		if !ok || typeOf[implementors] == "" {
			continue
		}
		obj := &object{name: typeOf[implementors], implementors: implementors, fields: map[string]string{}}
		objects[obj.name] = obj
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok || len(cc.List) != 1 || len(cc.Body) == 0 {
				return true
			}
			name, ok := cc.List[0].(*ast.BasicLit)
			if !ok || name.Kind != token.STRING {
				return true
			}
			if call, ok := assignedCallOfEC(cc.Body[0]); ok {
				fieldOf[call] = fieldOfObject{object: obj, name: strings.Trim(name.Value, `"`)}
			}
			return true
		})
	}
	return objects, fieldOf
}

// collectsWith matches fields := ec.op.CollectFields(ec.OperationContext, sel, v)
// and returns v.
func collectsWith(stmt ast.Stmt) (string, bool) {
	as, ok := stmt.(*ast.AssignStmt)
	if !ok || len(as.Lhs) != 1 || !isIdent(as.Lhs[0], "fields") || len(as.Rhs) != 1 {
		return "", false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) != 3 {
		return "", false
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "CollectFields" || !isSelector(sel.X, "ec", "op") {
		return "", false
	}
	v, ok := call.Args[2].(*ast.Ident)
	if !ok {
		return "", false
	}
	return v.Name, true
}

// assignedCallOfEC matches out.Values[i] = ec.M(ctx, field, obj) and
// returns M.
func assignedCallOfEC(stmt ast.Stmt) (string, bool) {
	as, ok := stmt.(*ast.AssignStmt)
	if !ok || len(as.Rhs) != 1 {
		return "", false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) != 3 {
		return "", false
	}
	m, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || !isIdent(m.X, "ec") {
		return "", false
	}
	return m.Sel.Name, true
}

// marshalsObjects reports whether marshal is gqlgen's marshaller of a
// nullable object or list of objects of the file: marshalO<T>2….
func marshalsObjects(marshal string, objects map[string]*object) bool {
	for name := range objects {
		if strings.HasPrefix(marshal, "marshalO"+name+"2") {
			return true
		}
	}
	return false
}

// objectsTable is the Go source of the table gqlexec.Operation.ContextFree
// reads: the object types with plain fields, and those fields' kinds.
func objectsTable(objects map[string]*object) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n// %s is what gqlexec.Operation.ContextFree knows of the object types\n// with plain fields (written by internal/gqlexec/rewrite).\nvar %s = gqlexec.Objects{\n", contextFreeTable, contextFreeTable)
	for _, name := range slices.Sorted(maps.Keys(objects)) {
		obj := objects[name]
		if len(obj.fields) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\t%q: {Implementors: %s, Fields: map[string]gqlexec.FieldKind{\n", name, obj.implementors)
		for _, field := range slices.Sorted(maps.Keys(obj.fields)) {
			fmt.Fprintf(&b, "\t\t%q: %s,\n", field, obj.fields[field])
		}
		b.WriteString("\t}},\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// plain is a field whose resolver reads obj.field.
type plain struct {
	field, marshal, fieldContext string
	recoverFromPanic             bool
}

// plainField matches a field function whose whole body is
//
//	return graphql.ResolveField(ctx, ec.OperationContext, field,
//		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
//			return ec.fieldContext_T_f(ctx, field)
//		},
//		func(ctx context.Context) (any, error) { return obj.F, nil },
//		nil,
//		func(ctx context.Context, selections ast.SelectionSet, v T) graphql.Marshaler {
//			return ec.marshalT(ctx, selections, v)
//		},
//		recoverFromPanic, nonNull)
func plainField(fn *ast.FuncDecl) (plain, bool) {
	call, ok := onlyReturn(fn.Body)
	if !ok || !isSelector(call.Fun, "graphql", "ResolveField") || len(call.Args) != 9 {
		return plain{}, false
	}
	if !isIdent(call.Args[5], "nil") { // a directive chain runs
		return plain{}, false
	}
	newContext, ok := returnedMethodOfEC(call.Args[3], 2)
	if !ok {
		return plain{}, false
	}
	resolve, ok := call.Args[4].(*ast.FuncLit)
	if !ok || len(resolve.Body.List) != 1 {
		return plain{}, false
	}
	ret, ok := resolve.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 2 {
		return plain{}, false
	}
	sel, ok := ret.Results[0].(*ast.SelectorExpr)
	if !ok || !isIdent(sel.X, "obj") || !isIdent(ret.Results[1], "nil") {
		return plain{}, false
	}
	marshal, ok := returnedMethodOfEC(call.Args[6], 3)
	if !ok {
		return plain{}, false
	}
	recoverArg, ok := call.Args[7].(*ast.Ident)
	if !ok || (recoverArg.Name != "true" && recoverArg.Name != "false") {
		return plain{}, false
	}
	return plain{field: sel.Sel.Name, marshal: marshal, fieldContext: newContext, recoverFromPanic: recoverArg.Name == "true"}, true
}

// returnedMethodOfEC matches func(…) { return ec.M(args…) } with nargs
// arguments and returns M.
func returnedMethodOfEC(e ast.Expr, nargs int) (string, bool) {
	lit, ok := e.(*ast.FuncLit)
	if !ok {
		return "", false
	}
	inner, ok := onlyReturn(lit.Body)
	if !ok || len(inner.Args) != nargs {
		return "", false
	}
	m, ok := inner.Fun.(*ast.SelectorExpr)
	if !ok || !isIdent(m.X, "ec") {
		return "", false
	}
	return m.Sel.Name, true
}

// writtenAt maps the functions that return a value's marshaller and never
// graphql.Null (they write any string, int, bool or ent ID) to their
// counterparts that read the value through a pointer when it is written
// (gqlexec.MarshalStringAt).
var writtenAt = map[string]string{
	"graphql.MarshalString":  "gqlexec.MarshalStringAt",
	"graphql.MarshalInt":     "gqlexec.MarshalIntAt",
	"graphql.MarshalBoolean": "gqlexec.MarshalBooleanAt",
	"gid.MarshalID":          "gid.MarshalIDAt",
}

// The two shapes of a scalar marshaller that can fail only when F returns
// graphql.Null, for a non-null field (N) and a nullable one (O), and the
// shape of an enum's, which is the value itself.
var (
	nonNullScalar  = regexp.MustCompile(`^\{\n\t_ = sel\n\tres := ([\w.]+)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)\n\t\}\n\treturn res\n\}$`)
	nullableScalar = regexp.MustCompile(`^\{\n\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n\t_ = sel\n\t_ = ctx\n\tres := ([\w.]+)\(\*v\)\n\treturn res\n\}$`)
	enumValue      = regexp.MustCompile(`^\{\n\treturn v\n\}$`)
)

// marshalAt is how a plain field whose marshaller cannot fail is marshalled
// from its object: fn(&obj.F), or, for a nullable field (a pointer), null
// when obj.F is nil and else fn(obj.F).
type marshalAt struct {
	fn       string
	nullable bool
}

// marshallersThatCannotFail names the generated marshallers that never add
// an error, and what marshals their field in their place: a plain field
// marshalled by one needs no field context, which only an error's path
// would read.
func marshallersThatCannotFail(fset *token.FileSet, file *ast.File, src []byte) (map[string]marshalAt, error) {
	safe := map[string]marshalAt{}
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !strings.HasPrefix(fn.Name.Name, "marshal") {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset : fset.Position(fn.Body.Rbrace).Offset+1])
		if enumValue.MatchString(body) {
			safe[fn.Name.Name] = marshalAt{fn: "gqlexec.MarshalerAt"}
		} else if at, ok := scalarWrittenAt(nonNullScalar, body); ok {
			safe[fn.Name.Name] = marshalAt{fn: at}
		} else if at, ok := scalarWrittenAt(nullableScalar, body); ok {
			safe[fn.Name.Name] = marshalAt{fn: at, nullable: true}
		}
	}
	for _, want := range []string{"marshalNString2string", "marshalNID2int"} {
		if _, ok := safe[want]; !ok {
			return nil, fmt.Errorf("%s does not have the shape of a marshaller that cannot fail: gqlgen's output changed; update internal/gqlexec/rewrite", want)
		}
	}
	return safe, nil
}

// scalarWrittenAt returns what writes the scalar of a marshaller of
// shape, when its function never returns graphql.Null.
func scalarWrittenAt(shape *regexp.Regexp, body string) (string, bool) {
	m := shape.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	at, ok := writtenAt[m[1]]
	return at, ok
}

func onlyReturn(body *ast.BlockStmt) (*ast.CallExpr, bool) {
	if len(body.List) != 1 {
		return nil, false
	}
	ret, ok := body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return nil, false
	}
	call, ok := ret.Results[0].(*ast.CallExpr)
	return call, ok
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, pkg) && sel.Sel.Name == name
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
