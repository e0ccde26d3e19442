package suggestion

import "strings"

// Same reports whether a task's value (current, in plan.TaskValue's form) is
// the one a suggestion of this kind names, comparing normalised forms (a
// priority "3.0" is 3, a status any case) and treating empty, "none" and
// "null" alike.
func (k Kind) Same(current *string, named string) bool {
	empty := func(s string) bool {
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "" || s == "none" || s == "null"
	}
	if current == nil || empty(*current) {
		return empty(named)
	}
	a, errA := k.NewValue(*current)
	b, errB := k.NewValue(named)
	if errA == nil && errB == nil {
		return a == b
	}
	return strings.TrimSpace(*current) == strings.TrimSpace(named)
}
