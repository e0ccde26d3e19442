package tlscert

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/tlscert/tlscerttest"
)

func files(t *testing.T) (string, string) {
	dir := t.TempDir()
	return filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
}

// served is the certificate a handshake gets now, once the files are due to
// be looked at again.
func served(t *testing.T, r *Reloader) *x509.Certificate {
	t.Helper()
	r.next.Store(0)
	c, err := r.GetCertificate(nil)
	if err != nil || c == nil {
		t.Fatalf("GetCertificate: %v, %v", c, err)
	}
	return c.Leaf
}

func TestARenewedPairIsServedAndABrokenOneIsNot(t *testing.T) {
	certFile, keyFile := files(t)
	first := tlscerttest.Write(t, certFile, keyFile, "first")
	var logs bytes.Buffer
	r, err := New(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := served(t, r); !got.Equal(first) {
		t.Fatalf("serving %s, want first", got.Subject)
	}

	// A half-done renewal: a new certificate with the old key.
	dir := t.TempDir()
	newer := tlscerttest.Write(t, filepath.Join(dir, "c"), filepath.Join(dir, "k"), "second")
	raw, _ := os.ReadFile(filepath.Join(dir, "c"))
	tlscerttest.Replace(t, certFile, raw)
	if got := served(t, r); !got.Equal(first) {
		t.Fatalf("after a mismatched renewal: serving %s, want the first still", got.Subject)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), certFile) {
		t.Fatalf("no error naming the files:\n%s", logs.String())
	}
	// Logged once, not on every look.
	served(t, r)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors for one broken renewal:\n%s", n, logs.String())
	}

	// Its key arrives.
	raw, _ = os.ReadFile(filepath.Join(dir, "k"))
	tlscerttest.Replace(t, keyFile, raw)
	if got := served(t, r); !got.Equal(newer) {
		t.Fatalf("after the key arrived: serving %s, want second", got.Subject)
	}

	// A file rewritten in place, not renamed.
	third := tlscerttest.Write(t, filepath.Join(dir, "c"), filepath.Join(dir, "k"), "third-with-a-longer-name")
	for src, dst := range map[string]string{"c": certFile, "k": keyFile} {
		raw, _ := os.ReadFile(filepath.Join(dir, src))
		if err := os.WriteFile(dst, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := served(t, r); !got.Equal(third) {
		t.Fatalf("after a rewrite in place: serving %s, want third", got.Subject)
	}
}

func TestTheFilesAreNotReadOnEveryHandshake(t *testing.T) {
	certFile, keyFile := files(t)
	first := tlscerttest.Write(t, certFile, keyFile, "first")
	r, err := New(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tlscerttest.Write(t, certFile, keyFile, "second")
	// Within CheckEvery of the start the files are not looked at.
	c, _ := r.GetCertificate(nil)
	if !c.Leaf.Equal(first) {
		t.Fatalf("looked at the files before CheckEvery passed")
	}
}

func TestABadPairAtStartNamesTheFiles(t *testing.T) {
	certFile, keyFile := files(t)
	if _, err := New(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "TLS_CERT_FILE "+certFile) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing files: %v", err)
	}
	tlscerttest.Write(t, certFile, keyFile, "a")
	dir := t.TempDir()
	tlscerttest.Write(t, filepath.Join(dir, "c"), filepath.Join(dir, "k"), "b")
	if _, err := New(certFile, filepath.Join(dir, "k"), slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "TLS_KEY_FILE "+filepath.Join(dir, "k")) || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched pair: %v", err)
	}
}
