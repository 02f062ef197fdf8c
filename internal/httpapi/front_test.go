package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/app"
)

// TestFrontDoorLeadsToDocs: a newcomer opening the server's address lands
// on the documentation, not on a 404; other unknown paths stay 404.
func TestFrontDoorLeadsToDocs(t *testing.T) {
	a, _ := newApp(t, app.Config{})
	rec := get(t, a.Handler, "/", "")
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/docs/" {
		t.Fatalf("GET / = %d, Location %q; want 302 to /docs/", rec.Code, rec.Header().Get("Location"))
	}
	if rec := get(t, a.Handler, "/no-such-page", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page = %d, want 404", rec.Code)
	}
}
