// Package logctx carries log attributes in a context, so every line logged
// while serving a request or running a job names it (request_id, job_id,
// feedback_id, and the trace_id of its span when tracing is on) without
// passing loggers around.
package logctx

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
)

type attrsKey struct{}

// With returns a context whose log records carry the given attributes
// (alternating keys and values, as in slog.Logger.With) after any it had.
func With(ctx context.Context, args ...any) context.Context {
	prev, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	// A Record parses slog's alternating key/value arguments for us.
	r := slog.NewRecord(time.Time{}, 0, "", 0)
	r.Add(args...)
	attrs := make([]slog.Attr, 0, len(prev)+r.NumAttrs())
	attrs = append(attrs, prev...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, attrsKey{}, attrs)
}

// Value returns the value of the attribute key carried by ctx, if any.
func Value(ctx context.Context, key string) (slog.Value, bool) {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	for i := len(attrs) - 1; i >= 0; i-- {
		if attrs[i].Key == key {
			return attrs[i].Value, true
		}
	}
	return slog.Value{}, false
}

// Handler wraps h so that records logged with a context carry its attributes.
// Wrapping twice is harmless: an already wrapped handler is returned as is.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct {
	slog.Handler
}

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	span := trace.SpanContextFromContext(ctx)
	if len(attrs) == 0 && !span.IsValid() {
		return h.Handler.Handle(ctx, r)
	}
	r = r.Clone()
	r.AddAttrs(attrs...)
	if span.IsValid() {
		// Logs and traces meet on the trace ID.
		r.AddAttrs(slog.String("trace_id", span.TraceID().String()), slog.String("span_id", span.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name)}
}

// Logger returns logger with its handler wrapped by Handler; a nil logger
// discards.
func Logger(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(Handler(logger.Handler()))
}
