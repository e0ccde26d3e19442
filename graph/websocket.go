package graph

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Subscriptions and other operations over websockets are served by
// wstransport; this file configures it for the API and tells it which API
// keys may have lost rights.

// Timing of websockets (wstransport's defaults).
const (
	// DefaultWebsocketKeepAlive is how often an idle connection is pinged;
	// one silent for two intervals is dropped, so dead clients do not hold
	// subscriptions.
	DefaultWebsocketKeepAlive = wstransport.DefaultKeepAlive
	// DefaultMaxWebsocketQueuedMessages is how many messages may wait to be
	// written to one connection before its client counts as too slow.
	DefaultMaxWebsocketQueuedMessages = wstransport.DefaultMaxQueuedMessages
	// DefaultWebsocketWriteTimeout bounds how long one message may wait
	// for a client's socket.
	DefaultWebsocketWriteTimeout = wstransport.DefaultWriteTimeout
	// DefaultWebsocketInitTimeout is how long a new connection may take to
	// send connection_init.
	DefaultWebsocketInitTimeout = wstransport.DefaultInitTimeout
)

func newWebsocketTransport(cfg Config, sharing *sharing) *wstransport.Transport {
	l := cfg.Limits
	return wstransport.New(wstransport.Config{
		Auth:        cfg.Auth,
		Refused:     auth.IsError,
		CheckOrigin: cfg.CheckOrigin,
		UpgradeError: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			code := CodeBadRequest
			if status == http.StatusForbidden {
				code = CodeForbidden
			}
			writeErrors(w, status, code, "cannot open a websocket: "+reason.Error())
		},
		Logger:    cfg.Logger,
		Metrics:   cfg.Metrics,
		RateLimit: cfg.RateLimit,
		Share:     sharing.share,
		Limits: wstransport.Limits{
			MaxMessageBytes:            l.MaxWebsocketMessage,
			MaxConnections:             l.MaxWebsocketConnections,
			MaxConnectionsPerClient:    l.MaxWebsocketConnectionsPerClient,
			MaxOperationsPerConnection: l.MaxSubscriptionsPerConnection,
			MaxQueuedMessages:          l.MaxWebsocketQueuedMessages,
			KeepAlive:                  l.WebsocketKeepAlive,
			WriteTimeout:               l.WebsocketWriteTimeout,
			InitTimeout:                l.WebsocketInitTimeout,
			SendBuffer:                 l.WebsocketSendBuffer,
		},
	})
}

// watchCredentials has ws re-check the API keys' sockets each credential or
// membership event concerns, until closing ends: a revoked key's, or the
// project-scoped keys of a member whose role changed. When events may have
// been missed (the bus reconnected), every key's sockets are re-checked.
// Both changes write their event with the change, so every instance hears
// of them.
func watchCredentials(closing context.Context, sub *events.Subscription, ws *wstransport.Transport) {
	defer sub.Close()
	for {
		select {
		case <-closing.Done():
			return
		case m, ok := <-sub.C():
			if !ok {
				return
			}
			if match := keysConcerned(m); match != nil {
				ws.RecheckKeys(match)
			}
		case <-sub.Resync():
			ws.RecheckKeys(func(*viewer.Viewer) bool { return true })
		}
	}
}

// keysConcerned matches the API keys event m may take rights from (nil:
// none).
func keysConcerned(m *events.Message) func(*viewer.Viewer) bool {
	switch m.Kind {
	case outbox.KindCredential:
		var p outbox.CredentialPayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return nil
		}
		return func(v *viewer.Viewer) bool { return v.APIKeyID == p.APIKeyID }
	case outbox.KindAccess:
		p, err := accessPayload(m)
		if err != nil {
			return nil
		}
		return func(v *viewer.Viewer) bool {
			return v.UserID == p.UserID && v.Scope != nil && v.Scope.ProjectID == m.ProjectID
		}
	}
	return nil
}
