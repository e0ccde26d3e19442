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

// ThemeTextPrefix is how much of each normalised text is compared, in
// characters, and ThemeTextShown how much of a theme's text is returned:
// with the candidates, they bound the work and memory of one request.
const (
	ThemeTextPrefix = 500
	ThemeTextShown  = 1000
)

// The newest ThemeCandidates feedback of the window, each with the pg_trgm
// trigrams of its normalised text (the raw text, lower-cased, when it was
// never normalised). PostgreSQL extracts the trigrams once per feedback;
// Go compares the sets pairwise, as pg_trgm's similarity() does: comparing
// 125,000 pairs in SQL would extract every text's trigrams 500 times.
// $1 project, $2 since, $3 until, $4 candidates, $5 text prefix, $6 text shown.
const themesQuery = `
SELECT id, created_at, left(feedback_text, $6), show_trgm(left(coalesce(normalized_text, lower(feedback_text)), $5))
FROM feedbacks
WHERE project_id = $1
  AND created_at >= coalesce($2::timestamptz, '-infinity')
  AND created_at < coalesce($3::timestamptz, 'infinity')
ORDER BY created_at DESC, id DESC
LIMIT $4`

// Themes groups the newest ThemeCandidates feedback of project in w by
// similar text and returns the first largest groups of at least two,
// largest first. Two feedback are similar when pg_trgm's similarity of
// their texts, shared trigrams over all their distinct trigrams, is at
// least ThemeSimilarity. Grouping is greedy: the feedback similar to the
// most others not yet in a theme starts the next theme, with those others.
func Themes(ctx context.Context, db Querier, project int, w Window, first int) ([]Theme, error) {
	if first < 1 || first > MaxThemes {
		return nil, fmt.Errorf("insights: themes: first must be from 1 to %d (got %d)", MaxThemes, first)
	}
	rows, err := db.QueryContext(ctx, themesQuery, project, ceilMicro(w.Since), ceilMicro(w.Until), ThemeCandidates, ThemeTextPrefix, ThemeTextShown)
	if err != nil {
		return nil, fmt.Errorf("insights: themes: %w", err)
	}
	defer rows.Close()
	type node struct {
		id      int
		created time.Time
		text    string
		trgm    []int32 // trigrams, numbered, ascending
		near    []int
	}
	var nodes []*node
	numbers := map[string]int32{}
	for rows.Next() {
		n := &node{}
		var trgm []string
		if err := rows.Scan(&n.id, &n.created, &n.text, pq.Array(&trgm)); err != nil {
			return nil, fmt.Errorf("insights: themes: %w", err)
		}
		for _, g := range trgm {
			k, ok := numbers[g]
			if !ok {
				k = int32(len(numbers))
				numbers[g] = k
			}
			n.trgm = append(n.trgm, k)
		}
		slices.Sort(n.trgm)
		n.trgm = slices.Compact(n.trgm)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: themes: %w", err)
	}
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			if similarity(a.trgm, b.trgm) >= ThemeSimilarity {
				a.near = append(a.near, b.id)
				b.near = append(b.near, a.id)
			}
		}
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
			if !taken[id] {
				ids = append(ids, id)
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

// similarity is pg_trgm's similarity() of two texts given their distinct
// trigrams, sorted: the shared trigrams over all of them; 0 when both have
// none.
func similarity(a, b []int32) float64 {
	shared := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			shared++
			i++
			j++
		}
	}
	all := len(a) + len(b) - shared
	if all == 0 {
		return 0
	}
	return float64(float32(shared) / float32(all))
}
