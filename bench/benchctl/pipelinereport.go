package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// pipelineScenarios are bench/pipeline.sh's scenarios in report order,
// each with the figures its table shows.
var pipelineScenarios = []struct {
	Name, Title string
	Metrics     []string
}{
	{"distinct", "distinct feedback, all submitted at once",
		[]string{"feedback", "answered_per_min", "share_429", "p50_s", "p99_s", "completed", "failed", "by_fallback", "calls", "wall_s"}},
	{"outage", "the same with every call failing (503) for 30 s in the middle",
		[]string{"feedback", "answered_per_min", "share_429", "calls_5xx", "p50_s", "p99_s", "completed", "failed", "by_fallback", "calls", "wall_s"}},
	{"dupes", "30 % exact and 20 % near duplicates, submitted at the provider's pace",
		[]string{"feedback", "exact", "near", "calls_200", "saved", "saved_pct", "calls", "share_429", "p50_s", "p99_s", "failed", "wall_s"}},
	{"priority", "HIGH feedback while a LOW backlog drains",
		[]string{"priorities", "feedback", "high", "high_p50_s", "high_p99_s", "low_p50_s", "low_left", "share_429", "failed", "wall_s"}},
}

var pipelineLabels = map[string]string{
	"feedback":         "feedback",
	"answered_per_min": "model calls answered a minute, sustained (goal ≥ 570)",
	"share_429":        "calls answered 429, % (goal < 1)",
	"calls_5xx":        "calls answered 5xx",
	"calls_200":        "model calls answered",
	"calls":            "model calls, all answers",
	"p50_s":            "submit → COMPLETED p50, s",
	"p99_s":            "submit → COMPLETED p99, s",
	"completed":        "COMPLETED",
	"failed":           "FAILED (goal 0 with a fallback)",
	"by_fallback":      "of which answered by the fallback",
	"wall_s":           "run, s",
	"exact":            "exact duplicates",
	"near":             "near duplicates",
	"saved":            "model calls saved (COMPLETED − by the fallback − calls answered)",
	"saved_pct":        "saved, % of feedback",
	"priorities":       "submitFeedback takes a priority",
	"high":             "HIGH feedback",
	"high_p50_s":       "HIGH submit → COMPLETED p50, s",
	"high_p99_s":       "HIGH submit → COMPLETED p99, s",
	"low_p50_s":        "LOW p50 of those COMPLETED, s",
	"low_left":         "LOW not yet done when the last HIGH was",
}

// pipelineReport prints a table per scenario, the sides side by side in
// the order they ran (the last run of a side and scenario counts).
func pipelineReport(w io.Writer, rs []pipelineResult) {
	type key struct{ side, scenario, metric string }
	values := map[key]string{}
	var sides []string
	revs := map[string]string{}
	for _, r := range rs {
		if !slices.Contains(sides, r.Side) {
			sides = append(sides, r.Side)
		}
		revs[r.Side] = r.Rev
		values[key{r.Side, r.Scenario, r.Metric}] = r.Value
	}
	// What reuse saved: the analyses the model made (COMPLETED, less those
	// the fallback made) less the calls it answered.
	for _, side := range sides {
		for _, sc := range pipelineScenarios {
			n := func(m string) (int, bool) {
				v, err := strconv.Atoi(values[key{side, sc.Name, m}])
				return v, err == nil
			}
			feedback, ok1 := n("feedback")
			completed, ok2 := n("completed")
			fallback, ok3 := n("by_fallback")
			answered, ok4 := n("calls_200")
			if ok1 && ok2 && ok3 && ok4 && feedback > 0 {
				saved := completed - fallback - answered
				values[key{side, sc.Name, "saved"}] = strconv.Itoa(saved)
				values[key{side, sc.Name, "saved_pct"}] = fmt.Sprintf("%.1f", pct(saved, feedback))
			}
		}
	}
	for _, sc := range pipelineScenarios {
		var present []string
		for _, side := range sides {
			if _, ok := values[key{side, sc.Name, "feedback"}]; ok {
				present = append(present, side)
			}
		}
		if len(present) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: %s\n\n| |", sc.Name, sc.Title)
		for _, side := range present {
			fmt.Fprintf(w, " %s (%s) |", side, revs[side])
		}
		fmt.Fprint(w, "\n| --- |")
		for range present {
			fmt.Fprint(w, " ---: |")
		}
		fmt.Fprintln(w)
		for _, m := range sc.Metrics {
			fmt.Fprintf(w, "| %s |", pipelineLabels[m])
			for _, side := range present {
				v, ok := values[key{side, sc.Name, m}]
				if !ok || v == "NaN" {
					v = "–"
				}
				fmt.Fprintf(w, " %s |", v)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}
