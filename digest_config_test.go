package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The digest settings: off without SMTP_URL; SMTP_URL (also from a file)
// needs SMTP_FROM; bad values are refused without repeating the URL,
// which may hold a password.
func TestDigestSettings(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP != nil || cfg.DigestEvery != 5*time.Minute {
		t.Errorf("defaults: SMTP %v, every %v", cfg.SMTP, cfg.DigestEvery)
	}
	file := filepath.Join(t.TempDir(), "smtp")
	if err := os.WriteFile(file, []byte("smtps://mailer:s3cret@mail.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = load(map[string]string{"SMTP_URL_FILE": file, "SMTP_FROM": "Feedback Loop <digests@example.com>", "DIGEST_INTERVAL": "1m"})
	if err != nil || cfg.SMTP == nil || cfg.DigestEvery != time.Minute {
		t.Fatalf("from a file: %v, %+v", err, cfg.SMTP)
	}
	for env, want := range map[string]map[string]string{
		"SMTP_URL needs SMTP_FROM":      {"SMTP_URL": "smtp://u:s3cret@mail.example.com:587"},
		`has scheme "http"`:             {"SMTP_URL": "http://u:s3cret@mail.example.com", "SMTP_FROM": "a@example.com"},
		"SMTP_FROM is set but SMTP_URL": {"SMTP_FROM": "a@example.com"},
		"SMTP_URL names no host":        {"SMTP_URL": "smtp://u:s3cret@:25", "SMTP_FROM": "a@example.com"},
	} {
		_, err := load(want)
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%v: %v, want an error saying %q", want, err, env)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v: the error repeats the password: %v", want, err)
		}
	}
}
