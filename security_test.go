package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// listenAddress runs the service with env and returns the address it
// listens on, stopping it when the test ends.
func listenAddress(t *testing.T, env map[string]string) string {
	t.Helper()
	addr, _ := listenAddressLogs(t, env)
	return addr
}

// listenAddressLogs is listenAddress that also returns the service's logs.
func listenAddressLogs(t *testing.T, env map[string]string) (string, *testutil.Buffer) {
	t.Helper()
	ns := testredis.Namespace(t)
	full := map[string]string{"DATABASE_URL": newDatabaseURL(t), "REDIS_URL": testredis.URL(), "QUEUE_NAME": "q-" + ns,
		"EVENTS_CHANNEL": "ev-" + ns, "PORT": "0", "LOG_FORMAT": "json"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	logs := &testutil.Buffer{}
	go func() { done <- run(ctx, func(k string) string { return full[k] }, logs, listening) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-listening:
		return addr, logs
	case err := <-done:
		t.Fatalf("did not start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatal("did not start")
	}
	return "", nil
}

// postWithHost posts a query to addr naming host in the Host header, and
// returns the status and body.
func postWithHost(t *testing.T, addr, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/query", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
	req.Header.Set("Content-Type", "application/json")
	_, port, _ := net.SplitHostPort(addr)
	req.Host = net.JoinHostPort(host, port)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body)
}

// Probe: with HOST=127.0.0.1 set explicitly, open mode answered a request
// for evil.example: the DNS-rebinding guard depended on whether HOST was
// set. In open mode every request must name a loopback host, whatever HOST
// says; on a non-loopback address the service also warns that programs on
// the network can reach it.
func TestOpenModeAnswersOnlyLoopbackHostsWhateverHOSTSays(t *testing.T) {
	for _, c := range []struct{ host, dial, warning string }{
		{"127.0.0.1", "127.0.0.1", "serving loopback only"},
		{"0.0.0.0", "127.0.0.1", "OPEN MODE ON A NETWORK ADDRESS"},
	} {
		t.Run("HOST="+c.host, func(t *testing.T) {
			addr, logs := listenAddressLogs(t, map[string]string{"HOST": c.host})
			_, port, _ := net.SplitHostPort(addr)
			addr = net.JoinHostPort(c.dial, port)
			for _, host := range []string{"evil.example", "192.0.2.1"} {
				if status, body := postWithHost(t, addr, host); status != http.StatusMisdirectedRequest || !strings.Contains(body, "open mode") {
					t.Errorf("Host %s: %d %s", host, status, body)
				}
			}
			for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
				if status, body := postWithHost(t, addr, host); status != http.StatusOK || !strings.Contains(body, `"subject":"local-admin"`) {
					t.Errorf("Host %s: %d %s", host, status, body)
				}
			}
			if !logs.Contains(c.warning) {
				t.Errorf("no warning %q at start:\n%s", c.warning, logs)
			}
		})
	}
}

// With no credentials configured the service runs in open mode: loopback
// only, no credentials needed, and requests naming another host (DNS
// rebinding) refused. With credentials it listens on every interface and
// asks for them.
func TestOpenModeBindsLoopbackAndNeedsNoCredentials(t *testing.T) {
	addr := listenAddress(t, nil)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("open mode listens on %s, want loopback", addr)
	}
	base := "http://" + addr
	var v struct{ Viewer struct{ IsAdmin bool } }
	gqltest.MustPostAs(t, base, "", `{ viewer { isAdmin } }`, nil, &v)
	if !v.Viewer.IsAdmin {
		t.Fatal("open mode: the caller is not the local admin")
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "attacker.example:" + strings.Split(addr, ":")[1]
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(body), "open mode") {
		t.Fatalf("a foreign Host in open mode: %d %s", r.StatusCode, body)
	}

	secured := listenAddress(t, map[string]string{"ADMIN_API_KEY": "an-operator-key-long-enough-0123456"})
	if !strings.HasPrefix(secured, "0.0.0.0:") && !strings.HasPrefix(secured, "[::]:") {
		t.Fatalf("with credentials configured the service listens on %s, want every interface", secured)
	}
	r, err = http.Post("http://"+strings.Replace(secured, "0.0.0.0", "127.0.0.1", 1)+"/query", "application/json", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials with auth on: %d, want 401", r.StatusCode)
	}

	explicit := listenAddress(t, map[string]string{"HOST": "127.0.0.2"})
	if !strings.HasPrefix(explicit, "127.0.0.2:") {
		t.Fatalf("HOST=127.0.0.2 listens on %s", explicit)
	}
}
