package native

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestPagination walks every cursor-paginated list in small pages: the
// pages together are the full list, in order, without duplicates.
func TestPagination(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		for i := range 5 {
			e.create(t, "/orgs", `{"parentId":%q,"name":"customer %d"}`, e.partnerA, i)
		}
		for _, list := range []string{"/orgs", "/orgs?kind=customer", "/contracts", "/keys", "/audit"} {
			t.Run(list, func(t *testing.T) {
				all := items(e.ok(t, http.StatusOK, "GET", with(list, "limit", "1000"), provAdmin, ""))
				if list != "/contracts" && len(all) <= 4 {
					t.Fatalf("only %d items: too few to need three pages of 2", len(all))
				}
				var walked []string
				cursor, pages := "", 0
				for {
					path := with(list, "limit", "2")
					if cursor != "" {
						path = with(path, "cursor", cursor)
					}
					page := e.ok(t, http.StatusOK, "GET", path, provAdmin, "")
					walked = append(walked, items(page)...)
					pages++
					cursor = str(page["nextCursor"])
					if cursor == "" || pages > len(all)+1 {
						break
					}
				}
				if !slices.Equal(walked, all) {
					t.Errorf("pages gave %v, want %v", walked, all)
				}
				if want := len(all)/2 + 1; pages != want {
					t.Errorf("%d pages for %d items, want %d", pages, len(all), want)
				}
			})
		}

		for _, bad := range []string{"not base64!", "bm90LWEtdXVpZA"} { // the latter is "not-a-uuid"
			wantProblem(t, e.do(t, e.req("GET", with("/orgs", "cursor", bad), provAdmin, "")), http.StatusBadRequest, "cursor")
		}
		for _, limit := range []string{"0", "1001", "x"} {
			r := e.req("GET", with("/orgs", "limit", limit), provAdmin, "")
			r.ExpectInvalidRequest = true
			wantProblem(t, e.do(t, r), http.StatusUnprocessableEntity, "limit")
		}
		r := e.req("GET", "/orgs?kind=planet", provAdmin, "")
		r.ExpectInvalidRequest = true
		wantProblem(t, e.do(t, r), http.StatusUnprocessableEntity, "kind")
	})
}

// with adds a query parameter to path.
func with(path, name, value string) string {
	sep := "?"
	if slices.Contains([]byte(path), '?') {
		sep = "&"
	}
	return fmt.Sprintf("%s%s%s=%s", path, sep, name, url.QueryEscape(value))
}
