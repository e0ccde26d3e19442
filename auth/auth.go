// Package auth turns a request's credentials into a viewer: a JWT bearer
// token (HS256 with a shared secret, or RS256/ES256 keys from a JWKS
// endpoint), a project member's API key, or the operator's ADMIN_API_KEY.
// With none of these configured the service runs in open mode, where every
// caller is the built-in local admin.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/internal/hs256"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Config configures authentication. The zero value is open mode.
type Config struct {
	// JWKSURL is where RS256/ES256 verification keys are fetched from.
	JWKSURL string
	// Secret verifies HS256 tokens (at least 32 bytes).
	Secret []byte
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer, Audience string
	// AdminAPIKey is the operator's key, which may do everything.
	AdminAPIKey string
	// Leeway is the clock skew allowed on exp and nbf (default 30s).
	Leeway time.Duration
	// JWKSRefresh is how often the key set is re-fetched (default 1h);
	// JWKSUnknownKIDEvery limits re-fetches for unknown key IDs (default 5m).
	JWKSRefresh, JWKSUnknownKIDEvery time.Duration
	// HTTPClient fetches the key set (default: a client with a 10s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Open reports whether no credentials are configured: open mode.
func (c Config) Open() bool {
	return c.JWKSURL == "" && len(c.Secret) == 0 && c.AdminAPIKey == ""
}

// MinSecretBytes is the least HS256 secret accepted (hs256.MinSecretBytes).
const MinSecretBytes = hs256.MinSecretBytes

// MinAdminKeyChars is the shortest ADMIN_API_KEY accepted.
const MinAdminKeyChars = 24

// The subjects the built-in identities show (viewer { subject }). They are
// users of their own kinds (viewer.LocalAdmin, viewer.AdminKey), so a token
// whose sub is one of these names is an EXTERNAL user like any other.
const (
	LocalAdminSubject = "local-admin" // every caller in open mode
	AdminKeySubject   = "admin-api-key"
)

// Authenticator checks credentials. It is safe for concurrent use; Close
// stops its key refreshing.
type Authenticator struct {
	cfg     Config
	client  *ent.Client
	jwks    keyfunc.Keyfunc
	methods []string
	stop    context.CancelFunc
	// users caches subject → user, so a token's user is written at most
	// once a minute, not on every request.
	users *expirable.LRU[string, cachedUser]
	// tokens caches the claims of HS256 tokens verified in the last
	// minute, by the whole token: a client sends the same token with every
	// request, and checking it again cost about 18 µs a request (JSON and
	// base64 decoding mostly). Expiry is checked on every use. Tokens of
	// the key set are verified every time, so that a key the provider
	// withdraws stops working at the next refresh.
	tokens *expirable.LRU[string, verifiedToken]
	// builtin is the user of open mode or of ADMIN_API_KEY.
	builtin *viewer.Viewer
	// adminKey is the fingerprint of ADMIN_API_KEY (nil when unset), which
	// the keys it makes must carry to keep working.
	adminKey []byte
}

type cachedUser struct {
	id   int
	name string
}

// New checks cfg and prepares an Authenticator. With a JWKS URL it starts
// fetching keys in the background until Close.
func New(ctx context.Context, cfg Config, client *ent.Client) (*Authenticator, error) {
	if cfg.Leeway <= 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.JWKSRefresh <= 0 {
		cfg.JWKSRefresh = time.Hour
	}
	if cfg.JWKSUnknownKIDEvery <= 0 {
		cfg.JWKSUnknownKIDEvery = 5 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if n := len(cfg.Secret); n > 0 && n < MinSecretBytes {
		return nil, fmt.Errorf("JWT_SECRET must be at least %d bytes (got %d): generate one with `openssl rand -base64 48`", MinSecretBytes, n)
	}
	if n := len(cfg.AdminAPIKey); n > 0 && n < MinAdminKeyChars {
		return nil, fmt.Errorf("ADMIN_API_KEY must be at least %d characters (got %d): generate one with `openssl rand -base64 33`", MinAdminKeyChars, n)
	}
	if err := user.IssuerValidator(cfg.Issuer); err != nil {
		// Users are stored by issuer and subject: no token could sign in.
		return nil, fmt.Errorf("JWT_ISSUER %w", err)
	}
	a := &Authenticator{cfg: cfg, client: client,
		users:  expirable.NewLRU[string, cachedUser](10_000, nil, time.Minute),
		tokens: expirable.NewLRU[string, verifiedToken](10_000, nil, time.Minute)}
	if len(cfg.Secret) > 0 {
		a.methods = append(a.methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKSURL != "" {
		a.methods = append(a.methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
		kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		a.stop = stop
		k, err := keyfunc.NewDefaultOverrideCtx(kctx, []string{cfg.JWKSURL}, keyfunc.Override{
			Client:            cfg.HTTPClient,
			RefreshInterval:   cfg.JWKSRefresh,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.JWKSUnknownKIDEvery), 1),
			// A token with an unknown key ID must not hold its request
			// while the limiter waits: it is refused at once instead.
			RateLimitWaitMax: 50 * time.Millisecond,
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(ctx context.Context, err error) {
					cfg.Logger.WarnContext(ctx, "could not refresh the JWKS; keeping the keys it had", "url", u, "err", err)
				}
			},
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("JWT_JWKS_URL: %w", err)
		}
		a.jwks = k
	}

	switch {
	case cfg.Open():
		v, err := a.builtinUser(ctx, viewer.LocalAdmin, LocalAdminSubject, "Local admin (open mode)", viewer.User)
		if err != nil {
			return nil, err
		}
		a.builtin = v
	case cfg.AdminAPIKey != "":
		v, err := a.builtinUser(ctx, viewer.AdminKey, AdminKeySubject, "Administrator (ADMIN_API_KEY)", viewer.APIKey)
		if err != nil {
			return nil, err
		}
		a.adminKey = adminKeyFingerprint(cfg.AdminAPIKey)
		v.AdminKeyFingerprint = a.adminKey
		a.builtin = v
	}
	return a, nil
}

// adminKeyFingerprint is what the keys an ADMIN_API_KEY makes record of it:
// a SHA-256, labelled so that it never equals a stored key's hash.
func adminKeyFingerprint(key string) []byte {
	h := sha256.Sum256([]byte("feedbackloop ADMIN_API_KEY\x00" + key))
	return h[:]
}

// Close stops refreshing the key set.
func (a *Authenticator) Close() {
	if a.stop != nil {
		a.stop()
	}
}

// Open reports whether the service runs in open mode.
func (a *Authenticator) Open() bool { return a.cfg.Open() }

// builtinUser stores (or finds) the user of a built-in admin identity: the
// one user of its kind.
func (a *Authenticator) builtinUser(ctx context.Context, kind viewer.UserKind, subject, name string, credential viewer.Kind) (*viewer.Viewer, error) {
	id, err := a.client.User.Create().
		SetKind(kind).
		SetSubject(subject).
		SetName(name).
		OnConflictColumns(user.FieldKind, user.FieldIssuer, user.FieldSubject).
		Update(func(u *ent.UserUpsert) { u.UpdateName() }).
		ID(access.SystemContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("store the built-in user %q: %w", subject, err)
	}
	return &viewer.Viewer{UserID: id, UserKind: kind, Subject: subject, Name: name, Kind: credential, Admin: true}, nil
}

// Authenticate returns the viewer of a request's Authorization header
// value. Its errors are *Error, saying what was wrong with the credential.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (*viewer.Viewer, error) {
	// Credentials are read from the primary, whatever the caller's context
	// says: a replica that lags could miss a revocation.
	ctx = replicas.Primary(ctx)
	if a.cfg.Open() {
		return a.builtin, nil
	}
	authorization = strings.TrimSpace(authorization)
	if authorization == "" {
		return nil, &Error{Reason: Missing, Message: "this API needs credentials: send the header Authorization: Bearer <token or API key>"}
	}
	scheme, credential, ok := strings.Cut(authorization, " ")
	credential = strings.TrimSpace(credential)
	if !ok || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, &Error{Reason: Malformed, Message: "the Authorization header must be `Bearer <token or API key>`"}
	}
	switch {
	case a.cfg.AdminAPIKey != "" && subtle.ConstantTimeCompare([]byte(credential), []byte(a.cfg.AdminAPIKey)) == 1:
		return a.builtin, nil
	case strings.HasPrefix(credential, KeyPrefix):
		return a.apiKey(ctx, credential)
	}
	return a.token(ctx, credential)
}

// Reasons a credential is refused.
const (
	Missing       = "missing"
	Malformed     = "malformed"
	Expired       = "expired"
	NotYetValid   = "not_yet_valid"
	BadSignature  = "bad_signature"
	UnknownKey    = "unknown_key"
	WrongIssuer   = "wrong_issuer"
	WrongAudience = "wrong_audience"
	Revoked       = "revoked"
)

// Error is a refused credential. Message says which problem it has; it never
// reveals more than the client sent.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

// IsError reports whether err is a refused credential (as opposed to a
// failure to check it, such as the database being down).
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
