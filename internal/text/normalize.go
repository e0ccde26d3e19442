package text

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize is the form of a text that decides whether two feedback say the
// same thing (reuse of an analysis, near neighbours): compatibility forms
// composed (NFKC, so "ﬁ" is "fi" and a full-width "Ａ" an "A"), case folded
// (Unicode's full folding: "Straße" and "STRASSE" agree), and every run of
// white space, punctuation and control characters made one space, none at
// either end. Letters, digits, marks and symbols ("+", "€") are kept.
func Normalize(s string) string {
	folded := cases.Fold().String(norm.NFKC.String(s))
	var b strings.Builder
	b.Grow(len(folded))
	gap := false
	for _, r := range folded {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsControl(r) || r == '\uFFFD' {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
