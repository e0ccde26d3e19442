package graph_test

import (
	"strings"
	"testing"
)

// A query sent again is taken from the document cache, not parsed and
// validated again, and /metrics counts the look-ups.
func TestQueryDocumentsAreParsedOnce(t *testing.T) {
	e := newEnv(t)
	e.createProject("P") // a miss
	const q = `{ projects(first: 5) { edges { node { name } } } }`
	for range 3 {
		e.mustDo(q, nil, nil) // a miss, then hits
	}
	e.mustDo(`query Other { projects(first: 1) { totalCount } }`, nil, nil) // a miss
	e.mustDo(q, map[string]any{"unused": 1}, nil)                           // variables do not matter: a hit
	got := e.scrape()
	for _, want := range []string{
		`feedbackloop_graphql_document_cache_total{result="hit"} 3`,
		`feedbackloop_graphql_document_cache_total{result="miss"} 3`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(got, "document_cache"))
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
