package web

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rs/cors"

	"github.com/feedbackloop/feedbackloop/graph"
)

// Origins decides which browser pages may call the API, over HTTP (CORS)
// and websockets (the Origin header of the upgrade). Requests without an
// Origin (servers, scripts, curl) and same-origin pages (GraphiQL) are
// always allowed: browsers send no Origin, or their own, for those.
type Origins struct {
	allowAll bool
	allowed  []string
	// open mode: with no list, pages served from this machine may call,
	// and every request must name a loopback host
	open   bool
	policy *cors.Cors
}

// NewOrigins returns the policy for a list of allowed origins ("*" allows
// every origin). With no list, open mode allows pages served from this
// machine (http://localhost:3000 and the like) and other modes allow no
// cross-origin page. Open mode also refuses requests that do not name a
// loopback host, whatever address it listens on, so that no web page can
// reach it through DNS rebinding.
func NewOrigins(allowed []string, openMode bool) *Origins {
	o := &Origins{allowAll: slices.Contains(allowed, "*"), allowed: allowed, open: openMode}
	o.policy = cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool { return o.allows(origin) },
		AllowedMethods:  []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:  []string{"Content-Type", "Accept", "Authorization", "X-Request-ID", "Apollo-Require-Preflight", "X-Read-After"},
		ExposedHeaders:  []string{"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "Retry-After", "X-Write-Position"},
		MaxAge:          600,
	})
	return o
}

// allows reports whether a cross-origin page may call the API.
func (o *Origins) allows(origin string) bool {
	switch {
	case o.allowAll, slices.Contains(o.allowed, origin):
		return true
	case len(o.allowed) == 0 && o.open:
		u, err := url.Parse(origin)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && IsLoopbackHost(u.Hostname())
	}
	return false
}

// AllowWebsocket is the websocket upgrader's CheckOrigin.
func (o *Origins) AllowWebsocket(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || sameOrigin(origin, r) {
		return true
	}
	return o.allows(origin)
}

func (o *Origins) cors(next http.Handler) http.Handler { return o.policy.Handler(next) }

// guardHost refuses, in open mode, requests whose Host is not a loopback
// name: only pages on this machine may reach an instance with no
// credentials. The listen address does not matter: a page that rebinds its
// name to 127.0.0.1 reaches a loopback address as well as a wildcard one.
func (o *Origins) guardHost(next http.Handler) http.Handler {
	if !o.open {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !IsLoopbackHost(host) {
			WriteError(w, http.StatusMisdirectedRequest, graph.CodeBadRequest,
				"this instance runs in open mode (no credentials configured) and answers only requests for localhost, 127.0.0.1 or [::1]; to serve other hosts, configure JWT_SECRET, JWT_JWKS_URL or ADMIN_API_KEY")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// IsLoopbackHost reports whether host (a name or an address, IPv6 in
// brackets or not) is this machine's loopback: localhost, 127.0.0.0/8, ::1.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
