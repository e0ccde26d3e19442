package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/insights/insightstest"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

// BenchmarkProjectInsights is the insights package's benchmark through the
// API: HTTP, the project check, the aggregates, the top tasks and the JSON
// of every field, for a project with 10,000 feedback and 50,000 suggestions.
func BenchmarkProjectInsights(b *testing.B) {
	e := newEnvWith(b, nil)
	ctx := context.Background()
	project, err := insightstest.Seed(ctx, e.db, "busy", insightstest.Issue11)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := insightstest.Seed(ctx, e.db, "neighbour", insightstest.Issue11); err != nil {
		b.Fatal(err)
	}
	if err := insightstest.Analyze(ctx, e.db); err != nil {
		b.Fatal(err)
	}
	vars := map[string]any{"p": gid.Encode(project)}
	var runs insightstest.Runs
	for b.Loop() {
		start := time.Now()
		resp := gqltest.Post(b, e.url, insightsQuery, vars)
		runs.Add(time.Since(start))
		if len(resp.Errors) > 0 {
			b.Fatalf("errors: %+v", resp.Errors)
		}
	}
	runs.Report(b)
}
