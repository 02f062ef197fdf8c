package middleware

import "net/http"

// BodyLimit caps request bodies at n bytes. Reading past the cap returns a
// *http.MaxBytesError (problem.FromDecode turns it into KindTooLarge) and
// makes net/http close the connection after the response.
func BodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
