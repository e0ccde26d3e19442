package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/worker/budget"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

// The price table is the built-in one (USD) unless LLM_PRICES replaces it;
// another currency needs prices in it; a budget needs a price for every
// model it limits.
func TestSpendSettings(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LLMBudget != (spend.Budget{Currency: "USD"}) || cfg.LLMPrices[spend.Key{Provider: "openai", Model: "gpt-4o-mini"}] != (spend.Price{Input: 0.15, Output: 0.60}) {
		t.Errorf("defaults: budget %+v, prices %v", cfg.LLMBudget, cfg.LLMPrices)
	}

	cfg, err = load(map[string]string{"LLM_PRICES": "openai:gpt-4o=2.5/10", "LLM_PRICE_CURRENCY": "eur", "LLM_PROJECT_MONTHLY_BUDGET": "25.5",
		"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o", "OPENAI_API_KEY": "sk"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LLMBudget != (spend.Budget{Monthly: 25.5, Currency: "EUR"}) || len(cfg.LLMPrices) != 1 || !cfg.LLMPrices.Has("openai", "gpt-4o") {
		t.Errorf("budget %+v, prices %v: want LLM_PRICES alone", cfg.LLMBudget, cfg.LLMPrices)
	}

	for _, c := range []struct {
		env  map[string]string
		says []string
	}{
		{map[string]string{"LLM_PRICE_CURRENCY": "EUR"}, []string{"LLM_PRICE_CURRENCY=EUR needs LLM_PRICES", "in USD"}},
		{map[string]string{"LLM_PRICE_CURRENCY": "euro", "LLM_PRICES": "openai:gpt-4o=1/2"}, []string{"LLM_PRICE_CURRENCY", "three-letter"}},
		{map[string]string{"LLM_PRICES": "openai:gpt-4o=1"}, []string{"LLM_PRICES", `"openai:gpt-4o=1"`, "provider:model=INPUT/OUTPUT"}},
		{map[string]string{"LLM_PRICES": "openia:gpt-4o=1/2"}, []string{"LLM_PRICES", "openia:gpt-4o names no model provider"}},
		{map[string]string{"LLM_PROJECT_MONTHLY_BUDGET": "-1"}, []string{"LLM_PROJECT_MONTHLY_BUDGET must be a number from 0"}},
		{map[string]string{"LLM_PROJECT_MONTHLY_BUDGET": "10", "LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-5", "OPENAI_API_KEY": "sk", "LLM_FALLBACK": "builtin"},
			[]string{"LLM_PROJECT_MONTHLY_BUDGET needs a price", "openai:gpt-5 has none", "add openai:gpt-5=INPUT/OUTPUT", "LLM_PRICES"}},
		{map[string]string{"LLM_PROJECT_MONTHLY_BUDGET": "10", "LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "LLM_FALLBACK": "anthropic:claude-x"},
			[]string{"anthropic:claude-x has none"}},
	} {
		_, err := load(c.env)
		for _, want := range c.says {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %v, want it to say %q", c.env, err, want)
			}
		}
	}
}

// The budget gate is in front of the models when there is a budget and a
// model to limit, and nowhere else.
func TestBudgetGateWiring(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		env   map[string]string
		gated bool
	}{
		{map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk"}, false},
		{map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "LLM_PROJECT_MONTHLY_BUDGET": "5", "LLM_FALLBACK": "builtin"}, true},
		{map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "LLM_PROJECT_MONTHLY_BUDGET": "5"}, true},
		{map[string]string{"LLM_PROJECT_MONTHLY_BUDGET": "5"}, false}, // the built-in rules alone: nothing to limit
	} {
		cfg, err := loadConfig(func(k string) string { return c.env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		_, gated := withBudget(rules.New(), cfg, nil, logger).(*budget.Gate)
		if gated != c.gated {
			t.Errorf("%v: gated %v, want %v", c.env, gated, c.gated)
		}
	}
}
