//go:build googleai

package llm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// ---- Google AI: POST https://generativelanguage.googleapis.com/v1beta/models/{model}:streamGenerateContent ----
//
// New takes no base URL for googleai, but it does take an HTTP client:
// its transport sends the requests for Google's host to the stub instead.

const (
	googleKey   = "AIza-test-secret"
	googleModel = "gemini-test"
)

// redirectTransport sends every request to target, keeping the path and
// query, and records the host it was meant for.
type redirectTransport struct {
	target *url.URL
	next   http.RoundTripper

	mu    *sync.Mutex
	hosts *[]string
}

func (rt redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	*rt.hosts = append(*rt.hosts, r.URL.Host)
	rt.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, ""
	return rt.next.RoundTrip(r)
}

type googleRequest struct {
	Contents []struct {
		Role  string `json:"role"`
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"contents"`
	SystemInstruction struct {
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"systemInstruction"`
	GenerationConfig struct {
		MaxOutputTokens  int      `json:"maxOutputTokens"`
		Temperature      *float64 `json:"temperature"`
		ResponseMimeType string   `json:"responseMimeType"`
	} `json:"generationConfig"`
	Tools []json.RawMessage `json:"tools"`
}

// googleAnswer is a streamGenerateContent response, which genai uses even
// for SendMessage: a JSON array of GenerateContentResponse objects, here one
// per chunk of text. finish is the finishReason of the last one (STOP,
// MAX_TOKENS).
func googleAnswer(t *testing.T, finish string, chunks ...string) wireReply {
	var out []any
	for i, c := range chunks {
		cand := map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": c}}}, "index": 0}
		if i == len(chunks)-1 {
			cand["finishReason"] = finish
		}
		out = append(out, map[string]any{
			"candidates":    []any{cand},
			"usageMetadata": map[string]any{"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
			"modelVersion":  googleModel,
		})
	}
	return wireReply{status: http.StatusOK, body: mustJSON(t, out)}
}

// googleChunks splits s in two.
func googleChunks(s string) []string { return []string{s[:len(s)/2], s[len(s)/2:]} }

func googleError(t *testing.T, code int, status, message string) wireReply {
	return wireReply{status: code, body: mustJSON(t, map[string]any{
		"error": map[string]any{"code": code, "message": message, "status": status},
	})}
}

// newGoogle is a googleai analyzer whose requests reach stub; hosts
// returns the hosts they were addressed to.
func newGoogle(t *testing.T, stub *wireStub, rec *recorder) (analysis.Analyzer, func() []string) {
	t.Helper()
	target, err := url.Parse(stub.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hosts []string
	client := &http.Client{Transport: redirectTransport{target: target, next: stub.srv.Client().Transport, mu: &mu, hosts: &hosts}}
	a := newProviderLLM(t, "googleai", googleModel, "", googleKey, rec, func(c *llm.Config) { c.HTTPClient = client })
	return a, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hosts...)
	}
}

func googleText(parts []struct {
	Text string `json:"text"`
},
) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func TestGoogleAIJSONAnswer(t *testing.T) {
	t.Parallel()
	stub := newWireStub(t, googleAnswer(t, "STOP", googleChunks(providerAnswer())...))
	rec := &recorder{}
	a, hosts := newGoogle(t, stub, rec)
	res, err := a.Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	checkProviderResult(t, res, "googleai", googleModel)
	if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
		t.Fatalf("%d requests, sleeps %v", n, rec.got())
	}
	if h := hosts(); len(h) != 1 || h[0] != "generativelanguage.googleapis.com" {
		t.Errorf("requests addressed to %v", h)
	}

	var body googleRequest
	req := stub.decode(t, 0, &body)
	if req.Method != http.MethodPost || req.Path != "/v1beta/models/"+googleModel+":streamGenerateContent" {
		t.Errorf("%s %s", req.Method, req.Path)
	}
	// The key travels in a header set by New's transport, never in the URL.
	if got := req.Header.Get("X-Goog-Api-Key"); got != googleKey {
		t.Errorf("x-goog-api-key %q", got)
	}
	if strings.Contains(req.Path+"?"+req.RawQuery, googleKey) {
		t.Errorf("the key is in the URL: %s?%s", req.Path, req.RawQuery)
	}
	gc := body.GenerationConfig
	if gc.ResponseMimeType != "application/json" || gc.MaxOutputTokens != 4096 || gc.Temperature == nil || *gc.Temperature < 0.299 || *gc.Temperature > 0.301 {
		t.Errorf("generationConfig %+v", gc)
	}
	if sys := googleText(body.SystemInstruction.Parts); !strings.HasPrefix(sys, systemPromptStart) {
		t.Errorf("systemInstruction %q", sys)
	}
	if len(body.Contents) != 1 || body.Contents[0].Role != "user" {
		t.Fatalf("contents %+v", body.Contents)
	}
	checkUserPrompt(t, googleText(body.Contents[0].Parts))
}

func TestGoogleAIRepairAfterMaxTokens(t *testing.T) {
	t.Parallel()
	stub := newWireStub(t, googleAnswer(t, "MAX_TOKENS", `{"summary":"Fix`), googleAnswer(t, "STOP", googleChunks(providerAnswer())...))
	rec := &recorder{}
	a, _ := newGoogle(t, stub, rec)
	res, err := a.Analyze(context.Background(), analysistest.Request())
	if err != nil {
		t.Fatal(err)
	}
	checkProviderResult(t, res, "googleai", googleModel)
	if n := len(stub.requests()); n != 2 || len(rec.got()) != 0 {
		t.Fatalf("%d requests, sleeps %v", n, rec.got())
	}
	var second googleRequest
	req := stub.decode(t, 1, &second)
	c := second.Contents
	if len(c) != 3 || c[0].Role != "user" || c[1].Role != "model" || c[2].Role != "user" {
		t.Fatalf("repair conversation %+v", c)
	}
	if googleText(c[1].Parts) != `{"summary":"Fix` {
		t.Errorf("the repair request repeats %q", googleText(c[1].Parts))
	}
	checkRepairPrompt(t, googleText(c[2].Parts), "cut off at the model's output limit")
	if req.Header.Get("X-Goog-Api-Key") != googleKey || second.GenerationConfig.ResponseMimeType != "application/json" {
		t.Error("the repair request lost the key or JSON mode")
	}
}

func TestGoogleAIErrors(t *testing.T) {
	t.Parallel()
	t.Run("500, then an answer", func(t *testing.T) {
		t.Parallel()
		analyzer := func(t *testing.T, stub *wireStub, rec *recorder) analysis.Analyzer {
			a, _ := newGoogle(t, stub, rec)
			return a
		}
		checkRecovers(t, "googleai", googleModel, analyzer,
			googleError(t, http.StatusInternalServerError, "INTERNAL", "An internal error has occurred."),
			googleAnswer(t, "STOP", googleChunks(providerAnswer())...))
	})
	for _, c := range []struct {
		code         int
		status, hint string
	}{
		{http.StatusForbidden, "PERMISSION_DENIED", "check GOOGLE_API_KEY"},
		{http.StatusNotFound, "NOT_FOUND", "check LLM_MODEL"},
		// Google answers a wrong key with 400, naming the reason in the body.
		{http.StatusBadRequest, "INVALID_ARGUMENT", "check GOOGLE_API_KEY"},
	} {
		t.Run("no retry on "+status(c.code), func(t *testing.T) {
			t.Parallel()
			stub := newWireStub(t, googleError(t, c.code, c.status, "API key not valid. Please pass a valid API key. rejected key "+googleKey))
			if c.code != http.StatusBadRequest {
				stub = newWireStub(t, googleError(t, c.code, c.status, "rejected key "+googleKey))
			}
			rec := &recorder{}
			a, _ := newGoogle(t, stub, rec)
			_, err := a.Analyze(context.Background(), analysistest.Request())
			if err == nil || !strings.HasPrefix(err.Error(), "the model provider rejected the request (HTTP "+status(c.code)+")") ||
				!strings.Contains(err.Error(), c.hint) {
				t.Fatalf("error %v", err)
			}
			if strings.Contains(err.Error(), googleKey) {
				t.Errorf("the API key leaked into the error: %v", err)
			}
			if n := len(stub.requests()); n != 1 || len(rec.got()) != 0 {
				t.Errorf("%d requests, sleeps %v: retried", n, rec.got())
			}
		})
	}
}

// With the tag, a Google AI configuration needs no network.
func TestGoogleAIConfigurationIsAccepted(t *testing.T) {
	a, err := llm.New(context.Background(), llm.Config{Provider: "googleai", Model: "m", APIKey: "k"})
	if err != nil || a.Provider() != "googleai" {
		t.Fatalf("%v", err)
	}
}
