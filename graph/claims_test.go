package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/feedbackloop/feedbackloop/auth"
)

// Bad claims are the client's error (issue 22, item 4): 401 with a reason
// and a message naming the claim, never 503 and an ERROR line.

// Probe: a signed token whose sub held NUL was 503 UNAVAILABLE and an ERROR
// line in the log; the claims the service stores or shows are 401s naming
// the claim. A display name too long to store is passed over, not refused.
func TestHostileNULInClaims(t *testing.T) {
	e := newEnvAuth(t, auth.Config{Secret: testSecret}, nil)
	w := e.watchAs(bearer(t, "bystander"))
	claims := func(set map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "ada", "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range set {
			c[k] = v
		}
		return c
	}
	var replies []reply
	for _, claim := range []string{"sub", "iss", "name", "preferred_username", "email"} {
		r := e.from("127.0.0.1").as(signed(t, claims(map[string]any{claim: "ada\x00"}))).post(`{ viewer { id } }`, nil)
		replies = append(replies, r)
		refusedAs(t, "NUL in "+claim, r, auth.Malformed, "the token's "+claim+" claim contains the NUL character")
	}
	long := signed(t, claims(map[string]any{"name": strings.Repeat("n", 256), "preferred_username": "ada-handle"}))
	var got struct{ Viewer struct{ Name string } }
	e.as(t, long, `{ viewer { name } }`, nil, &got)
	if got.Viewer.Name != "ada-handle" {
		t.Errorf("a 256-character name: the display name is %q, want the preferred_username", got.Viewer.Name)
	}
	w.check(t)
	noInternal(t, e, replies...)
}

// Probe: a token without iss or aud, when JWT_ISSUER and JWT_AUDIENCE
// require them, was refused as having "no expiry".
func TestAMissingClaimIsNamed(t *testing.T) {
	const issuer, audience = "https://issuer.test", "feedbackloop"
	e := newEnvAuth(t, auth.Config{Secret: testSecret, Issuer: issuer, Audience: audience}, nil)
	cases := []struct {
		drop, reason, says string
	}{
		{"exp", auth.Malformed, "no expiry (exp claim)"},
		{"iss", auth.WrongIssuer, "no issuer (iss claim)"},
		{"aud", auth.WrongAudience, "no audience (aud claim)"},
	}
	for _, c := range cases {
		claims := jwt.MapClaims{"sub": "ada", "iss": issuer, "aud": audience, "exp": time.Now().Add(time.Hour).Unix()}
		delete(claims, c.drop)
		r := e.from("127.0.0.1").as(signed(t, claims)).post(`{ viewer { id } }`, nil)
		refusedAs(t, "no "+c.drop, r, c.reason, c.says)
		// And the challenge header says the same.
		if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, c.says) {
			t.Errorf("no %s: WWW-Authenticate %q", c.drop, h)
		}
	}
	var ok struct{ Viewer struct{ Subject string } }
	e.as(t, signed(t, jwt.MapClaims{"sub": "ada", "iss": issuer, "aud": audience, "exp": time.Now().Add(time.Hour).Unix()}), `{ viewer { subject } }`, nil, &ok)
	if ok.Viewer.Subject != "ada" {
		t.Errorf("a complete token: %+v", ok)
	}
}
