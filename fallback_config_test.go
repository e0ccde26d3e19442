package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/worker/rules"
)

// LLM_FALLBACK entries take each provider's own key and URL and its default
// model unless one is named; an unknown provider is refused by name.
func TestFallbackSettings(t *testing.T) {
	env := map[string]string{
		"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-o", "LLM_MAX_ATTEMPTS": "4",
		"LLM_FALLBACK": "anthropic, openai:gpt-4o ,builtin", "ANTHROPIC_API_KEY": "sk-a",
		"LLM_BREAKER_TIMEOUT": "2m",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.LLMFallback) != 3 {
		t.Fatalf("fallback = %+v, want 3 entries", cfg.LLMFallback)
	}
	a, o, b := cfg.LLMFallback[0], cfg.LLMFallback[1], cfg.LLMFallback[2]
	if a.Provider != "anthropic" || a.Model != "claude-3-5-haiku-latest" || a.APIKey != "sk-a" || a.MaxAttempts != 4 {
		t.Errorf("anthropic entry = %s/%s key %q attempts %d", a.Provider, a.Model, a.APIKey, a.MaxAttempts)
	}
	if o.Provider != "openai" || o.Model != "gpt-4o" || o.APIKey != "sk-o" {
		t.Errorf("openai entry = %s/%s key %q", o.Provider, o.Model, o.APIKey)
	}
	if b.Provider != "builtin" || b.APIKey != "" {
		t.Errorf("builtin entry = %+v", b)
	}
	if cfg.LLMBreakerFailures != 5 || cfg.LLMBreakerTimeout != 2*time.Minute {
		t.Errorf("breaker %d failures, %v", cfg.LLMBreakerFailures, cfg.LLMBreakerTimeout)
	}
	an, err := withFallback(context.Background(), rules.New(), cfg, slog.New(slog.DiscardHandler))
	if err != nil || an == nil {
		t.Fatalf("the chain was not built: %v", err)
	}

	env["LLM_FALLBACK"] = "anthropic,openia"
	if _, err := loadConfig(func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "LLM_FALLBACK") || !strings.Contains(err.Error(), "openia") {
		t.Errorf("an unknown provider: %v", err)
	}
}
