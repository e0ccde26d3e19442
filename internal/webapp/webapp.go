// Package webapp serves the web app (webapp/ in the repository, built by
// webapp/build.sh into dist/) at Prefix, from files built into the binary:
// running the service needs no Node.
//
// index.html is answered for every path under Prefix that is not a file
// (the app routes in the browser), and is never cached, so a new release is
// picked up at once; the files under assets/ carry their content's hash in
// their names, so browsers keep them for a year. Every answer forbids the
// page to load or run anything not served by the service itself.
package webapp

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

// Prefix is where the app is served.
const Prefix = "/app/"

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy lets the page load scripts, styles, images and
// fonts from the service only, talk to the service only (its /query over
// HTTP and websockets), never be framed, and run no inline script.
// React sets styles through the DOM, which style-src does not restrict.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type file struct {
	plain       []byte
	etag        string
	contentType string

	// gzipped is plain compressed, nil when that is no smaller; made on
	// the file's first request, so a process that never serves the app
	// (or a chunk nobody opens) never compresses it.
	compressOnce sync.Once
	gzipped      []byte
}

func (f *file) compress() {
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = w.Write(f.plain)
	_ = w.Close()
	if gz.Len() < len(f.plain) {
		f.gzipped = gz.Bytes()
	}
}

// Handler serves the app under Prefix (mount it at "GET /app/"). It panics
// if the embedded build is missing, which webapp_test.go rules out.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		files[strings.TrimPrefix(p, "dist/")] = &file{plain: body, etag: hex.EncodeToString(sum[:16]), contentType: contentType(p)}
		return nil
	})
	index := files["index.html"]
	if err != nil || index == nil {
		panic(fmt.Sprintf("webapp: the embedded build has no index.html (%v); run webapp/build.sh", err))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), strings.TrimSuffix(Prefix, "/"))
		name = strings.TrimPrefix(name, "/")
		f, ok := files[name]
		switch {
		case ok && name != "index.html":
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		case strings.HasPrefix(name, "assets/"):
			// A file of another build: answering index.html would be
			// read as a script.
			http.NotFound(w, r)
			return
		default:
			f = index
			h.Set("Cache-Control", "no-cache")
		}
		serve(w, r, f)
	})
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	f.compressOnce.Do(f.compress)
	body, etag := f.plain, `"`+f.etag+`"`
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gzipped, `"`+f.etag+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	default:
		return "application/octet-stream"
	}
}
