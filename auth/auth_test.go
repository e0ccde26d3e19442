package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "auth", &dbTemplate) }

func newClient(t *testing.T) *ent.Client {
	db, _ := dbTemplate.Open(t)
	return store.NewClient(db)
}

var secret = []byte("0123456789abcdef0123456789abcdef-test")

func newAuth(t *testing.T, client *ent.Client, cfg auth.Config) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(context.Background(), cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// refused asserts that authorization is refused for reason.
func refused(t *testing.T, a *auth.Authenticator, authorization, reason string) {
	t.Helper()
	v, err := a.Authenticate(context.Background(), authorization)
	var e *auth.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a refusal (%s), got viewer %v, error %v", reason, v, err)
	}
	if e.Reason != reason {
		t.Fatalf("refused for %q (%s), want %q", e.Reason, e.Message, reason)
	}
	if strings.Contains(strings.ToLower(e.Message), "internal") || e.Message == "" {
		t.Fatalf("message %q does not say what was wrong", e.Message)
	}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

func claims(sub string, mutate ...func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": sub, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "preferred_username": sub + "-handle"}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func TestHS256TokensAndTheirChecks(t *testing.T) {
	client := newClient(t)
	a := newAuth(t, client, auth.Config{Secret: secret, Issuer: "https://issuer.test", Audience: "feedbackloop", Leeway: time.Second})
	good := func(c jwt.MapClaims) { c["iss"] = "https://issuer.test"; c["aud"] = "feedbackloop" }

	v, err := a.Authenticate(context.Background(), sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Subject != "ada" || v.Name != "ada-handle" || v.Kind != viewer.User || v.Admin || v.UserID == 0 || v.ExpiresAt.IsZero() {
		t.Fatalf("viewer %+v", v)
	}
	// The user was stored on first sight, once.
	if n := client.User.Query().CountX(accesstest.System()); n != 1 {
		t.Fatalf("%d users stored, want 1", n)
	}

	cases := []struct {
		name, authorization, reason string
	}{
		{"no header", "", auth.Missing},
		{"not bearer", "Basic YWRhOnB3", auth.Malformed},
		{"not a JWT", "Bearer not.a.token", auth.Malformed},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), auth.Expired},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Minute).Unix() })), auth.NotYetValid},
		{"no expiry", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { delete(c, "exp") })), auth.Malformed},
		{"no issuer", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { delete(c, "iss") })), auth.WrongIssuer},
		{"no audience", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { delete(c, "aud") })), auth.WrongAudience},
		{"NUL in sub", sign(t, jwt.SigningMethodHS256, secret, "", claims("a\x00da", good)), auth.Malformed},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })), auth.WrongIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good, func(c jwt.MapClaims) { c["aud"] = "another-api" })), auth.WrongAudience},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough!!"), "", claims("ada", good)), auth.BadSignature},
		{"tampered", tamper(sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", good))), auth.BadSignature},
		{"no subject", sign(t, jwt.SigningMethodHS256, secret, "", claims("", good)), auth.Malformed},
		{"alg none", noneToken(claims("ada", good)), auth.UnknownKey},
		{"HS512 not configured", sign(t, jwt.SigningMethodHS512, secret, "", claims("ada", good)), auth.UnknownKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { refused(t, a, c.authorization, c.reason) })
	}
}

// A token is verified once and then remembered, but never past its
// expiry: replayed after it, the remembered token is refused as expired.
func TestRememberedTokenStillExpires(t *testing.T) {
	a := newAuth(t, newClient(t), auth.Config{Secret: secret, Leeway: time.Second})
	token := sign(t, jwt.SigningMethodHS256, secret, "", claims("ada", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(2 * time.Second).Unix() }))
	for range 2 { // verified, then remembered
		if v, err := a.Authenticate(context.Background(), token); err != nil || v.Subject != "ada" {
			t.Fatalf("a valid token: viewer %v, error %v", v, err)
		}
	}
	testutil.WaitFor(t, "the remembered token to expire", func() bool {
		_, err := a.Authenticate(context.Background(), token)
		return err != nil
	})
	refused(t, a, token, auth.Expired)
}

// tamper changes the subject of a signed token without re-signing it.
func tamper(bearer string) string {
	parts := strings.Split(strings.TrimPrefix(bearer, "Bearer "), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	c["sub"] = "mallory"
	payload, _ = json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return "Bearer " + strings.Join(parts, ".")
}

func noneToken(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return "Bearer " + s
}

// jwksServer serves a key set that a test can rotate, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]any
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(keys ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	b, _ := k.Bytes() // uncompressed point: 0x04 || X || Y
	return map[string]any{"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(b[1:33]), "y": base64.RawURLEncoding.EncodeToString(b[33:])}
}

// Keys rotate at the identity provider: a token signed with a new key ID is
// accepted after one re-fetch, a token of a retired key is refused, and
// re-fetches for unknown key IDs are rate-limited.
func TestJWKSRotation(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := newJWKSServer(t)
	srv.serve(rsaJWK("old", &rsaKey.PublicKey))
	a := newAuth(t, newClient(t), auth.Config{JWKSURL: srv.URL, JWKSRefresh: time.Hour, JWKSUnknownKIDEvery: time.Hour})

	if _, err := a.Authenticate(context.Background(), sign(t, jwt.SigningMethodRS256, rsaKey, "old", claims("ada"))); err != nil {
		t.Fatalf("RS256 token of the served key: %v", err)
	}
	before := srv.fetches.Load()

	// The provider rotates to an EC key.
	srv.serve(ecJWK("new", &ecKey.PublicKey))
	if _, err := a.Authenticate(context.Background(), sign(t, jwt.SigningMethodES256, ecKey, "new", claims("ada"))); err != nil {
		t.Fatalf("ES256 token of the new key: %v", err)
	}
	if got := srv.fetches.Load() - before; got != 1 {
		t.Fatalf("%d fetches for a new key ID, want exactly 1", got)
	}
	// The old key is gone from the set.
	refused(t, a, sign(t, jwt.SigningMethodRS256, rsaKey, "old", claims("ada")), auth.UnknownKey)
	// A flood of unknown key IDs does not hammer the provider.
	for i := range 20 {
		refused(t, a, sign(t, jwt.SigningMethodES256, ecKey, "bogus-"+string(rune('a'+i)), claims("ada")), auth.UnknownKey)
	}
	if got := srv.fetches.Load() - before; got != 1 {
		t.Fatalf("%d fetches after 20 unknown key IDs, want still 1 (rate-limited)", got)
	}
}

// The key set is also re-fetched periodically, so a key withdrawn by the
// provider stops working without any unknown key ID to trigger a fetch.
func TestJWKSPeriodicRefresh(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := newJWKSServer(t)
	srv.serve(rsaJWK("k1", &rsaKey.PublicKey))
	a := newAuth(t, newClient(t), auth.Config{JWKSURL: srv.URL, JWKSRefresh: 200 * time.Millisecond, JWKSUnknownKIDEvery: time.Hour})
	token := sign(t, jwt.SigningMethodRS256, rsaKey, "k1", claims("ada"))
	if _, err := a.Authenticate(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	srv.serve() // withdrawn
	// No unknown key ID is ever presented, so only the periodic refresh
	// can make the token fail; the fetch counter proves who did it.
	testutil.WaitFor(t, "the withdrawn key to stop working", func() bool {
		_, err := a.Authenticate(context.Background(), token)
		return err != nil
	})
	refused(t, a, token, auth.UnknownKey)
	if srv.fetches.Load() < 2 {
		t.Fatalf("%d fetches: the key set was never re-fetched", srv.fetches.Load())
	}
}

// An HS256 token "signed" with the provider's public key must not pass
// when both a secret and a key set are configured (the HS/RS confusion).
func TestHSRSConfusionIsRefused(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := newJWKSServer(t)
	srv.serve(rsaJWK("k1", &rsaKey.PublicKey))
	a := newAuth(t, newClient(t), auth.Config{JWKSURL: srv.URL, Secret: secret})
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, key := range [][]byte{pemKey, der} {
		refused(t, a, sign(t, jwt.SigningMethodHS256, key, "k1", claims("mallory")), auth.BadSignature)
	}
	// And an RS256 token is not checked against the secret.
	refused(t, a, sign(t, jwt.SigningMethodRS256, rsaKey, "unknown-kid", claims("ada")), auth.UnknownKey)
}

func TestAPIKeys(t *testing.T) {
	client := newClient(t)
	a := newAuth(t, client, auth.Config{Secret: secret})
	sys := accesstest.System()
	owner := client.User.Create().SetSubject("owner").SaveX(sys)
	p := client.Project.Create().SetName("P").SaveX(sys)
	member := client.ProjectMember.Create().SetProjectID(p.ID).SetUserID(owner.ID).SetRole(viewer.Editor).SaveX(sys)
	newKey := func(mutate func(*ent.APIKeyCreate)) string {
		secret, prefix, hash, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "fl_") || len(secret) < 3+32 || !strings.HasPrefix(secret, prefix) {
			t.Fatalf("key %q, prefix %q", secret, prefix)
		}
		c := client.APIKey.Create().SetName("k").SetPrefix(prefix).SetHash(hash).SetUserID(owner.ID)
		if mutate != nil {
			mutate(c)
		}
		c.SaveX(sys)
		return "Bearer " + secret
	}

	personal := newKey(nil)
	v, err := a.Authenticate(context.Background(), personal)
	if err != nil || v.Kind != viewer.APIKey || v.UserID != owner.ID || v.Scope != nil || v.Admin {
		t.Fatalf("personal key: %+v, %v", v, err)
	}

	// A scoped key never exceeds its owner's current role.
	scoped := newKey(func(c *ent.APIKeyCreate) { c.SetProjectID(p.ID).SetRole(viewer.Owner) })
	v, err = a.Authenticate(context.Background(), scoped)
	if err != nil || v.Scope == nil || v.Scope.ProjectID != p.ID || v.Scope.Role != viewer.Editor {
		t.Fatalf("scoped key: %+v, %v", v, err)
	}

	revoked := newKey(func(c *ent.APIKeyCreate) { c.SetRevokedAt(time.Now()) })
	refused(t, a, revoked, auth.Revoked)
	expired := newKey(func(c *ent.APIKeyCreate) { c.SetExpiresAt(time.Now().Add(-time.Second)) })
	refused(t, a, expired, auth.Expired)
	refused(t, a, "Bearer fl_thisKeyWasNeverIssuedByThisServer0123456789", auth.UnknownKey)

	// Removing the owner from the project takes the scoped key's access.
	client.ProjectMember.DeleteOne(member).ExecX(sys)
	refused(t, a, scoped, auth.Revoked)
	if _, err := a.Authenticate(context.Background(), personal); err != nil {
		t.Fatalf("the personal key should still work: %v", err)
	}
	// Only the hash is stored.
	for _, k := range client.APIKey.Query().AllX(sys) {
		if strings.Contains(string(k.Hash), "fl_") || len(k.Hash) != 32 {
			t.Fatalf("stored hash %x", k.Hash)
		}
	}
}

func TestAdminKeyAndOpenMode(t *testing.T) {
	client := newClient(t)
	admin := newAuth(t, client, auth.Config{AdminAPIKey: "an-operator-key-long-enough-0123"})
	v, err := admin.Authenticate(context.Background(), "Bearer an-operator-key-long-enough-0123")
	if err != nil || !v.Admin || v.Subject != auth.AdminKeySubject || v.UserKind != viewer.AdminKey {
		t.Fatalf("admin key: %+v, %v", v, err)
	}
	refused(t, admin, "Bearer an-operator-key-long-enough-0124", auth.Malformed)
	refused(t, admin, "", auth.Missing)

	open := newAuth(t, client, auth.Config{})
	if !open.Open() || admin.Open() {
		t.Fatal("open mode is when no credentials are configured")
	}
	v, err = open.Authenticate(context.Background(), "")
	if err != nil || !v.Admin || v.Subject != auth.LocalAdminSubject || v.UserKind != viewer.LocalAdmin {
		t.Fatalf("open mode: %+v, %v", v, err)
	}

	for _, bad := range []auth.Config{{Secret: []byte("short")}, {AdminAPIKey: "short"}, {Secret: secret, Issuer: strings.Repeat("i", 256)}} {
		if _, err := auth.New(context.Background(), bad, client); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
