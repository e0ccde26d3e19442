package wstransport

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/viewer"
)

// A websocket authenticates once, at connection_init, and every operation
// on it authenticates its credential again (conn.authorise). A socket
// opened with an API key is also closed, with 4403, as soon as the key can
// no longer do what it could: whoever learns that a key may have lost
// rights (a revocation, a change of its owner's role) calls RecheckKeys.
// Tokens cannot be revoked; a socket opened with one closes when the token
// expires.

// keySockets indexes the open sockets authenticated with an API key.
type keySockets struct {
	mu    sync.Mutex
	byKey map[int]map[*conn]struct{}
}

func (k *keySockets) add(c *conn, v *viewer.Viewer) {
	if v.APIKeyID == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	conns := k.byKey[v.APIKeyID]
	if conns == nil {
		conns = map[*conn]struct{}{}
		k.byKey[v.APIKeyID] = conns
	}
	conns[c] = struct{}{}
}

func (k *keySockets) remove(c *conn) {
	v := c.viewer.Load()
	if v == nil || v.APIKeyID == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.byKey[v.APIKeyID], c)
	if len(k.byKey[v.APIKeyID]) == 0 {
		delete(k.byKey, v.APIKeyID)
	}
}

// matching lists the sockets whose viewer match accepts.
func (k *keySockets) matching(match func(*viewer.Viewer) bool) []*conn {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*conn
	for _, conns := range k.byKey {
		for c := range conns {
			if match(c.viewer.Load()) {
				out = append(out, c)
			}
		}
	}
	return out
}

// RecheckKeys authenticates again the credential of each socket opened
// with an API key whose viewer match accepts, and closes with 4403, saying
// why, those that lost any right. It returns when every one was checked.
func (t *Transport) RecheckKeys(match func(*viewer.Viewer) bool) {
	for _, c := range t.keys.matching(match) {
		before := c.viewer.Load()
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		v, err := t.auth.Authenticate(ctx, c.authorization)
		cancel()
		switch {
		case err != nil && t.refused(err):
			c.close(closeForbidden, "Forbidden: "+err.Error())
		case err != nil:
			// Its next operation is authenticated again anyway.
			t.logger.WarnContext(c.ctx, "could not re-check a websocket's credential; keeping it", "err", err)
		case lostRights(before, v):
			c.close(closeForbidden, fmt.Sprintf("Forbidden: this API key's role on its project is now %s, not %s: reconnect to go on with it", v.Scope.Role, before.Scope.Role))
		default:
			c.viewer.Store(v)
		}
	}
}

// lostRights reports whether now may do less than before.
func lostRights(before, now *viewer.Viewer) bool {
	switch {
	case before.Admin && !now.Admin:
		return true
	case before.Scope == nil:
		return now.Scope != nil
	}
	return now.Scope != nil && now.Scope.ProjectID == before.Scope.ProjectID && !now.Scope.Role.AtLeast(before.Scope.Role)
}
