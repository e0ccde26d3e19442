package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/hs256"
)

// run sets the project up, connects the subscribers, times the samples and
// prints what it measured to out.
func run(o options, out io.Writer) error {
	fmt.Fprintf(out, "machine: %s, %d cores; load average before: %s\n", cpuModel(), runtime.NumCPU(), loadAverage())
	setUp := setUpService
	switch o.peer {
	case peerPostGraphile:
		setUp = setUpPostGraphile
	case peerFloor:
		setUp = setUpFloor
	}
	tgt, err := setUp(o)
	if err != nil {
		return err
	}

	rssBefore := rss(o.serverPID)
	started := time.Now()
	ws, err := startWorkers(o, tgt)
	if err != nil {
		return err
	}
	defer ws.stop()
	connected := time.Since(started)
	failed := 0
	for _, w := range ws {
		failed += w.failed
		if w.failure != "" {
			fmt.Fprintf(out, "worker %d: %d connections failed, e.g. %s\n", w.index, w.failed, w.failure)
		}
	}
	fmt.Fprintf(out, "connected %d of %d subscribers over %d client processes in %s (%d users, %d connections each)\n",
		o.subscribers-failed, o.subscribers, len(ws), connected.Round(time.Millisecond), len(tgt.tokens), o.perUser)
	if failed > 0 {
		return fmt.Errorf("%d connections failed: check the server's limits (MAX_WS_CONNECTIONS, MAX_WS_CONNECTIONS_PER_CLIENT) and ulimit -n", failed)
	}
	time.Sleep(o.settle)
	rssAfter := rss(o.serverPID)

	// A first event proves every subscription is live before timing.
	if _, missing, err := sample(ws, o, tgt, "warm-up "+o.runID); err != nil {
		return err
	} else if missing > 0 {
		return fmt.Errorf("%d subscribers did not receive the warm-up event within %s", missing, o.timeout)
	}

	cpuBefore, clientsBefore := cpuTime(o.serverPID), ws.cpuTime()
	fanOutBefore, err := scrapeFanOut(o.metricsURL)
	if err != nil {
		return err
	}
	var all []time.Duration
	var lasts []time.Duration
	missed := 0
	for i := 1; i <= o.samples; i++ {
		time.Sleep(o.interval)
		lat, missing, err := sample(ws, o, tgt, fmt.Sprintf("sample %d of run %s", i, o.runID))
		if err != nil {
			return err
		}
		missed += missing
		all = append(all, lat...)
		lasts = append(lasts, slices.Max(lat))
	}
	cpuSpent, clientsSpent := cpuTime(o.serverPID)-cpuBefore, ws.cpuTime()-clientsBefore
	fanOutAfter, err := scrapeFanOut(o.metricsURL)
	if err != nil {
		return err
	}

	slices.Sort(all)
	slices.Sort(lasts)
	fmt.Fprintf(out, "subscription: %s\n", tgt.query)
	fmt.Fprintf(out, "delivery of the event, from sending the mutation, over %d samples x %d subscribers:\n", o.samples, o.subscribers)
	fmt.Fprintf(out, "  p50 %s  p99 %s  max %s  (last subscriber of an event: median %s)  missed %d\n",
		ms(percentile(all, 50)), ms(percentile(all, 99)), ms(all[len(all)-1]), ms(percentile(lasts, 50)), missed)
	if o.serverPID > 0 {
		fmt.Fprintf(out, "server: %.1f KiB resident per connection (VmRSS %d MiB before, %d MiB after connecting)\n",
			float64(rssAfter-rssBefore)/float64(o.subscribers)/1024, rssBefore>>20, rssAfter>>20)
		fmt.Fprintf(out, "server CPU per event: %s; client processes' CPU per event: %s\n",
			ms(cpuSpent/time.Duration(o.samples)), ms(clientsSpent/time.Duration(o.samples)))
	}
	if d := fanOutAfter.minus(fanOutBefore); d.count > 0 {
		fmt.Fprintf(out, "server: handing one event to every socket took %s on average, at most %s for 99%% of events (feedbackloop_subscription_fanout_seconds)\n",
			ms(d.mean()), d.quantileBound(0.99))
	}
	fmt.Fprintf(out, "| %d | %s | %s | %s | %s |\n", o.subscribers, o.selection, ms(percentile(all, 50)), ms(percentile(all, 99)), ms(all[len(all)-1]))
	return nil
}

// target is what is measured: where subscribers connect and what they
// send, and how an event is caused.
type target struct {
	wsURL     string
	query     string
	variables map[string]any
	tokens    []string                // one per perUser connections
	submit    func(text string) error // causes an event carrying text
}

// setUpService creates the run's project as a fresh owner and makes one
// member per perUser connections, each with a token.
func setUpService(o options) (target, error) {
	api := &client{url: o.url + "/query", http: &http.Client{Timeout: time.Minute}}
	owner, err := token(o.secret, "loadsubs-owner-"+o.runID)
	if err != nil {
		return target{}, err
	}
	var p struct{ CreateProject struct{ ID string } }
	if err := api.do(owner, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`, map[string]any{"n": "loadsubs " + o.runID}, &p); err != nil {
		return target{}, fmt.Errorf("create the project: %w", err)
	}
	users := o.users()
	var tokens []string
	const perRequest = 40 // root fields per request, within MAX_ROOT_FIELDS
	for first := 0; first < users; first += perRequest {
		var b strings.Builder
		b.WriteString("mutation($p: ID!) {")
		for i := first; i < min(first+perRequest, users); i++ {
			fmt.Fprintf(&b, ` m%d: addProjectMember(input: {projectID: $p, subject: "%s", role: VIEWER}) { id }`, i, userSubject(i))
		}
		b.WriteString(" }")
		if err := api.do(owner, b.String(), map[string]any{"p": p.CreateProject.ID}, nil); err != nil {
			return target{}, fmt.Errorf("add members: %w", err)
		}
	}
	for i := 0; i < users; i++ {
		t, err := token(o.secret, userSubject(i))
		if err != nil {
			return target{}, err
		}
		tokens = append(tokens, t)
	}
	project := p.CreateProject.ID
	return target{
		wsURL:     o.websocket("/query"),
		query:     fmt.Sprintf(`subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { %s } }`, selections[o.selection]),
		variables: map[string]any{"p": project},
		tokens:    tokens,
		submit: func(text string) error {
			return api.do(owner, `mutation($p: ID!, $t: String!) { submitFeedback(input: {projectID: $p, feedbackText: $t}) { id } }`,
				map[string]any{"p": project, "t": text}, nil)
		},
	}, nil
}

func userSubject(i int) string { return "loadsubs-user-" + strconv.Itoa(i) }

func token(secret, subject string) (string, error) {
	return hs256.Mint([]byte(secret), subject, subject, 2*time.Hour)
}

// sample arms the workers, submits feedback whose text is text and
// returns each subscriber's delay until its event arrived. The event is
// told by its text when subscribers select it; else by its status, PENDING
// (with the server's ROLE=api, submissions make the only events).
func sample(ws workers, o options, tgt target, text string) ([]time.Duration, int, error) {
	marker := text
	if !strings.Contains(selections[o.selection], "feedbackText") {
		marker = `"status":"PENDING"`
	}
	if err := ws.arm(marker, o.timeout); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	if err := tgt.submit(text); err != nil {
		return nil, 0, fmt.Errorf("submit feedback: %w", err)
	}
	arrivals, missing, err := ws.collect()
	if err != nil {
		return nil, 0, err
	}
	lat := make([]time.Duration, 0, len(arrivals))
	for _, at := range arrivals {
		lat = append(lat, time.Unix(0, at).Sub(start))
	}
	return lat, missing, nil
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(min(i, len(sorted))-1, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// client posts GraphQL requests.
type client struct {
	url  string
	http *http.Client
}

func (c *client) do(token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// Workers: client processes, each this program started with workerArg.

type workerProc struct {
	index   int
	cmd     *exec.Cmd
	in      *json.Encoder
	stdin   io.Closer
	out     *bufio.Scanner
	failed  int
	failure string
}

type workers []*workerProc

func startWorkers(o options, tgt target) (workers, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var ws workers
	for i := 0; i < o.workers; i++ {
		var mine []string
		for c := i; c < o.subscribers; c += o.workers {
			mine = append(mine, tgt.tokens[c/o.perUser])
		}
		cmd := exec.Command(self, workerArg)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start a client process: %w", err)
		}
		out := bufio.NewScanner(stdout)
		out.Buffer(make([]byte, 1<<20), 64<<20)
		w := &workerProc{index: i, cmd: cmd, in: json.NewEncoder(stdin), stdin: stdin, out: out}
		ws = append(ws, w)
		if err := w.in.Encode(workerConfig{URL: tgt.wsURL, Query: tgt.query, Variables: tgt.variables, Tokens: mine,
			Rate: float64(o.rate) / float64(o.workers)}); err != nil {
			ws.stop()
			return nil, err
		}
	}
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r workerReply
			if errs[i] = w.read(&r); errs[i] == nil {
				w.failed, w.failure = r.Failed, r.Failure
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		ws.stop()
		return nil, err
	}
	return ws, nil
}

func (w *workerProc) read(r *workerReply) error {
	if !w.out.Scan() {
		return fmt.Errorf("client process %d ended: %v", w.index, w.out.Err())
	}
	return json.Unmarshal(w.out.Bytes(), r)
}

// arm tells every worker which event to wait for, and waits until they
// listen.
func (ws workers) arm(marker string, timeout time.Duration) error {
	for _, w := range ws {
		if err := w.in.Encode(workerCommand{Marker: marker, Timeout: timeout}); err != nil {
			return err
		}
	}
	for _, w := range ws {
		var r workerReply
		if err := w.read(&r); err != nil {
			return err
		}
	}
	return nil
}

// collect gathers the arrival times of the armed event.
func (ws workers) collect() ([]int64, int, error) {
	var all []int64
	missing := 0
	for _, w := range ws {
		var r workerReply
		if err := w.read(&r); err != nil {
			return nil, 0, err
		}
		all = append(all, r.Arrivals...)
		missing += r.Missing
	}
	return all, missing, nil
}

func (ws workers) cpuTime() time.Duration {
	var total time.Duration
	for _, w := range ws {
		total += cpuTime(w.cmd.Process.Pid)
	}
	return total
}

func (ws workers) stop() {
	for _, w := range ws {
		_ = w.stdin.Close() // the worker hangs up and exits
	}
	for _, w := range ws {
		_ = w.cmd.Wait()
	}
}

// Reading /proc.

// rss is a process's resident memory in bytes (0 if unknown).
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times (100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTime is a process's user and system CPU time so far.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces), from field 3 on.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

func cpuModel() string {
	info, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(info), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// fanOut is the server's feedbackloop_subscription_fanout_seconds
// histogram.
type fanOut struct {
	sum     float64
	count   float64
	buckets map[float64]float64 // upper bound -> cumulative count
}

func scrapeFanOut(url string) (fanOut, error) {
	h := fanOut{buckets: map[float64]float64{}}
	if url == "" {
		return h, nil
	}
	resp, err := http.Get(url)
	if err != nil {
		return h, fmt.Errorf("read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	const name = "feedbackloop_subscription_fanout_seconds"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		v, _ := strconv.ParseFloat(value, 64)
		switch {
		case key == name+"_sum":
			h.sum = v
		case key == name+"_count":
			h.count = v
		case strings.HasPrefix(key, name+`_bucket{le="`):
			le := strings.TrimSuffix(strings.TrimPrefix(key, name+`_bucket{le="`), `"}`)
			if bound, err := strconv.ParseFloat(le, 64); err == nil {
				h.buckets[bound] = v
			}
		}
	}
	return h, sc.Err()
}

func (h fanOut) minus(o fanOut) fanOut {
	d := fanOut{sum: h.sum - o.sum, count: h.count - o.count, buckets: map[float64]float64{}}
	for b, n := range h.buckets {
		d.buckets[b] = n - o.buckets[b]
	}
	return d
}

func (h fanOut) mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / h.count * float64(time.Second))
}

// quantileBound is the smallest bucket bound below which fraction q of the
// events fall.
func (h fanOut) quantileBound(q float64) string {
	bounds := make([]float64, 0, len(h.buckets))
	for b := range h.buckets {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	for _, b := range bounds {
		if h.count > 0 && h.buckets[b] >= q*h.count {
			return ms(time.Duration(b * float64(time.Second)))
		}
	}
	return "more than the largest bucket"
}
