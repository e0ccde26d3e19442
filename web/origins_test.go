package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/feedbackloop/feedbackloop/viewer"
	"github.com/feedbackloop/feedbackloop/web"
)

// anyone authenticates every request as an admin: these tests are about
// which browser pages get through, not about credentials.
type anyone struct{ open bool }

func (a anyone) Authenticate(context.Context, string) (*viewer.Viewer, error) {
	return &viewer.Viewer{Subject: "t", Admin: true}, nil
}
func (a anyone) Open() bool { return a.open }

func newShell(origins *web.Origins, open bool) http.Handler {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !origins.AllowWebsocket(r) {
			http.Error(w, "origin refused", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return web.New(web.Config{GraphQL: api, Auth: anyone{open}, Origins: origins})
}

// A page on another site cannot call the API through a visitor's browser:
// no CORS grant and no websocket, unless CORS_ALLOWED_ORIGINS lists it.
func TestOtherSitesCannotCallTheAPI(t *testing.T) {
	cases := []struct {
		name         string
		allowed      []string
		open         bool
		origin       string
		crossAllowed bool
	}{
		{"auth on, a foreign site", nil, false, "https://evil.example", false},
		{"auth on, even localhost", nil, false, "http://localhost:3000", false},
		{"auth on, a listed site", []string{"https://app.example"}, false, "https://app.example", true},
		{"auth on, an unlisted site", []string{"https://app.example"}, false, "https://evil.example", false},
		{"open mode, a foreign site", nil, true, "https://evil.example", false},
		{"open mode, a local dev server", nil, true, "http://localhost:3000", true},
		{"open mode, 127.0.0.1", nil, true, "http://127.0.0.1:5173", true},
		{"explicit star", []string{"*"}, false, "https://anywhere.example", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(newShell(web.NewOrigins(c.allowed, c.open), c.open))
			defer srv.Close()

			pre, _ := http.NewRequest(http.MethodOptions, srv.URL+"/query", nil)
			pre.Header.Set("Origin", c.origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			resp, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			granted := resp.Header.Get("Access-Control-Allow-Origin") != ""
			if granted != c.crossAllowed {
				t.Errorf("CORS preflight from %s granted=%v, want %v", c.origin, granted, c.crossAllowed)
			}

			up, _ := http.NewRequest(http.MethodGet, srv.URL+"/query", nil)
			up.Header.Set("Origin", c.origin)
			up.Header.Set("Upgrade", "websocket")
			up.Header.Set("Connection", "Upgrade")
			resp, err = http.DefaultClient.Do(up)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if accepted := resp.StatusCode == http.StatusOK; accepted != c.crossAllowed {
				t.Errorf("websocket from %s accepted=%v (status %d), want %v", c.origin, accepted, resp.StatusCode, c.crossAllowed)
			}
		})
	}
}

// Same-origin pages (GraphiQL) and non-browser clients (no Origin) always
// get through.
func TestSameOriginAndNonBrowserClientsAreAllowed(t *testing.T) {
	origins := web.NewOrigins(nil, false)
	srv := httptest.NewServer(newShell(origins, false))
	defer srv.Close()
	for _, origin := range []string{"", srv.URL} {
		up, _ := http.NewRequest(http.MethodGet, srv.URL+"/query", nil)
		if origin != "" {
			up.Header.Set("Origin", origin)
		}
		up.Header.Set("Upgrade", "websocket")
		resp, err := http.DefaultClient.Do(up)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("origin %q refused: %d", origin, resp.StatusCode)
		}
	}
}
