package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// decimalEq compares exact decimals by value (1.50 equals 1.5).
var decimalEq = cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })

// customer creates a customer org under a fresh tree.
func (s *suite) customer(t *testing.T) tenancy.Org {
	t.Helper()
	_, _, partner, _ := s.tree(t)
	now := db.Micro(t0)
	id := ids.New()
	c := tenancy.Org{ID: id, Kind: actor.Customer, ParentID: partner.ID, Path: partner.Path + id + "/", Name: "C",
		TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertOrg(s.ctx, c))
	return c
}

func (s *suite) billingAccount(t *testing.T, org tenancy.Org, user int64) billing.Account {
	t.Helper()
	id, err := s.st.NextNumber(s.ctx, billing.CounterBillingAccount)
	must(t, err)
	now := db.Micro(t0)
	a := billing.Account{ID: id, OrgID: org.ID, OrgPath: org.Path, UserID: user, Currency: "EUR", Title: "konto",
		Email: "user@example.com", City: "Küla", VATPercentage: 20, IsActive: true, RecurringAmount: money.DecimalFromInt(52),
		RecurringThreshold: money.DecimalFromInt(55), AdditionalData: "{}", CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertBillingAccount(s.ctx, a))
	return a
}

// billing exercises the billing store methods (the service's rules and
// races are tested in internal/billing).
func (s *suite) billing(t *testing.T) {
	s.cover("NextNumber", "NextNumbers", "RaiseNumber", "InsertBillingAccount", "GetBillingAccount", "LockBillingAccount",
		"ListBillingAccounts", "DefaultBillingAccount", "CountBillingAccounts", "UpdateBillingAccount",
		"SetDefaultBillingAccount", "SoftDeleteBillingAccount", "SetBillingAccountRestriction", "ListRestrictedAccounts",
		"InsertInvoice", "InsertInvoiceRecord", "GetInvoice", "ListInvoices", "HasUsageInvoice", "InvoicedAccounts", "UnpaidInvoiceTotal",
		"ListOverdue", "OldestOverdueInvoice", "InsertCreditRecord", "ListCreditRecords", "InsertOutboxEmail",
		"ListOutboxEmails")
	now := db.Micro(t0)

	// Counters: consecutive, blocks, unknown names start at 0, raise only up.
	name := "test_" + ids.New()
	n, err := s.st.NextNumber(s.ctx, name)
	must(t, err)
	if n != 1 {
		t.Fatalf("first number of a new counter = %d", n)
	}
	first, err := s.st.NextNumbers(s.ctx, name, 3)
	must(t, err)
	if first != 2 {
		t.Fatalf("NextNumbers first = %d, want 2", first)
	}
	_, err = s.st.NextNumbers(s.ctx, name, 0)
	wantKind(t, err, errs.KindInvalid)
	must(t, s.st.RaiseNumber(s.ctx, name, 100))
	must(t, s.st.RaiseNumber(s.ctx, name, 50)) // never lowers
	if n, _ = s.st.NextNumber(s.ctx, name); n != 101 {
		t.Fatalf("after RaiseNumber(100) the next number is %d", n)
	}
	must(t, s.st.RaiseNumber(s.ctx, "test_"+ids.New(), 7))
	// A rolled-back number is handed out again: no gaps.
	bst := sqlstore.Billing{Store: s.st}
	_ = bst.Tx(s.ctx, func(tx billing.Store) error {
		_, err := tx.NextNumber(s.ctx, name)
		must(t, err)
		return errs.New(errs.KindInvalid, "roll back")
	})
	if n, _ = s.st.NextNumber(s.ctx, name); n != 102 {
		t.Fatalf("after a rollback the next number is %d, want 102", n)
	}
	// Concurrent takers get distinct consecutive numbers.
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := bst.Tx(s.ctx, func(tx billing.Store) error {
				v, err := tx.NextNumber(s.ctx, name)
				if err == nil {
					mu.Lock()
					seen[v] = true
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for v := int64(103); v < 103+16; v++ {
		if !seen[v] {
			t.Fatalf("concurrent counter: %d missing in %v", v, seen)
		}
	}

	// Accounts.
	org := s.customer(t)
	a := s.billingAccount(t, org, 8)
	got, err := s.st.GetBillingAccount(s.ctx, org.Path, a.ID)
	must(t, err)
	if d := cmp.Diff(a, got, decimalEq); d != "" {
		t.Fatalf("billing account round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetBillingAccount(s.ctx, "/elsewhere/", a.ID)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.InsertBillingAccount(s.ctx, a), errs.KindConflict)
	// managed_by round-trips (a reseller project's account).
	other := s.customer(t)
	managed := a
	managed.ID, err = s.st.NextNumber(s.ctx, billing.CounterBillingAccount)
	must(t, err)
	managed.OrgID, managed.OrgPath, managed.UserID, managed.ManagedBy = other.ID, other.Path, 0, billing.ManagedByReseller
	must(t, s.st.InsertBillingAccount(s.ctx, managed))
	if got, err := s.st.GetBillingAccount(s.ctx, other.Path, managed.ID); err != nil || got.ManagedBy != billing.ManagedByReseller {
		t.Fatalf("managed_by round trip: %q, %v", got.ManagedBy, err)
	}
	locked, err := s.st.LockBillingAccount(s.ctx, a.ID)
	must(t, err)
	if locked.ID != a.ID {
		t.Fatal("LockBillingAccount returned another account")
	}
	_, err = s.st.LockBillingAccount(s.ctx, -1)
	wantKind(t, err, errs.KindNotFound)

	b := s.billingAccount(t, org, 8)
	must(t, s.st.SetDefaultBillingAccount(s.ctx, a.ID, now))
	must(t, s.st.SetDefaultBillingAccount(s.ctx, b.ID, now))
	def, err := s.st.DefaultBillingAccount(s.ctx, org.ID, 8)
	must(t, err)
	if def.ID != b.ID {
		t.Fatalf("default = %d, want %d", def.ID, b.ID)
	}
	_, err = s.st.DefaultBillingAccount(s.ctx, org.ID, 9)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.SetDefaultBillingAccount(s.ctx, -1, now), errs.KindNotFound)

	a.Title, a.VATPercentage, a.DiscountPercentage, a.MaxDebt, a.AllowDebt = "new", 9, 10, 500, true
	a.RecurringAmount = dec("12.50")
	a.UpdatedAt = db.Micro(t0.Add(time.Minute))
	must(t, s.st.UpdateBillingAccount(s.ctx, a))
	got, err = s.st.GetBillingAccount(s.ctx, "/", a.ID)
	must(t, err)
	if d := cmp.Diff(a, got, decimalEq); d != "" {
		t.Fatalf("after update (-want +got):\n%s", d)
	}
	bad := a
	bad.ID = -1
	wantKind(t, s.st.UpdateBillingAccount(s.ctx, bad), errs.KindNotFound)
	bad = a
	bad.VATPercentage = -1 // the CHECK constraint is the last line of defence
	if err := s.st.UpdateBillingAccount(s.ctx, bad); err == nil {
		t.Fatal("negative VAT stored")
	}

	cnt, err := s.st.CountBillingAccounts(s.ctx, org.ID, 8)
	must(t, err)
	if cnt != 2 {
		t.Fatalf("CountBillingAccounts = %d", cnt)
	}
	ok, err := s.st.SoftDeleteBillingAccount(s.ctx, b.ID, now)
	must(t, err)
	if ok {
		t.Fatal("deleted the default account")
	}
	ok, err = s.st.SoftDeleteBillingAccount(s.ctx, a.ID, now)
	must(t, err)
	if !ok {
		t.Fatal("SoftDeleteBillingAccount did nothing")
	}
	if ok, _ = s.st.SoftDeleteBillingAccount(s.ctx, a.ID, now); ok {
		t.Fatal("deleted twice")
	}
	live, err := s.st.ListBillingAccounts(s.ctx, org.Path, billing.AccountFilter{})
	must(t, err)
	all, err := s.st.ListBillingAccounts(s.ctx, org.Path, billing.AccountFilter{OrgID: org.ID, ShowShadow: true})
	must(t, err)
	one, err := s.st.ListBillingAccounts(s.ctx, "/", billing.AccountFilter{ID: b.ID})
	must(t, err)
	none, err := s.st.ListBillingAccounts(s.ctx, "/elsewhere/", billing.AccountFilter{})
	must(t, err)
	if len(live) != 1 || live[0].ID != b.ID || len(all) != 2 || all[0].DeletedAt == nil || len(one) != 1 || len(none) != 0 {
		t.Fatalf("ListBillingAccounts: live %d all %d one %d none %d", len(live), len(all), len(one), len(none))
	}
	if cnt, _ = s.st.CountBillingAccounts(s.ctx, org.ID, 8); cnt != 1 {
		t.Fatalf("CountBillingAccounts after delete = %d", cnt)
	}

	// Restriction: compare-and-set.
	ok, err = s.st.SetBillingAccountRestriction(s.ctx, b.ID, "", billing.RestrictionFrozen, "invoice 001 is past due", now)
	must(t, err)
	if !ok {
		t.Fatal("restriction not set")
	}
	if ok, _ = s.st.SetBillingAccountRestriction(s.ctx, b.ID, "", billing.RestrictionFrozen, "x", now); ok {
		t.Fatal("restriction set from the wrong level")
	}
	frozen, err := s.st.ListRestrictedAccounts(s.ctx, billing.RestrictionFrozen)
	must(t, err)
	if !containsID(frozen, b.ID) {
		t.Fatalf("ListRestrictedAccounts = %v", frozen)
	}
	if ok, _ = s.st.SetBillingAccountRestriction(s.ctx, b.ID, billing.RestrictionFrozen, "", "", now); !ok {
		t.Fatal("restriction not lifted")
	}

	// Invoices.
	month := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	invID, err := s.st.NextNumber(s.ctx, billing.CounterInvoice)
	must(t, err)
	inv := billing.Invoice{ID: invID, AccountID: b.ID, Kind: billing.KindUsage, Status: billing.StatusUnpaid, Name: "Invoice",
		Currency: "EUR", PeriodStart: month, PeriodEnd: month.AddDate(0, 1, 0), CreatedAt: now, DueAt: now.Add(time.Hour),
		DiscountPercentage: 10, VATPercentage: 20, Subtotal: 123, Discount: 12, Credit: -10, VAT: 20, Total: 121,
		AccountSnapshot: `{"id": 1}`, LedgerTransactionID: ids.New()}
	ins, err := s.st.InsertInvoice(s.ctx, inv)
	must(t, err)
	if !ins {
		t.Fatal("invoice not inserted")
	}
	dupMonth := inv
	dupMonth.ID = invID + 1000
	if ins, _ = s.st.InsertInvoice(s.ctx, dupMonth); ins {
		t.Fatal("a second usage invoice for the same month")
	}
	topup := dupMonth
	topup.Kind, topup.Subtotal, topup.Discount, topup.Credit, topup.VAT, topup.Total = billing.KindTopUp, 100, 0, 0, 0, 100
	if ins, _ = s.st.InsertInvoice(s.ctx, topup); !ins {
		t.Fatal("a top-up invoice in the same period refused")
	}
	broken := inv
	broken.ID, broken.PeriodStart, broken.Total = invID+2000, month.AddDate(0, 2, 0), 999
	if _, err := s.st.InsertInvoice(s.ctx, broken); err == nil {
		t.Fatal("totals that do not add up were stored")
	}
	recID, err := s.st.NextNumbers(s.ctx, billing.CounterInvoiceRecord, 2)
	must(t, err)
	recs := []billing.InvoiceRecord{
		{ID: recID, InvoiceID: invID, Name: "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", Descr: "TODO", LocationSlug: "tll",
			OwnerUUID: "f80b1d62", Qty: money.DecimalFromInt(3), QtyUnit: "h", ItemPrice: dec("0.02882"),
			Amount: dec("0.08646"), CreatedAt: now},
		{ID: recID + 1, InvoiceID: invID, Name: "x", QtyUnit: "h", Qty: dec("0.5"), ItemPrice: dec("3.42e-05"),
			Amount: dec("0.0000171"), CreatedAt: now},
	}
	for _, r := range recs {
		must(t, s.st.InsertInvoiceRecord(s.ctx, r))
	}
	wantKind(t, s.st.InsertInvoiceRecord(s.ctx, recs[0]), errs.KindConflict)
	gotInv, err := s.st.GetInvoice(s.ctx, org.Path, invID)
	must(t, err)
	inv.Records = recs
	if d := cmp.Diff(inv, gotInv, decimalEq); d != "" {
		t.Fatalf("invoice round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetInvoice(s.ctx, "/elsewhere/", invID)
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListInvoices(s.ctx, b.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != topup.ID || list[1].ID != invID || len(list[1].Records) != 2 || len(list[0].Records) != 0 {
		t.Fatalf("ListInvoices: %+v", list)
	}
	if has, _ := s.st.HasUsageInvoice(s.ctx, b.ID, month); !has {
		t.Fatal("HasUsageInvoice: false")
	}
	if has, _ := s.st.HasUsageInvoice(s.ctx, b.ID, month.AddDate(0, 1, 0)); has {
		t.Fatal("HasUsageInvoice: true for another month")
	}
	invoiced, err := s.st.InvoicedAccounts(s.ctx, month)
	must(t, err)
	if !containsID(invoiced, b.ID) || containsID(invoiced, a.ID) {
		t.Fatalf("InvoicedAccounts = %v", invoiced)
	}
	if invoiced, _ = s.st.InvoicedAccounts(s.ctx, month.AddDate(0, 1, 0)); containsID(invoiced, b.ID) {
		t.Fatalf("InvoicedAccounts of another month = %v", invoiced)
	}
	unpaid, err := s.st.UnpaidInvoiceTotal(s.ctx, b.ID)
	must(t, err)
	if unpaid != 121 { // the top-up invoice is a prepayment request, not a debt
		t.Fatalf("UnpaidInvoiceTotal = %d", unpaid)
	}
	over, err := s.st.ListOverdue(s.ctx, now.Add(time.Hour))
	must(t, err)
	if len(over) != 1 || over[0] != (billing.Overdue{AccountID: b.ID, InvoiceID: invID}) {
		t.Fatalf("ListOverdue = %+v", over)
	}
	if over, _ = s.st.ListOverdue(s.ctx, now); len(over) != 0 {
		t.Fatalf("overdue before the due date: %+v", over)
	}
	oid, ok, err := s.st.OldestOverdueInvoice(s.ctx, b.ID, now.Add(time.Hour))
	must(t, err)
	if !ok || oid != invID {
		t.Fatalf("OldestOverdueInvoice = %d %v", oid, ok)
	}
	if _, ok, _ = s.st.OldestOverdueInvoice(s.ctx, b.ID, now); ok {
		t.Fatal("overdue before the due date")
	}

	// Credit records and outbox.
	cid, err := s.st.NextNumber(s.ctx, billing.CounterCreditRecord)
	must(t, err)
	c1 := billing.CreditRecord{ID: cid, AccountID: b.ID, Amount: 1000, Description: billing.CreditFirstAccount, CreatedAt: now}
	c2 := billing.CreditRecord{ID: cid + 1, AccountID: b.ID, Amount: -344, Description: billing.CreditInvoicePayment, CreatedAt: now, LedgerTransactionID: ids.New()}
	must(t, s.st.RaiseNumber(s.ctx, billing.CounterCreditRecord, cid+1))
	must(t, s.st.InsertCreditRecord(s.ctx, c1))
	must(t, s.st.InsertCreditRecord(s.ctx, c2))
	zero := c1
	zero.ID, zero.Amount = cid+5000, 0
	if err := s.st.InsertCreditRecord(s.ctx, zero); err == nil {
		t.Fatal("a zero credit record was stored")
	}
	credits, err := s.st.ListCreditRecords(s.ctx, b.ID)
	must(t, err)
	if d := cmp.Diff([]billing.CreditRecord{c2, c1}, credits); d != "" {
		t.Fatalf("credit records (-want +got):\n%s", d)
	}
	e := billing.OutboxEmail{ID: ids.New(), To: "user@example.com", Subject: "Invoice 002", Body: "Please pay.", CreatedAt: now}
	must(t, s.st.InsertOutboxEmail(s.ctx, e))
	mails, err := s.st.ListOutboxEmails(s.ctx, 1000)
	must(t, err)
	found := false
	for _, m := range mails {
		if m.ID == e.ID {
			found = true
			if d := cmp.Diff(e, m); d != "" {
				t.Fatalf("outbox e-mail (-want +got):\n%s", d)
			}
		}
	}
	if !found {
		t.Fatal("outbox e-mail not listed")
	}
	must(t, bst.Tx(s.ctx, func(billing.Store) error { return nil }))
}

func containsID(list []int64, id int64) bool {
	for _, v := range list {
		if v == id {
			return true
		}
	}
	return false
}

// dec parses a decimal literal of a test (plain or exponent form).
func dec(s string) money.Decimal {
	d, err := money.ParseJSONNumber("test", json.Number(s))
	if err != nil {
		panic(err)
	}
	return d
}
