package main

import (
	"io"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/compare"
)

// compareAnalyses may name the primary, the fallbacks and COMPARE_PROVIDERS,
// each once; sampled feedback is compared against COMPARE_PROVIDERS only.
// A sample rate without models to compare against, a rate out of 0..1 and
// an unknown provider are refused by name.
func TestCompareSettings(t *testing.T) {
	env := map[string]string{
		"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-o",
		"LLM_FALLBACK": "builtin", "COMPARE_PROVIDERS": "anthropic, openai, ollama:llama3.1:8b", "COMPARE_SAMPLE_RATE": "0.25",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tg := range cfg.Compare.Targets {
		keys = append(keys, tg.Key())
	}
	if got := strings.Join(keys, ","); got != "openai:gpt-4o-mini,builtin:rules-v1,anthropic:claude-3-5-haiku-latest,ollama:llama3.1:8b" {
		t.Errorf("targets %s", got)
	}
	if len(cfg.CompareModels) != len(cfg.Compare.Targets) || cfg.CompareModels[2].Provider != "anthropic" {
		t.Errorf("models %+v", cfg.CompareModels)
	}
	if len(cfg.Compare.Sampled) != 3 || cfg.Compare.Sampled[1] != (compare.Target{Provider: "openai", Model: "gpt-4o-mini"}) || cfg.Compare.SampleRate != 0.25 {
		t.Errorf("sampled %+v at %v", cfg.Compare.Sampled, cfg.Compare.SampleRate)
	}
	for _, c := range []struct{ key, value, say string }{
		{"COMPARE_PROVIDERS", "anthropic,openia", "openia"},
		{"COMPARE_PROVIDERS", "", "COMPARE_SAMPLE_RATE needs COMPARE_PROVIDERS"},
		{"COMPARE_SAMPLE_RATE", "1.5", "COMPARE_SAMPLE_RATE"},
	} {
		bad := map[string]string{}
		for k, v := range env {
			bad[k] = v
		}
		bad[c.key] = c.value
		if _, err := loadConfig(func(k string) string { return bad[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s=%q: %v, want an error saying %q", c.key, c.value, err, c.say)
		}
	}
}
