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
	allowAll      bool
	allowed       []string
	loopbackPages bool // with no list: pages served from this machine may call
	loopbackHosts bool // requests must name a loopback host
	policy        *cors.Cors
}

// NewOrigins returns the policy for a list of allowed origins ("*" allows
// every origin). With no list, open mode allows pages served from this
// machine (http://localhost:3000 and the like) and other modes allow no
// cross-origin page. loopbackHosts refuses requests that do not name a
// loopback host, so that a web page cannot reach an open, loopback-bound
// instance through DNS rebinding.
func NewOrigins(allowed []string, openMode, loopbackHosts bool) *Origins {
	o := &Origins{allowAll: slices.Contains(allowed, "*"), allowed: allowed, loopbackPages: openMode, loopbackHosts: loopbackHosts}
	o.policy = cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool { return o.allows(origin) },
		AllowedMethods:  []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:  []string{"Content-Type", "Accept", "Authorization", "X-Request-ID", "Apollo-Require-Preflight"},
		ExposedHeaders:  []string{"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "Retry-After"},
		MaxAge:          600,
	})
	return o
}

// allows reports whether a cross-origin page may call the API.
func (o *Origins) allows(origin string) bool {
	switch {
	case o.allowAll, slices.Contains(o.allowed, origin):
		return true
	case len(o.allowed) == 0 && o.loopbackPages:
		u, err := url.Parse(origin)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(u.Hostname())
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

// guardHost refuses, when asked to, requests whose Host is not a loopback
// name: only pages on this machine may reach an instance with no
// credentials.
func (o *Origins) guardHost(next http.Handler) http.Handler {
	if !o.loopbackHosts {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !isLoopbackHost(host) {
			WriteError(w, http.StatusMisdirectedRequest, graph.CodeBadRequest,
				"this instance runs in open mode (no credentials configured) and answers requests for localhost only; configure JWT_SECRET, JWT_JWKS_URL or ADMIN_API_KEY, or set HOST, to serve other hosts")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
