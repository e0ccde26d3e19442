package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/logctx"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// authenticate puts the caller's viewer on the request's context, or
// answers 401 with one UNAUTHENTICATED error saying what was wrong.
// Websocket upgrades pass through: their credentials come with
// connection_init, which the GraphQL layer checks.
func authenticate(a Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		v, err := a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		var refused *auth.Error
		switch {
		case errors.As(err, &refused):
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(refused.Message, `"`, `'`)+`"`)
			if refused.Reason == auth.Missing {
				w.Header().Set("WWW-Authenticate", `Bearer realm="feedbackloop"`)
			}
			WriteError(w, http.StatusUnauthorized, graph.CodeUnauthenticated, refused.Message, "reason", refused.Reason)
			return
		case err != nil:
			logger.ErrorContext(r.Context(), "could not check credentials", "err", err)
			WriteError(w, http.StatusServiceUnavailable, graph.CodeUnavailable, "credentials could not be checked right now; retry in a few seconds")
			return
		}
		ratelimit.Identify(r.Context(), v)
		ctx := viewer.NewContext(r.Context(), v)
		ctx = logctx.With(ctx, "viewer", v.Subject)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireAdmin lets only an admin viewer through.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := viewer.FromContext(r.Context()); v == nil || !v.Admin {
			WriteError(w, http.StatusForbidden, graph.CodeForbidden, "only an admin (ADMIN_API_KEY) may read the metrics here; or serve them on METRICS_ADDR")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// WriteError answers with one GraphQL error carrying code and any further
// extensions given as key, value pairs.
func WriteError(w http.ResponseWriter, status int, code, message string, kv ...string) {
	ext := map[string]any{"code": code}
	for i := 0; i+1 < len(kv); i += 2 {
		ext[kv[i]] = kv[i+1]
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": message, "extensions": ext}},
	})
}
