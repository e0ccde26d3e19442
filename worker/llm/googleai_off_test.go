//go:build !googleai

package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// Without the tag, a Google AI configuration is refused at start-up,
// saying how to build a binary that has it.
func TestGoogleAINeedsItsBuildTag(t *testing.T) {
	_, err := llm.New(context.Background(), llm.Config{Provider: "googleai", Model: "m", APIKey: "k"})
	if err == nil || !strings.Contains(err.Error(), "built without Google AI") || !strings.Contains(err.Error(), "-tags googleai") {
		t.Fatalf("%v", err)
	}
}
