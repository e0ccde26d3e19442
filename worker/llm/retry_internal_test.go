package llm

import (
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"
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

// Every client's usage is read, whatever integer type it reports it in:
// Google AI's client gives int32s, the OpenAI and Anthropic ones ints.
func TestUsageOfEveryClientsTypes(t *testing.T) {
	for _, info := range []map[string]any{
		{"PromptTokens": 10, "CompletionTokens": 5},
		{"InputTokens": 10, "OutputTokens": 5},
		{"PromptTokens": int32(10), "CompletionTokens": int32(5), "input_tokens": int32(10)}, // googleai
		{"PromptTokens": int64(10), "CompletionTokens": int64(5)},
	} {
		resp := &llms.ContentResponse{Choices: []*llms.ContentChoice{{GenerationInfo: info}}}
		if in, out, ok := usageOf(resp); !ok || in != 10 || out != 5 {
			t.Errorf("usage of %v = %d, %d, %v; want 10, 5", info, in, out, ok)
		}
	}
}
