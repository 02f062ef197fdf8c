package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		out = append(out, m)
	}
	return out
}

// TestLogHandler: a line logged with a context carrying attributes gets
// them once (not twice when the call site names one itself), a line
// without them gets none, and a traced context adds trace and span ids.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("node", "n1")
	if _, ok := LogHandler(log.Handler()).(ctxHandler); !ok {
		t.Fatal("wrapping twice changed the handler")
	}
	ctx := WithLogAttrs(context.Background(), slog.String("request_id", "r-1"))
	ctx = WithLogAttrs(ctx, slog.String("user", "u"))
	log.InfoContext(ctx, "service line", "n", 1)
	log.ErrorContext(ctx, "explicit", "request_id", "r-1")
	log.Info("no context")
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tctx, span := tp.Tracer("t").Start(ctx, "op")
	log.WarnContext(tctx, "traced")
	span.End()

	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("%d lines: %s", len(got), buf.String())
	}
	for i, want := range []map[string]any{
		{"msg": "service line", "request_id": "r-1", "user": "u", "node": "n1"},
		{"msg": "explicit", "request_id": "r-1", "user": "u"},
		{"msg": "no context", "request_id": nil},
		{"msg": "traced", "request_id": "r-1", "trace_id": span.SpanContext().TraceID().String(), "span_id": span.SpanContext().SpanID().String()},
	} {
		for k, v := range want {
			if got[i][k] != v {
				t.Errorf("line %d %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
	if n := strings.Count(strings.Split(buf.String(), "\n")[1], `"request_id"`); n != 1 {
		t.Errorf("request_id %d times in %q", n, strings.Split(buf.String(), "\n")[1])
	}
}

// TestFromEnv: tracing is off unless an OTLP endpoint is set, on with one
// (nothing is sent until spans end), and a protocol other than
// http/protobuf is refused by name.
func TestFromEnv(t *testing.T) {
	ctx := context.Background()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	off, err := fromEnv(ctx, env())
	if err != nil || off.Provider != nil || off.Shutdown(ctx) != nil {
		t.Fatalf("unset: %+v %v", off, err)
	}
	if off, err := fromEnv(ctx, env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_SDK_DISABLED", "true")); err != nil || off.Provider != nil {
		t.Fatalf("disabled: %+v %v", off, err)
	}
	on, err := fromEnv(ctx, env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"))
	if err != nil || on.Provider == nil || on.Endpoint != "http://127.0.0.1:1" {
		t.Fatalf("set: %+v %v", on, err)
	}
	if _, ok := on.Provider.(*sdktrace.TracerProvider); !ok {
		t.Fatalf("provider %T", on.Provider)
	}
	if err := on.Shutdown(ctx); err != nil { // no span: nothing to send
		t.Fatal(err)
	}
	_, err = fromEnv(ctx, env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"))
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Fatalf("grpc: %v", err)
	}
}
