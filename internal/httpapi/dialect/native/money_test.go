package native

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestWhoMayMintMoney is the table of issue 14 (finding 9) for the native
// API: every route that creates money or extends credit (welcome credit,
// debt allowance and limit, paying by invoice, discounts, recording a bank payment,
// verifying an invoice payer), sent by every role, with the status each
// must get; after a refusal no money exists that did not before.
func TestWhoMayMintMoney(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		b := e.billing
		// A partner admin and a customer admin (native keys of those orgs).
		const pAdmin, cAdmin = "partner-admin", "customer-admin"
		for _, k := range []struct{ name, org string }{{pAdmin, e.partnerA}, {cAdmin, b.custA}} {
			r := e.ok(t, http.StatusCreated, "POST", "/keys", provAdmin, fmt.Sprintf(`{"orgId":%q,"name":%q,"role":"admin"}`, k.org, k.name))
			e.keyIDs[k.name], e.secrets[k.name] = str(r["id"]), str(r["secret"])
		}
		roles := []string{provAdmin, provStaff, provViewer, aAdmin, aStaff, aViewer, pAdmin, cAdmin}
		only := func(ok int, keys ...string) map[string]int {
			m := map[string]int{}
			for _, k := range roles {
				m[k] = http.StatusForbidden
			}
			for _, k := range keys {
				m[k] = ok
			}
			return m
		}
		acct := fmt.Sprintf("/billing-accounts/%d", b.acctA)
		create := func(extra string) string { return `{"orgId":"` + b.custA + `"` + extra + `}` }
		cases := []struct {
			name, method, path, body string
			want                     map[string]int
		}{
			{"welcome credit", "POST", "/billing-accounts", create(`,"welcomeCredit":"1000000.00"`), only(201, provAdmin)},
			{"debt limit at creation", "POST", "/billing-accounts", create(`,"allowDebt":true,"maxDebt":"1000000.00"`), only(201, provAdmin)},
			{"paying by invoice at creation", "POST", "/billing-accounts", create(`,"payingByInvoice":true`), only(201, provAdmin)},
			{"discount at creation", "POST", "/billing-accounts", create(`,"discountPercentage":100`), only(201, provAdmin)},
			{"plain account (no money)", "POST", "/billing-accounts", create(``),
				only(201, provAdmin, provStaff, aAdmin, aStaff, pAdmin, cAdmin)},
			{"raise the debt limit", "PATCH", acct, `{"maxDebt":"1000000.00"}`, only(200, provAdmin)},
			{"allow debt", "PATCH", acct, `{"allowDebt":true}`, only(200, provAdmin)},
			{"pay by invoice", "PATCH", acct, `{"payingByInvoice":true}`, only(200, provAdmin)},
			{"raise the discount", "PATCH", acct, `{"discountPercentage":100}`, only(200, provAdmin)},
			{"lower the debt limit (no money)", "PATCH", acct, `{"maxDebt":"0.00","allowDebt":false}`, only(200, provAdmin, aAdmin, pAdmin)},
			{"record a bank payment", "POST", fmt.Sprintf("/invoices/%d/bank-payments", b.invoiceA), `{"amount":"0.01","reference":"R-%s"}`,
				only(200, provAdmin, provStaff)},
			{"verify an invoice payer", "POST", fmt.Sprintf("/payment-methods/%d/verify", b.methodA), ``, only(200, provAdmin, provStaff)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, key := range roles {
					// The customer's own account: lowering and raising it as
					// the provider admin puts it back between roles.
					e.ok(t, http.StatusOK, "PATCH", acct, provAdmin, `{"maxDebt":"0.00","allowDebt":false,"payingByInvoice":false,"discountPercentage":0}`)
					before := e.mintedCredit(t)
					body := c.body
					if c.name == "record a bank payment" {
						body = fmt.Sprintf(c.body, key)
					}
					r := e.do(t, e.req(c.method, c.path, key, body))
					want := c.want[key]
					if r.Status != want {
						t.Errorf("as %s: %d, want %d: %s", key, r.Status, want, r.Body)
						continue
					}
					if want == http.StatusForbidden {
						if after := e.mintedCredit(t); after != before {
							t.Errorf("as %s: refused, yet credit went from %d to %d", key, before, after)
						}
					}
				}
			})
		}
	})
}

// mintedCredit is the credit of every billing account in minor units.
func (e *env) mintedCredit(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := e.d.Read().QueryRowContext(t.Context(), `SELECT COALESCE(SUM(amount), 0) FROM credit_records`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
