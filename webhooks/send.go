package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/text"
)

// Attempt is one try at delivering a message, as a delivery records it.
type Attempt struct {
	At time.Time `json:"at"`
	// ResponseCode is the HTTP status the endpoint answered; nil when no
	// answer came (refused, timed out).
	ResponseCode *int `json:"responseCode,omitempty"`
	// DurationMs is how long the attempt took, in milliseconds.
	DurationMs int `json:"durationMs"`
	// Error says why the attempt failed; nil when it succeeded.
	Error *string `json:"error,omitempty"`
}

// OK reports whether the endpoint took the message (a 2xx answer).
func (a Attempt) OK() bool { return a.Error == nil }

// Endpoint is where a message goes.
type Endpoint struct {
	URL    string
	Kind   Kind
	Secret string // for Standard endpoints
}

// Envelope is a Standard endpoint's body: Standard Webhooks' recommended
// shape, the event's type, when it happened and its data.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// maxErrorLen bounds the error an attempt records.
const maxErrorLen = 500

// Send posts body to e once: signed for a Standard endpoint, with id as
// webhook-id and now as webhook-timestamp. It returns what the attempt
// recorded; a non-2xx answer or a refused connection is a failed attempt,
// not an error.
func Send(ctx context.Context, client *http.Client, e Endpoint, id string, body []byte, now time.Time) Attempt {
	start := time.Now()
	a := Attempt{At: now.UTC().Truncate(time.Microsecond)}
	fail := func(err error) Attempt {
		msg := text.Truncate(err.Error(), maxErrorLen)
		a.Error = &msg
		a.DurationMs = int(time.Since(start).Milliseconds())
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "feedbackloop-webhooks/1")
	if e.Kind != Slack {
		sig, err := Sign(e.Secret, id, now, body)
		if err != nil {
			return fail(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not the url.Error: it repeats the URL, which may be a secret
		// (Slack's), and attempts' errors are shown and passed on.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, ErrPrivateAddress) {
			err = ErrPrivateAddress
		}
		return fail(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	a.ResponseCode = &code
	if code < 200 || code > 299 {
		return fail(fmt.Errorf("the endpoint answered HTTP %d", code))
	}
	a.DurationMs = int(time.Since(start).Milliseconds())
	return a
}

// SlackMessage is what a Slack endpoint is told about an event.
type SlackMessage struct {
	Title   string   // the header: "Analysis completed"
	Text    string   // the body, Slack mrkdwn
	Context []string // small print: project, IDs
}

// SlackBody renders m as an incoming-webhook payload: text (the
// notification's fallback) and Block Kit blocks (header, section, context).
func SlackBody(m SlackMessage) ([]byte, error) {
	type txt struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *txt   `json:"text,omitempty"`
		Elements []txt  `json:"elements,omitempty"`
	}
	blocks := []block{
		{Type: "header", Text: &txt{Type: "plain_text", Text: text.Truncate(m.Title, 150)}},
		{Type: "section", Text: &txt{Type: "mrkdwn", Text: text.Truncate(m.Text, 3000)}},
	}
	if len(m.Context) > 0 {
		c := block{Type: "context"}
		for _, s := range m.Context[:min(len(m.Context), 10)] {
			c.Elements = append(c.Elements, txt{Type: "mrkdwn", Text: text.Truncate(s, 2000)})
		}
		blocks = append(blocks, c)
	}
	return json.Marshal(struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{Text: m.Title + ": " + text.Truncate(m.Text, 2000), Blocks: blocks})
}
