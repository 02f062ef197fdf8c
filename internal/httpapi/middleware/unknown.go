package middleware

import (
	"net/http"
	"strings"
)

// probeMethods are the methods tried to tell a wrong method from an unknown path.
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// UnknownRoutes serves mux, and answers a request that no route matches in the
// dialect's own error shape rather than ServeMux's text/plain: when the
// path exists with other methods, it sets Allow and calls notAllowed with
// them (405); otherwise it calls notFound (404).
func UnknownRoutes(mux *http.ServeMux, notFound func(http.ResponseWriter, *http.Request),
	notAllowed func(w http.ResponseWriter, r *http.Request, allowed []string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range probeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			notFound(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		notAllowed(w, r, allowed)
	})
}
