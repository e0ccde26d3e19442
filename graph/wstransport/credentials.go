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
// expires. Event streams (sse.go) opened with an API key are indexed and
// re-checked with the sockets, and end with a FORBIDDEN error instead.

// keyed is a socket or an event stream opened with an API key.
type keyed interface {
	// credential is the context to check it in and the Authorization
	// value it was opened with.
	credential() (context.Context, string)
	current() *viewer.Viewer // as last authenticated
	setCurrent(*viewer.Viewer)
	// forbid ends it, saying why.
	forbid(reason string)
}

func (c *conn) credential() (context.Context, string) { return c.ctx, c.authorization }
func (c *conn) current() *viewer.Viewer               { return c.viewer.Load() }
func (c *conn) setCurrent(v *viewer.Viewer)           { c.viewer.Store(v) }
func (c *conn) forbid(reason string)                  { c.close(closeForbidden, reason) }

// keySockets indexes the open sockets and streams authenticated with an API
// key.
type keySockets struct {
	mu    sync.Mutex
	byKey map[int]map[keyed]struct{}
}

func (k *keySockets) add(c keyed, v *viewer.Viewer) {
	if v.APIKeyID == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	conns := k.byKey[v.APIKeyID]
	if conns == nil {
		conns = map[keyed]struct{}{}
		k.byKey[v.APIKeyID] = conns
	}
	conns[c] = struct{}{}
}

func (k *keySockets) remove(c keyed) {
	v := c.current()
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
func (k *keySockets) matching(match func(*viewer.Viewer) bool) []keyed {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []keyed
	for _, conns := range k.byKey {
		for c := range conns {
			if match(c.current()) {
				out = append(out, c)
			}
		}
	}
	return out
}

// RecheckKeys authenticates again the credential of each socket and event
// stream opened with an API key whose viewer match accepts, and ends those
// that lost any right, saying why: a socket closes with 4403, a stream ends
// with a FORBIDDEN error. It returns when every one was checked.
func (t *Transport) RecheckKeys(match func(*viewer.Viewer) bool) {
	for _, c := range t.keys.matching(match) {
		before := c.current()
		base, authorization := c.credential()
		ctx, cancel := context.WithTimeout(base, 5*time.Second)
		v, err := t.auth.Authenticate(ctx, authorization)
		cancel()
		switch {
		case err != nil && t.refused(err):
			c.forbid("Forbidden: " + err.Error())
		case err != nil:
			// A socket's next operation is authenticated again anyway.
			t.logger.WarnContext(base, "could not re-check a credential of a websocket or event stream; keeping it", "err", err)
		case lostRights(before, v):
			c.forbid(fmt.Sprintf("Forbidden: this API key's role on its project is now %s, not %s: reconnect to go on with it", v.Scope.Role, before.Scope.Role))
		default:
			c.setCurrent(v)
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
