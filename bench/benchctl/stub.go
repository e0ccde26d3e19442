package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmstub"
)

// stubConfig is the model provider bench/pipeline.sh measures the workers
// against (issue 25): every answer takes Latency, more than RPM answered
// requests within any minute get 429 at once, and after OutageAfter
// answers every call fails with 503 for Outage.
type stubConfig struct {
	Addr, Control string
	Latency       time.Duration
	RPM           int
	Outage        time.Duration
	OutageAfter   int
}

// provider is the stub's Responder with its outage.
type provider struct {
	cfg    stubConfig
	window *llmstub.Window

	mu          sync.Mutex
	answered    int
	outageStart time.Time
}

func newProvider(cfg stubConfig) *provider {
	return &provider{cfg: cfg, window: &llmstub.Window{Requests: cfg.RPM, Period: time.Minute}}
}

// answer is a valid analysis, as the analyzer asks of models.
var answer = llmstub.ToolCall("record_analysis", llmstub.Answer("Benchmark: the feedback was read.")).WithUsage(600, 60)

func (p *provider) respond() llmstub.Responder {
	limited := p.window.Wrap(func(llmstub.Request) llmstub.Reply {
		p.mu.Lock()
		p.answered++
		p.mu.Unlock()
		return answer.After(p.cfg.Latency)
	})
	return func(req llmstub.Request) llmstub.Reply {
		if p.down(time.Now()) {
			return llmstub.Status(http.StatusServiceUnavailable, "The server is overloaded or not ready yet (llmstub outage).")
		}
		return limited(req)
	}
}

// down says whether the outage is on at now, starting it once OutageAfter
// calls were answered.
func (p *provider) down(now time.Time) bool {
	if p.cfg.Outage <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outageStart.IsZero() {
		if p.answered < p.cfg.OutageAfter {
			return false
		}
		p.outageStart = now
	}
	return now.Before(p.outageStart.Add(p.cfg.Outage))
}

// runStub serves the provider until ctx ends, and on Control: GET /calls,
// the call log as TSV (start and end in Unix nanoseconds, status), and
// GET /outage, the outage's start (Unix nanoseconds, 0 before it).
func runStub(ctx context.Context, cfg stubConfig, log io.Writer) error {
	p := newProvider(cfg)
	stub, err := llmstub.Start(cfg.Addr, p.respond())
	if err != nil {
		return err
	}
	defer stub.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/tab-separated-values")
		var b strings.Builder
		for _, c := range stub.Log() {
			fmt.Fprintf(&b, "%d\t%d\t%d\n", c.Start.UnixNano(), c.End.UnixNano(), c.Status)
		}
		_, _ = io.WriteString(w, b.String())
	})
	mux.HandleFunc("GET /outage", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		start := p.outageStart
		p.mu.Unlock()
		var ns int64
		if !start.IsZero() {
			ns = start.UnixNano()
		}
		_, _ = io.WriteString(w, strconv.FormatInt(ns, 10)+"\n")
	})
	l, err := net.Listen("tcp", cfg.Control)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintf(log, "stub: %s (answers in %v, 429 above %d a minute", stub.URL, cfg.Latency, cfg.RPM)
	if cfg.Outage > 0 {
		fmt.Fprintf(log, ", 503 for %v after %d answers", cfg.Outage, cfg.OutageAfter)
	}
	fmt.Fprintf(log, "); its call log on http://%s/calls\n", l.Addr())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// call is one line of the stub's call log.
type call struct {
	Start, End time.Time
	Status     int
}

// fetchCalls reads the stub's call log from its control address.
func fetchCalls(ctx context.Context, control string) ([]call, error) {
	body, err := getText(ctx, strings.TrimSuffix(control, "/")+"/calls")
	if err != nil {
		return nil, err
	}
	var calls []call
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if line == "" {
			continue
		}
		var s, e int64
		var c call
		if _, err := fmt.Sscanf(line, "%d\t%d\t%d", &s, &e, &c.Status); err != nil {
			return nil, fmt.Errorf("stub call log: %q: %w", line, err)
		}
		c.Start, c.End = time.Unix(0, s), time.Unix(0, e)
		calls = append(calls, c)
	}
	return calls, nil
}

func getText(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %d: %.200s", url, resp.StatusCode, b)
	}
	return string(b), nil
}
