package idcloudhost_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestLocationOnEveryPath: the vendor's clients put /v1/{location}/ on
// every path, so every route accepts a slug (the spec declares the variants
// of the documented location-scoped routes only, so these exchanges are
// not validated). A known slug answers as without it, an unknown one is 404
// once the key is accepted, and a missing key is 401 whatever the slug.
func TestLocationOnEveryPath(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec()))
		get := func(key, path string) (int, string) {
			req := httptest.NewRequest(http.MethodGet, "/idcloudhost/v1"+path, nil)
			if key != "" {
				req.Header.Set("APIKEY", key) // any case
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}
		for _, path := range []string{"/user-resource/user", "/payment/billing_account?billing_account_id=6",
			"/config/locations", "/pricing/policy", "/charging/usage?billing_account_id=6", "/user-resource/token/list"} {
			plain, want := get(keyUser, path)
			if plain != http.StatusOK {
				t.Fatalf("%s = %d %s", path, plain, want)
			}
			for _, slug := range []string{"cyc01", "bus02"} {
				if code, body := get(keyUser, "/"+slug+path); code != http.StatusOK || body != want {
					t.Errorf("/%s%s = %d %s, want the answer without the slug", slug, path, code, body)
				}
			}
			if code, body := get(keyUser, "/nope01"+path); code != http.StatusNotFound || !strings.Contains(body, "no such location: nope01") {
				t.Errorf("/nope01%s = %d %s, want 404", path, code, body)
			}
			if code, _ := get("", "/nope01"+path); code != http.StatusUnauthorized {
				t.Errorf("/nope01%s without a key = %d, want 401", path, code)
			}
		}
		// Not a slug (upper case) and not a route: 404 in the dialect's shape.
		if code, body := get(keyUser, "/CYC01/user-resource/user"); code != http.StatusNotFound || !strings.Contains(body, `"Error"`) {
			t.Errorf("/CYC01/… = %d %s", code, body)
		}
	})
}
