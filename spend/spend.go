// Package spend is what model analyses cost: the price table (per provider
// and model, per million input and output tokens, in one currency), the
// estimate of one analysis's cost, and the calendar month a project's
// budget counts (LLM_PROJECT_MONTHLY_BUDGET). It imports no other package of
// the service: the worker prices analyses with it, the pipeline and the API
// read the month from it.
package spend

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultCurrency is the currency of the built-in prices (see
// llm.Providers) and of LLM_PRICES unless LLM_PRICE_CURRENCY says otherwise.
const DefaultCurrency = "USD"

// Builtin is the provider name of the built-in rules, which call no model
// and cost nothing.
const Builtin = "builtin"

// Price is what a model charges per million tokens.
type Price struct {
	Input, Output float64
}

// Key names a model of a provider.
type Key struct{ Provider, Model string }

// Prices is a price table.
type Prices map[Key]Price

// Cost estimates what in input and out output tokens of provider/model cost:
// nil when the table has no price for it. The built-in rules cost 0.
func (p Prices) Cost(provider, model string, in, out int) *float64 {
	if provider == Builtin {
		zero := 0.0
		return &zero
	}
	price, ok := p[Key{provider, model}]
	if !ok {
		return nil
	}
	c := (float64(in)*price.Input + float64(out)*price.Output) / 1e6
	return &c
}

// Has reports whether the table prices provider/model (the built-in rules
// always are).
func (p Prices) Has(provider, model string) bool {
	_, ok := p[Key{provider, model}]
	return ok || provider == Builtin
}

// ParsePrices reads a price table written as comma-separated
// provider:model=INPUT/OUTPUT entries, prices per million tokens, such as
// "openai:gpt-4o-mini=0.15/0.60,anthropic:claude-3-5-haiku-latest=0.80/4".
// A model name may contain colons (ollama's llama3.1:8b): the provider ends
// at the first one.
func ParsePrices(s string) (Prices, error) {
	out := Prices{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, price, ok := strings.Cut(entry, "=")
		provider, model, ok2 := strings.Cut(name, ":")
		in, outPrice, ok3 := strings.Cut(price, "/")
		provider, model = strings.ToLower(strings.TrimSpace(provider)), strings.TrimSpace(model)
		if !ok || !ok2 || !ok3 || provider == "" || model == "" {
			return nil, fmt.Errorf("%q is not provider:model=INPUT/OUTPUT (prices per million tokens, such as openai:gpt-4o-mini=0.15/0.60)", entry)
		}
		pin, err1 := parseAmount(in)
		pout, err2 := parseAmount(outPrice)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q: the prices must be numbers of at least 0, such as 0.15/0.60", entry)
		}
		k := Key{provider, model}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s:%s is priced twice", provider, model)
		}
		out[k] = Price{Input: pin, Output: pout}
	}
	return out, nil
}

func parseAmount(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	return f, nil
}

// Month returns the UTC calendar month holding t: its start (inclusive) and
// the next month's start (exclusive), when a monthly budget resets.
func Month(t time.Time) (start, next time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// Budget is a project's monthly budget for model calls, in the price
// table's currency. Monthly 0 is none.
type Budget struct {
	Monthly  float64
	Currency string
}

// Exceeded reports whether spent has reached the budget (never, without one).
func (b Budget) Exceeded(spent float64) bool {
	return b.Monthly > 0 && spent >= b.Monthly
}

// Amount formats an amount of the budget's currency, as messages show it.
func (b Budget) Amount(x float64) string {
	return strconv.FormatFloat(x, 'f', 2, 64) + " " + b.Currency
}
