package llm

import (
	"testing"
	"time"
)

func TestRetryHelpers(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"7": 7 * time.Second, " 120 ": 2 * time.Minute, "0": 0, "-3": 0, "soon": 0, "": 0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second, "Fri, 02 Jan 2026 03:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
	for code, want := range map[int]bool{400: true, 401: true, 403: true, 404: true, 418: true, 422: true, 408: false, 409: false, 425: false, 429: false, 500: false, 503: false} {
		if permanent(code) != want {
			t.Errorf("permanent(%d) = %v", code, !want)
		}
	}
}
