package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/generated"
)

// Limits bound what one request may ask of the server. Zero values take the
// defaults.
type Limits struct {
	MaxBodyBytes        int64 // HTTP request body (default 1 MiB)
	MaxDepth            int   // nesting of fields, introspection excluded (default 15)
	MaxComplexity       int   // one per field, connections times their page size (default 10000)
	MaxWebsocketMessage int64 // one websocket message from a client (default 64 KiB)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 15
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 10000
	}
	if l.MaxWebsocketMessage <= 0 {
		l.MaxWebsocketMessage = 64 << 10
	}
	return l
}

// Error codes of requests rejected before execution.
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodeRequestTooLarge  = "REQUEST_TOO_LARGE"
	CodeDepthLimit       = "DEPTH_LIMIT_EXCEEDED"
	codeComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED" // set by gqlgen's extension
	graphqlResponseMedia = "application/graphql-response+json"
)

// guardBody rejects POST bodies that are too large, not UTF-8 or not JSON
// with a GraphQL error of its own. gqlgen would answer the last two by
// echoing the body back, which is neither clear nor safe.
func guardBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeErrors(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
				fmt.Sprintf("the request body is larger than the limit of %d bytes", maxBytes))
			return
		case err != nil:
			writeErrors(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
			if problem := jsonProblem(body); problem != "" {
				writeErrors(w, http.StatusBadRequest, CodeBadRequest, problem)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(statusForJSON(w, r), r)
	})
}

// jsonProblem says what is wrong with a GraphQL-over-HTTP JSON body, if
// anything.
func jsonProblem(body []byte) string {
	const shape = `; send {"query": "...", "variables": {...}, "operationName": "..."}`
	if !utf8.Valid(body) {
		return "the request body is not valid UTF-8"
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(body, &params); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Sprintf("the request body is not valid JSON (error at byte %d)%s", syntax.Offset, shape)
		}
		return "the request body must be a JSON object" + shape
	}
	for _, key := range []string{"query", "operationName"} {
		if v, ok := params[key]; ok && !isJSONStringOrNull(v) {
			return fmt.Sprintf("%q must be a string%s", key, shape)
		}
	}
	if v, ok := params["variables"]; ok && !isJSONObjectOrNull(v) {
		return `"variables" must be an object` + shape
	}
	return ""
}

func isJSONStringOrNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return bytes.Equal(v, []byte("null")) || (len(v) > 0 && v[0] == '"')
}

func isJSONObjectOrNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return bytes.Equal(v, []byte("null")) || (len(v) > 0 && v[0] == '{')
}

func writeErrors(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": message, "extensions": map[string]any{"code": code}}},
	})
}

// statusForJSON follows the GraphQL-over-HTTP spec for application/json
// responses: a well-formed request gets 200 even when the document does not
// parse or validate (the errors are in the body). gqlgen answers those with
// 422; with application/graphql-response+json it already answers 400.
func statusForJSON(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if strings.Contains(r.Header.Get("Accept"), graphqlResponseMedia) {
		return w
	}
	return &jsonStatusWriter{ResponseWriter: w}
}

type jsonStatusWriter struct{ http.ResponseWriter }

func (j *jsonStatusWriter) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity {
		code = http.StatusOK
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonStatusWriter) Unwrap() http.ResponseWriter { return j.ResponseWriter }

// depthLimit rejects operations nested deeper than max fields, before any
// resolver runs. Introspection is not counted: tools such as GraphiQL send a
// deep but cheap introspection query.
type depthLimit struct{ max int }

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, map[string]bool{}); depth > d.max {
		err := gqlerror.Errorf("the query is nested %d levels deep; the limit is %d: split it into several queries", depth, d.max)
		err.Extensions = map[string]any{"code": CodeDepthLimit, "depth": depth, "limit": d.max}
		return err
	}
	return nil
}

// selectionDepth is the depth of the deepest field of set. Fragments count
// where they are spread; validation has already rejected fragment cycles,
// visiting guards the walk anyway.
func selectionDepth(set ast.SelectionSet, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			deepest = max(deepest, 1+selectionDepth(sel.SelectionSet, visiting))
		case *ast.InlineFragment:
			deepest = max(deepest, selectionDepth(sel.SelectionSet, visiting))
		case *ast.FragmentSpread:
			if visiting[sel.Name] || sel.Definition == nil {
				continue
			}
			visiting[sel.Name] = true
			deepest = max(deepest, selectionDepth(sel.Definition.SelectionSet, visiting))
			delete(visiting, sel.Name)
		}
	}
	return deepest
}

// complexity prices a connection at its page size times what each item
// selects, so that nested pages of 100 cost what they will cost the
// database.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Projects = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.ProjectOrder, _ *ent.ProjectWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Tasks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.TaskOrder, _ *ent.TaskWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Feedbacks = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.FeedbackOrder, _ *ent.FeedbackWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Project.Tasks = c.Query.Tasks
	c.Project.Feedbacks = c.Query.Feedbacks
	return c
}

func pageCost(child int, first, last *int) int {
	n := 1
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return 1 + max(n, 1)*child
}
