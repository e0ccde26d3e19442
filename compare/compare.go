// Package compare names what a comparison of analyses runs: the models a
// deployment may compare (Target), how a request's names resolve to them,
// which feedback is sampled for comparison automatically, and the shape of
// a comparison run's suggestions as stored (Claim). The runs themselves are
// stored as Analysis rows (ent/schema/analysis.go), queued by the pipeline
// and run by the worker.
package compare

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// Bounds of comparisons.
const (
	// MaxProvidersPerRequest bounds the entries of one compareAnalyses.
	MaxProvidersPerRequest = 5
	// MaxRunsPerFeedback bounds the comparison runs a feedback keeps,
	// requested and sampled together.
	MaxRunsPerFeedback = 20
	// MaxNameLength bounds one requested name.
	MaxNameLength = 200
)

// Target is one model a comparison may run: a configured provider and model.
type Target struct {
	Provider, Model string
}

// Key is the target's name, provider:model.
func (t Target) Key() string { return t.Provider + ":" + t.Model }

// Settings are a deployment's comparison settings.
type Settings struct {
	// Targets are the models compareAnalyses may name: the primary
	// (LLM_PROVIDER), the fallbacks (LLM_FALLBACK) and COMPARE_PROVIDERS,
	// without repeats, in that order.
	Targets []Target
	// Sampled are the models sampled feedback is compared against
	// (COMPARE_PROVIDERS).
	Sampled []Target
	// SampleRate is the share of feedback compared automatically after its
	// analysis completes (COMPARE_SAMPLE_RATE, 0..1).
	SampleRate float64
}

// UnknownError names requested entries that name no configured model.
type UnknownError struct {
	Unknown, Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("name no configured provider or provider:model: %s (configured: %s)",
		strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
}

// Resolve turns requested names (provider or provider:model, case-insensitive
// provider) into targets, each at most once, in the order asked. A bare
// provider names its first configured model. Entries that name nothing
// configured are all reported in one *UnknownError.
func (s Settings) Resolve(requested []string) ([]Target, error) {
	var out []Target
	var unknown []string
	for _, name := range requested {
		t, ok := s.find(name)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(s.Targets))
		for _, t := range s.Targets {
			known = append(known, t.Key())
		}
		if len(known) == 0 {
			known = []string{"none"}
		}
		return nil, &UnknownError{Unknown: unknown, Known: known}
	}
	return out, nil
}

func (s Settings) find(name string) (Target, bool) {
	provider, model, hasModel := strings.Cut(strings.TrimSpace(name), ":")
	provider = strings.ToLower(strings.TrimSpace(provider))
	model = strings.TrimSpace(model)
	for _, t := range s.Targets {
		if t.Provider == provider && (!hasModel || t.Model == model) {
			return t, true
		}
	}
	return Target{}, false
}

// Sampled reports whether the feedback with this ID and job key is among
// the share rate of feedback compared automatically. The choice is
// deterministic: the same feedback is always in or always out, whichever
// worker decides and however often.
func Sampled(rate float64, feedbackID int, key string) bool {
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	h := fnv.New64a()
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(feedbackID))
	h.Write(id[:])
	h.Write([]byte(key))
	return float64(h.Sum64()>>11)/float64(1<<53) < rate
}

// Claim is one suggestion of a comparison run as the model made it, stored
// with the run: a claim to read and compare, never applied. Its kind is the
// suggestion table's wire name (TASK_PRIORITY, ...).
type Claim struct {
	Type          string  `json:"type"`
	TaskID        *int    `json:"taskId,omitempty"`
	Description   string  `json:"description"`
	OriginalValue *string `json:"originalValue,omitempty"`
	NewValue      *string `json:"newValue,omitempty"`
	Reasoning     *string `json:"reasoning,omitempty"`
}
