package webapp

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	r := resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/app/assets/[^"]+)"`)

// The app's routes all answer the page, never cached; its files are kept
// for a year; a file that is not there is a 404, not the page.
func TestServesThePageForEveryRouteAndItsFiles(t *testing.T) {
	h := Handler()
	var page string
	for _, p := range []string{"/app/", "/app/projects/UHJvamVjdDox", "/app/projects/x/insights"} {
		resp := get(t, h, p)
		page = body(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(page, `<div id="root">`) || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d, Cache-Control %q, body %.80q; want the page, not cached", p, resp.StatusCode, resp.Header.Get("Cache-Control"), page)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", p, got)
		}
	}
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("the page loads %v; want its script and style sheet", refs)
	}
	for _, ref := range refs {
		resp := get(t, h, ref[1])
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d %v", ref[1], resp.StatusCode, resp.Header)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("GET %s: Content-Type %q", ref[1], ct)
		}
		etag := resp.Header.Get("ETag")
		if again := get(t, h, ref[1], "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", ref[1], etag, again.StatusCode)
		}
	}
	if resp := get(t, h, "/app/assets/index-gone.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a file of another build: %d, want 404", resp.StatusCode)
	}
}

// The budget: the first load of /app, its page's scripts and style
// sheets, is under 300 KB compressed (the charts load later, on their own).
func TestFirstLoadIsUnder300KBCompressed(t *testing.T) {
	h := Handler()
	page := get(t, h, "/app/", "Accept-Encoding", "gzip")
	if page.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the page is not sent compressed: %v", page.Header)
	}
	total := 0
	for _, ref := range assetRef.FindAllStringSubmatch(body(t, page), -1) {
		resp := get(t, h, ref[1], "Accept-Encoding", "gzip, deflate, br")
		raw, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s is not sent compressed", ref[1])
		}
		total += len(raw)
		t.Logf("%s: %d bytes compressed", ref[1], len(raw))
	}
	if total == 0 || total > 300_000 {
		t.Errorf("the first load is %d bytes of compressed JavaScript and CSS; the budget is 300,000", total)
	}
}
