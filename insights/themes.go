package insights

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"
)

// Bounds of the themes.
const (
	// ThemeCandidates is how many of the window's feedback, the newest, are
	// grouped into themes: the pairwise comparison grows with its square.
	ThemeCandidates = 500
	// ThemeSimilarity is the pg_trgm similarity of normalised texts at or
	// above which two feedback say the same thing.
	ThemeSimilarity = 0.5
	// MaxThemes bounds Themes' first.
	MaxThemes = 20
	// DefaultThemes is how many themes are listed unless asked otherwise.
	DefaultThemes = 5
)

// Theme is a group of similar feedback: Text is the feedback_text of its
// most central member (ExampleID, similar to the most others of the group;
// the earliest on a tie), FeedbackIDs its members, oldest first.
type Theme struct {
	Text        string
	ExampleID   int
	FeedbackIDs []int
}

// Count is how many feedback say the theme.
func (t Theme) Count() int { return len(t.FeedbackIDs) }

// The newest ThemeCandidates feedback of the window and, for each with at
// least one, the others whose normalised text (the raw text, lower-cased,
// when it was never normalised) is similar to its own.
// $1 project, $2 since, $3 until, $4 candidates, $5 similarity threshold.
const themesQuery = `
WITH recent AS MATERIALIZED (
	SELECT id, created_at, feedback_text, coalesce(normalized_text, lower(feedback_text)) AS t
	FROM feedbacks
	WHERE project_id = $1
	  AND created_at >= coalesce($2::timestamptz, '-infinity')
	  AND created_at < coalesce($3::timestamptz, 'infinity')
	ORDER BY created_at DESC, id DESC
	LIMIT $4
)
SELECT a.id, a.created_at, a.feedback_text, array_agg(b.id ORDER BY b.id)
FROM recent a
JOIN recent b ON b.id <> a.id AND similarity(a.t, b.t) >= $5
GROUP BY a.id, a.created_at, a.feedback_text`

// Themes groups the newest ThemeCandidates feedback of project in w by
// similar text and returns the first largest groups of at least two,
// largest first. Grouping is greedy: the feedback similar to the most
// others not yet in a theme starts the next theme, with those others.
func Themes(ctx context.Context, db Querier, project int, w Window, first int) ([]Theme, error) {
	if first < 1 || first > MaxThemes {
		return nil, fmt.Errorf("insights: themes: first must be from 1 to %d (got %d)", MaxThemes, first)
	}
	rows, err := db.QueryContext(ctx, themesQuery, project, ceilMicro(w.Since), ceilMicro(w.Until), ThemeCandidates, ThemeSimilarity)
	if err != nil {
		return nil, fmt.Errorf("insights: themes: %w", err)
	}
	defer rows.Close()
	type node struct {
		id      int
		created time.Time
		text    string
		near    []int64
	}
	var nodes []*node
	for rows.Next() {
		n := &node{}
		if err := rows.Scan(&n.id, &n.created, &n.text, pq.Array(&n.near)); err != nil {
			return nil, fmt.Errorf("insights: themes: %w", err)
		}
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: themes: %w", err)
	}
	// Earliest first, so that ties go to the earliest feedback.
	slices.SortFunc(nodes, func(a, b *node) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return a.id - b.id
	})
	taken := map[int]bool{}
	free := func(n *node) (ids []int) {
		for _, id := range n.near {
			if !taken[int(id)] {
				ids = append(ids, int(id))
			}
		}
		return ids
	}
	themes := []Theme{}
	for len(themes) < first {
		var best *node
		var bestNear []int
		for _, n := range nodes {
			if taken[n.id] {
				continue
			}
			if near := free(n); len(near) > len(bestNear) {
				best, bestNear = n, near
			}
		}
		if best == nil {
			break
		}
		members := append([]int{best.id}, bestNear...)
		for _, id := range members {
			taken[id] = true
		}
		themes = append(themes, Theme{Text: best.text, ExampleID: best.id, FeedbackIDs: members})
	}
	// Members oldest first (IDs grow with creation, near enough).
	for i := range themes {
		slices.Sort(themes[i].FeedbackIDs)
	}
	return themes, nil
}
