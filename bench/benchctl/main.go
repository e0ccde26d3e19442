// Command benchctl is the Go half of bench/run.sh (issue 13): it loads the
// data set into the service's tables, checks that the service and
// PostGraphile answer the benchmark queries alike, drives wrk round by
// round and prints the results. See bench/README.md, section "Read
// throughput against PostGraphile v5".
//
//	benchctl load    -db URL [-projects 100 -tasks 100 -member SUBJECT]
//	benchctl grow    -db URL [-top 10 -tasks 10000]
//	benchctl check   -ours URL -pg URL
//	benchctl measure -ours URL -pg URL -label LABEL -results FILE [-rounds 4 -duration 10s -pprof URL -pgstat DB ...]
//	benchctl measure -servers NAME=URL,NAME=URL... -label LABEL -results FILE [-queries readme ...]
//	                 (several configurations of the service side by side: bench/replicas.sh)
//	benchctl report  FILE
//	benchctl stub     -addr HOST:PORT -control HOST:PORT [-latency 1.5s -rpm 600 -outage 30s -outage-after 1000]
//	benchctl pipeline -url URL -db URL -stub CONTROL_URL -side before|after -scenario distinct|outage|dupes|priority -results FILE [...]
//	                  (the model provider stub and the driver of bench/pipeline.sh, issue 25)
//
// BENCH_TOKEN (ours) and BENCH_PG_TOKEN (PostGraphile) are sent as
// "Authorization: Bearer <token>" when set.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/postgres"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchctl:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchctl load|grow|check|measure|report|stub|pipeline [flags]; see bench/README.md")
	os.Exit(2)
}

func run(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dsn := fs.String("db", "", "the service's database URL")
	projects := fs.Int("projects", 100, "projects to load")
	tasks := fs.Int("tasks", 0, "tasks per project (load: 100; grow: 10000)")
	top := fs.Int("top", 10, "grow: how many of the newest projects grow")
	member := fs.String("member", "", "load: the subject of a user made VIEWER of every project (for a token with authorization on)")
	ours := fs.String("ours", "", "the service's GraphQL endpoint, e.g. http://127.0.0.1:18080/query")
	pg := fs.String("pg", "", "PostGraphile's GraphQL endpoint, e.g. http://127.0.0.1:18090/graphql")
	label := fs.String("label", "", "measure: the data set's name in the results (tasks per grown project)")
	results := fs.String("results", "", "measure: the TSV file to append results to")
	rounds := fs.Int("rounds", 4, "measure: rounds per query and server")
	duration := fs.Duration("duration", 10*time.Second, "measure: length of a round")
	warmup := fs.Duration("warmup", 3*time.Second, "measure: unmeasured load before a query's rounds")
	timeout := fs.Duration("timeout", 30*time.Second, "measure: wrk's request timeout (slower answers count as errors)")
	threads := fs.Int("threads", 2, "measure: wrk threads")
	conns := fs.Int("conns", 32, "measure: wrk connections")
	script := fs.String("script", "bench/graphql.lua", "measure: wrk's Lua script")
	pprof := fs.String("pprof", "", "measure: the service's /debug/pprof/profile URL; profiles the first round of each query")
	profiles := fs.String("profiles", "bench/results", "measure: where CPU profiles and statement statistics go")
	pgstatDB := fs.String("pgstat", "", "measure: the database URL whose pg_stat_statements to save per query (the extension must be preloaded)")
	named := fs.String("servers", "", "measure: instead of -ours and -pg, configurations of the service side by side, NAME=URL,NAME=URL...")
	only := fs.String("queries", "", "measure: the queries to run, comma-separated (default: all)")
	var stub stubConfig
	fs.StringVar(&stub.Addr, "addr", "127.0.0.1:0", "stub: the address of the provider's API")
	fs.StringVar(&stub.Control, "control", "127.0.0.1:0", "stub: the address serving the call log (GET /calls)")
	fs.DurationVar(&stub.Latency, "latency", 1500*time.Millisecond, "stub: how long every answer takes")
	fs.IntVar(&stub.RPM, "rpm", 600, "stub: answered requests allowed within any minute; more get 429 (0: no limit)")
	fs.DurationVar(&stub.Outage, "outage", 0, "stub: how long every call fails with 503, once -outage-after calls were answered")
	fs.IntVar(&stub.OutageAfter, "outage-after", 0, "stub: answered calls before the outage")
	var pl pipelineConfig
	fs.StringVar(&pl.URL, "url", "", "pipeline: the API's GraphQL endpoint")
	fs.StringVar(&pl.Stub, "stub", "", "pipeline: the stub's control address, e.g. http://127.0.0.1:18491")
	fs.StringVar(&pl.Side, "side", "", "pipeline: the side's name in the results (before, after)")
	fs.StringVar(&pl.Rev, "rev", "", "pipeline: the code measured (a commit)")
	fs.StringVar(&pl.Scenario, "scenario", "", "pipeline: distinct, outage, dupes or priority")
	fs.IntVar(&pl.N, "n", 2000, "pipeline: feedback to submit (priority: the LOW backlog)")
	fs.Float64Var(&pl.Exact, "exact", 0.30, "pipeline dupes: share of exact duplicates")
	fs.Float64Var(&pl.Near, "near", 0.20, "pipeline dupes: share of near duplicates")
	fs.IntVar(&pl.Gap, "gap", 100, "pipeline dupes: places between an original and its repeats, at least")
	fs.Float64Var(&pl.Rate, "rate", 10, "pipeline dupes: submissions a second (0: all at once)")
	fs.IntVar(&pl.High, "high", 100, "pipeline priority: HIGH feedback")
	fs.Float64Var(&pl.HighRate, "high-rate", 1, "pipeline priority: HIGH submissions a second")
	fs.BoolVar(&pl.Priorities, "priorities", true, "pipeline: the side's submitFeedback takes a priority")
	fs.IntVar(&pl.Submitters, "submitters", 16, "pipeline: submissions at a time when submitting at once")
	fs.IntVar(&pl.Tasks, "project-tasks", 20, "pipeline: tasks of the project the feedback is about")
	fs.DurationVar(&pl.Timeout, "wait", 20*time.Minute, "pipeline: how long to wait for the feedback to finish")
	fs.Uint64Var(&pl.Seed, "seed", 25, "pipeline: seed of the feedback texts")
	_ = fs.Parse(args)

	servers := []server{
		{Name: "ours", Schema: "ours", URL: *ours, Token: os.Getenv("BENCH_TOKEN")},
		{Name: "postgraphile", Schema: "postgraphile", URL: *pg, Token: os.Getenv("BENCH_PG_TOKEN")},
	}
	needServers := func() error {
		if *ours == "" || *pg == "" {
			return fmt.Errorf("%s needs -ours and -pg", cmd)
		}
		return nil
	}
	if *named != "" {
		servers = nil
		for _, item := range strings.Split(*named, ",") {
			name, u, ok := strings.Cut(item, "=")
			if !ok || name == "" || u == "" {
				return fmt.Errorf("-servers: %q is not NAME=URL", item)
			}
			servers = append(servers, server{Name: name, Schema: "ours", URL: u, Token: os.Getenv("BENCH_TOKEN")})
		}
		needServers = func() error { return nil }
	}
	var onlyQueries []string
	if *only != "" {
		onlyQueries = strings.Split(*only, ",")
	}

	switch cmd {
	case "load", "grow":
		if *dsn == "" {
			return fmt.Errorf("%s needs -db", cmd)
		}
		db, err := postgres.Open(ctx, *dsn, postgres.Pool{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
		if err != nil {
			return err
		}
		defer db.Close()
		start := time.Now()
		if cmd == "load" {
			err = load(ctx, db, *projects, or(*tasks, 100), *member)
		} else {
			err = grow(ctx, db, *top, or(*tasks, 10000))
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s: done in %v\n", cmd, time.Since(start).Round(time.Millisecond))
		return nil
	case "check":
		if err := needServers(); err != nil {
			return err
		}
		if err := check(ctx, servers); err != nil {
			return err
		}
		fmt.Printf("check: both servers give the same answers to %v\n", queryNames())
		return nil
	case "measure":
		if err := needServers(); err != nil {
			return err
		}
		if *label == "" || *results == "" {
			return fmt.Errorf("measure needs -label and -results")
		}
		cfg := wrkConfig{Threads: *threads, Conns: *conns, Duration: *duration, Warmup: *warmup, Timeout: *timeout, Script: *script}
		var stats *pgStats
		if *pgstatDB != "" {
			s, err := openPgStats(ctx, *pgstatDB, *profiles)
			if err != nil {
				return err
			}
			defer s.Close()
			stats = s
		}
		return measure(ctx, cfg, servers, onlyQueries, *label, *rounds, *results, *pprof, *profiles, stats, os.Stdout)
	case "stub":
		return runStub(ctx, stub, os.Stdout)
	case "pipeline":
		pl.DB, pl.Results = *dsn, *results
		if pl.URL == "" || pl.DB == "" || pl.Stub == "" || pl.Side == "" || pl.Scenario == "" || pl.Results == "" {
			return fmt.Errorf("pipeline needs -url, -db, -stub, -side, -scenario and -results")
		}
		return runPipeline(ctx, pl, os.Stdout)
	case "report":
		if fs.NArg() != 1 {
			return fmt.Errorf("report needs the results file")
		}
		if isPipelineResults(fs.Arg(0)) {
			rs, err := readPipeline(fs.Arg(0))
			if err != nil {
				return err
			}
			pipelineReport(os.Stdout, rs)
			return nil
		}
		ms, err := readResults(fs.Arg(0))
		if err != nil {
			return err
		}
		report(os.Stdout, ms)
		return nil
	}
	usage()
	return nil
}

func or(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}
