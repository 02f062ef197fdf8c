package native

import (
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestResellerMonthlyLimitWho: a partner's monthly limit bounds money the
// partner creates through the Partner API (issue 14, finding 9), so only a
// provider admin sets it: every other key, distributors' and the
// partner's own admin included, gets 403 and changes nothing.
func TestResellerMonthlyLimitWho(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		settings := "/partners/" + e.partnerA + "/reseller-settings"
		for _, body := range []string{`{"monthlyLimit":"5000.00"}`, `{"monthlyLimit":"unlimited"}`, `{"monthlyLimit":"default"}`,
			`{"monthlyLimit":"0","timeZone":"Asia/Omsk"}`} {
			for _, key := range []string{aViewer, aStaff, aAdmin, bAdmin, provViewer, provStaff, paAdmin} {
				wantProblem(t, e.do(t, e.req("PATCH", settings, key, body)), http.StatusForbidden, "")
			}
		}
		got := e.ok(t, http.StatusOK, "GET", settings, aAdmin, "")
		if got["monthlyLimit"] != "1000000.00" || got["monthlyLimitIsDefault"] != true || got["timeZone"] == "Asia/Omsk" {
			t.Fatalf("after refused changes: %v", got)
		}
		for _, c := range []struct {
			body, want string
			isDefault  bool
		}{
			{`{"monthlyLimit":"5000.5"}`, "5000.50", false},
			{`{"monthlyLimit":"0"}`, "0.00", false},
			{`{"monthlyLimit":"unlimited"}`, "unlimited", false},
			{`{"monthlyLimit":"default"}`, "1000000.00", true},
		} {
			got := e.ok(t, http.StatusOK, "PATCH", settings, provAdmin, c.body)
			if got["monthlyLimit"] != c.want || got["monthlyLimitIsDefault"] != c.isDefault {
				t.Fatalf("%s: %v", c.body, got)
			}
		}
		for _, bad := range []string{`{"monthlyLimit":"1.234"}`, `{"monthlyLimit":"-1"}`, `{"monthlyLimit":"1.5.0"}`,
			`{"monthlyLimit":"1e3"}`, `{"monthlyLimit":"99999999999999999999"}`, `{"monthlyLimit":" 5"}`} {
			if r := e.do(t, e.req("PATCH", settings, provAdmin, bad)); r.Status != http.StatusUnprocessableEntity &&
				r.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d: %s", bad, r.Status, r.Body)
			}
		}
	})
}
