package text_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/testutil"
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

// WriteQuoted writes what strconv.Quote returns, for every byte alone and
// for strings that need escaping and those that do not, to a writer that
// writes strings and one that does not; without allocating for an enum
// value written to a buffer.
func TestWriteQuotedWritesWhatQuoteReturns(t *testing.T) {
	inputs := []string{"", "TODO", "IN_PROGRESS", `say "hi"`, `back\slash`, "tab\there", "héllo", "\x7f", "\xff", "日本"}
	for b := 0; b < 256; b++ {
		inputs = append(inputs, string([]byte{byte(b)}), "A"+string([]byte{byte(b)})+"Z")
	}
	for _, s := range inputs {
		var buf bytes.Buffer
		text.WriteQuoted(&buf, s)
		var plain testutil.PlainWriter
		text.WriteQuoted(&plain, s)
		if want := strconv.Quote(s); buf.String() != want || string(plain) != want {
			t.Errorf("WriteQuoted(%q) wrote %q and %q, want %q", s, buf.String(), string(plain), want)
		}
	}
	var buf bytes.Buffer
	buf.Grow(64)
	if n := testing.AllocsPerRun(100, func() { buf.Reset(); text.WriteQuoted(&buf, "IN_PROGRESS") }); n != 0 {
		t.Errorf("%v allocations for an enum value, want 0", n)
	}
}
