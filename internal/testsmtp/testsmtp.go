// Package testsmtp runs a real SMTP server for tests: Mailpit, built from
// its Go module once per machine (into the user cache) so that the
// service's own module does not depend on it, and read back through its
// HTTP API. Its chaos triggers make the SMTP server refuse mail, to test
// failures.
package testsmtp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/testproc"
)

// Module is the Mailpit the tests run.
const Module = "github.com/axllent/mailpit@v1.33.1"

// Server is a running Mailpit.
type Server struct {
	SMTPPort int
	API      string // http://127.0.0.1:port
	URL      string // smtp://127.0.0.1:port, an SMTP_URL
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build installs Mailpit's binary into the user cache unless it is there.
// The first build takes minutes (it compiles SQLite); later ones are free.
func build() (string, error) {
	buildOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "feedbackloop-testsmtp", strings.ReplaceAll(Module, "/", "_"))
		binary = filepath.Join(dir, "mailpit")
		if _, err := os.Stat(binary); err == nil {
			return
		}
		cmd := exec.Command("go", "install", Module)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "GOFLAGS=")
		cmd.Dir = os.TempDir() // outside this module: go install pkg@version ignores go.mod
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go install %s: %w\n%s", Module, err, out)
		}
	})
	return binary, buildErr
}

// Start runs a Mailpit (SMTP without auth or TLS, chaos enabled, messages
// in memory) until tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	for try := 0; ; try++ {
		smtpPort, err1 := testproc.FreePort()
		httpPort, err2 := testproc.FreePort()
		if err1 != nil || err2 != nil {
			tb.Fatal(err1, err2)
		}
		var log bytes.Buffer
		cmd := exec.Command(bin, "--smtp", "127.0.0.1:"+strconv.Itoa(smtpPort), "--listen", "127.0.0.1:"+strconv.Itoa(httpPort),
			"--database", filepath.Join(tb.TempDir(), "mailpit.db"), "--disable-version-check", "--enable-chaos")
		cmd.Stdout, cmd.Stderr = &log, &log
		proc, err := testproc.Start(cmd, syscall.SIGKILL)
		if err != nil {
			tb.Fatal(err)
		}
		s := &Server{SMTPPort: smtpPort, API: "http://127.0.0.1:" + strconv.Itoa(httpPort), URL: "smtp://127.0.0.1:" + strconv.Itoa(smtpPort)}
		err = proc.WaitReady(30*time.Second, 50*time.Millisecond, func() error {
			resp, err := http.Get(s.API + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("readyz: %s", resp.Status)
			}
			return nil
		}, log.String)
		if err == nil {
			tb.Cleanup(func() { proc.Stop(syscall.SIGTERM, 5*time.Second) })
			return s
		}
		if try == 3 || !strings.Contains(log.String(), "address already in use") {
			tb.Fatal(err)
		}
	}
}

// Message is a received message as Mailpit's API gives it.
type Message struct {
	ID      string
	From    Address
	To      []Address
	Subject string
	Text    string
	HTML    string
}

// Address is a sender or recipient.
type Address struct{ Name, Address string }

// Messages returns every message received, each with its bodies.
func (s *Server) Messages(tb testing.TB) []Message {
	tb.Helper()
	var list struct{ Messages []Message }
	s.get(tb, "/api/v1/messages?limit=1000", &list)
	for i := range list.Messages {
		s.get(tb, "/api/v1/message/"+list.Messages[i].ID, &list.Messages[i])
	}
	return list.Messages
}

// Refuse makes the SMTP server answer every recipient with code (a 4xx or
// 5xx), or accept them again with 0.
func (s *Server) Refuse(tb testing.TB, code int) {
	tb.Helper()
	trigger := map[string]int{"ErrorCode": 451, "Probability": 0}
	if code != 0 {
		trigger = map[string]int{"ErrorCode": code, "Probability": 100}
	}
	body, _ := json.Marshal(map[string]any{"Recipient": trigger})
	req, _ := http.NewRequest(http.MethodPut, s.API+"/api/v1/chaos", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("set Mailpit's chaos: %s %s", resp.Status, b)
	}
}

func (s *Server) get(tb testing.TB, path string, out any) {
	tb.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatal(err)
	}
}
