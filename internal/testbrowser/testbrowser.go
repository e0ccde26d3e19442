// Package testbrowser runs a headless Chromium for tests that drive a real
// web page (through chromedp). The browser may reach 127.0.0.1 only: any
// other request is refused and fails the test, which proves a page needs
// nothing from the internet.
package testbrowser

import (
	"context"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Path is where Debian's chromium package puts the browser; .ci/run
// installs it.
const Path = "/usr/bin/chromium"

// TabTimeout bounds everything a test does in one tab. It only guards
// against hangs: a page normally answers in well under a second.
const TabTimeout = 60 * time.Second

// Browser is one Chromium process, stopped when the test ends.
type Browser struct {
	ctx context.Context // the browser's; its first tab is never used

	mu      sync.Mutex
	offsite []string // URLs the pages tried to reach off 127.0.0.1
	report  func(format string, args ...any)
}

// New starts Chromium with a fresh profile. It fails the test when
// Chromium is not installed, and at the end when a page tried to reach
// anything but 127.0.0.1.
func New(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Fatalf("this test drives Chromium, which is not installed at %s: run `apt-get install -y chromium` (.ci/run does): %v", Path, err)
	}
	profile := t.TempDir()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(Path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		// Without these Chromium calls Google's services at start-up.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, report: t.Errorf}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, u := range b.offsite {
			b.report("a page tried to reach %s: it may load nothing from outside this machine", u)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", Path, err)
	}
	return b
}

// Tab opens a tab with a profile of its own (its own storage, as another
// browser would have) and returns its chromedp context, which ends after
// TabTimeout or with the test.
func (b *Browser) Tab(t testing.TB) context.Context {
	t.Helper()
	return b.LongTab(t, TabTimeout)
}

// LongTab is Tab for a test that walks a tab through many screens, each of
// which waits on the server: it ends after timeout instead of TabTimeout.
func (b *Browser) LongTab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	return b.open(t, b.ctx, timeout, chromedp.WithNewBrowserContext())
}

// TabBeside opens a tab that shares tab's profile and storage, as a second
// window of the same browser does.
func (b *Browser) TabBeside(t testing.TB, tab context.Context) context.Context {
	t.Helper()
	return b.open(t, tab, TabTimeout)
}

func (b *Browser) open(t testing.TB, parent context.Context, timeout time.Duration, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, append(opts,
		chromedp.WithListener(func(ev any) {
			if ev, ok := ev.(*network.EventWebSocketCreated); ok {
				b.check(ev.URL) // websockets bypass the Fetch domain: record only
			}
		}),
	)...)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancel() })

	// Every request waits for a verdict: on to 127.0.0.1, refused elsewhere.
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return // the tab is gone
			}
			if b.check(ev.Request.URL) {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}
	}()
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
	if err != nil {
		t.Fatalf("open a Chromium tab: %v", err)
	}
	return ctx
}

// check reports whether raw stays on this machine, recording it if not.
func (b *Browser) check(raw string) bool {
	u, err := url.Parse(raw)
	if err == nil {
		switch u.Scheme {
		case "data", "blob", "about":
			return true
		}
		if u.Hostname() == "127.0.0.1" {
			return true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.offsite = append(b.offsite, raw)
	return false
}
