package llmstub

import (
	"testing"
	"time"
)

func TestWindowCountsAdmittedRequestsOverASlidingPeriod(t *testing.T) {
	w := &Window{Requests: 3, Period: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{10 * time.Second, true},
		{20 * time.Second, true},
		{30 * time.Second, false}, // a fourth within the minute
		{59 * time.Second, false}, // the first is still within it
		{60 * time.Second, true},  // the first has left the window
		{61 * time.Second, false}, // refusals did not count, admissions at 10s, 20s and 60s did
		{70 * time.Second, true},
	}
	for _, s := range steps {
		if got := w.admit(t0.Add(s.at)); got != s.want {
			t.Errorf("at %v: admitted %v, want %v", s.at, got, s.want)
		}
	}
	if w.Refused() != 3 {
		t.Errorf("refused %d, want 3", w.Refused())
	}
	if unlimited := (&Window{Period: time.Minute}); !unlimited.admit(t0) || !unlimited.admit(t0) {
		t.Error("a zero Window refused a request")
	}
}
