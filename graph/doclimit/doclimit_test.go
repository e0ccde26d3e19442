package doclimit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/graph/doclimit"
)

var schema = gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphql", Input: `
type Query { viewer: Viewer! node(id: ID!): Node }
interface Node { id: ID! }
type Viewer implements Node { id: ID! subject: String! name: String friends(ids: [ID!]): [Viewer!]! }
`})

// check runs one document through a Check with limits, as gqlgen does: the
// parameters first, then the response of a refusal. It returns the errors
// the client would see (nil: the document passed) and the cache.
func check(t *testing.T, ctx context.Context, limits doclimit.Limits, query string) (gqlerror.List, graphql.Cache[*ast.QueryDocument], *graphql.OperationContext) {
	t.Helper()
	cache := lru.New[*ast.QueryDocument](10)
	c := doclimit.New(doclimit.Config{Limits: limits, Schema: schema, Cache: cache, Suggestions: true})
	oc := &graphql.OperationContext{}
	ctx = graphql.WithOperationContext(ctx, oc)
	err := c.MutateOperationParameters(ctx, &graphql.RawParams{Query: query})
	if err == nil {
		return nil, cache, oc
	}
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	graphql.AddError(ctx, err)
	resp := c.InterceptResponse(ctx, func(ctx context.Context) *graphql.Response {
		return &graphql.Response{Errors: graphql.GetErrors(ctx)}
	})
	return resp.Errors, cache, oc
}

func repeat(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+" ", i)
	}
	return b.String()
}

// Each limit refuses one past its default with its code and a message
// naming the limit, and lets the document at its default through.
func TestDefaultLimits(t *testing.T) {
	for _, c := range []struct {
		name          string
		atLimit, over string
		code, message string
	}{{
		name:    "tokens",
		atLimit: docOfTokens(doclimit.DefaultMaxTokens),
		over:    docOfTokens(doclimit.DefaultMaxTokens + 1),
		code:    doclimit.CodeTokenLimit,
		message: "the document has more than 10000 tokens, the most allowed",
	}, {
		name:    "fields",
		atLimit: "{ viewer { " + repeat(doclimit.DefaultMaxFields-1, "f%d: subject") + "} }",
		over:    "{ viewer { " + repeat(doclimit.DefaultMaxFields, "f%d: subject") + "} }",
		code:    doclimit.CodeFieldLimit,
		message: "the document selects more than 2000 fields, the most allowed (subject at line 1, column",
	}, {
		name:    "fields per response name",
		atLimit: "{ viewer { " + strings.Repeat("x: subject ", doclimit.DefaultMaxFieldsPerResponseName) + "} }",
		over:    "{ viewer { " + strings.Repeat("x: subject ", doclimit.DefaultMaxFieldsPerResponseName+1) + "} }",
		code:    doclimit.CodeResponseNameLimit,
		message: `31 fields answer to the response name "x" in one selection set (line 1, column 12), more than the 30 allowed`,
	}, {
		name:    "directives",
		atLimit: "{ viewer { subject " + strings.Repeat("@include(if: true) ", doclimit.DefaultMaxDirectives) + "} }",
		over:    "{ viewer { subject " + strings.Repeat("@include(if: true) ", doclimit.DefaultMaxDirectives+1) + "} }",
		code:    doclimit.CodeDirectiveLimit,
		message: "the document has more than 50 directives, the most allowed (@include at line 1, column",
	}} {
		t.Run(c.name, func(t *testing.T) {
			errs, _, _ := check(t, context.Background(), doclimit.Limits{}, c.over)
			if len(errs) != 1 || errs[0].Extensions["code"] != c.code || !strings.Contains(errs[0].Message, c.message) {
				t.Fatalf("one past the limit: %+v\nwant %s %q", errs, c.code, c.message)
			}
			if errs, _, _ := check(t, context.Background(), doclimit.Limits{}, c.atLimit); errs.Error() != "" && hasCode(errs, c.code) {
				t.Fatalf("at the limit: %v", errs)
			}
		})
	}
}

// docOfTokens is a valid document of n tokens (at least 15), most of
// them in one list: few fields, one response name each.
func docOfTokens(n int) string {
	return "{ viewer { friends(ids: [" + strings.Repeat(" 1", n-15) + "]) { id } } }"
}

func hasCode(errs gqlerror.List, code string) bool {
	for _, e := range errs {
		if e.Extensions["code"] == code {
			return true
		}
	}
	return false
}

// A fragment spread into a selection set brings its fields' response names
// with it, and one spread twice counts twice: the limit holds for what
// validation will merge, and a fragment of fragments each spreading the
// next twice is refused before its 2^n spreads are ever compared.
func TestResponseNamesCountAcrossFragments(t *testing.T) {
	limits := doclimit.Limits{MaxFieldsPerResponseName: 4}
	errs, _, _ := check(t, context.Background(), limits,
		`{ viewer { x: subject ...A ...A } } fragment A on Viewer { x: subject ... on Viewer { x: name } }`)
	if len(errs) != 1 || errs[0].Extensions["code"] != doclimit.CodeResponseNameLimit ||
		!strings.Contains(errs[0].Message, `5 fields answer to the response name "x" in one selection set, with those of the fragment A spread at line 1, column 31`) {
		t.Fatalf("%+v", errs)
	}
	if errs, _, _ := check(t, context.Background(), limits, `{ viewer { x: subject ...A } } fragment A on Viewer { x: subject ... on Viewer { x: name } }`); hasCode(errs, doclimit.CodeResponseNameLimit) {
		t.Fatalf("3 fields refused: %+v", errs)
	}
	var bomb strings.Builder
	bomb.WriteString("{ ...F0 }\n")
	for i := range 60 {
		fmt.Fprintf(&bomb, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	bomb.WriteString("fragment F60 on Query { viewer { id } }")
	errs, _, _ = check(t, context.Background(), doclimit.Limits{}, bomb.String())
	if len(errs) != 1 || errs[0].Extensions["code"] != doclimit.CodeResponseNameLimit {
		t.Fatalf("fragment bomb: %+v", errs)
	}
}

// A fragment that spreads itself is left for validation to report; the
// measure does not loop.
func TestFragmentCyclesAreLeftToValidation(t *testing.T) {
	errs, _, _ := check(t, context.Background(), doclimit.Limits{}, `{ viewer { ...A } } fragment A on Viewer { subject ...B } fragment B on Viewer { ...A }`)
	if len(errs) == 0 || errs[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(errs.Error(), "Cannot spread fragment") {
		t.Fatalf("%+v", errs)
	}
}

// Validation stops at MaxErrors errors, with one more saying so.
func TestValidationStopsAtMaxErrors(t *testing.T) {
	errs, _, _ := check(t, context.Background(), doclimit.Limits{MaxErrors: 5}, "{ viewer { "+repeat(40, "zz%d")+"} }")
	if len(errs) != 6 {
		t.Fatalf("%d errors, want 6: %v", len(errs), errs)
	}
	for i, e := range errs[:5] {
		if want := fmt.Sprintf(`Cannot query field "zz%d" on type "Viewer".`, i); e.Message != want || e.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("error %d: %+v, want %q", i, e, want)
		}
	}
	if last := errs[5]; last.Message != "validation stopped after 5 errors: correct these and send the document again" || last.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("last error: %+v", last)
	}
	// The default is graphql-js's 100.
	if errs, _, _ := check(t, context.Background(), doclimit.Limits{}, "{ viewer { "+repeat(400, "zz%d")+"} }"); len(errs) != doclimit.DefaultMaxErrors+1 {
		t.Fatalf("%d errors, want %d", len(errs), doclimit.DefaultMaxErrors+1)
	}
}

// cancelAfter is a context that reports itself cancelled after its Err has
// been asked n times: the check asks before validating, then every 64
// fields.
type cancelAfter struct {
	context.Context
	asked, n int
}

func (c *cancelAfter) Err() error {
	if c.asked++; c.asked > c.n {
		return context.Canceled
	}
	return nil
}

// Validation stops when its request is cancelled or its time is up, and
// says so: the client is gone or has waited MaxTime.
func TestValidationStopsWhenTheRequestEnds(t *testing.T) {
	doc := "{ viewer { " + repeat(1000, "f%d: subject") + "} }"
	ctx := &cancelAfter{Context: context.Background(), n: 2}
	errs, cache, _ := check(t, ctx, doclimit.Limits{MaxTime: time.Minute}, doc)
	if len(errs) != 1 || errs[0].Extensions["code"] != doclimit.CodeTimeout {
		t.Fatalf("%+v", errs)
	}
	if ctx.asked != 3 {
		t.Errorf("the context was asked %d times, want 3: validation went on after it ended", ctx.asked)
	}
	if _, ok := cache.Get(context.Background(), doc); ok {
		t.Error("a document whose validation stopped was cached")
	}
	// A request whose time is up before validation is not validated.
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	errs, _, _ = check(t, expired, doclimit.Limits{}, "{ viewer { zz } }")
	if len(errs) != 1 || errs[0].Extensions["code"] != doclimit.CodeTimeout ||
		errs[0].Message != "the document could not be checked within 10s (MAX_EXECUTION_TIME): send a smaller one" {
		t.Fatalf("%+v", errs)
	}
}

// A valid document is cached for gqlgen, which then neither parses nor
// validates it again; its parsing is priced by its size.
func TestValidDocumentsAreCachedAndPriced(t *testing.T) {
	small := "{ viewer { subject } }"
	errs, cache, oc := check(t, context.Background(), doclimit.Limits{}, small)
	if errs != nil {
		t.Fatal(errs)
	}
	if _, ok := cache.Get(context.Background(), small); !ok {
		t.Fatal("not cached")
	}
	if w := doclimit.Work(oc); w != 0 {
		t.Errorf("a 6-token document costs %d points, want 0", w)
	}
	errs, _, oc = check(t, context.Background(), doclimit.Limits{}, docOfTokens(2500))
	if errs != nil || doclimit.Work(oc) != 2 {
		t.Errorf("a 2,500-token document costs %d points, want 2 (errors %v)", doclimit.Work(oc), errs)
	}
}

// A refused document is charged at least a point, and more for its size;
// a client whose budget is spent is told so instead.
func TestRefusedDocumentsAreCharged(t *testing.T) {
	var charged []int
	spent := false
	c := doclimit.New(doclimit.Config{Schema: schema, Cache: lru.New[*ast.QueryDocument](10),
		Charge: func(_ context.Context, points int) *gqlerror.Error {
			charged = append(charged, points)
			if spent {
				return &gqlerror.Error{Message: "spent", Extensions: map[string]any{"code": "RATE_LIMITED"}}
			}
			return nil
		}})
	send := func(q string) *gqlerror.Error {
		ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
		return c.MutateOperationParameters(ctx, &graphql.RawParams{Query: q})
	}
	_ = send("{ viewer { zz } }")                        // invalid: 1 point
	_ = send(docOfTokens(doclimit.DefaultMaxTokens + 1)) // too long: 10
	_ = send("{ viewer { subject } }")                   // valid: priced with the operation
	if want := []int{1, 10}; fmt.Sprint(charged) != fmt.Sprint(want) {
		t.Errorf("charged %v, want %v", charged, want)
	}
	spent = true
	if err := send("{ viewer { zzz } }"); err == nil || err.Extensions["code"] != "RATE_LIMITED" {
		t.Errorf("with the budget spent: %v", err)
	}
}

// Suggestions name fields; off, they do not.
func TestSuggestionsFollowTheConfig(t *testing.T) {
	for _, suggest := range []bool{true, false} {
		c := doclimit.New(doclimit.Config{Schema: schema, Cache: lru.New[*ast.QueryDocument](10), Suggestions: suggest})
		ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
		err := c.MutateOperationParameters(ctx, &graphql.RawParams{Query: "{ viewer { subjet } }"})
		if got := strings.Contains(err.Message, `Did you mean "subject"?`); got != suggest {
			t.Errorf("suggestions %v: %q", suggest, err.Message)
		}
	}
}
