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
	} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "FEEDBACK_REUSE") {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}
