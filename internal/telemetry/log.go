package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

type logAttrsKey struct{}

// WithLogAttrs returns ctx carrying attrs, which every line logged with ctx
// (or a context derived from it) through a LogHandler carries: the HTTP
// middleware puts the request id there, so a service logging with the
// request's context names the request without knowing about HTTP.
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, logAttrsKey{}, all)
}

// LogHandler wraps h so each record gets the attributes of its context
// (WithLogAttrs) and, when the context holds a sampled span, trace_id and
// span_id. An attribute the record already has is not added twice (call
// sites that name request_id themselves keep working). Wrapping a
// LogHandler again returns it unchanged.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(ctxHandler); ok {
		return h
	}
	return ctxHandler{h}
}

type ctxHandler struct{ next slog.Handler }

func (h ctxHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	attrs, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	sc := trace.SpanContextFromContext(ctx)
	if len(attrs) == 0 && !sc.IsValid() {
		return h.next.Handle(ctx, r)
	}
	var have map[string]bool
	r.Attrs(func(a slog.Attr) bool {
		if have == nil {
			have = map[string]bool{}
		}
		have[a.Key] = true
		return true
	})
	r = r.Clone()
	for _, a := range attrs {
		if !have[a.Key] {
			r.AddAttrs(a)
		}
	}
	if sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ctxHandler{h.next.WithAttrs(attrs)}
}

func (h ctxHandler) WithGroup(name string) slog.Handler { return ctxHandler{h.next.WithGroup(name)} }
