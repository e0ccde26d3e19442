//go:build googleai

package llm

import (
	"context"
	"net/http"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/googleai"
)

// newGoogleAI is langchaingo's Google AI client. It is built only with
// -tags googleai: langchaingo's googleai package pulls in Google's Vertex AI
// SDK, which took most of a first build's eight minutes.
func newGoogleAI(ctx context.Context, cfg Config, client *http.Client) (llms.Model, error) {
	// Google's client ignores WithAPIKey when given an HTTP client, so the
	// key travels in a header set by the transport.
	client.Transport = headerTransport{next: client.Transport, key: "x-goog-api-key", value: cfg.APIKey}
	return googleai.New(ctx, googleai.WithAPIKey(cfg.APIKey), googleai.WithDefaultModel(cfg.Model), googleai.WithHTTPClient(client))
}

// headerTransport sets a header on every request that lacks it.
type headerTransport struct {
	next       http.RoundTripper
	key, value string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get(t.key) == "" {
		r = r.Clone(r.Context())
		r.Header.Set(t.key, t.value)
	}
	return t.next.RoundTrip(r)
}
