// Package hs256 is what the service's HS256 tokens, signed with a shared
// secret (JWT_SECRET), need outside the service: the shortest secret it
// accepts, and minting tokens it accepts, for local use (cmd/token), load
// tools and tests. Real deployments get tokens from their identity provider.
// It imports no part of the service, so that tools need not.
package hs256

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the least HS256 secret accepted: 256 bits, as RFC 7518
// asks of HMAC keys. The service refuses a shorter JWT_SECRET.
const MinSecretBytes = 32

// claims are the claims a token carries, as the service reads them.
type claims struct {
	jwt.RegisteredClaims
	Name string `json:"name,omitempty"`
}

// Mint signs an HS256 token for subject, shown as name, with secret, valid
// for ttl from now.
func Mint(secret []byte, subject, name string, ttl time.Duration) (string, error) {
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Name: name,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
