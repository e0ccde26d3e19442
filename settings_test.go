package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/worker/llm"
)

// Every setting the configuration reads, for every provider, is in the
// Settings table of docs/configuration.md, the operators' page.
func TestEverySettingIsDocumented(t *testing.T) {
	page, err := os.ReadFile("docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, found := strings.Cut(string(page), "\n## Settings\n")
	if !found {
		t.Fatal(`docs/configuration.md has no "## Settings" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	seen := map[string]bool{}
	for _, provider := range append([]string{"builtin"}, providerNames()...) {
		maps.Copy(seen, settingsRead(provider))
	}
	if len(seen) < 30 {
		t.Fatalf("read only %d settings: has loadConfig changed how it reads them?", len(seen))
	}
	for k := range seen {
		if !strings.Contains(table, "`"+k+"`") {
			t.Errorf("%s is read by loadConfig but missing from docs/configuration.md's Settings table", k)
		}
	}
}

// settingsRead is the set of variables loadConfig reads when LLM_PROVIDER
// is provider.
func settingsRead(provider string) map[string]bool {
	seen := map[string]bool{}
	_, _ = loadConfig(func(k string) string {
		seen[k] = true
		if k == "LLM_PROVIDER" {
			return provider
		}
		return ""
	}, io.Discard)
	return seen
}

func providerNames() []string {
	var names []string
	for _, p := range llm.Providers {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// The service's GOGC policy is what docs/configuration.md's Settings table
// says: 400 while the garbage it allows stays within 64 MiB (a live heap up
// to 16 MiB, as under read load), lower beyond, and never below Go's 100, as
// for 10,000 idle websockets (about 100 MB live).
func TestGCPolicyIsAsDocumented(t *testing.T) {
	p := gcPolicy()
	for _, c := range []struct {
		liveMiB uint64
		want    int
	}{{1, 400}, {16, 400}, {32, 200}, {64, 100}, {100, 100}} {
		if got := p.Percent(c.liveMiB << 20); got != c.want {
			t.Errorf("GOGC for a live heap of %d MiB: %d, want %d", c.liveMiB, got, c.want)
		}
	}
}

// Every secret setting may be given as NAME_FILE, as Docker and Kubernetes
// mount secrets: the file's content less one trailing newline.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{
		"JWT_SECRET_FILE":     file("jwt", "a-secret-of-at-least-thirty-two-bytes\n"),
		"ADMIN_API_KEY_FILE":  file("admin", "an-admin-key-of-24-characters-or-more\r\n"),
		"DATABASE_URL_FILE":   file("db", "postgres://app:pw@db:5432/feedbackloop?sslmode=require\n\n"),
		"REDIS_URL_FILE":      file("redis", "redis://:pw@redis:6379/0"),
		"LLM_PROVIDER":        "openai",
		"OPENAI_API_KEY_FILE": file("openai", "sk-test\n"),
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"JWT_SECRET", string(cfg.Auth.Secret), "a-secret-of-at-least-thirty-two-bytes"},
		{"ADMIN_API_KEY", cfg.Auth.AdminAPIKey, "an-admin-key-of-24-characters-or-more"},
		// One newline only: the rest is the file's.
		{"DATABASE_URL", cfg.DatabaseURL, "postgres://app:pw@db:5432/feedbackloop?sslmode=require\n"},
		{"REDIS_URL", cfg.Redis.URL, "redis://:pw@redis:6379/0"},
		{"OPENAI_API_KEY", cfg.LLM.APIKey, "sk-test"},
	} {
		if c.got != c.want {
			t.Errorf("%s from %s_FILE = %q, want %q", c.name, c.name, c.got, c.want)
		}
	}

	// Every provider's API key, whichever provider reads it.
	for _, p := range providerNames() {
		for k := range settingsRead(p) {
			if strings.HasSuffix(k, "_API_KEY") && !settingsRead(p)[k+"_FILE"] {
				t.Errorf("%s cannot be given as %s_FILE", k, k)
			}
		}
	}

	for _, c := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"JWT_SECRET": "x", "JWT_SECRET_FILE": env["JWT_SECRET_FILE"]}, []string{"JWT_SECRET and JWT_SECRET_FILE are both set"}},
		{map[string]string{"ADMIN_API_KEY_FILE": filepath.Join(dir, "missing")}, []string{"ADMIN_API_KEY_FILE", filepath.Join(dir, "missing"), "no such file"}},
		{map[string]string{"REDIS_URL_FILE": file("empty", "\n")}, []string{"REDIS_URL_FILE", "is empty"}},
	} {
		_, err := loadConfig(func(k string) string { return c.env[k] }, io.Discard)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v, want it to say %q", c.env, err, w)
			}
		}
	}
}

// TLS_CERT_FILE and TLS_KEY_FILE go together.
func TestTLSSettingsGoTogether(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TLS_CERT_FILE": "/c"}, "TLS_KEY_FILE is not"},
		{map[string]string{"TLS_KEY_FILE": "/k"}, "TLS_CERT_FILE is not"},
		{map[string]string{"TLS_CERT_FILE": "/c", "TLS_KEY_FILE": "/k", "GODEBUG": "gctrace=1,http2xconnect=1"}, "GODEBUG=http2xconnect=1"},
		{map[string]string{"TLS_CERT_FILE": "/c", "TLS_KEY_FILE": "/k"}, ""},
		{map[string]string{}, ""},
	} {
		cfg, err := loadConfig(func(k string) string { return c.env[k] }, io.Discard)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.env, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: error %v, want it to say %q", c.env, err, c.want)
		case c.want == "" && (cfg.TLSCertFile != c.env["TLS_CERT_FILE"] || cfg.TLSKeyFile != c.env["TLS_KEY_FILE"]):
			t.Errorf("%v: read %q, %q", c.env, cfg.TLSCertFile, cfg.TLSKeyFile)
		}
	}
}
