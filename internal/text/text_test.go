package text_test

import (
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/text"
)

func TestTruncateCountsRunesAndMarksTheCut(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 4, "abc…"},
		{"héllo wörld", 5, "héll…"},
		{"anything", 0, ""},
	}
	for _, c := range cases {
		if got := text.Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
