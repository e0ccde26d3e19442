package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// claims are the parts of a token the service reads.
type claims struct {
	jwt.RegisteredClaims
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
}

// displayName is the first of name, preferred_username and email that fits
// a user's name; one that does not (too long) is passed over, not refused:
// it is only shown.
func (c claims) displayName() string {
	for _, n := range []string{c.Name, c.PreferredUsername, c.Email} {
		if n = strings.TrimSpace(n); n != "" && user.NameValidator(n) == nil {
			return n
		}
	}
	return ""
}

// unstorable returns the first claim the service stores or shows that it
// cannot: PostgreSQL refuses NUL in text, and text must be UTF-8.
func (c claims) unstorable() (claim string, bad bool) {
	for _, f := range [...]struct{ claim, value string }{
		{"sub", c.Subject}, {"iss", c.Issuer}, {"name", c.Name},
		{"preferred_username", c.PreferredUsername}, {"email", c.Email},
	} {
		if strings.IndexByte(f.value, 0) >= 0 || !utf8.ValidString(f.value) {
			return f.claim, true
		}
	}
	return "", false
}

// token verifies a JWT and returns its viewer, storing its subject as a
// user on first sight.
func (a *Authenticator) token(ctx context.Context, raw string) (*viewer.Viewer, error) {
	if len(a.methods) == 0 {
		return nil, &Error{Reason: Malformed, Message: "this server accepts API keys only (fl_…); no token verification is configured"}
	}
	t, ok := a.tokens.Get(raw)
	if !ok || !time.Now().Before(t.expires.Add(a.cfg.Leeway)) {
		// Not seen, or expired since: the parser decides, and refuses an
		// expired token as such.
		var err error
		if t, err = a.verify(ctx, raw); err != nil {
			return nil, err
		}
		if t.sharedSecret {
			a.tokens.Add(raw, t)
		}
	}
	id, err := a.userFor(ctx, t.issuer, t.subject, t.name)
	if err != nil {
		return nil, err
	}
	return &viewer.Viewer{UserID: id, UserKind: viewer.External, Subject: t.subject, Name: t.name, Kind: viewer.User, ExpiresAt: t.expires}, nil
}

// verifiedToken is what the service keeps of a token it verified.
type verifiedToken struct {
	issuer, subject, name string
	expires               time.Time
	sharedSecret          bool // signed with JWT_SECRET (HS256), not a key of the set
}

// verify checks a JWT's signature and claims.
func (a *Authenticator) verify(ctx context.Context, raw string) (verifiedToken, error) {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(a.methods),
		jwt.WithLeeway(a.cfg.Leeway),
		jwt.WithExpirationRequired(),
	}
	if a.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.cfg.Issuer))
	}
	if a.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.cfg.Audience))
	}
	var c claims
	tok, err := jwt.ParseWithClaims(raw, &c, a.keyFor(ctx), opts...)
	if err != nil {
		return verifiedToken{}, a.tokenError(err, &c)
	}
	if claim, bad := c.unstorable(); bad {
		return verifiedToken{}, &Error{Reason: Malformed, Message: fmt.Sprintf("the token's %s claim contains the NUL character (\\u0000) or is not UTF-8 text; this API does not accept it", claim)}
	}
	if strings.TrimSpace(c.Subject) == "" || len(c.Subject) > 255 {
		return verifiedToken{}, &Error{Reason: Malformed, Message: "the token has no usable subject (sub claim)"}
	}
	if err := user.IssuerValidator(c.Issuer); err != nil {
		return verifiedToken{}, &Error{Reason: Malformed, Message: "the token's iss claim " + err.Error()}
	}
	// The parser requires exp (WithExpirationRequired).
	_, hmac := tok.Method.(*jwt.SigningMethodHMAC)
	return verifiedToken{issuer: c.Issuer, subject: c.Subject, name: c.displayName(), expires: c.ExpiresAt.Time, sharedSecret: hmac}, nil
}

// keyFor picks the verification key by the token's algorithm: the shared
// secret for HS256, the key set for RS256/ES256. An HS256 token is never
// checked against a public key (the HS/RS confusion attack), and the parser
// has already refused algorithms not configured (none among them).
func (a *Authenticator) keyFor(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		switch t.Method.(type) {
		case *jwt.SigningMethodHMAC:
			if len(a.cfg.Secret) == 0 {
				return nil, errNoKey
			}
			return a.cfg.Secret, nil
		case *jwt.SigningMethodRSA, *jwt.SigningMethodECDSA:
			if a.jwks == nil {
				return nil, errNoKey
			}
			key, err := a.jwks.KeyfuncCtx(ctx)(t)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errNoKey, err)
			}
			return key, nil
		}
		return nil, errNoKey
	}
}

var errNoKey = errors.New("no key verifies this token")

// tokenError says which check a token failed, in words for the client; c
// holds the claims the parser read, if any.
func (a *Authenticator) tokenError(err error, c *claims) *Error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &Error{Reason: Malformed, Message: "the token is malformed: it is not a JWT"}
	case errors.Is(err, jwt.ErrTokenExpired):
		return &Error{Reason: Expired, Message: "the token has expired: get a new one"}
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return a.missingClaim(c)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return &Error{Reason: NotYetValid, Message: "the token is not valid yet (nbf or iat is in the future)"}
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return &Error{Reason: WrongIssuer, Message: "the token was issued by another issuer than this API trusts"}
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return &Error{Reason: WrongAudience, Message: "the token is meant for another audience than this API"}
	case errors.Is(err, errNoKey):
		return &Error{Reason: UnknownKey, Message: "the token is signed with an algorithm or key this API does not accept"}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		if strings.Contains(err.Error(), "signing method") {
			return &Error{Reason: UnknownKey, Message: "the token is signed with an algorithm this API does not accept"}
		}
		return &Error{Reason: BadSignature, Message: "the token's signature is invalid"}
	}
	return &Error{Reason: Malformed, Message: "the token is invalid"}
}

// missingClaim names the required claim a token lacks (the parser's error
// does not say which): a missing iss or aud is refused as the wrong issuer
// or audience would be, since the fix is the same, a token meant for this
// API.
func (a *Authenticator) missingClaim(c *claims) *Error {
	switch {
	case c.ExpiresAt == nil:
		return &Error{Reason: Malformed, Message: "the token has no expiry (exp claim); tokens without one are not accepted"}
	case a.cfg.Issuer != "" && c.Issuer == "":
		return &Error{Reason: WrongIssuer, Message: "the token has no issuer (iss claim); this API accepts only tokens from the issuer it trusts"}
	case a.cfg.Audience != "" && (len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == ""):
		return &Error{Reason: WrongAudience, Message: "the token has no audience (aud claim); this API accepts only tokens meant for it"}
	}
	return &Error{Reason: Malformed, Message: "the token lacks a required claim (exp, iss or aud)"}
}

// userFor returns the EXTERNAL user of a subject at its issuer, creating it
// on first sight and keeping its display name current.
func (a *Authenticator) userFor(ctx context.Context, issuer, subject, name string) (int, error) {
	// Neither part contains NUL (verify refuses it), so the key is unambiguous.
	cacheKey := issuer + "\x00" + subject
	if u, ok := a.users.Get(cacheKey); ok && u.name == name {
		return u.id, nil
	}
	create := a.client.User.Create().SetKind(viewer.External).SetIssuer(issuer).SetSubject(subject).SetLastSeenAt(time.Now().UTC())
	if name != "" {
		create.SetName(name)
	}
	id, err := create.
		OnConflictColumns(user.FieldKind, user.FieldIssuer, user.FieldSubject).
		Update(func(u *ent.UserUpsert) { u.UpdateName().UpdateLastSeenAt() }).
		ID(access.SystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("auth: store user: %w", err)
	}
	a.users.Add(cacheKey, cachedUser{id: id, name: name})
	return id, nil
}
