// Package middleware holds the standard func(http.Handler) http.Handler
// middlewares shared by every API mount. None keeps global state: loggers,
// registries and route resolvers are passed in.
package middleware

import "net/http"

// Chain wraps h in mws. The first middleware is the outermost, so
// Chain(h, RequestID, AccessLog(...)) runs RequestID first.
func Chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
