// Package text holds small string helpers shared by the service's packages.
package text

import (
	"io"
	"strconv"
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

// WriteQuoted writes strconv.Quote(s) to w, the same bytes, without
// allocating when s is printable ASCII with nothing to escape, as a
// GraphQL enum value always is (the generated enums write theirs with it:
// a page of tasks writes one per task).
func WriteQuoted(w io.Writer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			_, _ = io.WriteString(w, strconv.Quote(s))
			return
		}
	}
	if sw, ok := w.(io.StringWriter); ok {
		_, _ = sw.WriteString(`"`)
		_, _ = sw.WriteString(s)
		_, _ = sw.WriteString(`"`)
		return
	}
	_, _ = io.WriteString(w, `"`+s+`"`)
}
