package main

import (
	"io"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/reuse"
)

// Exact reuse is on unless FEEDBACK_REUSE=off; near reuse only with a
// threshold; off with a threshold is a contradiction, refused.
func TestReuseSettings(t *testing.T) {
	load := func(env map[string]string) (reuse.Settings, error) {
		cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
		return cfg.Reuse, err
	}
	cases := []struct {
		env  map[string]string
		want reuse.Settings
	}{
		{map[string]string{}, reuse.Settings{Exact: true}},
		{map[string]string{"FEEDBACK_REUSE": "on", "FEEDBACK_REUSE_NEAR": "0.85"}, reuse.Settings{Exact: true, Near: 0.85}},
		{map[string]string{"FEEDBACK_REUSE_NEAR": "0"}, reuse.Settings{Exact: true}},
		{map[string]string{"FEEDBACK_REUSE": "OFF"}, reuse.Settings{}},
		{map[string]string{"FEEDBACK_REUSE_SEMANTIC": "0.9", "LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk"}, reuse.Settings{Exact: true, Semantic: 0.9}},
	}
	for _, c := range cases {
		got, err := load(c.env)
		if err != nil || got != c.want {
			t.Errorf("%v: %+v, %v; want %+v", c.env, got, err, c.want)
		}
	}
	for _, bad := range []map[string]string{
		{"FEEDBACK_REUSE_NEAR": "1.5"},
		{"FEEDBACK_REUSE_NEAR": "-0.1"},
		{"FEEDBACK_REUSE": "maybe"},
		{"FEEDBACK_REUSE": "off", "FEEDBACK_REUSE_NEAR": "0.9"},
		{"FEEDBACK_REUSE": "off", "FEEDBACK_REUSE_SEMANTIC": "0.9", "LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk"},
		{"FEEDBACK_REUSE_SEMANTIC": "2", "LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk"},
		// Embeddings come from OpenAI only.
		{"FEEDBACK_REUSE_SEMANTIC": "0.9"},
		{"FEEDBACK_REUSE_SEMANTIC": "0.9", "LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk"},
	} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "FEEDBACK_REUSE") {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}

// The embedder of semantic reuse is built from the provider's settings and
// LLM_EMBEDDING_MODEL, and only when it is on.
func TestEmbedderIsBuiltOnlyForSemanticReuse(t *testing.T) {
	load := func(env map[string]string) config {
		cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if e, err := newEmbedder(load(map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk"})); e != nil || err != nil {
		t.Errorf("semantic reuse off: embedder %v, %v; want none", e, err)
	}
	cfg := load(map[string]string{"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "FEEDBACK_REUSE_SEMANTIC": "0.9", "LLM_EMBEDDING_MODEL": "text-embedding-3-large"})
	if cfg.EmbeddingModel != "text-embedding-3-large" {
		t.Errorf("embedding model %q", cfg.EmbeddingModel)
	}
	if e, err := newEmbedder(cfg); e == nil || err != nil {
		t.Errorf("semantic reuse on: embedder %v, %v", e, err)
	}
	// A local OpenAI-compatible server needs no key, for embeddings as for
	// the model.
	cfg = load(map[string]string{"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "FEEDBACK_REUSE_SEMANTIC": "0.9"})
	if e, err := newEmbedder(cfg); e == nil || err != nil {
		t.Errorf("semantic reuse on a local server without a key: embedder %v, %v", e, err)
	}
}
