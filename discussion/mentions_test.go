package discussion

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/bounds"
)

func TestMentions(t *testing.T) {
	cases := map[string][]string{
		"":                                  nil,
		"no mentions here":                  nil,
		"@alice look":                       {"alice"},
		"thanks @alice. And @bob!":          {"alice", "bob"},
		"(@carol) and @carol again":         {"carol"},
		"mail me: dave@example.com":         nil,
		"@auth0|123 and @user@example.com,": {"auth0|123", "user@example.com"},
		"@ alone, @@double":                 {"double"},
		"Grüße @jürgen\n@émile":             {"jürgen", "émile"},
		"x@y @z":                            {"z"},
	}
	for body, want := range cases {
		if got := Mentions(body); !slices.Equal(got, want) {
			t.Errorf("Mentions(%q) = %q, want %q", body, got, want)
		}
	}
}

// Only the first bounds.MaxCommentMentions distinct subjects are looked up.
func TestMentionsAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range bounds.MaxCommentMentions + 5 {
		fmt.Fprintf(&b, "@u%d ", i)
	}
	got := Mentions(b.String())
	if len(got) != bounds.MaxCommentMentions || got[0] != "u0" || got[len(got)-1] != fmt.Sprintf("u%d", bounds.MaxCommentMentions-1) {
		t.Fatalf("%d mentions: %v", len(got), got)
	}
}
