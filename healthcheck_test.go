package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

func portOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestHealthcheckPassesForAReadyService(t *testing.T) {
	base, _ := startServer(t, nil)
	stderr := &testutil.Buffer{}
	env := map[string]string{"PORT": portOf(t, base)}
	if code := healthcheck(func(k string) string { return env[k] }, stderr); code != 0 {
		t.Fatalf("healthcheck = %d, want 0; stderr: %s", code, stderr)
	}
}

func TestHealthcheckFailsWithTheReason(t *testing.T) {
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","checks":{"redis":"connection refused"}}`))
	}))
	defer unready.Close()
	closed, err := testproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ port, want string }{
		{portOf(t, unready.URL), `answered 503: {"status":"unavailable","checks":{"redis":"connection refused"}}`},
		{strconv.Itoa(closed), "connection refused"},
		{"eighty", "PORT must be a TCP port number"},
	} {
		stderr := &testutil.Buffer{}
		env := map[string]string{"PORT": c.port}
		if code := healthcheck(func(k string) string { return env[k] }, stderr); code != 1 {
			t.Errorf("PORT=%s: healthcheck = %d, want 1", c.port, code)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("PORT=%s: stderr %q lacks %q", c.port, stderr, c.want)
		}
	}
}
