package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// newDatabaseURL names a database that does not exist yet (the server
// creates it) and drops it when the test ends.
func newDatabaseURL(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = migrationstest.DefaultURL
	}
	u, _ := url.Parse(admin)
	name := "fltest_main_" + strings.ToLower(strings.NewReplacer("/", "_").Replace(t.Name())) + "_" + time.Now().Format("150405000")
	u.Path = "/" + name
	t.Cleanup(func() {
		if err := postgres.DropDatabase(context.Background(), admin, name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return u.String()
}

// startServer runs the real entry point against a database that does not
// exist yet, with its own queue and event channel, and returns its base URL
// and logs.
func startServer(t *testing.T, extraEnv map[string]string) (string, *testutil.Buffer) {
	t.Helper()
	ns := testredis.Namespace(t)
	env := map[string]string{
		"DATABASE_URL":   newDatabaseURL(t),
		"REDIS_URL":      testredis.URL(),
		"QUEUE_NAME":     "q-" + ns,
		"EVENTS_CHANNEL": "ev-" + ns,
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	return startProcess(t, env)
}

// startProcess runs the real entry point with env (PORT and LOG_FORMAT
// default to a free port and JSON) until the test ends.
func startProcess(t *testing.T, env map[string]string) (string, *testutil.Buffer) {
	t.Helper()
	env = maps.Clone(env)
	if env["PORT"] == "" {
		env["PORT"] = "0"
	}
	if env["LOG_FORMAT"] == "" {
		env["LOG_FORMAT"] = "json"
	}
	logs := &testutil.Buffer{}
	listening := make(chan string, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- run(ctx, func(k string) string { return env[k] }, logs, listening) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not shut down within 30s")
		}
		if !strings.Contains(logs.String(), `"msg":"stopped"`) {
			t.Errorf("no clean stop in the log:\n%s", logs.String())
		}
	})
	select {
	case addr := <-listening:
		_, port, _ := strings.Cut(addr, "]:")
		if port == "" {
			_, port, _ = strings.Cut(addr, ":")
		}
		if env["TLS_CERT_FILE"] != "" {
			return "https://127.0.0.1:" + port, logs
		}
		return "http://127.0.0.1:" + port, logs
	case err := <-done:
		t.Fatalf("server failed to start: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	return "", nil
}

func postGraphQL(t *testing.T, base, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if out["errors"] != nil {
		t.Fatalf("errors: %s", raw)
	}
	return out["data"].(map[string]any)
}

func TestServerEndToEnd(t *testing.T) {
	base, logs := startServer(t, nil)

	p := postGraphQL(t, base, `mutation { createProject(input: {name: "E2E", description: "over HTTP"}) { id name } }`, nil)
	pid := p["createProject"].(map[string]any)["id"].(string)
	postGraphQL(t, base, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "first", priority: 3}) { id } }`, map[string]any{"p": pid})
	got := postGraphQL(t, base, `{ projects(first: 5) { totalCount edges { node { name tasks(first: 5) { edges { node { title priority project { name } } } } } } } }`, nil)
	b, _ := json.Marshal(got)
	if want := `{"projects":{"edges":[{"node":{"name":"E2E","tasks":{"edges":[{"node":{"priority":3,"project":{"name":"E2E"},"title":"first"}}]}}}],"totalCount":1}}`; string(b) != want {
		t.Errorf("query = %s\nwant    %s", b, want)
	}

	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"redis":"ok"`) || !strings.Contains(string(body), `"database":"ok"`) {
		t.Errorf("/readyz = %d %s", resp.StatusCode, body)
	}
	// The line that says where it listens says how it runs, too.
	for _, want := range []string{`"msg":"applied migration"`, `"request_id":`,
		`"msg":"serving GraphQL API","role":"all","addr":"127.0.0.1:`, `"mode":"open","model":"builtin (rule-based)"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestConfigErrorsAreReported(t *testing.T) {
	env := map[string]string{"PORT": "eighty", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml"}
	_, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("no error for invalid configuration")
	}
	for _, want := range []string{`PORT must be a TCP port number, got "eighty"`, `LOG_LEVEL must be debug, info, warn or error, got "loud"`, `LOG_FORMAT must be one of json, text, got "xml"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	cfg, err := loadConfig(func(string) string { return "" }, io.Discard)
	if err != nil || cfg.Addr != "127.0.0.1:8080" || cfg.LogFormat != "json" ||
		cfg.DatabaseURL != "postgres://postgres@127.0.0.1:5432/feedbackloop?sslmode=disable" || cfg.Redis.URL != "redis://127.0.0.1:6379/0" {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	// The limits' defaults are the ones the issue asks for.
	l, r := cfg.Limits, cfg.RateLimit
	if l.MaxRootFields != 50 || l.MaxSubmissionsPerRequest != 5 || l.MaxResponseBytes != 5<<20 || l.DisableIntrospection ||
		l.MaxWebsocketConnectionsPerClient != 20 || l.MaxSubscriptionsPerConnection != 100 || l.MaxWebsocketConnections != 10_000 ||
		r.Points != 5000 || r.Window != time.Hour || r.SubmissionsPerClient != 60 || r.SubmissionsPerProject != 600 ||
		cfg.ReadTimeout != 15*time.Second || cfg.IdleTimeout != 2*time.Minute {
		t.Errorf("limits' defaults = %+v %+v %v %v", l, r, cfg.ReadTimeout, cfg.IdleTimeout)
	}
	if d := l.Document; d.MaxTokens != 10_000 || d.MaxFields != 2_000 || d.MaxFieldsPerResponseName != 30 || d.MaxDirectives != 50 {
		t.Errorf("document limits' defaults = %+v", d)
	}
	env = map[string]string{"MAX_QUERY_TOKENS": "500", "MAX_QUERY_FIELDS": "20", "MAX_FIELDS_PER_RESPONSE_NAME": "2", "MAX_QUERY_DIRECTIVES": "3"}
	if cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard); err != nil ||
		fmt.Sprintf("%+v", cfg.Limits.Document) != "{MaxTokens:500 MaxFields:20 MaxFieldsPerResponseName:2 MaxDirectives:3 MaxErrors:0 MaxTime:0s}" {
		t.Errorf("document limits from the environment: %+v %v", cfg.Limits.Document, err)
	}
	env = map[string]string{"GRAPHQL_INTROSPECTION": "maybe", "RATE_LIMIT_POINTS": "0", "MAX_ROOT_FIELDS": "many", "HTTP_READ_TIMEOUT": "-1s"}
	_, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	for _, want := range []string{`GRAPHQL_INTROSPECTION must be true or false, got "maybe"`, `RATE_LIMIT_POINTS must be a whole number from 1 to 1000000000, got "0"`,
		`MAX_ROOT_FIELDS must be a whole number`, `HTTP_READ_TIMEOUT must be a positive duration`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	env = map[string]string{"GRAPHQL_INTROSPECTION": "false"}
	if cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard); err != nil || !cfg.Limits.DisableIntrospection {
		t.Errorf("GRAPHQL_INTROSPECTION=false: %v %v", cfg.Limits.DisableIntrospection, err)
	}
}

// A client trickling its request body is cut off after HTTP_READ_TIMEOUT
// (the probe sent a byte every 1.5 s and was still being read after
// 21 s).
func TestSlowBodyIsCutOff(t *testing.T) {
	base, _ := startServer(t, map[string]string{"HTTP_READ_TIMEOUT": "1s"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query":"{ __typename }"}` + strings.Repeat(" ", 74)
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			close(answered)
			return
		}
		answered <- resp
	}()
	sent := 0
	for ; sent < len(body); sent++ {
		select {
		case resp, ok := <-answered:
			if !ok {
				t.Fatalf("connection closed without an answer after %d of %d bytes", sent, len(body))
			}
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(raw), `"code":"BAD_REQUEST"`) ||
				!strings.Contains(string(raw), "did not arrive in time") {
				t.Fatalf("answer %d %s", resp.StatusCode, raw)
			}
			return // cut off before the body was complete
		case <-time.After(300 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{body[sent]}); err != nil {
			break // the server closed the connection
		}
	}
	t.Fatalf("the server read all %d bytes of a body sent over %v", sent, time.Duration(sent)*300*time.Millisecond)
}

func TestDatabasePoolSettings(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" }, io.Discard)
	if err != nil || cfg.DatabasePool != postgres.DefaultPool || cfg.DatabasePool.MaxIdle != cfg.DatabasePool.MaxOpen {
		t.Errorf("default pool %+v, %v", cfg.DatabasePool, err)
	}
	env := map[string]string{"DATABASE_MAX_CONNS": "3", "DATABASE_STATEMENT_CACHE": "0"}
	cfg, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.DatabasePool.MaxOpen != 3 || cfg.DatabasePool.MaxIdle != 3 || cfg.DatabasePool.Statements != 0 {
		t.Errorf("pool %+v, %v", cfg.DatabasePool, err)
	}
	env = map[string]string{"DATABASE_MAX_CONNS": "0", "DATABASE_STATEMENT_CACHE": "many"}
	_, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	for _, want := range []string{`DATABASE_MAX_CONNS must be a whole number from 1 to 1000, got "0"`, `DATABASE_STATEMENT_CACHE must be a whole number from 0 to 100000, got "many"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestProviderLimitSettings(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" }, io.Discard)
	if l := cfg.LLM.Limits; err != nil || l.RPM != 0 || l.TPM != 0 || l.Prefix != cfg.RateLimit.Prefix {
		t.Errorf("default provider limits %+v, %v", l, err)
	}
	env := map[string]string{"LLM_MAX_RPM": "600", "LLM_MAX_TPM": "200000", "RATE_LIMIT_PREFIX": "blue"}
	cfg, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	if l := cfg.LLM.Limits; err != nil || l.RPM != 600 || l.TPM != 200_000 || l.Prefix != "blue" {
		t.Errorf("provider limits %+v, %v", l, err)
	}
	// Each provider account has its own limits: the primary's and each
	// fallback's, a bare number for the providers not named.
	env = map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "k", "LLM_FALLBACK": "anthropic,ollama,builtin",
		"LLM_MAX_RPM": "openai:600, anthropic:50", "LLM_MAX_TPM": "100000,ollama:0"}
	cfg, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil || len(cfg.LLMFallback) != 3 {
		t.Fatalf("config %+v, %v", cfg.LLMFallback, err)
	}
	got := []llmlimit.Config{cfg.LLM.Limits, cfg.LLMFallback[0].Limits, cfg.LLMFallback[1].Limits}
	want := []llmlimit.Config{{RPM: 600, TPM: 100_000}, {RPM: 50, TPM: 100_000}, {RPM: 0, TPM: 0}}
	for i := range want {
		if got[i].RPM != want[i].RPM || got[i].TPM != want[i].TPM || got[i].Prefix != cfg.RateLimit.Prefix {
			t.Errorf("limits of provider %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	env = map[string]string{"LLM_MAX_RPM": "-1", "LLM_MAX_TPM": "lots,openai:1,acme:5"}
	_, err = loadConfig(func(k string) string { return env[k] }, io.Discard)
	for _, want := range []string{
		`LLM_MAX_RPM must be a whole number from 0 to 100000000, or a list of provider:number, got "-1"`,
		`LLM_MAX_TPM must be a whole number from 0 to 1000000000, or a list of provider:number, got "lots"`,
		`LLM_MAX_TPM must be a whole number from 0 to 1000000000, or a list of provider:number, got "acme:5"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// With a model, a worker's slots default to the calls it may have in
// flight (a job holds its slot only while it works); with the built-in
// rules they stay few; an explicit WORKER_CONCURRENCY wins.
func TestInFlightSettings(t *testing.T) {
	load := func(env map[string]string) config {
		t.Helper()
		cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if cfg := load(nil); cfg.WorkerConcurrency != queue.DefaultConcurrency || cfg.LLMMaxInFlight != llm.DefaultMaxInFlight {
		t.Errorf("built-in: concurrency %d, in flight %d", cfg.WorkerConcurrency, cfg.LLMMaxInFlight)
	}
	model := map[string]string{"LLM_PROVIDER": "ollama"}
	if cfg := load(model); cfg.WorkerConcurrency != llm.DefaultMaxInFlight {
		t.Errorf("with a model: concurrency %d, want LLM_MAX_IN_FLIGHT's default", cfg.WorkerConcurrency)
	}
	model["LLM_MAX_IN_FLIGHT"] = "300"
	if cfg := load(model); cfg.WorkerConcurrency != 300 || cfg.LLMMaxInFlight != 300 {
		t.Errorf("LLM_MAX_IN_FLIGHT=300: concurrency %d, in flight %d", cfg.WorkerConcurrency, cfg.LLMMaxInFlight)
	}
	model["WORKER_CONCURRENCY"] = "8"
	if cfg := load(model); cfg.WorkerConcurrency != 8 {
		t.Errorf("WORKER_CONCURRENCY=8: concurrency %d", cfg.WorkerConcurrency)
	}
	_, err := loadConfig(func(k string) string { return map[string]string{"LLM_MAX_IN_FLIGHT": "0"}[k] }, io.Discard)
	if want := `LLM_MAX_IN_FLIGHT must be a whole number from 1 to 1000, got "0"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v lacks %q", err, want)
	}
}
