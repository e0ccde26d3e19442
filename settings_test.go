package main

import (
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// Every setting the configuration reads, for every provider, is in the
// Settings table of docs/configuration.md, the operators' page.
func TestEverySettingIsDocumented(t *testing.T) {
	page, err := os.ReadFile("docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, found := strings.Cut(string(page), "\n## Settings\n")
	if !found {
		t.Fatal(`docs/configuration.md has no "## Settings" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	seen := map[string]bool{}
	for _, provider := range append([]string{"builtin"}, providerNames()...) {
		maps.Copy(seen, settingsRead(provider))
	}
	if len(seen) < 30 {
		t.Fatalf("read only %d settings: has loadConfig changed how it reads them?", len(seen))
	}
	for k := range seen {
		if !strings.Contains(table, "`"+k+"`") {
			t.Errorf("%s is read by loadConfig but missing from docs/configuration.md's Settings table", k)
		}
	}
}

// settingsRead is the set of variables loadConfig reads when LLM_PROVIDER
// is provider.
func settingsRead(provider string) map[string]bool {
	seen := map[string]bool{}
	_, _ = loadConfig(func(k string) string {
		seen[k] = true
		if k == "LLM_PROVIDER" {
			return provider
		}
		return ""
	}, io.Discard)
	return seen
}

func providerNames() []string {
	var names []string
	for _, p := range llm.Providers {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// The service's GOGC policy is what docs/configuration.md's Settings table
// says: 400 while the garbage it allows stays within 64 MiB (a live heap up
// to 16 MiB, as under read load), lower beyond, and never below Go's 100, as
// for 10,000 idle websockets (about 100 MB live).
func TestGCPolicyIsAsDocumented(t *testing.T) {
	p := gcPolicy()
	for _, c := range []struct {
		liveMiB uint64
		want    int
	}{{1, 400}, {16, 400}, {32, 200}, {64, 100}, {100, 100}} {
		if got := p.Percent(c.liveMiB << 20); got != c.want {
			t.Errorf("GOGC for a live heap of %d MiB: %d, want %d", c.liveMiB, got, c.want)
		}
	}
}
