package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestDupSetRepeatsEarlierFeedbackOnItsTask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, gap = 1000, 50
	set := dupSet(rng, n, 20, 0.30, 0.20, gap)
	if len(set) != n {
		t.Fatalf("%d feedback, want %d", len(set), n)
	}
	kinds := map[string]int{}
	first := map[string]int{} // text -> place of its original
	for i, it := range set {
		kinds[it.Kind]++
		switch it.Kind {
		case "distinct":
			if _, seen := first[it.Text]; seen {
				t.Errorf("place %d: a distinct feedback repeats an earlier text", i)
			}
			first[it.Text] = i
		case "exact":
			o, seen := first[it.Text]
			if !seen || i-o < gap || set[o].Task != it.Task {
				t.Errorf("place %d: exact repeat of place %d (seen %v) on task %d", i, o, seen, it.Task)
			}
		case "near":
			if _, seen := first[it.Text]; seen {
				t.Errorf("place %d: a near duplicate is an exact one", i)
			}
			// one edit: the same words, but for one or the added sentence
			if !nearOfEarlier(set[:max(i-gap+1, 0)], it) {
				t.Errorf("place %d: %q is not a small edit of an original at least %d places before on its task", i, it.Text, gap)
			}
		}
		if i < gap && it.Kind != "distinct" {
			t.Errorf("place %d within the first %d is a repeat", i, gap)
		}
	}
	if kinds["exact"] != 300 || kinds["near"] != 200 || kinds["distinct"] != 500 {
		t.Errorf("kinds %v, want 300 exact, 200 near, 500 distinct", kinds)
	}
}

// nearOfEarlier says whether it is at most a word or a short sentence
// away from an original among earlier, on the same task.
func nearOfEarlier(earlier []item, it item) bool {
	words := func(s string) []string { return strings.Fields(strings.TrimSuffix(s, ".")) }
	for _, o := range earlier {
		if o.Kind != "distinct" || o.Task != it.Task {
			continue
		}
		if strings.HasPrefix(it.Text, o.Text+" ") {
			return true
		}
		a, b := words(o.Text), words(it.Text)
		same := 0
		for i := 0; i < min(len(a), len(b)); i++ {
			if a[i] == b[i] {
				same++
			}
		}
		// replaced or swapped: all but one or two places agree; dropped:
		// the common prefix and suffix cover all but one word
		if len(a) == len(b) && same >= len(a)-2 {
			return true
		}
		if len(b) == len(a)-1 {
			p := 0
			for p < len(b) && a[p] == b[p] {
				p++
			}
			if strings.Join(a[p+1:], " ") == strings.Join(b[p:], " ") {
				return true
			}
		}
	}
	return false
}

func TestSustainedLeavesOutTheRampsAndCountsAnswers(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls []call
	// 100 s of calls: a 200 every 100 ms in the middle 80 s, a 429 beside
	// each, and a burst of answers in the first and the last tenth that
	// must not count.
	for ms := 10_000; ms < 90_000; ms += 100 {
		at := t0.Add(time.Duration(ms) * time.Millisecond)
		calls = append(calls, call{Start: at.Add(-time.Second), End: at, Status: 200}, call{Start: at, End: at, Status: 429})
	}
	for ms := 0; ms < 5_000; ms += 10 {
		calls = append(calls, call{Start: t0.Add(time.Duration(ms) * time.Millisecond), End: t0.Add(time.Duration(ms)*time.Millisecond + time.Second), Status: 200})
	}
	calls = append(calls, call{Start: t0.Add(99 * time.Second), End: t0.Add(100 * time.Second), Status: 200})
	if got := sustained(calls); got < 599 || got > 601 {
		t.Errorf("sustained %.1f a minute, want 600", got)
	}
	if got := quantile([]float64{5, 1, 4, 2, 3}, 0.5); got != 3 {
		t.Errorf("median %v, want 3", got)
	}
	if got := quantile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99); got != 10 {
		t.Errorf("p99 of 10 values %v, want the largest", got)
	}
}

func TestPipelineResultsRoundTripAndReport(t *testing.T) {
	path := t.TempDir() + "/pipeline.tsv"
	rows := []fbRow{
		{Kind: "high", Status: "COMPLETED", Provider: "openai", Latency: 2 * time.Second, Processed: time.Unix(100, 0)},
		{Kind: "low", Status: "COMPLETED", Provider: "builtin", Latency: 9 * time.Second, Processed: time.Unix(90, 0)},
		{Kind: "low", Status: "PENDING"},
		{Kind: "low", Status: "FAILED", Processed: time.Unix(95, 0)},
	}
	calls := []call{{time.Unix(10, 0), time.Unix(11, 0), 200}, {time.Unix(12, 0), time.Unix(12, 0), 429}}
	for _, side := range []string{"before", "after"} {
		cfg := pipelineConfig{Side: side, Rev: "abc" + side, Scenario: "priority", Priorities: side == "after", Results: path}
		if err := appendPipeline(cfg, pipelineMetrics(cfg, rows, calls, time.Minute, false), &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	dupes := pipelineConfig{Side: "after", Rev: "abcafter", Scenario: "dupes", Results: path}
	dupRows := []fbRow{
		{Kind: "distinct", Status: "COMPLETED", Provider: "openai"},
		{Kind: "exact", Status: "COMPLETED", Provider: "openai"},
		{Kind: "near", Status: "COMPLETED", Provider: "openai"},
		{Kind: "near", Status: "COMPLETED", Provider: "builtin"},
	}
	if err := appendPipeline(dupes, pipelineMetrics(dupes, dupRows, calls[:1], time.Minute, false), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !isPipelineResults(path) {
		t.Fatal("the results file is not recognised as the pipeline's")
	}
	rs, err := readPipeline(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	pipelineReport(&out, rs)
	for _, want := range []string{
		"| | before (abcbefore) | after (abcafter) |",
		"| submitFeedback takes a priority | false | true |",
		"| HIGH submit → COMPLETED p99, s | 2.0 | 2.0 |",
		"| LOW p50 of those COMPLETED, s | 9.0 | 9.0 |",
		"| LOW not yet done when the last HIGH was | 1 | 1 |", // the PENDING one; the others ended first
		"| calls answered 429, % (goal < 1) | 50.00 | 50.00 |",
		"| FAILED (goal 0 with a fallback) | 1 | 1 |",
		// 3 analyses by the model, 1 call answered; the fallback's saved nothing
		"| model calls saved (COMPLETED − by the fallback − calls answered) | 2 |",
		"| saved, % of feedback | 50.0 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "distinct:") || strings.Contains(out.String(), "outage:") {
		t.Errorf("a table for a scenario that did not run:\n%s", out.String())
	}
}
