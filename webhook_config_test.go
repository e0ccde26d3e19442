package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The webhook settings: defaults, WEBHOOK_ALLOW_PRIVATE, the per-project
// limit, and WEBHOOK_SECRET_KEY (also from a file), refused when short.
func TestWebhookSettings(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookAllowPrivate || cfg.WebhooksPerProject != 10 || cfg.WebhookSecrets != nil {
		t.Errorf("defaults: allow private %v, per project %d, sealer %v", cfg.WebhookAllowPrivate, cfg.WebhooksPerProject, cfg.WebhookSecrets)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("s", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = load(map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOKS_PER_PROJECT": "3", "WEBHOOK_SECRET_KEY_FILE": keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.WebhookAllowPrivate || cfg.WebhooksPerProject != 3 || cfg.WebhookSecrets == nil {
		t.Errorf("set: allow private %v, per project %d, sealer %v", cfg.WebhookAllowPrivate, cfg.WebhooksPerProject, cfg.WebhookSecrets)
	}
	_, err = load(map[string]string{"WEBHOOK_SECRET_KEY": "too-short", "WEBHOOKS_PER_PROJECT": "0"})
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET_KEY must be at least 32 characters") || !strings.Contains(err.Error(), "WEBHOOKS_PER_PROJECT") {
		t.Errorf("bad settings: %v", err)
	}
}

// GITHUB_API_URL: GitHub's by default, any http(s) URL (a trailing slash
// dropped), anything else refused naming the setting.
func TestGitHubAPIURLSetting(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(map[string]string{})
	if err != nil || cfg.GitHubAPIURL != "https://api.github.com" {
		t.Fatalf("default %q, %v", cfg.GitHubAPIURL, err)
	}
	cfg, err = load(map[string]string{"GITHUB_API_URL": "https://ghe.example.com/api/v3/"})
	if err != nil || cfg.GitHubAPIURL != "https://ghe.example.com/api/v3" {
		t.Errorf("set %q, %v", cfg.GitHubAPIURL, err)
	}
	for _, bad := range []string{"api.github.com", "ftp://x", "https://"} {
		if _, err := load(map[string]string{"GITHUB_API_URL": bad}); err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
