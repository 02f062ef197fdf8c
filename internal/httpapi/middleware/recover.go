package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Recover turns a panic in a handler into a logged stack trace and a 500
// written by write, which receives a KindInternal error so each mount can
// shape its own error body. http.ErrAbortHandler is re-panicked: it is how a
// handler asks net/http to abort the response silently. If the handler had
// already sent the status line, a 500 can no longer be sent, so the response
// is aborted too rather than left looking complete.
func Recover(logger *slog.Logger, write func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				cause, ok := v.(error)
				if !ok {
					cause = fmt.Errorf("%v", v)
				}
				if errors.Is(cause, http.ErrAbortHandler) {
					panic(v)
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.String("panic", cause.Error()),
					slog.String("stack", string(debug.Stack())),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("request_id", RequestIDFrom(r.Context())),
				)
				if sw.wroteHeader() {
					panic(http.ErrAbortHandler)
				}
				write(w, r, errs.Wrap(errs.KindInternal, fmt.Errorf("panic: %w", cause), "internal error"))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}
