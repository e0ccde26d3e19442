package insights_test

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/insights"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/lib/pq"
)

// Near-identical feedback of the window form themes, largest first, named
// by the text of their most central member; other projects' feedback and
// feedback outside the window never count, and first is bounded.
func TestThemesGroupSimilarFeedback(t *testing.T) {
	db := openIn(t, "UTC")
	client := store.NewClient(db)
	ctx := accesstest.System()
	p := client.Project.Create().SetName("themed").SaveX(ctx).ID
	other := client.Project.Create().SetName("other").SaveX(ctx).ID
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	n := 0
	add := func(project int, text string, at time.Time) int {
		n++
		norm := reuse.Normalize(text)
		return client.Feedback.Create().SetProjectID(project).SetFeedbackText(text).
			SetNormalizedText(norm.Text).SetNormalizedTextHash(norm.Hash).
			SetCreatedAt(at.Add(time.Duration(n) * time.Minute)).SaveX(ctx).ID
	}
	login1 := add(p, "The login page is far too slow to load", day)
	login2 := add(p, "the login page is far too slow to load!", day)
	login3 := add(p, "The login page is far too slow to load.", day)
	dark1 := add(p, "Please add a dark mode to the settings", day)
	dark2 := add(p, "Please add a dark mode to the settings screen", day)
	add(p, "Export to CSV would help our accountants", day)
	add(p, "The search box ignores accents", day)
	// Outside the window, and in another project: never counted.
	add(p, "The login page is far too slow to load", day.AddDate(0, 0, -3))
	for range 3 {
		add(other, "Please add a dark mode to the settings", day)
	}

	since := day
	w := insights.Window{Since: &since}
	got, err := insights.Themes(context.Background(), db, p, w, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []insights.Theme{
		{Text: "The login page is far too slow to load", ExampleID: login1, FeedbackIDs: []int{login1, login2, login3}},
		{Text: "Please add a dark mode to the settings", ExampleID: dark1, FeedbackIDs: []int{dark1, dark2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("themes:\n got %+v\nwant %+v", got, want)
	}
	if got[0].Count() != 3 {
		t.Fatalf("first theme counts %d, want 3", got[0].Count())
	}

	got, err = insights.Themes(context.Background(), db, p, w, 1)
	if err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("first 1: %+v, %v; want %+v", got, err, want[:1])
	}
	for _, first := range []int{0, -1, insights.MaxThemes + 1} {
		if _, err := insights.Themes(context.Background(), db, p, w, first); err == nil {
			t.Fatalf("first %d: no error", first)
		}
	}
	// A project without similar feedback has no themes (an empty list).
	lone := client.Project.Create().SetName("lone").SaveX(ctx).ID
	add(lone, "one thing", day)
	if got, err := insights.Themes(context.Background(), db, lone, w, 5); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("lone project: %+v, %v", got, err)
	}
}

// Themes compares texts in Go from the trigrams PostgreSQL extracts; the
// result is pg_trgm's similarity(), for ASCII and other texts alike.
func TestThemesSimilarityIsPgTrgms(t *testing.T) {
	db := openIn(t, "UTC")
	pairs := [][2]string{
		{"the login page is far too slow to load", "the login page is far too slow to load!"},
		{"please add a dark mode", "please add a dark mode to the settings screen"},
		{"export to csv", "the search box ignores accents"},
		{"café crème brûlée", "cafe creme brulee"},
		{"über schnell", "Über schnell!!"},
		{"", "x"},
		{"ab", "ab"},
	}
	for _, p := range pairs {
		var want float64
		var a, b []string
		if err := db.QueryRow(`SELECT similarity($1, $2), show_trgm($1), show_trgm($2)`, p[0], p[1]).Scan(&want, pq.Array(&a), pq.Array(&b)); err != nil {
			t.Fatal(err)
		}
		numbers := map[string]int32{}
		num := func(gs []string) (out []int32) {
			for _, g := range gs {
				if _, ok := numbers[g]; !ok {
					numbers[g] = int32(len(numbers))
				}
				out = append(out, numbers[g])
			}
			slices.Sort(out)
			return out
		}
		if got := insights.Similarity(num(a), num(b)); math.Abs(got-want) > 1e-6 {
			t.Errorf("similarity(%q, %q) = %v, pg_trgm says %v", p[0], p[1], got, want)
		}
	}
}
