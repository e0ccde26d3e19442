package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math/big"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/apikey"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// API keys look like fl_ followed by 40 random base62 characters (about 238
// bits). Only their SHA-256 hash is stored, with a short prefix to show.
const (
	KeyPrefix     = "fl_"
	keyRandomLen  = 40
	displayPrefix = len(KeyPrefix) + 8
	base62        = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// NewKey returns a fresh secret, the prefix to display and the hash to store.
func NewKey() (secret, prefix string, hash []byte, err error) {
	b := make([]byte, keyRandomLen)
	n := big.NewInt(int64(len(base62)))
	for i := range b {
		r, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", "", nil, fmt.Errorf("auth: random key: %w", err)
		}
		b[i] = base62[r.Int64()]
	}
	secret = KeyPrefix + string(b)
	return secret, secret[:displayPrefix], HashKey(secret), nil
}

// HashKey is what is stored of a key: its SHA-256. Keys are random enough
// that a slow hash would add nothing.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// lastUsedEvery bounds how often a key's lastUsedAt is written.
const lastUsedEvery = time.Minute

// apiKey returns the viewer of an API key. A key is an admin's only when
// its owner is the ADMIN_API_KEY's user and it was made with the current
// ADMIN_API_KEY; keys of open mode's local admin never work here.
func (a *Authenticator) apiKey(ctx context.Context, secret string) (*viewer.Viewer, error) {
	sys := access.SystemContext(ctx)
	k, err := a.client.APIKey.Query().Where(apikey.Hash(HashKey(secret))).WithOwner().Only(sys)
	if ent.IsNotFound(err) {
		return nil, &Error{Reason: UnknownKey, Message: "the API key is not valid: no such key"}
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up API key: %w", err)
	}
	now := time.Now()
	switch {
	case k.RevokedAt != nil:
		return nil, &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… was revoked", k.Prefix)}
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return nil, &Error{Reason: Expired, Message: fmt.Sprintf("the API key %s… has expired", k.Prefix)}
	}
	owner := k.Edges.Owner
	v := &viewer.Viewer{UserID: owner.ID, UserKind: owner.Kind, Subject: owner.Subject, Kind: viewer.APIKey, APIKeyID: k.ID}
	switch owner.Kind {
	case viewer.AdminKey:
		if err := a.madeWithCurrentAdminKey(k); err != nil {
			return nil, err
		}
		v.Admin = k.ProjectID == nil
		v.AdminKeyFingerprint = k.AdminKeyFingerprint
	case viewer.LocalAdmin:
		// Open mode never reads keys (every caller is its local admin), so
		// such a key is always met with authentication on.
		return nil, &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… was made in open mode, when no credentials were configured, and does not work with authentication on: create a new key", k.Prefix)}
	}
	if owner.Name != nil {
		v.Name = *owner.Name
	}
	if k.ExpiresAt != nil {
		v.ExpiresAt = *k.ExpiresAt
	}
	if k.ProjectID != nil {
		// A scoped key never has more rights than its owner has now: a member
		// removed from the project takes the key's access with them.
		role := *k.Role
		if owner.Kind != viewer.AdminKey { // the admin is OWNER everywhere
			m, err := a.client.ProjectMember.Query().
				Where(projectmember.ProjectID(*k.ProjectID), projectmember.UserID(owner.ID)).Only(sys)
			if ent.IsNotFound(err) {
				return nil, &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… no longer works: its owner is not a member of its project any more", k.Prefix)}
			}
			if err != nil {
				return nil, fmt.Errorf("auth: look up the key owner's role: %w", err)
			}
			role = viewer.Lesser(role, m.Role)
		}
		v.Scope = &viewer.Scope{ProjectID: *k.ProjectID, Role: role}
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > lastUsedEvery {
		if err := a.client.APIKey.UpdateOne(k).SetLastUsedAt(now.UTC()).Exec(sys); err != nil {
			a.cfg.Logger.WarnContext(ctx, "could not record an API key's use", "api_key_id", k.ID, "err", err)
		}
	}
	return v, nil
}

// madeWithCurrentAdminKey refuses a key of the ADMIN_API_KEY's user unless it
// records the ADMIN_API_KEY configured now: rotating ADMIN_API_KEY revokes
// every key made with the old one.
func (a *Authenticator) madeWithCurrentAdminKey(k *ent.APIKey) error {
	switch {
	case a.adminKey == nil:
		return &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… was made with ADMIN_API_KEY, which is no longer set; create a new key", k.Prefix)}
	case k.AdminKeyFingerprint == nil:
		return &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… was made with ADMIN_API_KEY before keys recorded which one, so it no longer works: create a new key with the current ADMIN_API_KEY", k.Prefix)}
	case subtle.ConstantTimeCompare(k.AdminKeyFingerprint, a.adminKey) != 1:
		return &Error{Reason: Revoked, Message: fmt.Sprintf("the API key %s… no longer works: the ADMIN_API_KEY it was made with was rotated; create a new key with the current one", k.Prefix)}
	}
	return nil
}
