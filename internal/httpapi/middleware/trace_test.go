package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTrace: a request is a server span named by its route pattern,
// continuing the caller's W3C trace, with the request id; the handler's
// context holds the span. Without a provider the handler is unchanged.
func TestTrace(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !trace.SpanContextFromContext(r.Context()).IsValid() {
			t.Error("no span in the handler's context")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	route := func(*http.Request) string { return "GET /things/{id}" }
	Trace(nil, route)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if trace.SpanContextFromContext(r.Context()).IsValid() {
			t.Error("a span without a provider")
		}
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things/7", nil))
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	srv := Chain(h, RequestID, Trace(tp, route))
	req := httptest.NewRequest("GET", "/things/7", nil)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req.Header.Set("traceparent", parent)
	req.Header.Set(HeaderRequestID, "rid-1")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	spans := exp.GetSpans()
	if rec.Code != http.StatusTeapot || len(spans) != 1 {
		t.Fatalf("%d, %d spans", rec.Code, len(spans))
	}
	s := spans[0]
	attrs := map[string]string{}
	for _, a := range s.Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	if s.Name != "GET /things/{id}" || s.SpanKind != trace.SpanKindServer || attrs["http.route"] != s.Name ||
		attrs["trellis.request_id"] != "rid-1" || attrs["http.response.status_code"] != "418" {
		t.Errorf("span %q kind %v attributes %v", s.Name, s.SpanKind, attrs)
	}
	if s.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the caller's trace is not continued: %s under %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
}
