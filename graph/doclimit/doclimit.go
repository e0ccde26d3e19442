// Package doclimit bounds the work a GraphQL document can cause before any
// validation rule sees it, then validates it under a deadline and an error
// cap.
//
// GraphQL validation is not linear in the document: the rule that fields of
// one response name can be merged compares every pair of them, and every
// unknown field is compared with every field of its type for a suggestion.
// A 50 KB document of one alias repeated validated for 20 seconds and
// answered 480 MB of errors. So a document is first lexed (tokens) and
// measured (fields, fields per response name in one selection set,
// directives) and refused with a code naming the limit; only what passes
// is validated, with gqlparser's own rules, stopping at MaxErrors errors or
// when the request is cancelled or its time is up.
//
// Check is a gqlgen handler extension. It runs before gqlgen parses the
// document and puts the documents it validated into gqlgen's query cache,
// which gqlgen then reads instead of parsing and validating them again.
package doclimit

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Limits bound one document. Zero values take the defaults.
type Limits struct {
	// MaxTokens bounds the document's tokens (names, punctuation, values;
	// not comments), as graphql-java's parser does (default 10,000).
	MaxTokens int
	// MaxFields bounds the field selections written in the document, each
	// counted once where it is written (default 2,000).
	MaxFields int
	// MaxFieldsPerResponseName bounds how many fields answer to one response
	// name in one selection set, the fragments spread into it included
	// (default 30): x: a and x: b, or a field repeated. Validation compares
	// every pair of them.
	MaxFieldsPerResponseName int
	// MaxDirectives bounds the directives written in the document (default 50).
	MaxDirectives int
	// MaxErrors is how many validation errors are reported; validation stops
	// at the next one (default 100, as graphql-js).
	MaxErrors int
	// MaxTime bounds lexing, parsing and validating one document (default 10s).
	MaxTime time.Duration
}

// The defaults.
const (
	DefaultMaxTokens                = 10_000
	DefaultMaxFields                = 2_000
	DefaultMaxFieldsPerResponseName = 30
	DefaultMaxDirectives            = 50
	DefaultMaxErrors                = 100
	DefaultMaxTime                  = 10 * time.Second
)

// WithDefaults returns l with its zero values set to the defaults.
func (l Limits) WithDefaults() Limits {
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxTokens, DefaultMaxTokens)
	set(&l.MaxFields, DefaultMaxFields)
	set(&l.MaxFieldsPerResponseName, DefaultMaxFieldsPerResponseName)
	set(&l.MaxDirectives, DefaultMaxDirectives)
	set(&l.MaxErrors, DefaultMaxErrors)
	if l.MaxTime <= 0 {
		l.MaxTime = DefaultMaxTime
	}
	return l
}

// Error codes of the refusals (extensions.code).
const (
	CodeTokenLimit        = "TOKEN_LIMIT_EXCEEDED"
	CodeFieldLimit        = "FIELD_LIMIT_EXCEEDED"
	CodeResponseNameLimit = "RESPONSE_NAME_LIMIT_EXCEEDED"
	CodeDirectiveLimit    = "DIRECTIVE_LIMIT_EXCEEDED"
	CodeTimeout           = "TIMEOUT"
)

// TokensPerPoint is the size of document whose parsing and validation
// costs one point of the request budget: a document seen for the first time
// costs one point per TokensPerPoint tokens (nothing below that), whether
// it is then run or refused.
const TokensPerPoint = 1_000

// Config configures a Check.
type Config struct {
	Limits Limits
	Schema *ast.Schema
	// Cache is gqlgen's query cache (handler.Server.SetQueryCache): a
	// document found there was validated already; one validated here is
	// added to it.
	Cache graphql.Cache[*ast.QueryDocument]
	// Suggestions makes validation errors suggest names ("Did you mean…");
	// turn them off with introspection, as they reveal the schema. Set
	// gqlgen's SetDisableSuggestion to match.
	Suggestions bool
	// Charge, when set, charges the client of ctx points for a document it
	// refuses (at least 1); an error it returns is answered instead of the
	// refusal (the client's budget is spent). Documents that pass are
	// priced with the operation: see Work.
	Charge func(ctx context.Context, points int) *gqlerror.Error
	// Lookup, when set, is told whether each document was found in Cache.
	Lookup func(hit bool)
}

// Check is the gqlgen handler extension. Register it after any extension
// that fills in the query (automatic persisted queries).
type Check struct {
	cfg   Config
	rules *rules.Rules
}

var (
	_ graphql.HandlerExtension          = (*Check)(nil)
	_ graphql.OperationParameterMutator = (*Check)(nil)
	_ graphql.ResponseInterceptor       = (*Check)(nil)
)

// New returns a Check.
func New(cfg Config) *Check {
	cfg.Limits = cfg.Limits.WithDefaults()
	return &Check{cfg: cfg, rules: Rules(cfg.Suggestions)}
}

// Rules are gqlparser's default rules, with or without suggestions, as
// gqlgen chooses them.
func Rules(suggestions bool) *rules.Rules {
	rs := rules.NewDefaultRules()
	if !suggestions {
		rs.RemoveRule(rules.FieldsOnCorrectTypeRule.Name)
		rs.AddRule(rules.FieldsOnCorrectTypeRuleWithoutSuggestions.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions.RuleFunc)
		rs.RemoveRule(rules.ScalarLeafsRule.Name)
		rs.AddRule(rules.ScalarLeafsRuleWithoutSuggestions.Name, rules.ScalarLeafsRuleWithoutSuggestions.RuleFunc)
	}
	return rs
}

func (*Check) ExtensionName() string                   { return "DocumentLimits" }
func (*Check) Validate(graphql.ExecutableSchema) error { return nil }

// statsKey is where a request's document work is kept on its operation
// context: the points it costs and the validation errors after the first.
const statsKey = "DocumentLimits"

type work struct {
	points int
	rest   gqlerror.List // validation errors gqlgen did not take
}

// Work is the points the parsing and validation of oc's document cost: 0
// when it came from the cache.
func Work(oc *graphql.OperationContext) int {
	if w, ok := oc.Stats.GetExtension(statsKey).(*work); ok {
		return w.points
	}
	return 0
}

// MutateOperationParameters checks a document gqlgen has not validated
// before. gqlgen takes one error from here: the other validation errors are
// added to the response by InterceptResponse.
func (c *Check) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // gqlgen answers that no operation was given
	}
	_, hit := c.cfg.Cache.Get(ctx, params.Query)
	if c.cfg.Lookup != nil {
		c.cfg.Lookup(hit)
	}
	if hit {
		return nil
	}
	doc, tokens, errs := c.check(ctx, params.Query)
	w := &work{points: tokens / TokensPerPoint}
	if oc := operationContext(ctx); oc != nil {
		oc.Stats.SetExtension(statsKey, w)
	}
	if len(errs) == 0 {
		c.cfg.Cache.Add(ctx, params.Query, doc)
		return nil
	}
	if c.cfg.Charge != nil {
		if err := c.cfg.Charge(ctx, max(w.points, 1)); err != nil {
			return err
		}
	}
	w.rest = errs[1:]
	return errs[0]
}

// InterceptResponse adds the validation errors after the first to the
// response of a refused document.
func (c *Check) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if oc := operationContext(ctx); oc != nil {
		if w, ok := oc.Stats.GetExtension(statsKey).(*work); ok && len(w.rest) > 0 {
			rest := w.rest
			w.rest = nil
			for _, err := range rest {
				graphql.AddError(ctx, err)
			}
		}
	}
	return next(ctx)
}

func operationContext(ctx context.Context) *graphql.OperationContext {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	return graphql.GetOperationContext(ctx)
}

// check lexes, parses, measures and validates query. It returns the
// document and its token count, or the errors to answer.
func (c *Check) check(ctx context.Context, query string) (*ast.QueryDocument, int, gqlerror.List) {
	l := c.cfg.Limits
	deadline := time.Now().Add(l.MaxTime)
	ended := func() bool { return ctx.Err() != nil || !time.Now().Before(deadline) }
	tokens, err := countTokens(query, l.MaxTokens)
	if err != nil {
		return nil, tokens, gqlerror.List{err}
	}
	doc, perr := parser.ParseQuery(&ast.Source{Input: query})
	if perr != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(perr, &gqlErr) {
			gqlErr = gqlerror.Wrap(perr)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return nil, tokens, gqlerror.List{gqlErr}
	}
	if err := measure(doc, l); err != nil {
		return nil, tokens, gqlerror.List{err}
	}
	if ended() {
		return nil, tokens, gqlerror.List{timedOut(l.MaxTime)}
	}
	if len(doc.Operations) == 0 {
		err := gqlerror.Errorf("no operation provided") // gqlgen's words
		errcode.Set(err, errcode.ValidationFailed)
		return nil, tokens, gqlerror.List{err}
	}
	return doc, tokens, c.validate(doc, ended)
}

// countTokens counts the tokens of query as gqlparser's parser does
// (comments excluded), refusing it at the first token past max.
func countTokens(query string, maxTokens int) (int, *gqlerror.Error) {
	lex := lexer.New(&ast.Source{Input: query})
	n := 0
	for {
		tok, err := lex.ReadToken()
		if err != nil {
			return n, nil // the parser reports the lexical error, with its position
		}
		switch tok.Kind {
		case lexer.EOF:
			return n, nil
		case lexer.Comment:
			continue
		}
		if n++; n > maxTokens {
			return n, limitError(CodeTokenLimit, maxTokens,
				"the document has more than %d tokens, the most allowed (line %d, column %d): split it into smaller requests, or use variables and fragments",
				maxTokens, tok.Pos.Line, tok.Pos.Column)
		}
	}
}

func limitError(code string, limit int, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code, "limit": limit}
	return err
}

func timedOut(d time.Duration) *gqlerror.Error {
	err := gqlerror.Errorf("the document could not be checked within %s (MAX_EXECUTION_TIME): send a smaller one", d)
	err.Extensions = map[string]any{"code": CodeTimeout}
	return err
}

// stop ends a validation early (see validate).
type stop struct{ err *gqlerror.Error }

// validate runs the validation rules over doc. gqlparser's walk cannot be
// told to stop, so a rule that sees the request ended, or one error past
// MaxErrors, panics with stop, which validate recovers: nothing outside
// this function sees the panic, and the half-walked document is dropped.
func (c *Check) validate(doc *ast.QueryDocument, ended func() bool) (errs gqlerror.List) {
	maxErrors := c.cfg.Limits.MaxErrors
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(stop)
			if !ok {
				panic(r)
			}
			errs = append(errs, s.err)
		}
	}()
	rs := rules.NewRules()
	for name, rule := range c.rules.GetInner() {
		rs.AddRule(name, func(events *validator.Events, addError validator.AddErrFunc) {
			rule(events, func(options ...validator.ErrorOption) {
				if len(errs) == maxErrors {
					err := gqlerror.Errorf("validation stopped after %d errors: correct these and send the document again", maxErrors)
					errcode.Set(err, errcode.ValidationFailed)
					panic(stop{err})
				}
				err := &gqlerror.Error{Rule: name}
				for _, o := range options {
					o(err)
				}
				errcode.Set(err, errcode.ValidationFailed)
				errs = append(errs, err)
			})
		})
	}
	// Every rule sees each field; this one checks the clock every 64.
	fields := 0
	rs.AddRule("DocumentLimitsDeadline", func(events *validator.Events, _ validator.AddErrFunc) {
		events.OnField(func(*validator.Walker, *ast.Field) {
			if fields++; fields%64 == 0 && ended() {
				panic(stop{timedOut(c.cfg.Limits.MaxTime)})
			}
		})
	})
	validator.ValidateWithRules(c.cfg.Schema, doc, rs)
	return errs
}

// measure counts doc's fields and directives, and the fields answering to
// each response name in each selection set, refusing it past a limit. Each
// fragment is measured once however often it is spread, so the walk is
// linear in the document.
func measure(doc *ast.QueryDocument, l Limits) *gqlerror.Error {
	m := &measurer{limits: l, fragments: map[string]*ast.FragmentDefinition{}, counts: map[string]*names{}}
	for _, f := range doc.Fragments {
		if _, dup := m.fragments[f.Name]; !dup {
			m.fragments[f.Name] = f // validation reports duplicates
		}
	}
	for _, op := range doc.Operations {
		if err := m.directives(op.Directives); err != nil {
			return err
		}
		for _, v := range op.VariableDefinitions {
			if err := m.directives(v.Directives); err != nil {
				return err
			}
		}
		if _, err := m.selectionSet(op.SelectionSet); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := m.directives(f.Directives); err != nil {
			return err
		}
		if _, err := m.fragment(f.Name); err != nil {
			return err
		}
	}
	return nil
}

type measurer struct {
	limits              Limits
	fields, directivesN int
	fragments           map[string]*ast.FragmentDefinition
	// counts are the response names of each fragment measured; a fragment
	// being measured has nil counts (a cycle, which validation reports,
	// counts as empty).
	counts map[string]*names
}

// names counts the fields answering to each response name of a selection
// set, in the order the names first appear, so that a refusal names the
// same one every time.
type names struct {
	count map[string]int
	order []string
}

func (n *names) add(name string, k int) int {
	c, seen := n.count[name]
	if !seen {
		n.order = append(n.order, name)
	}
	n.count[name] = c + k
	return c + k
}

func (m *measurer) directives(list ast.DirectiveList) *gqlerror.Error {
	m.directivesN += len(list)
	if m.directivesN > m.limits.MaxDirectives {
		d := list[len(list)-1]
		return limitError(CodeDirectiveLimit, m.limits.MaxDirectives,
			"the document has more than %d directives, the most allowed (@%s at line %d, column %d): use each directive once where it applies",
			m.limits.MaxDirectives, d.Name, d.Position.Line, d.Position.Column)
	}
	return nil
}

// selectionSet measures set and what it selects, and returns the number of
// fields answering to each response name in it, inline fragments and
// spread fragments included (they merge into one response object).
func (m *measurer) selectionSet(set ast.SelectionSet) (*names, *gqlerror.Error) {
	n := &names{count: map[string]int{}}
	if err := m.collect(set, n); err != nil {
		return nil, err
	}
	for _, name := range n.order {
		if c := n.count[name]; c > m.limits.MaxFieldsPerResponseName {
			pos := firstNamed(set, name)
			return nil, limitError(CodeResponseNameLimit, m.limits.MaxFieldsPerResponseName,
				"%d fields answer to the response name %q in one selection set (line %d, column %d), more than the %d allowed: give each field its own alias, or select it once",
				c, name, pos.Line, pos.Column, m.limits.MaxFieldsPerResponseName)
		}
	}
	return n, nil
}

// collect adds the response names of set to n.
func (m *measurer) collect(set ast.SelectionSet, n *names) *gqlerror.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if m.fields++; m.fields > m.limits.MaxFields {
				return limitError(CodeFieldLimit, m.limits.MaxFields,
					"the document selects more than %d fields, the most allowed (%s at line %d, column %d): split it into smaller requests",
					m.limits.MaxFields, sel.Name, sel.Position.Line, sel.Position.Column)
			}
			n.add(sel.Alias, 1)
			if err := m.directives(sel.Directives); err != nil {
				return err
			}
			if len(sel.SelectionSet) > 0 {
				if _, err := m.selectionSet(sel.SelectionSet); err != nil {
					return err
				}
			}
		case *ast.InlineFragment:
			if err := m.directives(sel.Directives); err != nil {
				return err
			}
			if err := m.collect(sel.SelectionSet, n); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if err := m.directives(sel.Directives); err != nil {
				return err
			}
			frag, err := m.fragment(sel.Name)
			if err != nil || frag == nil {
				return err
			}
			for _, name := range frag.order {
				// Each fragment's counts are within the limit, so a sum
				// over the spreads of one set cannot overflow before the
				// set is refused.
				if c := n.add(name, frag.count[name]); c > m.limits.MaxFieldsPerResponseName {
					return limitError(CodeResponseNameLimit, m.limits.MaxFieldsPerResponseName,
						"%d fields answer to the response name %q in one selection set, with those of the fragment %s spread at line %d, column %d: more than the %d allowed; give each field its own alias, or select it once",
						c, name, sel.Name, sel.Position.Line, sel.Position.Column, m.limits.MaxFieldsPerResponseName)
				}
			}
		}
	}
	return nil
}

// fragment measures the fragment of that name once and returns its
// response names (none for an unknown fragment: validation reports it).
func (m *measurer) fragment(name string) (*names, *gqlerror.Error) {
	if counts, seen := m.counts[name]; seen {
		return counts, nil
	}
	def := m.fragments[name]
	if def == nil {
		return nil, nil
	}
	m.counts[name] = nil
	counts, err := m.selectionSet(def.SelectionSet)
	if err != nil {
		return nil, err
	}
	m.counts[name] = counts
	return counts, nil
}

// firstNamed is the position of set's first field answering to name.
func firstNamed(set ast.SelectionSet, name string) ast.Position {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Alias == name && sel.Position != nil {
				return *sel.Position
			}
		case *ast.InlineFragment:
			if p := firstNamed(sel.SelectionSet, name); p.Line > 0 {
				return p
			}
		}
	}
	return ast.Position{}
}
