package spend_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/spend"
)

func TestParsePrices(t *testing.T) {
	got, err := spend.ParsePrices(" openai:gpt-4o=2.5/10 , OpenAI:gpt-4o-mini=0.15/0.60,ollama:llama3.1:8b=0/0,")
	if err != nil {
		t.Fatal(err)
	}
	want := spend.Prices{
		{Provider: "openai", Model: "gpt-4o"}:      {Input: 2.5, Output: 10},
		{Provider: "openai", Model: "gpt-4o-mini"}: {Input: 0.15, Output: 0.60},
		{Provider: "ollama", Model: "llama3.1:8b"}: {},
	}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for k, p := range want {
		if got[k] != p {
			t.Errorf("%v: %v, want %v", k, got[k], p)
		}
	}
	for _, bad := range []struct{ in, says string }{
		{"openai:gpt-4o=2.5", "provider:model=INPUT/OUTPUT"},
		{"gpt-4o=2.5/10", "provider:model=INPUT/OUTPUT"},
		{"openai:=1/2", "provider:model=INPUT/OUTPUT"},
		{"openai:gpt-4o=-1/2", "at least 0"},
		{"openai:gpt-4o=one/2", "at least 0"},
		{"openai:gpt-4o=1/2,openai:gpt-4o=1/3", "priced twice"},
	} {
		if _, err := spend.ParsePrices(bad.in); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%q: %v, want it to say %q", bad.in, err, bad.says)
		}
	}
}

func TestMonthIsTheUTCCalendarMonth(t *testing.T) {
	// 23:30 on 31 December in UTC-5 is already January in UTC.
	at := time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	start, next := spend.Month(at)
	if !start.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || !next.Equal(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%v .. %v", start, next)
	}
}

func TestBudget(t *testing.T) {
	none := spend.Budget{Currency: "EUR"}
	if none.Exceeded(1e9) {
		t.Error("no budget is never exceeded")
	}
	b := spend.Budget{Monthly: 10, Currency: "EUR"}
	if b.Exceeded(9.999) || !b.Exceeded(10) || !b.Exceeded(12) {
		t.Error("a budget is exceeded once the spend reaches it")
	}
	if got := b.Amount(3.14159); got != "3.14 EUR" {
		t.Errorf("amount %q", got)
	}
}
