// Package github connects projects to GitHub issues. A project links a
// repository (linkGitHubRepository); each NEW_TASK suggestion applied in it
// then gets an issue, opened by the worker's Dispatcher from the outbox,
// never from a request; and an issue closed on GitHub marks its task DONE
// (Webhook, GitHub's webhook, signed with X-Hub-Signature-256).
//
// It speaks the REST API with net/http: it needs one endpoint (create an
// issue), and google/go-github is not among the modules available to this
// build.
package github

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is GitHub's REST API (GITHUB_API_URL changes it, e.g. for
// GitHub Enterprise Server's https://HOST/api/v3, or a test's fake).
const DefaultAPIURL = "https://api.github.com"

// APIVersion is the REST API version requested (X-GitHub-Api-Version).
const APIVersion = "2022-11-28"

// Timeout bounds one request to GitHub.
const Timeout = 15 * time.Second

// Limits of what linkGitHubRepository accepts.
const (
	MaxTokenLength     = 255
	MinSecretLength    = 16
	MaxSecretLength    = 255
	maxResponseBytes   = 1 << 20
	maxErrorMessageLen = 200
)

var (
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// CheckOwner says what is wrong with a repository owner's login, or nil.
func CheckOwner(owner string) error {
	if !ownerPattern.MatchString(owner) {
		return errors.New("must be a GitHub login: 1 to 39 letters, digits or hyphens, not starting with a hyphen")
	}
	return nil
}

// CheckRepo says what is wrong with a repository's name, or nil.
func CheckRepo(repo string) error {
	if !repoPattern.MatchString(repo) || repo == "." || repo == ".." {
		return errors.New("must be a repository name: 1 to 100 letters, digits, '.', '-' or '_'")
	}
	return nil
}

// Client calls GitHub's REST API.
type Client struct {
	// BaseURL is GITHUB_API_URL (default DefaultAPIURL).
	BaseURL string
	// HTTP sends the requests (default: a client with Timeout).
	HTTP *http.Client
}

// Issue is what GitHub answers when an issue is created.
type Issue struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
}

// APIError is GitHub's refusal or failure to create an issue.
type APIError struct {
	Status int
	// Message is GitHub's message, shortened; never the token.
	Message string
	// RetryAfter is how long GitHub asked to wait (Retry-After, or until
	// x-ratelimit-reset when the rate limit is exhausted); 0 if it did not.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("GitHub answered %d", e.Status)
	}
	return fmt.Sprintf("GitHub answered %d: %s", e.Status, e.Message)
}

// Retryable says whether asking again later may succeed: GitHub's server
// errors and rate limits (429, or 403 with the limit exhausted).
func (e *APIError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.RetryAfter > 0
}

// CreateIssue opens an issue in owner/repo with token. An error is an
// *APIError when GitHub answered, else the transport's.
func (c *Client) CreateIssue(ctx context.Context, token, owner, repo, title, body string, now time.Time) (Issue, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultAPIURL
	}
	payload, err := json.Marshal(map[string]string{"title": title, "body": body})
	if err != nil {
		return Issue{}, err
	}
	u := strings.TrimRight(base, "/") + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/issues"
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return Issue{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", APIVersion)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "feedbackloop")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: Timeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is GITHUB_API_URL's: no need to repeat it
		}
		return Issue{}, fmt.Errorf("GitHub did not answer: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Issue{}, fmt.Errorf("GitHub's answer was cut short: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return Issue{}, apiError(resp, raw, now)
	}
	var is Issue
	if err := json.Unmarshal(raw, &is); err != nil || is.Number <= 0 {
		return Issue{}, &APIError{Status: resp.StatusCode, Message: "the answer is not an issue"}
	}
	return is, nil
}

func apiError(resp *http.Response, raw []byte, now time.Time) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Message = body.Message
		if len(e.Message) > maxErrorMessageLen {
			e.Message = e.Message[:maxErrorMessageLen] + "…"
		}
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = t.Sub(now)
		}
	}
	if e.RetryAfter <= 0 && resp.Header.Get("X-Ratelimit-Remaining") == "0" &&
		(resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) {
		if n, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			e.RetryAfter = time.Unix(n, 0).Sub(now)
		}
		if e.RetryAfter <= 0 {
			e.RetryAfter = time.Minute
		}
	}
	if e.RetryAfter < 0 {
		e.RetryAfter = 0
	}
	return e
}

// Sign is the X-Hub-Signature-256 of body with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify says whether header is body's X-Hub-Signature-256 with secret,
// comparing in constant time.
func Verify(secret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || secret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
