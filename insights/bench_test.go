package insights_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/insights/insightstest"
)

// BenchmarkCompute measures the whole insights computation for a project
// with 10,000 feedback and 50,000 suggestions, next to another project as
// big, over all time and over its last 30 days. Besides the mean it reports
// the fastest and slowest run: on a shared machine the fastest is the
// closest to the query's own cost.
func BenchmarkCompute(b *testing.B) {
	ctx := context.Background()
	db, _ := dbTemplate.Open(b)
	project, err := insightstest.Seed(ctx, db, "busy", insightstest.Issue11)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := insightstest.Seed(ctx, db, "neighbour", insightstest.Issue11); err != nil {
		b.Fatal(err)
	}
	if err := insightstest.Analyze(ctx, db); err != nil {
		b.Fatal(err)
	}
	since := insightstest.End.AddDate(0, 0, -30)
	for _, c := range []struct {
		name string
		w    insights.Window
		want int
	}{
		{"all-time", insights.Window{}, insightstest.Issue11.Feedback},
		{"last-30-days", insights.Window{Since: &since}, insightstest.Issue11.Feedback / 3},
	} {
		b.Run(c.name, func(b *testing.B) {
			var runs insightstest.Runs
			for b.Loop() {
				start := time.Now()
				r, err := insights.Compute(ctx, db, project, c.w)
				if err != nil {
					b.Fatal(err)
				}
				runs.Add(time.Since(start))
				if r.FeedbackCount < c.want-1 || r.FeedbackCount > c.want+1 || r.Suggestions.Total == 0 {
					b.Fatalf("the window holds %d feedback and %d suggestions, want about %d feedback", r.FeedbackCount, r.Suggestions.Total, c.want)
				}
			}
			runs.Report(b)
		})
	}
}
