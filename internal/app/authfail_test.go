package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestFailedAuthenticationsAreLimited: on every dialect's auth path, a
// client address that has spent its failures gets 429 with Retry-After
// before any key is looked up (a valid key too, so the lookup is skipped),
// other addresses are not affected, successes spend nothing, and the budget
// refills with the (injected) clock.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
		const burst = 5
		a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir(), Clock: clk, AuthFailureRate: 1, AuthFailureBurst: burst})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		boot, err := a.Bootstrap(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		creds, err := a.LoadDemo(ctx, boot.Root, boot.NewAdminKey)
		if err != nil {
			t.Fatal(err)
		}
		bearer := func(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }
		dialects := []struct {
			name, path string
			spec       []byte
			header     func(key string) http.Header
			good       string
		}{
			{"native", native.Prefix + "/orgs", nativeSpec(), bearer, creds["admin_key"]},
			{"impossiblecloud", impossiblecloud.Prefix + "/contract/list", impossiblecloud.Spec(), bearer, creds["distributor_key"]},
			{"idcloudhost", idcloudhost.Prefix + "/user-resource/user", idchSpec(),
				func(key string) http.Header { h := http.Header{}; h.Set("apikey", key); return h }, creds["idcloudhost_key"]},
			{"itglobal", itglobal.Prefix + "/accounts", itglobal.Spec(), bearer, creds["itglobal_user_key"]},
			{"infiterra", infiterra.Prefix + "/fields/get", infiterra.Spec(), func(key string) http.Header {
				h := http.Header{}
				h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
				h.Set(infiterra.HeaderAPIKey, key)
				return h
			}, creds["bss_api_key"]},
		}
		for i, dl := range dialects {
			t.Run(dl.name, func(t *testing.T) {
				v := validator(t, dl.spec)
				addr := "198.51.100." + string(rune('1'+i)) + ":40000"
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					r.RemoteAddr = addr
					a.Handler.ServeHTTP(w, r)
				})
				do := func(key string) apitest.Response {
					t.Helper()
					return v.Do(t, h, apitest.Request{Method: "GET", Path: dl.path, Header: dl.header(key)})
				}
				if r := do(dl.good); r.Status != http.StatusOK {
					t.Fatalf("good key: %d %s", r.Status, r.Body)
				}
				for n := range burst {
					if r := do("wrong-key-" + string(rune('a'+n))); r.Status != http.StatusUnauthorized {
						t.Fatalf("failure %d: %d %s", n+1, r.Status, r.Body)
					}
				}
				for _, key := range []string{"wrong-key-z", dl.good} {
					r := do(key)
					if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1" {
						t.Fatalf("after %d failures: %d (Retry-After %q) %s", burst, r.Status, r.Header.Get("Retry-After"), r.Body)
					}
				}
				clk.Advance(time.Second)
				if r := do(dl.good); r.Status != http.StatusOK {
					t.Fatalf("good key after a refill: %d %s", r.Status, r.Body)
				}
				if r := do("wrong-key-y"); r.Status != http.StatusUnauthorized {
					t.Fatalf("one failure after a refill: %d %s", r.Status, r.Body)
				}
				if r := do(dl.good); r.Status != http.StatusTooManyRequests {
					t.Fatalf("spent again: %d %s", r.Status, r.Body)
				}
			})
		}
	})
}
