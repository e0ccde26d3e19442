package main

import (
	"context"
	"io"
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
		return addr
	case err := <-done:
		t.Fatalf("did not start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatal("did not start")
	}
	return ""
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
