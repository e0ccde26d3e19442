// Package tlscert serves a certificate and key read from files, and picks up
// a renewed pair (certbot, cert-manager, a Kubernetes secret) without a
// restart.
package tlscert

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// CheckEvery is how often, at most, the files are looked at again: on the
// first handshake after it has passed, two stat calls. A renewed pair is
// served from the next handshake after that.
const CheckEvery = time.Second

// Reloader holds the pair being served.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	cert atomic.Pointer[tls.Certificate]
	next atomic.Int64 // when to look at the files again, in Unix nanoseconds

	mu   sync.Mutex     // one look at the files at a time
	seen [2]os.FileInfo // the files as last loaded or tried, under mu
}

// unchanged tells a changed file from the one already read without reading
// it: a replaced file (a rename, Kubernetes' symlink swap) is another inode;
// one rewritten in place has another size or modification time.
func unchanged(old, now os.FileInfo) bool {
	return os.SameFile(old, now) && old.ModTime().Equal(now.ModTime()) && old.Size() == now.Size()
}

// New loads the pair; an error names both files and what is wrong with them.
func New(certFile, keyFile string, logger *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger}
	marks, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert.Store(cert)
	r.seen = marks
	r.next.Store(time.Now().Add(CheckEvery).UnixNano())
	return r, nil
}

// ServerConfig is the TLS configuration of a server: TLS 1.2 at least, 1.3
// when the client has it (Go prefers the highest both sides support), and
// the current pair on every handshake. http.Server adds HTTP/2 to it.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
	}
}

// GetCertificate is tls.Config's: the current pair, first reloaded if the
// files changed since they were last looked at (at most every CheckEvery,
// and never holding up a handshake while another looks).
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if now := time.Now(); now.UnixNano() >= r.next.Load() && r.mu.TryLock() {
		r.next.Store(now.Add(CheckEvery).UnixNano())
		r.check()
		r.mu.Unlock()
	}
	return r.cert.Load(), nil
}

// check reloads the pair if either file changed. A pair that cannot be used
// (half written, mismatched, expired files are the operator's to judge) is
// logged once and the previous one stays; it is tried again when either
// file changes again.
func (r *Reloader) check() {
	marks, err := r.stat()
	if err != nil {
		r.logger.Error("TLS: cannot read the renewed certificate; still serving the previous one", "err", err)
		return
	}
	if unchanged(r.seen[0], marks[0]) && unchanged(r.seen[1], marks[1]) {
		return
	}
	r.seen = marks
	cert, err := r.load()
	if err != nil {
		r.logger.Error("TLS: the renewed certificate cannot be used; still serving the previous one (fix the files, they are read again when they change)", "err", err)
		return
	}
	r.cert.Store(cert)
	attrs := []any{"cert", r.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	}
	r.logger.Info("TLS: serving the renewed certificate", attrs...)
}

func (r *Reloader) stat() ([2]os.FileInfo, error) {
	var marks [2]os.FileInfo
	for i, name := range []string{r.certFile, r.keyFile} {
		info, err := os.Stat(name)
		if err != nil {
			return marks, fmt.Errorf("TLS_CERT_FILE %s, TLS_KEY_FILE %s: %w", r.certFile, r.keyFile, err)
		}
		marks[i] = info
	}
	return marks, nil
}

func (r *Reloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE %s, TLS_KEY_FILE %s: %w (want a PEM certificate chain and its PEM private key)", r.certFile, r.keyFile, err)
	}
	return &cert, nil
}
