package testbrowser

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// A page's requests to 127.0.0.1 go through; any other is refused at once
// and recorded, websockets included.
func TestOnlyThisMachineIsReachable(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!DOCTYPE html><title>t</title>
<script src="/local.js"></script>
<script src="http://203.0.113.7/remote.js" onerror="window.remoteRefused = true"></script>
<script>new WebSocket('ws://198.51.100.7/socket')</script>`))
	})
	mux.HandleFunc("GET /local.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte(`window.localLoaded = true`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := New(t)
	b.report = t.Logf // the offsite requests are this test's point
	tab := b.Tab(t)
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	loaded, err := chromedp.Run(tab, chromedp.Poll[bool](`window.localLoaded && window.remoteRefused`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(testutil.WaitTimeout)))
	if err != nil || !loaded {
		t.Fatalf("the local script did not run or the remote one was not refused: %v", err)
	}
	want := []string{"http://203.0.113.7/remote.js", "ws://198.51.100.7/socket"}
	testutil.WaitFor(t, "both offsite requests to be recorded", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		got := slices.Sorted(slices.Values(b.offsite))
		return slices.Equal(got, want)
	})
}
