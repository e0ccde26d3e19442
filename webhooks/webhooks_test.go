package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/webhooks"
)

// The Standard Webhooks specification's own example (its libraries' test
// vector): our signature must match theirs byte for byte.
func TestSignMatchesTheSpecificationsExample(t *testing.T) {
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestSecretsAreNewAndDecode(t *testing.T) {
	a, _ := webhooks.NewSecret()
	b, _ := webhooks.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q and %q", a, b)
	}
	body := []byte(`{}`)
	now := time.Now()
	sig, err := webhooks.Sign(a, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Verify(a, "msg_1", itoa(now.Unix()), sig, body, now, time.Minute); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if err := webhooks.Verify(b, "msg_1", itoa(now.Unix()), sig, body, now, time.Minute); err == nil {
		t.Fatal("another secret's signature verified")
	}
	if err := webhooks.Verify(a, "msg_1", itoa(now.Unix()), sig, body, now.Add(time.Hour), time.Minute); err == nil {
		t.Fatal("an hour-old timestamp verified")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPublicRefusesEveryNonPublicRange(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "0.0.0.0": false, "::": false, "100.64.0.1": false,
		"224.0.0.1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		"93.184.216.34": true, "2606:4700::1111": true, "100.128.0.1": true,
	} {
		if got := webhooks.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// receiver is a real HTTP endpoint that keeps what it is sent.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.body = append(r.got, req), append(r.body, b)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// Without WEBHOOK_ALLOW_PRIVATE the client refuses loopback, by address
// and by a name that resolves to it: the check runs on the resolved
// address, when connecting.
func TestClientRefusesPrivateAddressesAfterResolution(t *testing.T) {
	r := newReceiver(t, 200)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(r.URL, "http://"))
	for _, url := range []string{r.URL, "http://localhost:" + port + "/hook"} {
		a := webhooks.Send(context.Background(), webhooks.NewClient(false), webhooks.Endpoint{URL: url, Secret: mustSecret(t)}, "msg_1", []byte(`{}`), time.Now())
		if a.OK() || a.ResponseCode != nil || !strings.Contains(*a.Error, "non-public address") || strings.Contains(*a.Error, port) {
			t.Errorf("%s: attempt %+v, want refused as non-public", url, a)
		}
	}
	if len(r.got) != 0 {
		t.Fatalf("the receiver was reached %d times", len(r.got))
	}
	a := webhooks.Send(context.Background(), webhooks.NewClient(true), webhooks.Endpoint{URL: r.URL, Secret: mustSecret(t)}, "msg_1", []byte(`{}`), time.Now())
	if !a.OK() || a.ResponseCode == nil || *a.ResponseCode != 200 {
		t.Fatalf("with private addresses allowed: %+v", a)
	}
}

// createWebhook and redirects take http and https URLs with a host only.
func TestCheckURLTakesHTTPURLsOnly(t *testing.T) {
	for _, raw := range []string{"ftp://example.com/", "file:///etc/passwd", "gopher://x", "https://", "https://user:pw@example.com/", "not a url at all\x7f"} {
		if webhooks.CheckURL(raw) == nil {
			t.Errorf("CheckURL(%q) accepted it", raw)
		}
	}
	if err := webhooks.CheckURL("https://hooks.example.com/a?b=c"); err != nil {
		t.Errorf("a plain https URL: %v", err)
	}
}

func mustSecret(t *testing.T) string {
	s, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A non-2xx answer is a failed attempt with its code; the attempt records
// a duration.
func TestSendRecordsTheAnswer(t *testing.T) {
	r := newReceiver(t, 503)
	a := webhooks.Send(context.Background(), webhooks.NewClient(true), webhooks.Endpoint{URL: r.URL, Secret: mustSecret(t)}, "msg_1", []byte(`{}`), time.Now())
	if a.OK() || a.ResponseCode == nil || *a.ResponseCode != 503 || !strings.Contains(*a.Error, "503") || a.DurationMs < 0 {
		t.Fatalf("attempt %+v", a)
	}
}

// Slack endpoints get Block Kit: text for notifications and blocks, and
// no signature headers (the URL is the secret).
func TestSlackBodyIsBlockKit(t *testing.T) {
	r := newReceiver(t, 200)
	body, err := webhooks.SlackBody(webhooks.SlackMessage{Title: "Analysis completed", Text: "Users want *dark mode*.", Context: []string{"Project *P*"}})
	if err != nil {
		t.Fatal(err)
	}
	a := webhooks.Send(context.Background(), webhooks.NewClient(true), webhooks.Endpoint{URL: r.URL, Kind: webhooks.Slack}, "msg_1", body, time.Now())
	if !a.OK() {
		t.Fatalf("attempt %+v", a)
	}
	if r.got[0].Header.Get("webhook-signature") != "" {
		t.Error("a Slack message was signed")
	}
	var msg struct {
		Text   string
		Blocks []struct {
			Type string
			Text *struct {
				Type, Text string
			}
			Elements []struct{ Type, Text string }
		}
	}
	if err := json.Unmarshal(r.body[0], &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "Analysis completed") || len(msg.Blocks) != 3 ||
		msg.Blocks[0].Type != "header" || msg.Blocks[0].Text.Type != "plain_text" ||
		msg.Blocks[1].Type != "section" || msg.Blocks[1].Text.Type != "mrkdwn" || msg.Blocks[1].Text.Text != "Users want *dark mode*." ||
		msg.Blocks[2].Type != "context" || msg.Blocks[2].Elements[0].Text != "Project *P*" {
		t.Fatalf("Slack body %s", r.body[0])
	}
}

// What we send verifies with the standardwebhooks npm package, an
// implementation independent of ours; a tampered body does not.
func TestDeliveriesVerifyWithTheStandardWebhooksPackage(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is needed for this test")
	}
	dir, _ := filepath.Abs("testdata/verifier")
	npmInstall(t, dir, "standardwebhooks")
	r := newReceiver(t, 204)
	secret := mustSecret(t)
	body := []byte(`{"type":"analysis.completed","timestamp":"2026-12-06T09:00:00Z","data":{"summary":"ünïcode ✓"}}`)
	if a := webhooks.Send(context.Background(), webhooks.NewClient(true), webhooks.Endpoint{URL: r.URL, Secret: secret}, "msg_42", body, time.Now()); !a.OK() {
		t.Fatalf("attempt %+v", a)
	}
	headers := map[string]string{}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		headers[h] = r.got[0].Header.Get(h)
	}
	if headers["webhook-id"] != "msg_42" || !strings.HasPrefix(headers["webhook-signature"], "v1,") {
		t.Fatalf("headers %v", headers)
	}
	type check struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	checks := []check{
		{secret, headers, string(r.body[0])},
		{secret, headers, strings.Replace(string(r.body[0]), "completed", "failed", 1)},
		{mustSecret(t), headers, string(r.body[0])},
	}
	in, _ := json.Marshal(checks)
	cmd := exec.Command("node", "verify.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.js: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("verifier said %s", out)
	}
	if got[0] != "ok" || got[1] == "ok" || got[2] == "ok" {
		t.Fatalf("standardwebhooks verified [genuine, tampered, wrong secret] as %q", got)
	}
}

// npmInstall installs dir's locked packages unless pkg is there already.
func npmInstall(t *testing.T, dir, pkg string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err == nil {
		return
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (Node.js and npm are needed for this test): %v\n%s", dir, err, out)
	}
}
