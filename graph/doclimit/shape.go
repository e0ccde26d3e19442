package doclimit

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// shapeCacheSize is how many operations' shapes the checks keep, as many
// as gqlgen's query cache keeps documents in this service.
const shapeCacheSize = 1000

// operationShape is what the checks before execution need to know about one
// operation, found by walking it once. gqlgen's query cache hands every
// request with the same text the same parsed document, so shapes are cached
// by operation and a request evaluates only what depends on its variables:
// page sizes, string arguments, and the prices of the fields they reach.
type operationShape struct {
	depth       int
	rootKeys    map[string]string // response key -> field name; read-only
	root        rootCount
	connections []connectionSite
	arguments   []argumentSite
	cost        costExpr
}

// connectionSite is a connection field and its response path, for the page
// limit. A fragment's connections are listed once, at its first spread.
type connectionSite struct {
	field *ast.Field
	path  string
	args  map[string]any // the arguments when they use no variables; read-only
}

// arguments are the site's arguments with vars.
func (c connectionSite) arguments(vars map[string]any) map[string]any {
	if c.args != nil {
		return c.args
	}
	return c.field.ArgumentMap(vars)
}

// argumentSite is a field argument checkValues must look at: one that
// uses variables, or a literal found wrong when the shape was made.
type argumentSite struct {
	field   *ast.Field
	arg     *ast.Argument
	problem *problem
}

// shapes caches operation shapes.
type shapes struct {
	es          graphql.ExecutableSchema
	submissions map[string]bool // root fields that count as submissions
	// submissionList is the same, in the order given.
	submissionList []string
	cache          *lru.Cache[*ast.OperationDefinition, *operationShape]
}

func newShapes(es graphql.ExecutableSchema, submissionFields []string) *shapes {
	cache, err := lru.New[*ast.OperationDefinition, *operationShape](shapeCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	submissions := map[string]bool{}
	for _, f := range submissionFields {
		submissions[f] = true
	}
	return &shapes{es: es, submissions: submissions, submissionList: submissionFields, cache: cache}
}

const shapeStatsKey = "OperationShape"

// of returns the shape of oc's operation, walking it on first sight. Within
// a request the shape rides on oc, so the checks share one lookup.
func (s *shapes) of(ctx context.Context, oc *graphql.OperationContext) *operationShape {
	if shape, ok := oc.Stats.GetExtension(shapeStatsKey).(*operationShape); ok {
		return shape
	}
	shape, ok := s.cache.Get(oc.Operation)
	if !ok {
		shape = s.walk(ctx, oc.Operation)
		s.cache.Add(oc.Operation, shape)
	}
	oc.Stats.SetExtension(shapeStatsKey, shape)
	return shape
}

// cost is the complexity of oc's operation with oc's variables.
func (s *shapes) cost(ctx context.Context, oc *graphql.OperationContext) int {
	e := s.of(ctx, oc).cost
	if !e.dependsOnVariables() {
		return e.fixed
	}
	return e.eval(ctx, s.pricer(), oc.Variables, map[*fragmentCost]int{})
}

func (s *shapes) pricer() pricer { return pricer{es: s.es, schema: s.es.Schema()} }

func (s *shapes) walk(ctx context.Context, op *ast.OperationDefinition) *operationShape {
	shape := &operationShape{
		depth:    selectionDepth(op.SelectionSet, map[string]int{}),
		rootKeys: map[string]string{},
	}
	rootKeys(op.SelectionSet, shape.rootKeys, map[string]bool{})
	shape.root = countRoot(shape.rootKeys, s.submissions)
	collectSites(op.SelectionSet, nil, map[string]bool{}, shape)
	c := costCompiler{ctx: ctx, pricer: s.pricer(), fragments: map[string]*fragmentCost{}}
	shape.cost = c.selectionSet(op.SelectionSet)
	return shape
}

// collectSites lists the connection fields and the argument sites of set.
// A fragment's fields are the same wherever it is spread, so each fragment
// is walked once: the walk is linear in the document however often
// fragments spread each other.
func collectSites(set ast.SelectionSet, path []string, walked map[string]bool, shape *operationShape) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			fieldPath := append(path[:len(path):len(path)], sel.Alias)
			for _, arg := range sel.Arguments {
				if usesVariables(arg.Value) {
					shape.arguments = append(shape.arguments, argumentSite{field: sel, arg: arg})
					continue
				}
				v, err := arg.Value.Value(nil)
				if err != nil {
					continue // validation reports it
				}
				if p := valueProblem(v, arg.Name); p != nil {
					shape.arguments = append(shape.arguments, argumentSite{field: sel, arg: arg, problem: p})
				}
			}
			if sel.Definition != nil && isConnection(sel.Definition.Type) {
				site := connectionSite{field: sel, path: strings.Join(fieldPath, ".")}
				if !argumentsUseVariables(sel.Arguments) {
					site.args = sel.ArgumentMap(nil)
				}
				shape.connections = append(shape.connections, site)
			}
			collectSites(sel.SelectionSet, fieldPath, walked, shape)
		case *ast.InlineFragment:
			collectSites(sel.SelectionSet, path, walked, shape)
		case *ast.FragmentSpread:
			if sel.Definition == nil || walked[sel.Name] {
				continue
			}
			walked[sel.Name] = true
			collectSites(sel.Definition.SelectionSet, path, walked, shape)
		}
	}
}

// usesVariables reports whether v is, or contains, a variable.
func usesVariables(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if usesVariables(c.Value) {
			return true
		}
	}
	return false
}

// costExpr is an operation's complexity as a function of its variables.
// What does not depend on them is summed once, when the operation is first
// seen; fields whose price does (a page size from a variable, or a child
// that has one) are priced per request.
type costExpr struct {
	fixed   int
	fields  []pricedField
	spreads []*fragmentCost // fragments whose cost depends on variables
}

type pricedField struct {
	field *ast.Field
	child costExpr
}

type fragmentCost struct {
	cost costExpr
}

func (e costExpr) dependsOnVariables() bool { return len(e.fields) > 0 || len(e.spreads) > 0 }

// eval prices e with vars. Each fragment is priced once per evaluation
// (memo), however often it is spread.
func (e costExpr) eval(ctx context.Context, p pricer, vars map[string]any, memo map[*fragmentCost]int) int {
	total := e.fixed
	for _, f := range e.fields {
		child := f.child.eval(ctx, p, vars, memo)
		total = saturatingAdd(total, p.field(ctx, f.field, child, f.field.ArgumentMap(vars)))
	}
	for _, frag := range e.spreads {
		cost, seen := memo[frag]
		if !seen {
			memo[frag] = 0 // guards against cycles, which validation already rejects
			cost = frag.cost.eval(ctx, p, vars, memo)
			memo[frag] = cost
		}
		total = saturatingAdd(total, cost)
	}
	return total
}

// costCompiler turns a selection set into a costExpr. It prices fields
// exactly as gqlgen's FixedComplexityLimit does, but measures each fragment
// once: gqlgen's walker re-walks a fragment at every spread, so fragments
// spreading others twice make it exponential.
type costCompiler struct {
	ctx       context.Context
	pricer    pricer
	fragments map[string]*fragmentCost
}

func (c *costCompiler) selectionSet(set ast.SelectionSet) costExpr {
	var e costExpr
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			child := c.child(sel)
			if child.dependsOnVariables() || argumentsUseVariables(sel.Arguments) {
				e.fields = append(e.fields, pricedField{field: sel, child: child})
				continue
			}
			e.fixed = saturatingAdd(e.fixed, c.pricer.field(c.ctx, sel, child.fixed, sel.ArgumentMap(nil)))
		case *ast.InlineFragment:
			e.add(c.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			if sel.Definition == nil {
				continue
			}
			frag, seen := c.fragments[sel.Name]
			if !seen {
				frag = &fragmentCost{} // costs nothing while being compiled: guards against cycles
				c.fragments[sel.Name] = frag
				frag.cost = c.selectionSet(sel.Definition.SelectionSet)
			}
			if frag.cost.dependsOnVariables() {
				e.spreads = append(e.spreads, frag)
			} else {
				e.fixed = saturatingAdd(e.fixed, frag.cost.fixed)
			}
		}
	}
	return e
}

// child is the cost of what f selects; scalars and enums select nothing.
func (c *costCompiler) child(f *ast.Field) costExpr {
	switch c.pricer.schema.Types[f.Definition.Type.Name()].Kind {
	case ast.Object, ast.Interface, ast.Union:
		return c.selectionSet(f.SelectionSet)
	}
	return costExpr{}
}

func (e *costExpr) add(o costExpr) {
	e.fixed = saturatingAdd(e.fixed, o.fixed)
	e.fields = append(e.fields, o.fields...)
	e.spreads = append(e.spreads, o.spreads...)
}

func argumentsUseVariables(args ast.ArgumentList) bool {
	for _, a := range args {
		if usesVariables(a.Value) {
			return true
		}
	}
	return false
}

// pricer prices one field with the schema's complexity functions.
type pricer struct {
	es     graphql.ExecutableSchema
	schema *ast.Schema
}

func (p pricer) field(ctx context.Context, f *ast.Field, child int, args map[string]any) int {
	// Introspection fields are priced like any other: a document of many
	// aliased __schema fields costs what it asks for.
	if f.ObjectDefinition.Kind != ast.Interface {
		return p.price(ctx, f.ObjectDefinition.Name, f.Name, child, args)
	}
	// An interface's field costs what its most expensive implementation does.
	most := 0
	for _, t := range p.schema.GetPossibleTypes(f.ObjectDefinition) {
		most = max(most, p.price(ctx, t.Name, f.Name, child, args))
	}
	return most
}

func (p pricer) price(ctx context.Context, typeName, field string, child int, args map[string]any) int {
	if cost, ok := p.es.Complexity(ctx, typeName, field, child, args); ok && cost >= 1 {
		return cost
	}
	return saturatingAdd(1, child)
}

// submissionNames lists the submission fields as given, for messages:
// "a and b".
func (s *shapes) submissionNames() string {
	n := s.submissionList
	switch len(n) {
	case 0:
		return "none"
	case 1:
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}
