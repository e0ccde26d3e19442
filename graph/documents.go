package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
)

// documentCache keeps parsed and validated query documents, so that a
// query a client sends again is neither parsed nor validated again, and
// counts its hits and misses (feedbackloop_graphql_document_cache_total).
type documentCache struct {
	docs    graphql.Cache[*ast.QueryDocument]
	metrics *metrics.Metrics // nil: no counting
}

func newDocumentCache(size int, m *metrics.Metrics) graphql.Cache[*ast.QueryDocument] {
	return documentCache{docs: lru.New[*ast.QueryDocument](size), metrics: m}
}

func (c documentCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	doc, ok := c.docs.Get(ctx, query)
	if c.metrics != nil {
		c.metrics.DocumentLookup(ok)
	}
	return doc, ok
}

func (c documentCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	c.docs.Add(ctx, query, doc)
}
