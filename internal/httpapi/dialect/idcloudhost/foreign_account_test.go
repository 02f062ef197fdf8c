package idcloudhost_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestForeignBillingAccount: every route that takes a billing account,
// given another user's account, answers 404 (the user's objects only), and
// given another of the user's own accounts with a token restricted to one
// account, answers 403 — never 200, whatever the route does with the id
// (has_active_campaigns ignores it, billing_resources names it "id").
func TestForeignBillingAccount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		cf := newCompFixture(t, d)
		cf.deps.Network = cf.netw
		cf.h = middleware.Chain(idcloudhost.Handler(cf.deps), middleware.RequestID,
			middleware.Recover(nil, idcloudhost.WriteError), middleware.BodyLimit(1<<20))
		cases := []struct {
			method, path string
			form         string // url-encoded body besides billing_account_id
		}{
			{"GET", "/payment/has_active_campaigns", ""},
			{"GET", "/user-resource/billing_resources", ""},
			{"GET", "/cyc01/user-resource/billing_resources", ""},
			{"GET", "/user-resource/billing_resources?id=0", ""},
			{"GET", "/payment/billing_account", ""},
			{"PUT", "/payment/billing_account", "title=x"},
			{"DELETE", "/payment/billing_account", ""},
			{"POST", "/payment/billing_account/set_default", ""},
			{"GET", "/payment/billing_account/unpaid_amount", ""},
			{"GET", "/payment/credit/list", ""},
			{"POST", "/payment/credit/request_invoice", "amount=10"},
			{"GET", "/payment/invoice/list", ""},
			{"POST", "/payment/apply_for_invoice_payment", ""},
			{"GET", "/payment/card/list", ""},
			{"POST", "/payment/pay_all", ""},
			{"GET", "/charging/usage", ""},
			{"PATCH", "/storage/disks/" + diskBlock2, ""},
			{"GET", "/cyc01/network/ip_addresses", ""},
		}
		for _, c := range cases {
			for _, who := range []struct {
				name, key string
				acct      int64
				status    int
			}{
				{"another user's account", keyUser, acctOther, http.StatusNotFound},
				{"restricted token, another own account", keyRestricted, acctSecond, http.StatusForbidden},
			} {
				t.Run(c.method+" "+c.path+"/"+who.name, func(t *testing.T) {
					q := fmt.Sprintf("billing_account_id=%d", who.acct)
					path := prefix + c.path
					req := apitest.Request{Method: c.method, Header: http.Header{}}
					if c.method == "GET" || c.method == "DELETE" {
						sep := "?"
						if strings.Contains(path, "?") {
							sep = "&"
						}
						req.Path = path + sep + q
					} else {
						body := q
						if c.form != "" {
							body += "&" + c.form
						}
						req.Path, req.Body = path, []byte(body)
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					resp := cf.do(t, who.key, req)
					if resp.Status != who.status {
						t.Fatalf("status %d, want %d: %s", resp.Status, who.status, resp.Body)
					}
				})
			}
		}
		// has_active_campaigns and billing_resources still answer for the
		// caller's own account.
		wantStatus(t, cf.do(t, keyUser, apitest.Request{Method: "GET",
			Path: prefix + fmt.Sprintf("/payment/has_active_campaigns?billing_account_id=%d", acctMain)}), http.StatusOK)
		wantStatus(t, cf.do(t, keyRestricted, apitest.Request{Method: "GET",
			Path: prefix + fmt.Sprintf("/user-resource/billing_resources?billing_account_id=%d", acctMain)}), http.StatusOK)
	})
}
