package graph

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
