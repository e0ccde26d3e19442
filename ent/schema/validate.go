package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"entgo.io/ent"
)

// Validation messages are written for API clients: the GraphQL layer prefixes
// them with the input field's name ("name must be 1 to 255 characters").

// lengthBetween validates a string's length in characters (not bytes), so a
// 255-character name in any script is accepted.
func lengthBetween(minChars, maxChars int) func(string) error {
	return func(s string) error {
		if !utf8.ValidString(s) {
			return errors.New("must be valid UTF-8 text")
		}
		if n := utf8.RuneCountInString(s); n < minChars || n > maxChars {
			if minChars == 0 {
				return fmt.Errorf("must be at most %d characters (got %d)", maxChars, n)
			}
			return fmt.Errorf("must be %d to %d characters (got %d)", minChars, maxChars, n)
		}
		return nil
	}
}

// intBetween validates an inclusive integer range.
func intBetween(lo, hi int) func(int) error {
	return func(v int) error {
		if v < lo || v > hi {
			return fmt.Errorf("must be between %d and %d (got %d)", lo, hi, v)
		}
		return nil
	}
}

// hoursUpTo validates an estimate from zero to max hours.
func hoursUpTo(max float64) func(float64) error {
	return func(v float64) error {
		switch {
		case v < 0 || v != v: // v != v rejects NaN
			return fmt.Errorf("must be zero or more (got %v)", v)
		case v > max:
			return fmt.Errorf("must be at most %v hours (got %v)", max, v)
		}
		return nil
	}
}

// trimFields returns a hook that trims surrounding whitespace from the named
// string fields before ent's validators run, so "  " is rejected as empty.
func trimFields(names ...string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			for _, name := range names {
				v, ok := m.Field(name)
				if !ok {
					continue
				}
				if s, ok := v.(string); ok {
					if err := m.SetField(name, strings.TrimSpace(s)); err != nil {
						return nil, err
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// bumpVersion increments the version field of every updated row, so that no
// change can leave it behind.
func bumpVersion() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
				if err := m.AddField("version", 1); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}
