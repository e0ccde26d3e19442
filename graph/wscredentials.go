package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// A websocket authenticates once, at connection_init, and every operation
// on it authenticates its credential again (wsConn.authorise). A socket
// opened with an API key is also closed, with 4403, as soon as the key can
// no longer do what it could: when it is revoked, or when the member who
// owns a project-scoped key loses their role or leaves. Both changes write
// an event to the outbox with the change, so every instance hears of them
// and re-checks the sockets concerned; when events may have been missed (the
// bus reconnected), every key's sockets are re-checked. Tokens cannot be
// revoked; a socket opened with one closes when the token expires, and a
// member who leaves loses their subscriptions to the project.

// keySockets indexes the open sockets authenticated with an API key.
type keySockets struct {
	mu    sync.Mutex
	byKey map[int]map[*wsConn]struct{}
}

func (k *keySockets) add(c *wsConn, v *viewer.Viewer) {
	if v.APIKeyID == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	conns := k.byKey[v.APIKeyID]
	if conns == nil {
		conns = map[*wsConn]struct{}{}
		k.byKey[v.APIKeyID] = conns
	}
	conns[c] = struct{}{}
}

func (k *keySockets) remove(c *wsConn) {
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
func (k *keySockets) matching(match func(*viewer.Viewer) bool) []*wsConn {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*wsConn
	for _, conns := range k.byKey {
		for c := range conns {
			if match(c.viewer.Load()) {
				out = append(out, c)
			}
		}
	}
	return out
}

// watchCredentials re-checks the sockets each credential or membership
// event concerns, until the server closes.
func (t *wsTransport) watchCredentials(sub *events.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-t.closing.Done():
			return
		case m, ok := <-sub.C():
			if !ok {
				return
			}
			t.recheck(t.concerned(m))
		case <-sub.Resync():
			t.recheck(t.keys.matching(func(*viewer.Viewer) bool { return true }))
		}
	}
}

// concerned lists the sockets event m may take rights from: those of the
// revoked key, or the project-scoped keys of the member whose role changed.
func (t *wsTransport) concerned(m *events.Message) []*wsConn {
	switch m.Kind {
	case outbox.KindCredential:
		var p outbox.CredentialPayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return nil
		}
		return t.keys.matching(func(v *viewer.Viewer) bool { return v.APIKeyID == p.APIKeyID })
	case outbox.KindAccess:
		p, err := accessPayload(m)
		if err != nil {
			return nil
		}
		return t.keys.matching(func(v *viewer.Viewer) bool {
			return v.UserID == p.UserID && v.Scope != nil && v.Scope.ProjectID == m.ProjectID
		})
	}
	return nil
}

// recheck authenticates each socket's credential again and closes, with
// 4403 and the reason, those that lost any right.
func (t *wsTransport) recheck(conns []*wsConn) {
	for _, c := range conns {
		before := c.viewer.Load()
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		v, err := t.auth.Authenticate(ctx, c.authorization)
		cancel()
		switch {
		case auth.IsError(err):
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
