package middleware

import "net/http"

// Unmatched is the route label for requests no pattern matches.
const Unmatched = "unmatched"

// MuxRoute returns a routeOf function for AccessLog and Metrics that labels a
// request with the ServeMux pattern it will be served by ("GET
// /api/v1/tenants/{id}"), never the raw path, so label cardinality stays
// bounded.
//
// It asks mux.Handler, which resolves the pattern without serving. Reading
// r.Pattern does not work from an outer middleware: the mux sets it on the
// request it receives, and any middleware in between that calls
// r.WithContext (RequestID does) hands the mux a copy.
func MuxRoute(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		// For CONNECT, mux.Handler reports the redirect path rather than a
		// pattern, which would let a client mint label values.
		if r.Method == http.MethodConnect {
			return Unmatched
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			return pattern
		}
		return Unmatched
	}
}
