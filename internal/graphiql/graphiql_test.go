package graphiql

import (
	"crypto/sha512"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func sri(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// The embedded files are exactly the manifest's, byte for byte.
func TestEmbeddedFilesMatchTheManifest(t *testing.T) {
	files, err := manifest()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]asset{}
	roles := map[string]bool{}
	for _, f := range files {
		listed[f.Path] = f
		roles[f.Role] = true
	}
	for _, role := range []string{"react", "react-dom", "graphiql-js", "graphiql-css", "explorer-js", "explorer-css"} {
		if !roles[role] {
			t.Errorf("the manifest has no %s file", role)
		}
	}
	seen := 0
	err = fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "assets/manifest.json" {
			return err
		}
		seen++
		rel := strings.TrimPrefix(path, "assets/")
		f, ok := listed[rel]
		if !ok {
			t.Errorf("%s is embedded but not in the manifest: re-run fetch-assets.sh", rel)
			return nil
		}
		body, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		if got := sri(body); got != f.Integrity {
			t.Errorf("%s hashes to %s, the manifest says %s: re-run fetch-assets.sh", rel, got, f.Integrity)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(files) {
		t.Errorf("%d files embedded, %d in the manifest", seen, len(files))
	}
}

// pageRefs returns the src and href attributes of the page's tags with
// their integrity attributes.
func pageRefs(t *testing.T, page string) map[string]string {
	t.Helper()
	refs := map[string]string{}
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return refs
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			var ref, integrity string
			for _, a := range tok.Attr {
				switch a.Key {
				case "src", "href":
					ref = a.Val
				case "integrity":
					integrity = a.Val
				}
			}
			if ref != "" {
				refs[ref] = integrity
			}
		}
	}
}

// The page loads every file from this server, and each file it names is
// served with the hash the page expects.
func TestPageLoadsOnlySameOriginFiles(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Test page", "/query"))
	mux.Handle("GET "+AssetPrefix, Assets())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	page := get(t, srv.URL+"/")
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", page.status, page.header.Get("Content-Type"))
	}
	for _, internet := range []string{"http://", "https://", "cdn.", "//"} {
		// The inline script builds the endpoint from location; nothing names a host.
		if strings.Contains(strings.ReplaceAll(page.body, `'//'`, ""), internet) {
			t.Errorf("the page mentions %q:\n%s", internet, page.body)
		}
	}
	refs := pageRefs(t, page.body)
	if len(refs) != 6 {
		t.Errorf("the page loads %d files, want 6 (React, ReactDOM, GraphiQL's and the explorer's JS and CSS): %v", len(refs), refs)
	}
	for ref, integrity := range refs {
		if !strings.HasPrefix(ref, AssetPrefix) {
			t.Errorf("the page loads %s, not from %s", ref, AssetPrefix)
			continue
		}
		if !strings.HasPrefix(integrity, "sha384-") {
			t.Errorf("%s has integrity %q, want a sha384 hash", ref, integrity)
		}
		got := get(t, srv.URL+ref)
		if got.status != 200 {
			t.Errorf("GET %s = %d", ref, got.status)
			continue
		}
		if sum := sri([]byte(got.body)); sum != integrity {
			t.Errorf("%s hashes to %s, the page expects %s", ref, sum, integrity)
		}
	}
	if !strings.Contains(page.body, "GraphiQLPluginExplorer.explorerPlugin()") || !strings.Contains(page.body, "PrefixedStorage('feedbackloop')") {
		t.Errorf("the page lacks the explorer or the storage prefix:\n%s", page.body)
	}
}

func TestAssetsAreCacheableAndTyped(t *testing.T) {
	files, err := manifest()
	if err != nil {
		t.Fatal(err)
	}
	path := func(role string) string {
		for _, f := range files {
			if f.Role == role {
				return AssetPrefix + f.Path
			}
		}
		t.Fatalf("no %s in the manifest", role)
		return ""
	}
	srv := httptest.NewServer(Assets())
	defer srv.Close()

	for role, want := range map[string]string{
		"graphiql-js":  "text/javascript; charset=utf-8",
		"explorer-css": "text/css; charset=utf-8",
	} {
		got := get(t, srv.URL+path(role))
		if got.status != 200 || got.header.Get("Content-Type") != want ||
			got.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			got.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d %v", path(role), got.status, got.header)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path(role), nil)
		req.Header.Set("If-None-Match", got.header.Get("ETag"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", path(role), resp.StatusCode)
		}
	}
	for _, missing := range []string{AssetPrefix, AssetPrefix + "manifest.json", AssetPrefix + "graphiql@4.1.2/", "/elsewhere.js"} {
		if got := get(t, srv.URL+missing); got.status != 404 {
			t.Errorf("GET %s = %d, want 404", missing, got.status)
		}
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}
