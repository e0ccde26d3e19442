package graph

// SetAdmittedHook makes f run after each subscription's first access check,
// before it joins its stream (nil: nothing), so that a test can commit a
// membership change in that window.
func SetAdmittedHook(s *Server, f func()) {
	r := s.ws.shared.resolver
	if f == nil {
		r.admitted.Store(nil)
		return
	}
	r.admitted.Store(&f)
}
