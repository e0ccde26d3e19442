// Package scalar marshals the GraphQL scalars whose gqlgen defaults give
// errors clients cannot act on.
package scalar

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// ErrInvalidTime is wrapped by every Time that does not parse; the API
// reports it as BAD_USER_INPUT naming the argument.
var ErrInvalidTime = errors.New("is not a Time")

// MarshalTime writes a time as RFC 3339 with nanoseconds, in UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads an RFC 3339 time, saying what was wrong with one that
// is not.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: send an RFC 3339 string such as \"2026-11-26T09:00:00Z\", got %T", ErrInvalidTime, v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not RFC 3339; send a time such as \"2026-11-26T09:00:00Z\"", ErrInvalidTime, truncate(s, 40))
	}
	return t, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
