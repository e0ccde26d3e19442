package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Check reports whether one dependency answers.
type Check func(context.Context) error

// Live answers 200 while the process serves HTTP.
func Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Ready runs every check concurrently with a short deadline and answers 503
// when one fails. Failure details go to the log, not to the caller.
func Ready(logger *slog.Logger, checks map[string]Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var (
			mu      sync.Mutex
			wg      sync.WaitGroup
			results = make(map[string]string, len(checks))
			status  = http.StatusOK
		)
		for name, check := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := check(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					logger.WarnContext(ctx, "readiness check failed", "check", name, "err", err)
					results[name] = "unavailable"
					status = http.StatusServiceUnavailable
					return
				}
				results[name] = "ok"
			}()
		}
		wg.Wait()
		overall := "ok"
		if status != http.StatusOK {
			overall = "unavailable"
		}
		writeJSON(w, status, map[string]any{"status": overall, "checks": results})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
