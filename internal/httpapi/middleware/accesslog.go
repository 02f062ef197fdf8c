package middleware

import (
	"log/slog"
	"net/http"
	"time"
)

// AccessLog logs one line per request once it is served: method, route
// pattern, path, status, bytes written, duration, request id and remote
// address. routeOf names the route; build it with MuxRoute (see there for
// why r.Pattern cannot be used). Put AccessLog inside RequestID so the id is
// in the context.
func AccessLog(logger *slog.Logger, routeOf func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method),
				slog.String("route", routeOf(r)),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.Status()),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", RequestIDFrom(r.Context())),
				slog.String("remote", r.RemoteAddr),
			)
		})
	}
}
