package idcloudhost_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trellis-cloud/trellis/internal/httpapi"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestMountedAndDedicated: the dialect on the main server (with its spec,
// docs entry and metrics labels) and on a dedicated listener at /v1.
func TestMountedAndDedicated(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		reg := prometheus.NewRegistry()
		root := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: reg,
			Ready: func(context.Context) error { return nil }, IDCloudHost: f.deps})
		dedicated := idcloudhost.Dedicated(root)
		get := func(h http.Handler, path string, key string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", path, nil)
			if key != "" {
				r.Header.Set("apikey", key)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		// Mounted: validated like every other exchange.
		resp := v.Do(t, root, apitest.Request{Method: "GET", Path: prefix + "/config/locations", Header: http.Header{"Apikey": {keyUser}}})
		wantStatus(t, resp, http.StatusOK)
		if w := get(root, idcloudhost.SpecPath, ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"/user-resource/user"`) {
			t.Fatalf("spec: %d", w.Code)
		}
		if w := get(root, "/docs/", ""); w.Code != 200 {
			t.Fatalf("docs: %d", w.Code)
		}

		// Dedicated: /v1/... is the dialect, with the same answers.
		w := get(dedicated, "/v1/config/locations", keyUser)
		if w.Code != 200 || w.Body.String() != string(resp.Body) {
			t.Fatalf("dedicated: %d %s", w.Code, w.Body)
		}
		if w := get(dedicated, "/v1/user-resource/user", ""); w.Code != 401 || !strings.Contains(w.Body.String(), `{"errors":{"Error":`) {
			t.Fatalf("dedicated without a key: %d %s", w.Code, w.Body)
		}
		if w := get(dedicated, "/openapi.json", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"openapi"`) {
			t.Fatalf("dedicated spec: %d", w.Code)
		}
		for _, p := range []string{"/", "/idcloudhost/v1/config/locations", "/api/v1/orgs", "/v2/x"} {
			if w := get(dedicated, p, keyUser); w.Code != 404 || !strings.Contains(w.Body.String(), `{"errors":{"Error":`) {
				t.Errorf("dedicated %s: %d %s", p, w.Code, w.Body)
			}
		}

		// Metrics name the route pattern, never the raw path.
		get(dedicated, "/v1/user-resource/token/list", keyUser)
		mreq := httptest.NewRequest("GET", "/metrics", nil)
		mreq.RemoteAddr = "127.0.0.1:41000" // /metrics answers loopback clients only
		w = httptest.NewRecorder()
		root.ServeHTTP(w, mreq)
		for _, want := range []string{
			`route="GET /idcloudhost/v1/config/locations",status="200"`,
			`route="GET /idcloudhost/v1/user-resource/token/list",status="200"`,
		} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("metrics lack %s", want)
			}
		}

		// Unknown routes answer in the dialect's shape.
		w = get(root, prefix+"/no-such", keyUser)
		if w.Code != 404 || !strings.Contains(w.Body.String(), `{"errors":{"Error":`) {
			t.Errorf("unknown route: %d %s", w.Code, w.Body)
		}
	})
}
