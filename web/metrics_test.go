package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/metrics"
	"github.com/feedbackloop/feedbackloop/web"
)

// The metrics address serves the Go profiler, so a running instance can be
// profiled under load; the API's address does not.
func TestMetricsAddressServesTheProfiler(t *testing.T) {
	get := func(h http.Handler, path string) (int, string) {
		t.Helper()
		srv := httptest.NewServer(h)
		defer srv.Close()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	m := metrics.New()
	h := web.MetricsHandler(m)
	if code, body := get(h, "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d %.200s", code, body)
	}
	if code, body := get(h, "/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("goroutine profile: %d %.200s", code, body)
	}
	if code, body := get(h, "/debug/pprof/profile?seconds=1"); code != 200 || len(body) == 0 {
		t.Errorf("CPU profile: %d, %d bytes", code, len(body))
	}
	if code, _ := get(h, "/metrics"); code != 200 {
		t.Errorf("/metrics: %d", code)
	}
	api := web.New(web.Config{Metrics: m, MetricsElsewhere: true, Origins: web.NewOrigins(nil, true)})
	if code, _ := get(api, "/debug/pprof/"); code != 404 {
		t.Errorf("the API's address serves the profiler: %d", code)
	}
}
