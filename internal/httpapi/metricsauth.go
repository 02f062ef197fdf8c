package httpapi

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// protectMetrics guards /metrics, which names routes, tables and
// connection pools: with a token, only requests bearing it (from any
// address, so a Prometheus elsewhere can scrape); without one, only
// loopback clients (a Prometheus or agent on the same host).
func protectMetrics(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			h := strings.TrimSpace(r.Header.Get("Authorization"))
			got, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="trellis-metrics"`)
				writeAnyError(w, r, errs.New(errs.KindUnauthenticated, "/metrics needs the metrics token (--metrics-token)"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !loopback(r.RemoteAddr) {
			writeAnyError(w, r, errs.New(errs.KindForbidden,
				"/metrics answers loopback clients only; set --metrics-token to scrape from elsewhere"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopback reports whether a RemoteAddr is a loopback address.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
