// Package graphiql serves GraphiQL with its browser files built into the
// binary, so the page works without internet access: the page (gqlgen's
// playground template) and the React, GraphiQL and explorer-plugin files,
// checked by the browser against the SRI hashes in assets/manifest.json.
//
// The files come from the npm registry through fetch-assets.sh; see that
// script to change a version.
package graphiql

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
)

// AssetPrefix is the path the page loads its files from; mount Assets there.
const AssetPrefix = "/graphiql/"

// storagePrefix namespaces GraphiQL's localStorage keys (tabs, headers,
// history), so other pages on the same origin do not collide with them.
const storagePrefix = "feedbackloop"

//go:embed assets
var assets embed.FS

// asset is one embedded file as listed in assets/manifest.json.
type asset struct {
	Role      string `json:"role"`    // its place in the page; "" for a licence
	Package   string `json:"package"` // npm package@version it comes from
	Source    string `json:"source"`  // its path in that package
	Path      string `json:"path"`    // its path under assets/ and AssetPrefix
	Integrity string `json:"integrity"`
}

// manifest returns the embedded files' list. It fails only if the embedded
// manifest is broken, which the package's tests rule out.
func manifest() ([]asset, error) {
	raw, err := assets.ReadFile("assets/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("read the GraphiQL asset manifest: %w", err)
	}
	var m struct{ Files []asset }
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse the GraphiQL asset manifest (re-run fetch-assets.sh): %w", err)
	}
	return m.Files, nil
}

// Handler serves the GraphiQL page for the GraphQL endpoint (HTTP and
// websockets, e.g. "/query"), with the query explorer. The page loads its
// files from AssetPrefix only.
//
// Headers typed into GraphiQL's Headers tab go with every HTTP request and,
// for a subscription, become the websocket's connection_init payload as
// typed (GraphiQL's createGraphiQLFetcher merges them into connectionParams):
// {"Authorization": "Bearer x"} arrives as {"Authorization":"Bearer x"}.
func Handler(title, endpoint string) http.Handler {
	byRole := map[string]asset{}
	for _, f := range mustManifest() {
		if f.Role != "" {
			byRole[f.Role] = f
		}
	}
	url := func(role string) string {
		f, ok := byRole[role]
		if !ok {
			panic("graphiql: the asset manifest has no " + role + " file; re-run fetch-assets.sh")
		}
		return AssetPrefix + f.Path
	}
	sri := func(role string) string { return byRole[role].Integrity }
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlEnablePluginExplorer(true),
		playground.WithStoragePrefix(storagePrefix),
		playground.WithGraphiqlVersion(url("graphiql-js"), url("graphiql-css"), sri("graphiql-js"), sri("graphiql-css")),
		playground.WithGraphiqlReactVersion(url("react"), url("react-dom"), sri("react"), sri("react-dom")),
		playground.WithGraphiqlPluginExplorerVersion(url("explorer-js"), url("explorer-css"), sri("explorer-js"), sri("explorer-css")),
		playground.WithGraphiqlDefaultQuery(FirstQuery),
	)
}

// FirstQuery is what GraphiQL opens with in a browser that has no query of
// its own stored: a first query for this API, and where to go next.
const FirstQuery = `# Welcome to Feedback Loop's GraphQL API.
#
# Projects hold tasks; feedback on a project is analysed into suggested
# adjustments that you apply, reject or revert. Run this query (Ctrl-Enter),
# then try, for example:
#
#   mutation { createProject(input: {name: "Checkout"}) { id name } }
#
# With authentication on, put {"Authorization": "Bearer <token or key>"}
# in the Headers tab below. The Docs button lists every type and field;
# the README's tour walks through feedback, subscriptions and decisions.

query FirstLook {
  viewer { subject kind isAdmin }
  projects(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount
    edges { node { id name status tasks(first: 5) { totalCount edges { node { title status priority } } } } }
  }
}
`

// Assets serves the embedded files under AssetPrefix. Their paths carry
// their package's version, so browsers may keep them for a year.
func Assets() http.Handler {
	type file struct {
		body []byte
		etag string
	}
	files := map[string]file{}
	for _, f := range mustManifest() {
		body, err := fs.ReadFile(assets, "assets/"+f.Path)
		if err != nil {
			panic(fmt.Sprintf("graphiql: %s is in the manifest but not embedded; re-run fetch-assets.sh", f.Path))
		}
		files[AssetPrefix+f.Path] = file{body: body, etag: `"` + f.Integrity + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType(r.URL.Path))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}

func contentType(path string) string {
	switch {
	case strings.HasSuffix(path, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(path, ".css"):
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

func mustManifest() []asset {
	files, err := manifest()
	if err != nil {
		panic("graphiql: " + err.Error())
	}
	return files
}
