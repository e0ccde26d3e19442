package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

// pipelineConfig is one scenario of bench/pipeline.sh on one side (issue
// 25): feedback submitted to a running API whose workers call the stub.
type pipelineConfig struct {
	URL, DB, Stub string // the API's GraphQL endpoint, its database, the stub's control address
	Side, Rev     string // before or after, and the code measured
	Scenario      string // distinct, outage, dupes, priority
	N             int    // feedback (priority: the LOW backlog)
	Exact, Near   float64
	Gap           int     // dupes: places between an original and its first repeat
	Rate          float64 // dupes: submissions a second (0: all at once)
	High          int     // priority: HIGH feedback
	HighRate      float64 // priority: HIGH submissions a second
	Priorities    bool    // the side's submitFeedback takes a priority
	Submitters    int
	Tasks         int
	Timeout       time.Duration
	Seed          uint64
	Results       string
}

const pipelineHeader = "side\trev\tscenario\tmetric\tvalue"

// runPipeline creates a project, submits the scenario's feedback, waits
// for it to finish (priority: for the HIGH feedback to finish), then
// appends the measurements to the results file.
func runPipeline(ctx context.Context, cfg pipelineConfig, log io.Writer) error {
	db, err := postgres.Open(ctx, cfg.DB, postgres.Pool{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Hour})
	if err != nil {
		return err
	}
	defer db.Close()
	svc := server{Name: "service", Schema: "ours", URL: cfg.URL, Token: os.Getenv("BENCH_TOKEN")}
	rng := rand.New(rand.NewPCG(cfg.Seed, 25))

	name := fmt.Sprintf("bench-%s-%s-%d", cfg.Side, cfg.Scenario, time.Now().UnixNano())
	projectGID, taskGIDs, err := createProject(ctx, svc, name, cfg.Tasks)
	if err != nil {
		return err
	}
	var projectDB int
	if err := db.QueryRowContext(ctx, `SELECT id FROM projects WHERE name = $1`, name).Scan(&projectDB); err != nil {
		return fmt.Errorf("the project just created: %w", err)
	}
	sub := &submitter{svc: svc, project: projectGID, tasks: taskGIDs, priorities: cfg.Priorities}

	start := time.Now()
	waitFor := "" // the user name whose feedback ends the run; "" is all
	switch cfg.Scenario {
	case "distinct", "outage":
		set := distinctSet(rng, cfg.N, cfg.Tasks, "distinct", "")
		fmt.Fprintf(log, "%s/%s: %d feedback at once\n", cfg.Side, cfg.Scenario, len(set))
		err = sub.burst(ctx, set, cfg.Submitters)
	case "dupes":
		// A small run keeps a tenth of its places for originals at most.
		set := dupSet(rng, cfg.N, cfg.Tasks, cfg.Exact, cfg.Near, max(1, min(cfg.Gap, cfg.N/10)))
		fmt.Fprintf(log, "%s/%s: %d feedback %v, %.0f a second\n", cfg.Side, cfg.Scenario, len(set), setSummary(set), cfg.Rate)
		if cfg.Rate > 0 {
			err = sub.paced(ctx, set, cfg.Rate)
		} else {
			err = sub.burst(ctx, set, cfg.Submitters)
		}
	case "priority":
		low := distinctSet(rng, cfg.N, cfg.Tasks, "low", "LOW")
		high := distinctSet(rng, cfg.High, cfg.Tasks, "high", "HIGH")
		fmt.Fprintf(log, "%s/%s: %d LOW at once, then %d HIGH, %.1f a second (priorities: %v)\n",
			cfg.Side, cfg.Scenario, len(low), len(high), cfg.HighRate, cfg.Priorities)
		if err = sub.burst(ctx, low, cfg.Submitters); err == nil {
			err = sub.paced(ctx, high, cfg.HighRate)
		}
		waitFor = "bench-high"
	default:
		return fmt.Errorf("unknown scenario %q (distinct, outage, dupes, priority)", cfg.Scenario)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "%s/%s: submitted in %v\n", cfg.Side, cfg.Scenario, time.Since(start).Round(time.Millisecond))

	timedOut := !waitDone(ctx, db, projectDB, waitFor, start.Add(cfg.Timeout), log)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	wall := time.Since(start)
	rows, err := feedbackRows(ctx, db, projectDB)
	if err != nil {
		return err
	}
	calls, err := fetchCalls(ctx, cfg.Stub)
	if err != nil {
		return err
	}
	ms := pipelineMetrics(cfg, rows, calls, wall, timedOut)
	return appendPipeline(cfg, ms, log)
}

// createProject creates a project with tasks through the API, as a user
// would, and returns their global IDs.
func createProject(ctx context.Context, svc server, name string, tasks int) (string, []string, error) {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($n: String!) { createProject(input: {name: $n, description: "issue 25 benchmark"}) { id } }`,
		"variables": map[string]any{"n": name},
	})
	data, err := post(ctx, svc, body)
	if err != nil {
		return "", nil, err
	}
	project, _ := data["createProject"].(map[string]any)["id"].(string)
	var ids []string
	for i := range tasks {
		body, _ := json.Marshal(map[string]any{
			"query":     `mutation($p: ID!, $t: String!, $prio: Int) { createTask(input: {projectID: $p, title: $t, priority: $prio}) { id } }`,
			"variables": map[string]any{"p": project, "t": fmt.Sprintf("%s %d", sentence(rand.New(rand.NewPCG(uint64(i), 1)), 3), i), "prio": i % 6},
		})
		data, err := post(ctx, svc, body)
		if err != nil {
			return "", nil, err
		}
		id, _ := data["createTask"].(map[string]any)["id"].(string)
		ids = append(ids, id)
	}
	return project, ids, nil
}

type submitter struct {
	svc        server
	project    string
	tasks      []string
	priorities bool
}

func (s *submitter) submit(ctx context.Context, it item) error {
	in := map[string]any{"projectID": s.project, "taskID": s.tasks[it.Task], "feedbackText": it.Text, "userName": "bench-" + it.Kind}
	if s.priorities && it.Priority != "" {
		in["priority"] = it.Priority
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id } }`,
		"variables": map[string]any{"in": in},
	})
	_, err := post(ctx, s.svc, body)
	return err
}

// burst submits the set at once, n requests at a time.
func (s *submitter) burst(ctx context.Context, set []item, n int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan item)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				if err := s.submit(ctx, it); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, it := range set {
		select {
		case next <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// paced submits the set in order, rate a second.
func (s *submitter) paced(ctx context.Context, set []item, rate float64) error {
	start := time.Now()
	for i, it := range set {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := s.submit(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// waitDone polls until the project's feedback (of user name who, when
// set) is all COMPLETED or FAILED; false if the deadline came first.
func waitDone(ctx context.Context, db *sql.DB, project int, who string, deadline time.Time, log io.Writer) bool {
	lastLog := time.Now()
	for {
		var open, done, failed int
		err := db.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE status IN ('PENDING', 'PROCESSING')),
			count(*) FILTER (WHERE status = 'COMPLETED'),
			count(*) FILTER (WHERE status = 'FAILED')
			FROM feedbacks WHERE project_id = $1 AND ($2 = '' OR user_name = $2)`, project, who).Scan(&open, &done, &failed)
		if err == nil && open == 0 {
			return true
		}
		if time.Since(lastLog) >= 15*time.Second {
			fmt.Fprintf(log, "  %s open %d, completed %d, failed %d (%v)\n", time.Now().UTC().Format("15:04:05"), open, done, failed, err)
			lastLog = time.Now()
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(log, "  gave up waiting: %d still open\n", open)
			return false
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return false
		}
	}
}

// fbRow is one feedback's outcome.
type fbRow struct {
	Kind, Status, Provider string
	Latency                time.Duration // created_at to processed_at; 0 when not processed
	Processed              time.Time
}

func feedbackRows(ctx context.Context, db *sql.DB, project int) ([]fbRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT coalesce(user_name, ''), status::text, coalesce(provider, ''),
		coalesce(extract(epoch FROM processed_at - created_at), 0), coalesce(processed_at, created_at)
		FROM feedbacks WHERE project_id = $1`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fbRow
	for rows.Next() {
		var r fbRow
		var secs float64
		if err := rows.Scan(&r.Kind, &r.Status, &r.Provider, &secs, &r.Processed); err != nil {
			return nil, err
		}
		r.Kind = strings.TrimPrefix(r.Kind, "bench-")
		r.Latency = time.Duration(secs * float64(time.Second))
		out = append(out, r)
	}
	return out, rows.Err()
}

// metric is one measurement of a scenario on a side.
type metric struct{ Name, Value string }

// pipelineMetrics reduces a run to the figures issue 25 asks for.
func pipelineMetrics(cfg pipelineConfig, rows []fbRow, calls []call, wall time.Duration, timedOut bool) []metric {
	var ms []metric
	add := func(name string, format string, v ...any) { ms = append(ms, metric{name, fmt.Sprintf(format, v...)}) }
	count := func(keep func(fbRow) bool) int {
		n := 0
		for _, r := range rows {
			if keep(r) {
				n++
			}
		}
		return n
	}
	latencies := func(kind string) []float64 {
		var v []float64
		for _, r := range rows {
			if r.Status == "COMPLETED" && (kind == "" || r.Kind == kind) {
				v = append(v, r.Latency.Seconds())
			}
		}
		return v
	}
	byStatus := map[int]int{}
	for _, c := range calls {
		byStatus[c.Status]++
	}
	fivexx := 0
	for code, n := range byStatus {
		if code >= 500 {
			fivexx += n
		}
	}

	add("feedback", "%d", len(rows))
	add("completed", "%d", count(func(r fbRow) bool { return r.Status == "COMPLETED" }))
	add("failed", "%d", count(func(r fbRow) bool { return r.Status == "FAILED" }))
	add("unfinished", "%d", count(func(r fbRow) bool { return r.Status == "PENDING" || r.Status == "PROCESSING" }))
	// The stub is the provider (openai); the fallback pipeline.sh
	// configures is the built-in rules.
	byFallback := count(func(r fbRow) bool { return r.Status == "COMPLETED" && r.Provider == "builtin" })
	add("by_fallback", "%d", byFallback)
	add("wall_s", "%.1f", wall.Seconds())
	add("timed_out", "%v", timedOut)
	add("calls", "%d", len(calls))
	add("calls_200", "%d", byStatus[200])
	add("calls_429", "%d", byStatus[429])
	add("calls_5xx", "%d", fivexx)
	add("share_429", "%.2f", pct(byStatus[429], len(calls)))
	add("answered_per_min", "%.0f", sustained(calls))
	all := latencies("")
	add("p50_s", "%.1f", quantile(all, 0.50))
	add("p99_s", "%.1f", quantile(all, 0.99))
	switch cfg.Scenario {
	case "dupes":
		add("exact", "%d", count(func(r fbRow) bool { return r.Kind == "exact" }))
		add("near", "%d", count(func(r fbRow) bool { return r.Kind == "near" }))
	case "priority":
		add("priorities", "%v", cfg.Priorities)
		high := latencies("high")
		add("high", "%d", count(func(r fbRow) bool { return r.Kind == "high" }))
		add("high_p50_s", "%.1f", quantile(high, 0.50))
		add("high_p99_s", "%.1f", quantile(high, 0.99))
		add("low_p50_s", "%.1f", quantile(latencies("low"), 0.50))
		// LOW still waiting when the last HIGH finished: the backlog held.
		var lastHigh time.Time
		for _, r := range rows {
			if r.Kind == "high" && r.Processed.After(lastHigh) {
				lastHigh = r.Processed
			}
		}
		add("low_left", "%d", count(func(r fbRow) bool {
			return r.Kind == "low" && (r.Status == "PENDING" || r.Status == "PROCESSING" || r.Processed.After(lastHigh))
		}))
	}
	return ms
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// sustained is the rate of answered (200) calls a minute in the steady
// middle of the run: between the first call's start and the last call's
// end, without the first and the last tenth.
func sustained(calls []call) float64 {
	if len(calls) == 0 {
		return 0
	}
	first, last := calls[0].Start, calls[0].End
	for _, c := range calls {
		if c.Start.Before(first) {
			first = c.Start
		}
		if c.End.After(last) {
			last = c.End
		}
	}
	span := last.Sub(first)
	from, to := first.Add(span/10), last.Add(-span/10)
	if !to.After(from) {
		return 0
	}
	n := 0
	for _, c := range calls {
		if c.Status == 200 && !c.End.Before(from) && c.End.Before(to) {
			n++
		}
	}
	return float64(n) / to.Sub(from).Minutes()
}

// quantile is the q-quantile of v by the nearest rank (NaN when empty).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func appendPipeline(cfg pipelineConfig, ms []metric, log io.Writer) error {
	_, statErr := os.Stat(cfg.Results)
	f, err := os.OpenFile(cfg.Results, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if os.IsNotExist(statErr) {
		fmt.Fprintln(w, pipelineHeader)
	}
	var line []string
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cfg.Side, cfg.Rev, cfg.Scenario, m.Name, m.Value)
		line = append(line, m.Name+"="+m.Value)
	}
	fmt.Fprintf(log, "%s/%s: %s\n", cfg.Side, cfg.Scenario, strings.Join(line, " "))
	return w.Flush()
}

// pipelineResult is one line of a pipeline results file.
type pipelineResult struct{ Side, Rev, Scenario, Metric, Value string }

func readPipeline(path string) ([]pipelineResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pipelineResult
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == pipelineHeader || strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 5 {
			return nil, fmt.Errorf("%s: %q is not %s", path, line, pipelineHeader)
		}
		out = append(out, pipelineResult{p[0], p[1], p[2], p[3], p[4]})
	}
	return out, sc.Err()
}

// isPipelineResults says whether a results file is bench/pipeline.sh's.
func isPipelineResults(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line) == pipelineHeader
}
