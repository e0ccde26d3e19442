package compare_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/compare"
)

var settings = compare.Settings{Targets: []compare.Target{
	{Provider: "openai", Model: "gpt-4o-mini"}, {Provider: "openai", Model: "gpt-4o"}, {Provider: "ollama", Model: "llama3.1:8b"},
}}

// A bare provider names its first model; provider:model names that one
// (the model may hold colons); repeats count once; every unknown entry is
// named at once, with what is configured.
func TestResolve(t *testing.T) {
	got, err := settings.Resolve([]string{"OpenAI", "openai:gpt-4o", " ollama:llama3.1:8b ", "openai:gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tg := range got {
		keys = append(keys, tg.Key())
	}
	if strings.Join(keys, ",") != "openai:gpt-4o-mini,openai:gpt-4o,ollama:llama3.1:8b" {
		t.Errorf("resolved %v", keys)
	}
	_, err = settings.Resolve([]string{"openai", "anthropic", "openai:gpt-5", "ollama:llama3.1"})
	var unknown *compare.UnknownError
	if !errors.As(err, &unknown) || len(unknown.Unknown) != 3 {
		t.Fatalf("err %v, want the three unknown entries", err)
	}
	for _, s := range []string{`"anthropic"`, `"openai:gpt-5"`, `"ollama:llama3.1"`, "openai:gpt-4o-mini, openai:gpt-4o, ollama:llama3.1:8b"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q lacks %q", err, s)
		}
	}
}

// Sampling is deterministic per feedback and takes about the share asked.
func TestSampled(t *testing.T) {
	n := 0
	for id := 1; id <= 10_000; id++ {
		in := compare.Sampled(0.2, id, "key")
		if in != compare.Sampled(0.2, id, "key") {
			t.Fatalf("feedback %d sampled differently twice", id)
		}
		if in {
			n++
		}
		if compare.Sampled(0, id, "key") || !compare.Sampled(1, id, "key") {
			t.Fatalf("rates 0 and 1 must take none and all (feedback %d)", id)
		}
	}
	if n < 1_800 || n > 2_200 {
		t.Errorf("%d of 10000 sampled at 0.2", n)
	}
}
