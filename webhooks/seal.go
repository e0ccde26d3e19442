package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks a signing secret stored encrypted.
const sealedPrefix = "sealed:v1:"

// MinKeyLength is the shortest WEBHOOK_SECRET_KEY accepted.
const MinKeyLength = 32

// Sealer encrypts signing secrets at rest (AES-256-GCM, keyed with the
// SHA-256 of WEBHOOK_SECRET_KEY), so that a copy of the database does not
// let anyone sign messages endpoints would trust. A nil Sealer stores
// secrets as they are; either opens secrets stored without a key.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns the Sealer of key; "" gives nil (secrets stored as
// they are).
func NewSealer(key string) (*Sealer, error) {
	if key == "" {
		return nil, nil
	}
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("must be at least %d characters (e.g. openssl rand -base64 32)", MinKeyLength)
	}
	sum := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns what to store for secret.
func (s *Sealer) Seal(secret string) (string, error) {
	if s == nil {
		return secret, nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// ErrCannotOpen is a stored secret that cannot be decrypted: sealed, and
// WEBHOOK_SECRET_KEY is unset or not the key that sealed it.
var ErrCannotOpen = errors.New("the webhook's signing secret cannot be decrypted: WEBHOOK_SECRET_KEY is unset or not the key it was stored with; restore that key, or delete the webhook and create it again")

// Open returns the secret stored as stored.
func (s *Sealer) Open(stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if s == nil {
		return "", ErrCannotOpen
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrCannotOpen
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], nil)
	if err != nil {
		return "", ErrCannotOpen
	}
	return string(plain), nil
}
