//go:build !googleai

package llm

import (
	"context"
	"errors"
	"net/http"

	"github.com/tmc/langchaingo/llms"
)

// errNoGoogleAI says how to get a binary with Google AI (see googleai.go).
var errNoGoogleAI = errors.New("this binary was built without Google AI, whose SDK is slow to build: " +
	"build it with -tags googleai (go run -tags googleai .), or use another LLM_PROVIDER")

func newGoogleAI(context.Context, Config, *http.Client) (llms.Model, error) {
	return nil, errNoGoogleAI
}
