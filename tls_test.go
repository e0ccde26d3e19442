package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/internal/tlscert"
	"github.com/feedbackloop/feedbackloop/internal/tlscert/tlscerttest"
)

// httpsClient trusts pool and speaks HTTP/2 when the server offers it.
func httpsClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
}

// postHTTPS is gqltest.MustPost through client.
func postHTTPS(t *testing.T, client *http.Client, base, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := client.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

// servedCertificate is the certificate a new connection to addr gets.
func servedCertificate(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the certificate is what is compared
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// With TLS_CERT_FILE and TLS_KEY_FILE the API is HTTPS only: TLS 1.2 at
// least (1.3 when the client has it), HTTP/2 for requests, websockets on
// HTTP/1.1 (which the websocket library needs), the container health check
// still works, and a renewed certificate is served without a restart.
func TestHTTPSServesHTTP2AndWebsocketsOverHTTP1(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := tlscerttest.Write(t, certFile, keyFile, "first")
	base, logs := startServer(t, map[string]string{"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile, "METRICS_ADDR": "127.0.0.1:0"})
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base %s", base)
	}
	addr := strings.TrimPrefix(base, "https://")
	if !strings.Contains(logs.String(), `"graphiql":"https://`) {
		t.Errorf("the start-up line does not give the https address:\n%s", logs)
	}
	client := httpsClient(tlscerttest.Pool(first))

	t.Run("HTTP/2 and TLS 1.3", func(t *testing.T) {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("negotiated %s over TLS %x, want HTTP/2 over TLS 1.3", resp.Proto, resp.TLS.Version)
		}
		var out struct{ Viewer struct{ Subject string } }
		postHTTPS(t, client, base, `{ viewer { subject } }`, nil, &out)
	})

	t.Run("TLS 1.2 yes, 1.1 no", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tlscerttest.Pool(first), MaxVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("a TLS 1.2 client: %v", err)
		}
		conn.Close()
		conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: tlscerttest.Pool(first), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 client was served")
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Errorf("TLS 1.1: %v, want a protocol version alert", err)
		}
	})

	// A browser opens a websocket over HTTP/2 only when the server's
	// SETTINGS allow extended CONNECT (RFC 8441); the websocket library
	// needs HTTP/1.1, so they must not.
	t.Run("no extended CONNECT over HTTP/2", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tlscerttest.Pool(first), NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("ALPN chose %q, want h2", p)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
			t.Fatal(err)
		}
		fr := http2.NewFramer(conn, conn)
		if err := fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				if v, ok := s.Value(http2.SettingEnableConnectProtocol); ok && v != 0 {
					t.Errorf("the server allows extended CONNECT: browsers would open websockets over HTTP/2")
				}
				return
			}
		}
	})

	t.Run("a subscription over WSS", func(t *testing.T) {
		var p struct{ CreateProject struct{ ID string } }
		postHTTPS(t, client, base, `mutation { createProject(input: {name: "TLS", description: "over HTTPS"}) { id } }`, nil, &p)
		var f struct{ SubmitFeedback struct{ ID string } }
		postHTTPS(t, client, base, `mutation($in: SubmitFeedbackInput!) { submitFeedback(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"projectID": p.CreateProject.ID, "feedbackText": "Checkout is urgent"}}, &f)
		// As a browser: no ALPN offer, so HTTP/1.1.
		ws := gqltest.DialTLS(t, base, gqltest.TransportWS, &tls.Config{RootCAs: tlscerttest.Pool(first)})
		ws.Subscribe("s", `subscription($id: ID!) { feedbackStatusChanged(id: $id) { status feedback { id } } }`, map[string]any{"id": f.SubmitFeedback.ID})
		var ev struct {
			FeedbackStatusChanged struct {
				Status   string
				Feedback struct{ ID string }
			}
		}
		ws.NextData(&ev)
		if ev.FeedbackStatusChanged.Feedback.ID != f.SubmitFeedback.ID || ev.FeedbackStatusChanged.Status == "" {
			t.Errorf("first event %+v", ev)
		}
	})

	t.Run("METRICS_ADDR too", func(t *testing.T) {
		m := regexp.MustCompile(`"msg":"serving metrics".*"url":"(https://[^"]+)"`).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no https metrics address in the log:\n%s", logs)
		}
		resp, err := client.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", m[1], resp.StatusCode)
		}
	})

	t.Run("health check", func(t *testing.T) {
		stderr := &testutil.Buffer{}
		env := map[string]string{"PORT": portOf(t, base), "TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile}
		if code := healthcheck(func(k string) string { return env[k] }, stderr); code != 0 {
			t.Fatalf("healthcheck = %d, want 0; stderr: %s", code, stderr)
		}
	})

	t.Run("renewal", func(t *testing.T) {
		if got := servedCertificate(t, addr); !got.Equal(first) {
			t.Fatalf("serving %s before the renewal", got.Subject)
		}
		held, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tlscerttest.Pool(first)})
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		renewed := tlscerttest.Write(t, certFile, keyFile, "renewed")
		deadline := time.Now().Add(tlscert.CheckEvery + 5*time.Second)
		for !servedCertificate(t, addr).Equal(renewed) {
			if time.Now().After(deadline) {
				t.Fatalf("still serving the first certificate %v after the files were replaced", tlscert.CheckEvery+5*time.Second)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var out struct{ Viewer struct{ Subject string } }
		postHTTPS(t, httpsClient(tlscerttest.Pool(renewed)), base, `{ viewer { subject } }`, nil, &out)
		if !strings.Contains(logs.String(), "serving the renewed certificate") {
			t.Errorf("the renewal is not logged:\n%s", logs)
		}
	})
}

// A certificate that cannot be loaded stops the start, naming the files,
// before anything connects.
func TestABadCertificateStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	tlscerttest.Write(t, certFile, keyFile, "a")
	if err := os.WriteFile(keyFile, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile, "PORT": "0",
		// Nothing listens there: the start must fail before connecting.
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?sslmode=disable"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("run: %v, want an error naming %s and %s", err, certFile, keyFile)
	}
	if strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("connected before checking the certificate: %v", err)
	}
}
