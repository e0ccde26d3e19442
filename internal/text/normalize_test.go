package text_test

import (
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/text"
)

func TestNormalizeFoldsCaseSpaceAndPunctuation(t *testing.T) {
	cases := []struct{ in, want string }{
		{"The login page is BROKEN!!!", "the login page is broken"},
		{"  the\tlogin\u00a0page\u2003is broken. ", "the login page is broken"},
		{"«Straße» – kaputt…", "strasse kaputt"},
		{"ＡＢＣ ﬁle", "abc file"},     // NFKC: full-width letters, ligature
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},      // full case folding, final sigma included
		{"don't", "don t"},          // punctuation inside words is a gap too
		{"C++ and C#", "c++ and c"}, // symbols stay, punctuation goes
		{"café", "café"},            // composed and
		{"cafe\u0301", "café"},      // decomposed forms agree
		{"...!?", ""},
		{"", ""},
		{"line\r\nbreak\x00here", "line break here"},
	}
	for _, c := range cases {
		if got := text.Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
