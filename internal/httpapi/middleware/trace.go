package middleware

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/telemetry"
)

// Trace starts an HTTP server span for every request (continuing the
// caller's W3C trace context), named by its route pattern (routeOf, the
// same names as the metrics), with the request id as an attribute. A nil
// provider returns the handler unchanged: tracing off costs nothing. Put it
// inside RequestID.
func Trace(tp trace.TracerProvider, routeOf func(*http.Request) string) func(http.Handler) http.Handler {
	if tp == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			trace.SpanFromContext(r.Context()).SetAttributes(
				attribute.String("http.route", routeOf(r)),
				attribute.String("trellis.request_id", RequestIDFrom(r.Context())))
			next.ServeHTTP(w, r)
		})
		return otelhttp.NewHandler(inner, "http",
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(telemetry.Propagator()),
			// Prometheus measures requests (Metrics); no OpenTelemetry
			// meter, and never the global one.
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return routeOf(r) }),
		)
	}
}
