package graph

import "github.com/99designs/gqlgen/graphql"

// SetAdmittedHook makes f run while each subscription is admitted, before
// its stream is in place (nil: nothing), so that a test can commit a
// membership change in that window.
func SetAdmittedHook(s *Server, f func()) {
	r := s.resolver
	if f == nil {
		r.admitted.Store(nil)
		return
	}
	r.admitted.Store(&f)
}

// AddFieldInterceptor makes the server built from c run f around every
// field, as an extension that intercepts fields would.
func AddFieldInterceptor(c *Config, f graphql.FieldMiddleware) { c.fieldMiddleware = f }
