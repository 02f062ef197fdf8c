package itglobal_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestBehaviour: payment replays, Idempotency-Key, the bonus floor, a
// blocked project refusing orders, unknown routes.
func TestBehaviour(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		f.seedAll(t)
		balance := func(project int64) json.Number {
			t.Helper()
			return result[map[string]any](t, f.get(t, keyAUser, "/projects/"+id(project)))["Balance"].(json.Number)
		}

		// The bank sample again: the first payment, no second credit; the
		// same Number with another body: 409 naming Number.
		resp := f.send(t, keyAFinance, "POST", "/payments/bank", sample(t, "createBankPayment"))
		wantStatus(t, resp, http.StatusOK)
		if b := balance(projBank); b != "556" {
			t.Errorf("balance after a replay: %s, want 556", b)
		}
		resp = f.send(t, keyAFinance, "POST", "/payments/bank", edit(t, "createBankPayment", map[string]any{"Amount": 557}))
		wantStatus(t, resp, http.StatusConflict)
		if e := errorOf(t, resp); e.Field != "Number" || e.Code != "Conflict" {
			t.Errorf("conflict: %+v", e)
		}

		// Idempotency-Key: the stored answer, replayed.
		req := apitest.Request{Method: "POST", Path: "/payments/online", Header: http.Header{idempotency.Header: {"k1"}},
			Body: []byte(`{"PaymentId":"IK1","Amount":1.5,"ProjectId":1427}`)}
		first := f.do(t, keyAFinance, req)
		wantStatus(t, first, http.StatusOK)
		again := f.do(t, keyAFinance, req)
		if again.Status != http.StatusOK || string(again.Body) != string(first.Body) || again.Header.Get(idempotency.ReplayedHeader) != "true" {
			t.Errorf("replay: %d %s %v", again.Status, again.Body, again.Header)
		}
		if b := balance(projOnline); b != "21.71" {
			t.Errorf("project 1427 balance %s, want 21.71", b)
		}

		// BonusMinus beyond the bonus: 402, nothing taken.
		op := "/operations/projects/" + id(projOnline)
		wantStatus(t, f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"BonusPlus","Amount":10}`)), http.StatusOK)
		resp = f.send(t, keyAFinance, "POST", op, []byte(`{"TypeOperation":"BonusMinus","Amount":10.01}`))
		wantStatus(t, resp, http.StatusPaymentRequired)
		if bonus := result[map[string]any](t, f.get(t, keyAUser, "/projects/"+id(projOnline)))["BonusBalance"]; bonus != json.Number("10") {
			t.Errorf("bonus after a refused BonusMinus: %v", bonus)
		}

		// A project whose balance is below zero is blocked: orders are 409.
		wantStatus(t, f.send(t, keyAUser, "PUT", "/projects/"+id(projVOrg), []byte(`{"IsPostPaid":false}`)), http.StatusOK)
		for i := 0; i < 60; i++ { // a couple of months of daily charges
			f.clk.Advance(orders.Day)
			if _, err := f.ord.ChargeDue(f.ctx, f.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		pr := result[map[string]any](t, f.get(t, keyAUser, "/projects/"+id(projVOrg)))
		if pr["IsBlocked"] != true {
			t.Fatalf("project 1288 not blocked: %v", pr)
		}
		resp = f.send(t, keyAUser, "POST", "/projects/"+id(projVOrg)+"/kubernetes", sample(t, "createKubernetesCluster"))
		wantStatus(t, resp, http.StatusConflict)

		// Unknown routes and methods, in the dialect's shape.
		resp = f.do(t, keyAUser, apitest.Request{Method: "GET", Path: "/nothing", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusNotFound)
		errorOf(t, resp)
		resp = f.do(t, keyAUser, apitest.Request{Method: "PATCH", Path: "/projects/1288", AllowUnknownRoute: true, Body: []byte(`{}`)})
		wantStatus(t, resp, http.StatusMethodNotAllowed)
		errorOf(t, resp)
	})
}
