package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/text"
)

// healthcheck is `feedbackloop healthcheck`, for container health checks:
// the image has no shell, curl or wget. It asks the process configured by
// the same environment for /readyz and returns the exit status: 0 when it
// is ready, 1 otherwise, with the reason on stderr.
func healthcheck(getenv func(string) string, stderr io.Writer) int {
	cfg, err := loadConfig(getenv, io.Discard)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck: configuration:", err)
		return 1
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: listen address %q: %v\n", cfg.Addr, err)
		return 1
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := scheme(cfg) + "://" + net.JoinHostPort(host, port) + "/readyz"
	// Shorter than the health check's own timeout, so that the reason is
	// printed rather than the process killed.
	client := &http.Client{Timeout: 4 * time.Second}
	if cfg.TLSCertFile != "" {
		// The certificate names the service's public host, not the
		// loopback address asked here, and a renewal the process has not
		// taken yet must not fail the check. Nothing secret is sent and
		// only the status is read, from this machine's own process.
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %d: %s\n", url, resp.StatusCode, text.Truncate(string(body), 500))
		return 1
	}
	return 0
}
