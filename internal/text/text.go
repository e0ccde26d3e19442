// Package text holds small string helpers shared by the service's packages.
package text

import (
	"unicode/utf8"
)

// Truncate cuts s to at most n runes, marking a cut with an ellipsis, so a
// value shown to users or written to a log stays bounded.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}
