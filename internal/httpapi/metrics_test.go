package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/trellis-cloud/trellis/internal/app"
)

// TestMetricsProtected: /metrics answers only loopback clients unless a
// metrics token is configured, and then only requests bearing it (from any
// address, so a Prometheus elsewhere can scrape); /healthz and /readyz stay
// public.
func TestMetricsProtected(t *testing.T) {
	t.Parallel()
	send := func(h http.Handler, path, remote, token string) int {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = remote
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	const remote, loop4, loop6 = "203.0.113.7:41000", "127.0.0.1:41000", "[::1]:41000"
	t.Run("loopback only", func(t *testing.T) {
		a, _ := newApp(t, app.Config{})
		for _, c := range []struct {
			path, remote string
			want         int
		}{
			{"/metrics", remote, http.StatusForbidden},
			{"/metrics", loop4, http.StatusOK},
			{"/metrics", loop6, http.StatusOK},
			{"/healthz", remote, http.StatusOK},
			{"/readyz", remote, http.StatusOK},
		} {
			if got := send(a.Handler, c.path, c.remote, ""); got != c.want {
				t.Errorf("%s from %s: %d, want %d", c.path, c.remote, got, c.want)
			}
		}
	})
	t.Run("token", func(t *testing.T) {
		const token = "scrape-token-0123456789abcdef"
		a, key := newApp(t, app.Config{MetricsToken: token})
		for _, c := range []struct {
			remote, token string
			want          int
		}{
			{remote, "", http.StatusUnauthorized},
			{remote, "wrong", http.StatusUnauthorized},
			{remote, key, http.StatusUnauthorized}, // an API key is not the metrics token
			{loop4, "", http.StatusUnauthorized},
			{remote, token, http.StatusOK},
		} {
			if got := send(a.Handler, "/metrics", c.remote, c.token); got != c.want {
				t.Errorf("token %q from %s: %d, want %d", c.token, c.remote, got, c.want)
			}
		}
	})
}
