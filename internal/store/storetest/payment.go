package storetest

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// paymentInvoice inserts an unpaid invoice of total minor units (no VAT,
// discount or credit) created at created.
func (s *suite) paymentInvoice(t *testing.T, accountID int64, kind string, total int64, created time.Time) billing.Invoice {
	t.Helper()
	id, err := s.st.NextNumber(s.ctx, billing.CounterInvoice)
	must(t, err)
	created = db.Micro(created)
	inv := billing.Invoice{ID: id, AccountID: accountID, Kind: kind, Status: billing.StatusUnpaid, Currency: "EUR",
		PeriodStart: created, PeriodEnd: created, CreatedAt: created, DueAt: created.Add(time.Hour),
		Subtotal: total, Total: total, AccountSnapshot: "{}"}
	ok, err := s.st.InsertInvoice(s.ctx, inv)
	must(t, err)
	if !ok {
		t.Fatal("invoice not inserted")
	}
	return inv
}

// payments exercises the payment store methods (the saga, its races and
// the money invariants are tested in internal/payment).
func (s *suite) payments(t *testing.T) {
	s.cover("AppendAudit", "InsertPaymentCustomer", "GetPaymentCustomer", "InsertPaymentObject", "GetPaymentObject",
		"ListPaymentObjects", "GetPrimaryPaymentObject", "GetInvoicePaymentObject", "SetPrimaryPaymentObject",
		"VerifyPaymentObject", "DeletePaymentObject", "InsertCharge", "GetCharge", "GetChargeByKey", "FinishCharge",
		"ListPendingCharges", "ListAccountCharges", "ListInvoiceTransactions", "ListOpenInvoices", "GetOpenInvoice",
		"ReserveInvoiceAmount", "ReleaseInvoiceAmount", "SettleInvoiceAmount", "ListRecurringAccounts",
		"ListAutoPayInvoices")
	now := db.Micro(t0)
	org := s.customer(t)
	acct := s.billingAccount(t, org, 0)
	other := s.billingAccount(t, s.customer(t), 0)

	// Customers: one per (account, processor).
	cus := payment.Customer{ID: 1, AccountID: acct.ID, Processor: "test", CustomerRef: "cus_1", CreatedAt: now}
	ok, err := s.st.InsertPaymentCustomer(s.ctx, cus)
	must(t, err)
	if !ok {
		t.Fatal("customer not inserted")
	}
	dup := cus
	dup.ID, dup.CustomerRef = 2, "cus_2"
	if ok, err = s.st.InsertPaymentCustomer(s.ctx, dup); err != nil || ok {
		t.Fatalf("second customer of the same processor: %v %v", ok, err)
	}
	got, err := s.st.GetPaymentCustomer(s.ctx, acct.ID, "test")
	must(t, err)
	if d := cmp.Diff(cus, got); d != "" {
		t.Fatalf("customer round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetPaymentCustomer(s.ctx, acct.ID, "invoice")
	wantKind(t, err, errs.KindNotFound)
	otherCus := payment.Customer{ID: 3, AccountID: other.ID, Processor: "test", CustomerRef: "cus_3", CreatedAt: now}
	_, err = s.st.InsertPaymentCustomer(s.ctx, otherCus)
	must(t, err)

	// Payment objects.
	card := func(id int64, accountID, customerID int64, primary, verified bool) payment.PaymentObject {
		v := now
		o := payment.PaymentObject{ID: id, AccountID: accountID, CustomerID: customerID, Kind: payment.MethodCard,
			Identifier: "pm_" + ids.New(), Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034, Holder: "H",
			AdditionalData: json.RawMessage(`{"id": "pm"}`), IsPrimary: primary, IsVerified: verified,
			ValidThru: payment.CardValidThru(12, 2034), CreatedAt: now, UpdatedAt: now}
		if verified {
			o.VerifiedAt = &v
		}
		return o
	}
	c1 := card(101, acct.ID, cus.ID, true, true)
	must(t, s.st.InsertPaymentObject(s.ctx, c1))
	gotO, err := s.st.GetPaymentObject(s.ctx, org.Path, c1.ID)
	must(t, err)
	if d := cmp.Diff(c1, gotO); d != "" {
		t.Fatalf("payment object round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetPaymentObject(s.ctx, "/elsewhere/", c1.ID)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.InsertPaymentObject(s.ctx, c1), errs.KindConflict)
	// A second primary, or an unverified primary, is refused by the schema.
	if err := s.st.InsertPaymentObject(s.ctx, card(102, acct.ID, cus.ID, true, true)); err == nil {
		t.Fatal("two primaries stored")
	}
	if err := s.st.InsertPaymentObject(s.ctx, card(103, acct.ID, cus.ID, true, false)); err == nil {
		t.Fatal("an unverified primary stored")
	}
	c2 := card(104, acct.ID, cus.ID, false, true)
	must(t, s.st.InsertPaymentObject(s.ctx, c2))
	inv := payment.PaymentObject{ID: 105, AccountID: acct.ID, CustomerID: cus.ID, Kind: payment.MethodInvoice,
		Identifier: payment.InvoiceMethodIdentifier, AdditionalData: json.RawMessage(`{}`),
		ValidThru: payment.InvoiceMethodValidThru, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertPaymentObject(s.ctx, inv))
	inv2 := inv
	inv2.ID = 106
	if err := s.st.InsertPaymentObject(s.ctx, inv2); err == nil {
		t.Fatal("a second live invoice method stored")
	}
	gotO, err = s.st.GetInvoicePaymentObject(s.ctx, acct.ID)
	must(t, err)
	if gotO.ID != inv.ID {
		t.Fatalf("invoice method %d", gotO.ID)
	}
	_, err = s.st.GetInvoicePaymentObject(s.ctx, other.ID)
	wantKind(t, err, errs.KindNotFound)

	pst := sqlstore.Payment{Store: s.st}
	setPrimary := func(id int64) bool {
		var ok bool
		must(t, pst.Tx(s.ctx, func(tx payment.Store) error {
			var err error
			ok, err = tx.SetPrimaryPaymentObject(s.ctx, acct.ID, id, now)
			return err
		}))
		return ok
	}
	primary := func() int64 {
		o, err := s.st.GetPrimaryPaymentObject(s.ctx, acct.ID)
		must(t, err)
		return o.ID
	}
	if !setPrimary(c2.ID) || primary() != c2.ID {
		t.Fatal("SetPrimaryPaymentObject did not move the primary")
	}
	// The unverified invoice method cannot be primary; the old one stays.
	if setPrimary(inv.ID) || primary() != c2.ID {
		t.Fatal("an unverified method became primary, or the old primary was lost")
	}
	if !setPrimary(c2.ID) { // already primary
		t.Fatal("SetPrimaryPaymentObject on the primary")
	}
	ok, err = s.st.VerifyPaymentObject(s.ctx, inv.ID, now)
	must(t, err)
	if !ok {
		t.Fatal("not verified")
	}
	if ok, _ = s.st.VerifyPaymentObject(s.ctx, inv.ID, now); ok {
		t.Fatal("verified twice")
	}
	// Concurrent set-primary leaves exactly one primary.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := []int64{c1.ID, c2.ID, inv.ID}[i%3]
			err := pst.Tx(s.ctx, func(tx payment.Store) error {
				if _, err := tx.LockBillingAccount(s.ctx, acct.ID); err != nil {
					return err
				}
				_, err := tx.SetPrimaryPaymentObject(s.ctx, acct.ID, id, now)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := s.st.ListPaymentObjects(s.ctx, acct.ID)
	must(t, err)
	primaries := 0
	for _, o := range list {
		if o.IsPrimary {
			primaries++
		}
	}
	if len(list) != 3 || primaries != 1 {
		t.Fatalf("after racing set-primary: %d methods, %d primaries", len(list), primaries)
	}
	ok, err = s.st.DeletePaymentObject(s.ctx, primary(), now)
	must(t, err)
	if !ok {
		t.Fatal("not deleted")
	}
	_, err = s.st.GetPrimaryPaymentObject(s.ctx, acct.ID)
	wantKind(t, err, errs.KindNotFound)
	if list, _ = s.st.ListPaymentObjects(s.ctx, acct.ID); len(list) != 2 {
		t.Fatalf("deleted method listed: %d", len(list))
	}
	must(t, pst.Tx(s.ctx, func(tx payment.Store) error {
		_, err := tx.SetPrimaryPaymentObject(s.ctx, acct.ID, list[0].ID, now)
		return err
	}))
	if primary() != list[0].ID {
		t.Fatal("primary not set after deletion")
	}

	// Invoices as payments see them, oldest first.
	i1 := s.paymentInvoice(t, acct.ID, billing.KindUsage, 1000, t0)
	i2 := s.paymentInvoice(t, acct.ID, billing.KindTopUp, 500, t0.Add(time.Hour))
	i3 := s.paymentInvoice(t, acct.ID, billing.KindUsage, 300, t0.Add(2*time.Hour))
	open, err := s.st.ListOpenInvoices(s.ctx, acct.ID, false)
	must(t, err)
	if len(open) != 3 || open[0].ID != i1.ID || open[1].ID != i2.ID || open[2].ID != i3.ID {
		t.Fatalf("open invoices %+v", open)
	}
	if open, _ = s.st.ListOpenInvoices(s.ctx, acct.ID, true); len(open) != 2 || open[1].ID != i3.ID {
		t.Fatalf("open usage invoices %+v", open)
	}
	oi, err := s.st.GetOpenInvoice(s.ctx, org.Path, i1.ID)
	must(t, err)
	want := payment.OpenInvoice{ID: i1.ID, AccountID: acct.ID, Kind: billing.KindUsage, Status: billing.StatusUnpaid,
		Currency: "EUR", Total: 1000, CreatedAt: i1.CreatedAt}
	if d := cmp.Diff(want, oi); d != "" {
		t.Fatalf("open invoice (-want +got):\n%s", d)
	}
	_, err = s.st.GetOpenInvoice(s.ctx, "/elsewhere/", i1.ID)
	wantKind(t, err, errs.KindNotFound)

	// Reservations keep paid + pending ≤ total, also when racing.
	var mu sync.Mutex
	reserved := int64(0)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.st.ReserveInvoiceAmount(s.ctx, i1.ID, 70, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				reserved += 70
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if oi, _ = s.st.GetOpenInvoice(s.ctx, org.Path, i1.ID); oi.PendingAmount != reserved || reserved != 980 {
		t.Fatalf("racing reservations: pending %d, reserved %d (want 980)", oi.PendingAmount, reserved)
	}
	if ok, _ := s.st.ReleaseInvoiceAmount(s.ctx, i1.ID, 1000, now); ok {
		t.Fatal("released more than pending")
	}
	if ok, _ := s.st.ReleaseInvoiceAmount(s.ctx, i1.ID, 280, now); !ok {
		t.Fatal("release refused")
	}
	if ok, _ := s.st.SettleInvoiceAmount(s.ctx, i1.ID, 800, true, now); ok {
		t.Fatal("settled more than pending")
	}
	if ok, _ := s.st.SettleInvoiceAmount(s.ctx, i1.ID, 700, true, now); !ok {
		t.Fatal("settle from pending refused")
	}
	if ok, _ := s.st.SettleInvoiceAmount(s.ctx, i1.ID, 301, false, now); ok {
		t.Fatal("a direct payment above the total")
	}
	if oi, _ = s.st.GetOpenInvoice(s.ctx, org.Path, i1.ID); oi.Status != billing.StatusUnpaid || oi.PaidAmount != 700 || oi.Available() != 300 {
		t.Fatalf("after a partial payment: %+v", oi)
	}
	if ok, _ := s.st.SettleInvoiceAmount(s.ctx, i1.ID, 300, false, now); !ok {
		t.Fatal("direct payment refused")
	}
	full, err := s.st.GetInvoice(s.ctx, org.Path, i1.ID)
	must(t, err)
	if full.Status != billing.StatusPaid || full.PaidAmount != 1000 || full.PaidAt == nil || !full.PaidAt.Equal(now) {
		t.Fatalf("fully paid invoice: status %d paid %d at %v", full.Status, full.PaidAmount, full.PaidAt)
	}
	if ok, _ := s.st.ReserveInvoiceAmount(s.ctx, i1.ID, 1, now); ok {
		t.Fatal("reserved on a paid invoice")
	}

	// Charges with allocations; the key is unique.
	later := db.Micro(t0.Add(time.Minute))
	ch := payment.Charge{ID: 201, AccountID: acct.ID, Purpose: payment.PurposeInvoices, Source: payment.SourceCard,
		PaymentObjectID: list[0].ID, IdempotencyKey: "k-" + ids.New(), RequestHash: "h", Currency: "EUR", Requested: 900,
		Amount: 800, Status: payment.ChargePending, CustomerRef: "cus_1", MethodRef: "pm_1", Description: "d",
		AdditionalData: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now,
		Allocations: []payment.Allocation{{ChargeID: 201, InvoiceID: i2.ID, Position: 0, Amount: 500},
			{ChargeID: 201, InvoiceID: i3.ID, Position: 1, Amount: 300}}}
	ok, err = s.st.InsertCharge(s.ctx, ch)
	must(t, err)
	if !ok {
		t.Fatal("charge not inserted")
	}
	again := ch
	again.ID = 202
	if ok, err = s.st.InsertCharge(s.ctx, again); err != nil || ok {
		t.Fatalf("a second charge with the same key: %v %v", ok, err)
	}
	gotC, err := s.st.GetCharge(s.ctx, ch.ID)
	must(t, err)
	if d := cmp.Diff(ch, gotC); d != "" {
		t.Fatalf("charge round trip (-want +got):\n%s", d)
	}
	if gotC, err = s.st.GetChargeByKey(s.ctx, ch.IdempotencyKey); err != nil || gotC.ID != ch.ID {
		t.Fatalf("GetChargeByKey: %v %v", gotC.ID, err)
	}
	_, err = s.st.GetCharge(s.ctx, 999)
	wantKind(t, err, errs.KindNotFound)
	pending, err := s.st.ListPendingCharges(s.ctx, now, 10)
	must(t, err)
	if len(pending) != 1 || pending[0].ID != ch.ID || !cmp.Equal(pending[0].Allocations, ch.Allocations) {
		t.Fatalf("pending charges %+v", pending)
	}
	if pending, _ = s.st.ListPendingCharges(s.ctx, now.Add(-time.Second), 10); len(pending) != 0 {
		t.Fatal("a charge pending before it was created")
	}
	// A charge must not claim success without its ledger transaction.
	if _, err := s.st.FinishCharge(s.ctx, ch.ID, payment.ChargeSucceeded, "tran_1", nil, "", "", later); err == nil {
		t.Fatal("succeeded without a ledger transaction")
	}
	ledgerTx := ids.New()
	ok, err = s.st.FinishCharge(s.ctx, ch.ID, payment.ChargeSucceeded, "tran_1", json.RawMessage(`{"id":"tran_1"}`), "", ledgerTx, later)
	must(t, err)
	if !ok {
		t.Fatal("not finished")
	}
	if ok, _ = s.st.FinishCharge(s.ctx, ch.ID, payment.ChargeFailed, "", nil, "x", "", later); ok {
		t.Fatal("finished twice")
	}
	gotC, _ = s.st.GetCharge(s.ctx, ch.ID)
	if gotC.Status != payment.ChargeSucceeded || gotC.Identifier != "tran_1" || gotC.LedgerTransactionID != ledgerTx ||
		gotC.FinishedAt == nil || !gotC.FinishedAt.Equal(later) || string(gotC.AdditionalData) != `{"id":"tran_1"}` {
		t.Fatalf("finished charge %+v", gotC)
	}
	bank := payment.Charge{ID: 203, AccountID: acct.ID, Purpose: payment.PurposeInvoices, Source: payment.SourceBank,
		IdempotencyKey: "bank:ref-1", RequestHash: "h", Currency: "EUR", Requested: 100, Amount: 100,
		Status: payment.ChargeFailed, Identifier: "ref-1", CreatedAt: now, UpdatedAt: now, FinishedAt: &later,
		Allocations: []payment.Allocation{{ChargeID: 203, InvoiceID: i3.ID, Amount: 100}}}
	_, err = s.st.InsertCharge(s.ctx, bank)
	must(t, err)
	txs, err := s.st.ListInvoiceTransactions(s.ctx, i3.ID)
	must(t, err)
	wantTx := []payment.InvoiceTransaction{{ID: ch.ID, Identifier: "tran_1", Amount: 300, Currency: "EUR", Created: now,
		PaymentObjectID: list[0].ID, AdditionalData: json.RawMessage(`{"id":"tran_1"}`)}}
	if d := cmp.Diff(wantTx, txs); d != "" { // the failed bank record is not a transaction
		t.Fatalf("invoice transactions (-want +got):\n%s", d)
	}
	all, err := s.st.ListAccountCharges(s.ctx, acct.ID)
	must(t, err)
	if len(all) != 2 || all[0].ID != bank.ID || all[0].PaymentObjectID != 0 || !cmp.Equal(all[0].Allocations, bank.Allocations) ||
		!cmp.Equal(all[1].Allocations, ch.Allocations) {
		t.Fatalf("account charges %+v", all)
	}

	// Jobs' queries.
	enabled := acct
	enabled.RecurringEnabled = true
	must(t, s.st.UpdateBillingAccount(s.ctx, enabled))
	rec, err := s.st.ListRecurringAccounts(s.ctx)
	must(t, err)
	found := false
	for _, r := range rec {
		if r.AccountID == other.ID {
			t.Fatal("an account without recurring top-up listed")
		}
		if r.AccountID == acct.ID {
			found = r.Amount.Equal(acct.RecurringAmount) && r.Threshold.Equal(acct.RecurringThreshold) && r.Currency == "EUR"
		}
	}
	if !found {
		t.Fatalf("recurring accounts %+v", rec)
	}
	// Auto-pay candidates: unpaid usage invoices of accounts with a
	// primary card, without a charge under prefix+id.
	o2 := card(107, other.ID, otherCus.ID, true, true)
	must(t, s.st.InsertPaymentObject(s.ctx, o2))
	j1 := s.paymentInvoice(t, other.ID, billing.KindUsage, 100, t0)
	j2 := s.paymentInvoice(t, other.ID, billing.KindUsage, 100, t0.Add(time.Hour))
	s.paymentInvoice(t, other.ID, billing.KindTopUp, 100, t0)
	prefix := "autopay-" + ids.New() + ":"
	cands, err := s.st.ListAutoPayInvoices(s.ctx, prefix, t0.Add(time.Hour), 10)
	must(t, err)
	if !cmp.Equal(cands, []int64{j1.ID, j2.ID}) {
		t.Fatalf("auto-pay candidates %v, want [%d %d]", cands, j1.ID, j2.ID)
	}
	_, err = s.st.InsertCharge(s.ctx, payment.Charge{ID: 204, AccountID: other.ID, Purpose: payment.PurposeInvoices,
		Source: payment.SourceCard, PaymentObjectID: o2.ID, IdempotencyKey: prefix + strconv.FormatInt(j1.ID, 10),
		RequestHash: "h", Currency: "EUR", Requested: 1, Amount: 1, Status: payment.ChargePending, CreatedAt: now, UpdatedAt: now})
	must(t, err)
	cands, err = s.st.ListAutoPayInvoices(s.ctx, prefix, t0.Add(time.Hour), 10)
	must(t, err)
	if !cmp.Equal(cands, []int64{j2.ID}) {
		t.Fatalf("auto-pay candidates after a charge of %d: %v, want [%d]", j1.ID, cands, j2.ID)
	}
}
