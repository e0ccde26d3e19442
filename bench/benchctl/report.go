package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report prints the measurements as two Markdown tables: every round, and
// the medians side by side with the ratio ours/PostGraphile.
func report(w io.Writer, ms []measurement) {
	type key struct{ tasks, query, server string }
	var keys []key
	rounds := map[key][]measurement{}
	for _, m := range ms {
		k := key{m.Tasks, m.Query, m.Server}
		if _, ok := rounds[k]; !ok {
			keys = append(keys, k)
		}
		rounds[k] = append(rounds[k], m)
	}
	n := 0
	for _, rs := range rounds {
		n = max(n, len(rs))
	}

	fmt.Fprintln(w, "Requests per second, each round (wrk), and medians over the rounds; requests and errors summed:")
	fmt.Fprintln(w)
	head := "| tasks/project | query | server |"
	rule := "| --- | --- | --- |"
	for i := 1; i <= n; i++ {
		head += fmt.Sprintf(" r%d |", i)
		rule += " ---: |"
	}
	fmt.Fprintln(w, head+" median | p50 | p99 | requests | errors |")
	fmt.Fprintln(w, rule+" ---: | ---: | ---: | ---: | ---: |")
	medians := map[key]float64{}
	for _, k := range keys {
		rs := rounds[k]
		var cells []string
		for i := range n {
			if i < len(rs) {
				cells = append(cells, fmt.Sprintf("%.0f", rs[i].RPS))
			} else {
				cells = append(cells, "")
			}
		}
		var rps, p50, p99 []float64
		errs, requests := 0, 0
		for _, r := range rs {
			requests += r.Requests
			rps = append(rps, r.RPS)
			p50 = append(p50, float64(r.P50))
			p99 = append(p99, float64(r.P99))
			errs += r.Errors
		}
		medians[k] = median(rps)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %s | %s | %d | %d |\n", k.tasks, k.query, k.server,
			strings.Join(cells, " | "), medians[k], ms2(median(p50)), ms2(median(p99)), requests, errs)
	}

	if !slices.ContainsFunc(keys, func(k key) bool { return k.server == "postgraphile" }) {
		return // configurations of the service alone: the table above says it all
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Median requests per second:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| tasks/project | query | ours | PostGraphile | ours/PostGraphile |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: |")
	for _, k := range keys {
		if k.server != "ours" {
			continue
		}
		pg, ok := medians[key{k.tasks, k.query, "postgraphile"}]
		ratio := "–"
		if ok && pg > 0 {
			ratio = fmt.Sprintf("%.2f", medians[k]/pg)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %s |\n", k.tasks, k.query, medians[k], pg, ratio)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms2(ns float64) string {
	return fmt.Sprintf("%.1f ms", ns/float64(time.Millisecond))
}
