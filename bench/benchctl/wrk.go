package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// load generator settings, as issue 13 fixes them.
type wrkConfig struct {
	Threads, Conns int
	Duration       time.Duration // of a measured round
	Warmup         time.Duration // unmeasured, before a server's first round
	Timeout        time.Duration // wrk drops slower answers from the latencies
	Script         string        // bench/graphql.lua
}

// result is one wrk run.
type result struct {
	RPS      float64
	Requests int // completed
	P50, P99 time.Duration
	Errors   int // non-2xx answers, socket errors and timeouts
}

// wrk runs the load generator against s with body and parses its report.
func runWrk(ctx context.Context, cfg wrkConfig, s server, bodyFile string, d time.Duration) (result, error) {
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(cfg.Threads), "-c", strconv.Itoa(cfg.Conns),
		"-d", seconds(d), "--timeout", seconds(cfg.Timeout), "--latency", "-s", cfg.Script, s.URL)
	auth := ""
	if s.Token != "" {
		auth = "Bearer " + s.Token
	}
	cmd.Env = append(os.Environ(), "BENCH_BODY_FILE="+bodyFile, "BENCH_AUTH="+auth)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk against %s: %w\n%s", s.Name, err, out)
	}
	return parseWrk(string(out))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", max(1, int(d.Round(time.Second)/time.Second)))
}

var (
	requestsLine = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	rpsLine      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	percentile   = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\b`)
	non2xxLine   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	socketLine   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	errWrkParse  = errors.New("wrk's report has no Requests/sec line")
)

// parseWrk reads the numbers from wrk's report (with --latency).
func parseWrk(out string) (result, error) {
	var r result
	m := rpsLine.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("%w:\n%s", errWrkParse, out)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := requestsLine.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(m[1])
	}
	for _, m := range percentile.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		// wrk prints two decimals: the finest step is 10ns.
		d := time.Duration(v * float64(unit)).Round(10 * time.Nanosecond)
		if m[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	if m := non2xxLine.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Errors += n
	}
	if m := socketLine.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.Errors += n
		}
	}
	return r, nil
}

// measurement is one row of the results file.
type measurement struct {
	Tasks  string // the data set: tasks per grown project
	Query  string
	Server string
	Round  int
	result
}

const resultsHeader = "tasks\tquery\tserver\tround\trps\trequests\tp50_ms\tp99_ms\terrors"

func (m measurement) tsv() string {
	return fmt.Sprintf("%s\t%s\t%s\t%d\t%.1f\t%d\t%.2f\t%.2f\t%d", m.Tasks, m.Query, m.Server, m.Round, m.RPS, m.Requests,
		float64(m.P50)/float64(time.Millisecond), float64(m.P99)/float64(time.Millisecond), m.Errors)
}

func readResults(path string) ([]measurement, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []measurement
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == resultsHeader || strings.TrimSpace(line) == "" {
			continue
		}
		var m measurement
		var p50, p99 float64
		if _, err := fmt.Sscanf(strings.ReplaceAll(line, "\t", " "), "%s %s %s %d %f %d %f %f %d",
			&m.Tasks, &m.Query, &m.Server, &m.Round, &m.RPS, &m.Requests, &p50, &p99, &m.Errors); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		m.P50 = time.Duration(p50 * float64(time.Millisecond))
		m.P99 = time.Duration(p99 * float64(time.Millisecond))
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// measure runs every query against every server for rounds rounds,
// alternating which server goes first from round to round, so that drift
// on a shared machine (other load, caches, GC) falls on both alike. Each
// measurement is appended to the results file as it is taken.
//
// With pgstat set, the database's statement statistics of each query's
// rounds go to profileDir as well.
//
// only, when not empty, names the queries to run.
func measure(ctx context.Context, cfg wrkConfig, servers []server, only []string, tasks string, rounds int, resultsPath, pprofURL, profileDir string, pgstat *pgStats, log io.Writer) error {
	ids, err := projectIDs(ctx, servers)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(resultsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	if fi, err := out.Stat(); err == nil && fi.Size() == 0 {
		fmt.Fprintln(out, resultsHeader)
	}
	dir, err := os.MkdirTemp("", "benchctl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	for _, q := range queries {
		if len(only) > 0 && !slices.Contains(only, q.Name) {
			continue
		}
		bodies := map[string]string{}
		for _, s := range servers {
			b, err := q.body(s, ids[s.Name])
			if err != nil {
				return err
			}
			bodies[s.Name] = filepath.Join(dir, q.Name+"-"+s.Name+".json")
			if err := os.WriteFile(bodies[s.Name], b, 0o644); err != nil {
				return err
			}
			if cfg.Warmup > 0 {
				fmt.Fprintf(log, "%s tasks, %s, %s: warm-up %v\n", tasks, q.Name, s.Name, cfg.Warmup)
				if _, err := runWrk(ctx, cfg, s, bodies[s.Name], cfg.Warmup); err != nil {
					return err
				}
			}
		}
		if pgstat != nil {
			if err := pgstat.reset(ctx); err != nil {
				return err
			}
		}
		for round := 1; round <= rounds; round++ {
			// Each round starts with the next server.
			first := (round - 1) % len(servers)
			order := append(slices.Clone(servers[first:]), servers[:first]...)
			for _, s := range order {
				var profile chan error
				if pprofURL != "" && s.Name == "ours" && round == 1 {
					profile = make(chan error, 1)
					path := filepath.Join(profileDir, fmt.Sprintf("cpu-%s-%s.pprof", q.Name, tasks))
					go func() { profile <- fetchProfile(ctx, pprofURL, cfg.Duration, path) }()
				}
				r, err := runWrk(ctx, cfg, s, bodies[s.Name], cfg.Duration)
				if err != nil {
					return err
				}
				if profile != nil {
					if err := <-profile; err != nil {
						fmt.Fprintf(log, "CPU profile: %v\n", err)
					}
				}
				m := measurement{Tasks: tasks, Query: q.Name, Server: s.Name, Round: round, result: r}
				fmt.Fprintf(log, "%s tasks, %s, %s, round %d: %.0f req/s (%d requests), p50 %v, p99 %v, %d errors\n",
					tasks, q.Name, s.Name, round, r.RPS, r.Requests, r.P50, r.P99, r.Errors)
				fmt.Fprintln(out, m.tsv())
			}
		}
		if pgstat != nil {
			path, err := pgstat.save(ctx, q.Name+"-"+tasks)
			if err != nil {
				return err
			}
			fmt.Fprintf(log, "statement statistics: %s\n", path)
		}
	}
	return nil
}

// fetchProfile saves a CPU profile of the service taken while a round runs.
// pprofURL is the service's /debug/pprof/profile endpoint.
func fetchProfile(ctx context.Context, pprofURL string, d time.Duration, path string) error {
	seconds := max(1, int(d/time.Second)-1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?seconds=%d", pprofURL, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w (is pprof exposed there?)", pprofURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d (is pprof exposed there?)", pprofURL, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
