package analysis

import "testing"

func TestStripFences(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:                 `{"a":1}`,
		"```json\n{\"a\":1}\n```": `{"a":1}`,
		"```JSON\n{}\n```\n":      `{}`,
		"```{}```":                `{}`,
		"```json{}```":            `{}`,
		"```json\n{}":             `{}`,
		"```":                     ``,
	} {
		if got := stripFences(in); got != want {
			t.Errorf("stripFences(%q) = %q, want %q", in, got, want)
		}
	}
}
