// Package tracing sets up OpenTelemetry for a process: a tracer provider
// configured by the standard OTEL_* variables, off unless they ask for an
// exporter. The provider is passed down explicitly (no global), so the parts
// of one process, or the processes a test runs side by side, do not share
// hidden state.
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Propagator returns what carries trace context across processes: W3C
// traceparent and baggage, in HTTP headers, job headers and outbox rows.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Enabled reports whether the OTEL_* variables ask for traces: an exporter
// other than none, or an OTLP endpoint, and the SDK not disabled.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e != "" {
		return e != "none"
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup returns the process's tracer provider and a function that flushes
// and stops it. When tracing is off the provider is nil: the parts of the
// service then install no instrumentation at all. The exporter, its
// endpoint and protocol, sampling and batching come from the OTEL_* variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*,
// OTEL_TRACES_SAMPLER, OTEL_BSP_*), as every OpenTelemetry SDK reads them;
// OTEL_SERVICE_NAME defaults to feedbackloop.
func Setup(ctx context.Context, getenv func(string) string, role string) (trace.TracerProvider, func(context.Context) error, error) {
	if !Enabled(getenv) {
		return nil, func(context.Context) error { return nil }, nil
	}
	exporter, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*): %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("feedbackloop"), attribute.String("feedbackloop.role", role)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// Inject returns the trace context of ctx as a W3C traceparent-style
// carrier, for a job's headers or an outbox row.
func Inject(ctx context.Context) map[string]string {
	carrier := propagation.MapCarrier{}
	Propagator().Inject(ctx, carrier)
	return carrier
}

// Extract returns ctx carrying the trace context of carrier.
func Extract(ctx context.Context, carrier map[string]string) context.Context {
	return Propagator().Extract(ctx, propagation.MapCarrier(carrier))
}
