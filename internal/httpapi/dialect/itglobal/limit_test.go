package itglobal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestMonthlyLimit: the money a Finance key records in a calendar month
// (payments, DengiOnlinePlus, BonusPlus) stops at the partner's limit the
// provider set (issue 14, finding 9): 409 Precondition naming Amount; a
// replay is not counted twice; the next month starts again.
func TestMonthlyLimit(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		root := strings.Split(strings.Trim(f.a.Path, "/"), "/")[0]
		limit := int64(60000) // 600.00
		_, err := f.res.UpdateSettings(f.ctx, actor.Actor{Type: actor.TypeAPIKey, ID: "op", OrgID: root, OrgPath: "/" + root + "/",
			OrgKind: actor.Provider, Role: actor.Admin}, f.a.ID, reseller.SettingsInput{MonthlyLimit: &limit})
		if err != nil {
			t.Fatal(err)
		}
		op := "/operations/projects/" + id(projOnline)
		bank := `{"Number":"L-1","TIN":"7838413489","Amount":556,"InvoiceNumber":null,"CompanyId":522,"ProjectId":1317}`
		over := func(resp apitest.Response) {
			t.Helper()
			wantStatus(t, resp, http.StatusConflict)
			if e := errorOf(t, resp); e.Code != "Precondition" || e.Field != "Amount" {
				t.Fatalf("over the limit: %+v", e)
			}
		}
		online := []byte(`{"PaymentId":"L-O1","Amount":500,"ProjectId":1427}`)
		wantStatus(t, f.send(t, keyAFinance, "POST", "/payments/online", online), http.StatusOK)
		over(f.send(t, keyAFinance, "POST", "/payments/bank", []byte(bank)))
		wantStatus(t, f.send(t, keyAFinance, "POST", "/payments/online", online), http.StatusOK) // replay
		wantStatus(t, f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"DengiOnlinePlus","Amount":99.99}`)), http.StatusOK)
		wantStatus(t, f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"BonusPlus","Amount":0.01}`)), http.StatusOK) // exactly 600.00
		over(f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"BonusPlus","Amount":0.01}`)))
		wantStatus(t, f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"BonusMinus","Amount":0.01}`)), http.StatusOK)
		over(f.send(t, keyAFinance, "POST", "/payments/online", []byte(`{"PaymentId":"L-O2","Amount":0.01,"ProjectId":1427}`)))
		f.clk.Set(t0.AddDate(0, 1, 0))
		wantStatus(t, f.send(t, keyAFinance, "POST", "/payments/bank", []byte(bank)), http.StatusOK)
	})
}
