package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// resellerProject inserts an account with its personal project (billing
// account and ledger accounts included) for partner p.
func (s *suite) resellerProject(t *testing.T, p tenancy.Org, email string) (reseller.Account, reseller.Project) {
	t.Helper()
	now := db.Micro(t0)
	ba := s.billingAccount(t, p, 0)
	la := func(kind ledger.Kind, floor ledger.Floor) string {
		a, _, err := s.st.EnsureLedgerAccount(s.ctx, ledger.Account{ID: ids.New(), Owner: billing.LedgerOwner(ba.ID),
			Kind: kind, Currency: "EUR", Floor: floor, CreatedAt: now, UpdatedAt: now})
		must(t, err)
		return a.ID
	}
	acct := reseller.Account{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Email: email, State: reseller.StateActive,
		AdditionalData: json.RawMessage(`{"a":1}`), PersonalProjectID: ba.ID, CreatedAt: now, UpdatedAt: now, ActivatedAt: &now}
	must(t, s.st.InsertResellerAccount(s.ctx, acct))
	proj := reseller.Project{ID: ba.ID, PartnerID: p.ID, PartnerPath: p.Path, Name: email, OwnerAccountID: acct.ID,
		Members: []string{acct.ID}, Currency: "EUR", MoneyAccount: la(ledger.KindBalance, ledger.NoFloor()),
		BonusAccount: la(ledger.KindCredit, ledger.AtLeast(0)), CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertResellerProject(s.ctx, proj))
	return acct, proj
}

// reseller exercises the reseller core's store methods (the service's
// rules and races are tested in internal/reseller).
func (s *suite) reseller(t *testing.T) {
	s.cover("GetResellerSettings", "UpsertResellerSettings", "InsertResellerKey", "GetResellerKeyByHash",
		"ListResellerKeys", "RevokeResellerKey", "TouchResellerKey", "InsertResellerAccount", "GetResellerAccount",
		"GetResellerAccountBySimpleOneUser", "ListResellerAccounts", "UpdateResellerAccount", "InsertResellerProject",
		"GetResellerProject", "LockResellerProject", "ListResellerProjects", "UpdateResellerProject",
		"AddResellerProjectMember", "RemoveResellerProjectMember", "InsertResellerCompany", "GetResellerCompany",
		"ListResellerCompanies", "UpdateResellerCompany", "DeactivateResellerCompanies", "InsertResellerInvoice",
		"GetResellerInvoice", "ListResellerInvoices", "PayResellerInvoice", "InsertResellerPayment",
		"GetResellerPayment", "ListResellerPayments", "InsertResellerOperation", "GetResellerOperationByKey",
		"ListResellerOperations", "AddResellerIntake", "ResellerIntake")
	now := db.Micro(t0)
	_, _, p, _ := s.tree(t)
	_, _, other, _ := s.tree(t)

	// Settings.
	_, err := s.st.GetResellerSettings(s.ctx, p.ID)
	wantKind(t, err, errs.KindNotFound)
	st := reseller.Settings{PartnerID: p.ID, Features: []string{reseller.FeatureSimpleOneSupport}, Currency: "KZT", UpdatedAt: now}
	must(t, s.st.UpsertResellerSettings(s.ctx, st))
	st.Features, st.Currency = []string{}, "RUB"
	must(t, s.st.UpsertResellerSettings(s.ctx, st))
	gotSt, err := s.st.GetResellerSettings(s.ctx, p.ID)
	must(t, err)
	if d := cmp.Diff(st, gotSt); d != "" {
		t.Fatalf("settings round trip (-want +got):\n%s", d)
	}
	for _, v := range []int64{reseller.Unlimited, 0, 1 << 40} {
		st.MonthlyLimit = &v
		must(t, s.st.UpsertResellerSettings(s.ctx, st))
		gotSt, err = s.st.GetResellerSettings(s.ctx, p.ID)
		must(t, err)
		if gotSt.MonthlyLimit == nil || *gotSt.MonthlyLimit != v {
			t.Fatalf("monthly limit %d read back as %v", v, gotSt.MonthlyLimit)
		}
	}

	// Monthly intake: added while within the limit (checked on insert and
	// on update), per partner, month and currency.
	intake := func(partner, month, cur string, amount, limit int64, want bool) {
		t.Helper()
		ok, err := s.st.AddResellerIntake(s.ctx, partner, month, cur, amount, limit)
		must(t, err)
		if ok != want {
			t.Fatalf("intake %s %s %s +%d (limit %d): %t, want %t", partner, month, cur, amount, limit, ok, want)
		}
	}
	intake(p.ID, "2026-03", "RUB", 11, 10, false)
	intake(p.ID, "2026-03", "RUB", 6, 10, true)
	intake(p.ID, "2026-03", "RUB", 5, 10, false)
	intake(p.ID, "2026-03", "RUB", 4, 10, true)
	intake(p.ID, "2026-03", "RUB", 1<<50, reseller.Unlimited, true)
	intake(p.ID, "2026-03", "KZT", 10, 10, true)
	intake(p.ID, "2026-04", "RUB", 10, 10, true)
	intake(other.ID, "2026-03", "RUB", 10, 10, true)
	for _, c := range []struct {
		partner, month, cur string
		want                int64
	}{{p.ID, "2026-03", "RUB", 10 + 1<<50}, {p.ID, "2026-03", "KZT", 10}, {p.ID, "2026-05", "RUB", 0}} {
		n, err := s.st.ResellerIntake(s.ctx, c.partner, c.month, c.cur)
		must(t, err)
		if n != c.want {
			t.Fatalf("intake %+v: %d", c, n)
		}
	}

	// Keys.
	k := reseller.Key{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Role: reseller.RoleFinance, Name: "fin",
		Prefix: "itg_abcd", Hash: ids.New(), CreatedAt: now}
	must(t, s.st.InsertResellerKey(s.ctx, k))
	wantKind(t, s.st.InsertResellerKey(s.ctx, reseller.Key{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path,
		Role: reseller.RoleUser, Name: "dup", Hash: k.Hash, CreatedAt: now}), errs.KindConflict)
	gotK, err := s.st.GetResellerKeyByHash(s.ctx, k.Hash)
	must(t, err)
	if d := cmp.Diff(k, gotK); d != "" {
		t.Fatalf("key round trip (-want +got):\n%s", d)
	}
	must(t, s.st.TouchResellerKey(s.ctx, k.ID, now.Add(time.Minute)))
	_, err = s.st.RevokeResellerKey(s.ctx, other.ID, k.ID, now)
	wantKind(t, err, errs.KindNotFound)
	ok, err := s.st.RevokeResellerKey(s.ctx, p.ID, k.ID, now)
	must(t, err)
	again, err := s.st.RevokeResellerKey(s.ctx, p.ID, k.ID, now)
	must(t, err)
	keys, err := s.st.ListResellerKeys(s.ctx, p.ID)
	must(t, err)
	if !ok || again || len(keys) != 1 || keys[0].RevokedAt == nil || keys[0].LastUsedAt == nil ||
		!keys[0].LastUsedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("revoke %v/%v, keys %+v", ok, again, keys)
	}

	// Accounts and projects.
	acct, proj := s.resellerProject(t, p, "Jack.Brown@example.com")
	acct2, proj2 := s.resellerProject(t, p, "jill@example.com")
	oacct, oproj := s.resellerProject(t, other, "jack@other.example")
	gotA, err := s.st.GetResellerAccount(s.ctx, p.Path, acct.ID)
	must(t, err)
	if d := cmp.Diff(acct, gotA); d != "" {
		t.Fatalf("account round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetResellerAccount(s.ctx, p.Path, oacct.ID)
	wantKind(t, err, errs.KindNotFound)
	// The SimpleOne user id is written at insert only; make one.
	so := reseller.Account{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Email: "so@example.com",
		State: reseller.StateActive, AdditionalData: json.RawMessage(`{}`), SimpleOne: true, SimpleOneUserID: "168",
		SimpleOneCompanyID: "99", InternalRole: true, PersonalProjectID: proj2.ID, CreatedAt: now.Add(time.Second),
		UpdatedAt: now.Add(time.Second)}
	must(t, s.st.InsertResellerAccount(s.ctx, so))
	dup := so
	dup.ID = ids.New()
	wantKind(t, s.st.InsertResellerAccount(s.ctx, dup), errs.KindConflict) // one live account per SimpleOne user
	gotSO, err := s.st.GetResellerAccountBySimpleOneUser(s.ctx, p.ID, "168")
	must(t, err)
	if gotSO.ID != so.ID {
		t.Fatalf("by SimpleOne user: %+v", gotSO)
	}
	_, err = s.st.GetResellerAccountBySimpleOneUser(s.ctx, other.ID, "168")
	wantKind(t, err, errs.KindNotFound)
	yes, no := true, false
	for _, c := range []struct {
		q    reseller.AccountQuery
		want int
	}{
		{reseller.AccountQuery{}, 3},
		{reseller.AccountQuery{EmailContains: "JACK"}, 1},
		{reseller.AccountQuery{EmailContains: "%"}, 0},
		{reseller.AccountQuery{InternalOnly: true}, 1},
		{reseller.AccountQuery{SimpleOne: &yes}, 1},
		{reseller.AccountQuery{SimpleOne: &no}, 2},
		{reseller.AccountQuery{PartnerID: other.ID}, 0},
	} {
		list, err := s.st.ListResellerAccounts(s.ctx, p.Path, c.q)
		must(t, err)
		if len(list) != c.want {
			t.Fatalf("ListResellerAccounts(%+v) = %d accounts, want %d", c.q, len(list), c.want)
		}
	}
	so.DeletedAt, so.UpdatedAt, so.SimpleOneCompanyID = &now, now, "100"
	must(t, s.st.UpdateResellerAccount(s.ctx, so))
	_, err = s.st.GetResellerAccount(s.ctx, p.Path, so.ID)
	wantKind(t, err, errs.KindNotFound)
	must(t, s.st.InsertResellerAccount(s.ctx, dup)) // the deleted one no longer holds the user id
	wantKind(t, s.st.UpdateResellerAccount(s.ctx, reseller.Account{ID: ids.New()}), errs.KindNotFound)

	gotP, err := s.st.GetResellerProject(s.ctx, p.Path, proj.ID)
	must(t, err)
	if d := cmp.Diff(proj, gotP); d != "" {
		t.Fatalf("project round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetResellerProject(s.ctx, p.Path, oproj.ID)
	wantKind(t, err, errs.KindNotFound)
	added, err := s.st.AddResellerProjectMember(s.ctx, proj.ID, acct2.ID, now.Add(time.Second))
	must(t, err)
	addedAgain, err := s.st.AddResellerProjectMember(s.ctx, proj.ID, acct2.ID, now)
	must(t, err)
	in, err := s.st.ListResellerProjects(s.ctx, p.Path, acct2.ID)
	must(t, err)
	all, err := s.st.ListResellerProjects(s.ctx, p.Path, "")
	must(t, err)
	if !added || addedAgain || len(in) != 2 || len(all) != 2 || len(in[0].Members) != 2 || in[0].Members[0] != acct.ID {
		t.Fatalf("members: %v %v %+v", added, addedAgain, in)
	}
	removed, err := s.st.RemoveResellerProjectMember(s.ctx, proj.ID, acct2.ID)
	must(t, err)
	removedAgain, err := s.st.RemoveResellerProjectMember(s.ctx, proj.ID, acct2.ID)
	must(t, err)
	if !removed || removedAgain {
		t.Fatalf("remove member %v %v", removed, removedAgain)
	}
	err = sqlstore.Reseller{Store: s.st}.Tx(s.ctx, func(tx reseller.Store) error {
		lp, err := tx.LockResellerProject(s.ctx, proj.ID)
		if err != nil {
			return err
		}
		lp.IsPostPaid, lp.MaxDebt, lp.BlockedAt, lp.SimpleOneCompanyID, lp.UpdatedAt = true, 1234, &now, "77", now.Add(time.Hour)
		return tx.UpdateResellerProject(s.ctx, lp)
	})
	must(t, err)
	gotP, err = s.st.GetResellerProject(s.ctx, p.Path, proj.ID)
	must(t, err)
	if !gotP.IsPostPaid || gotP.MaxDebt != 1234 || !gotP.Blocked || gotP.SimpleOneCompanyID != "77" {
		t.Fatalf("UpdateResellerProject: %+v", gotP)
	}
	_, err = s.st.LockResellerProject(s.ctx, 1<<40)
	wantKind(t, err, errs.KindNotFound)

	// Companies.
	co := reseller.Company{ID: 1, ProjectID: proj.ID, PartnerID: p.ID, PartnerPath: p.Path, State: reseller.CompanyActive,
		CountryTwoLetterCode: "RU", INN: "7838413489", CompanyName: "ИТГЛОБАЛКОМ", LegalAddress: "a", ActualAddress: "b",
		KPP: "784101001", AutoInvoiceAmount: 44400, TypeAutoInvoiceGeneration: "StartOfMonth", AgreementNumber: "1311/544",
		AgreementDate: now, CanUserEditCompanyData: true, FinanceEmail: "f@example.com", DocDeliveryPeriod: "Monthly",
		PartnerCompanyID: 1, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertResellerCompany(s.ctx, co))
	co2 := co
	co2.ID = 2
	wantKind(t, s.st.InsertResellerCompany(s.ctx, co2), errs.KindConflict) // a second Active company
	n, err := s.st.DeactivateResellerCompanies(s.ctx, proj.ID, now)
	must(t, err)
	must(t, s.st.InsertResellerCompany(s.ctx, co2))
	gotC, err := s.st.GetResellerCompany(s.ctx, p.Path, proj.ID, co2.ID)
	must(t, err)
	if d := cmp.Diff(co2, gotC); d != "" || n != 1 {
		t.Fatalf("company round trip (n=%d) (-want +got):\n%s", n, d)
	}
	_, err = s.st.GetResellerCompany(s.ctx, p.Path, proj2.ID, co2.ID)
	wantKind(t, err, errs.KindNotFound)
	co2.CompanyName, co2.Bik, co2.UpdatedAt = "Renamed", "044030790", now.Add(time.Hour)
	must(t, s.st.UpdateResellerCompany(s.ctx, co2))
	cs, err := s.st.ListResellerCompanies(s.ctx, p.Path, proj.ID)
	must(t, err)
	if len(cs) != 2 || cs[0].State != reseller.CompanyInActive || cs[1].CompanyName != "Renamed" {
		t.Fatalf("companies: %+v", cs)
	}
	wantKind(t, s.st.UpdateResellerCompany(s.ctx, reseller.Company{ID: 999}), errs.KindNotFound)

	// Invoices.
	inv := reseller.Invoice{Number: "1", PartnerID: p.ID, PartnerPath: p.Path, ProjectID: proj.ID, CompanyID: co2.ID,
		State: reseller.InvoiceNew, Currency: "RUB", Amount: 1200, VATRate: 20, VAT: 200, Net: 1000, CreatedAt: now}
	must(t, s.st.InsertResellerInvoice(s.ctx, inv))
	wantKind(t, s.st.InsertResellerInvoice(s.ctx, inv), errs.KindConflict)
	gotI, err := s.st.GetResellerInvoice(s.ctx, p.Path, p.ID, "1")
	must(t, err)
	if d := cmp.Diff(inv, gotI); d != "" {
		t.Fatalf("invoice round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetResellerInvoice(s.ctx, p.Path, p.ID, "01")
	wantKind(t, err, errs.KindNotFound)
	part, paid, err := s.st.PayResellerInvoice(s.ctx, p.ID, "1", 1000, now)
	must(t, err)
	full, paid2, err := s.st.PayResellerInvoice(s.ctx, p.ID, "1", 200, now)
	must(t, err)
	if paid || part.State != reseller.InvoiceNew || !paid2 || full.State != reseller.InvoicePaid || full.PaidAmount != 1200 {
		t.Fatalf("PayResellerInvoice: %+v %v / %+v %v", part, paid, full, paid2)
	}
	invs, err := s.st.ListResellerInvoices(s.ctx, p.Path, proj.ID, co2.ID)
	must(t, err)
	if len(invs) != 1 || invs[0].PaidAt == nil {
		t.Fatalf("invoices: %+v", invs)
	}

	// Payments and operations (the ledger transaction they point at).
	ltx := ledger.Transaction{ID: ids.New(), IdempotencyKey: ids.New(), RequestHash: "h", Description: "d", CreatedAt: now}
	_, err = s.st.InsertLedgerTransaction(s.ctx, ltx)
	must(t, err)
	pay := reseller.Payment{ID: 1, PartnerID: p.ID, PartnerPath: p.Path, Kind: reseller.PaymentBank, Number: "N1",
		TIN: "7838413489", InvoiceNumber: "1", CompanyID: co2.ID, ProjectID: proj.ID, Currency: "EUR", Amount: 1200,
		RequestHash: "abc", InvoicePaid: true, CreatedAt: now, LedgerTxID: ltx.ID}
	ins, err := s.st.InsertResellerPayment(s.ctx, pay)
	must(t, err)
	pay2 := pay
	pay2.ID = 2
	insAgain, err := s.st.InsertResellerPayment(s.ctx, pay2)
	must(t, err)
	pay3 := pay2
	pay3.Kind = reseller.PaymentOnline // the same number of another kind is another payment
	ins3, err := s.st.InsertResellerPayment(s.ctx, pay3)
	must(t, err)
	if !ins || insAgain || !ins3 {
		t.Fatalf("InsertResellerPayment: %v %v %v", ins, insAgain, ins3)
	}
	gotPay, err := s.st.GetResellerPayment(s.ctx, p.ID, reseller.PaymentBank, "N1")
	must(t, err)
	if d := cmp.Diff(pay, gotPay); d != "" {
		t.Fatalf("payment round trip (-want +got):\n%s", d)
	}
	pays, err := s.st.ListResellerPayments(s.ctx, p.Path)
	must(t, err)
	opays, err := s.st.ListResellerPayments(s.ctx, other.Path)
	must(t, err)
	if len(pays) != 2 || len(opays) != 0 {
		t.Fatalf("payments %d / %d", len(pays), len(opays))
	}

	op := reseller.Operation{ID: 1, PartnerID: p.ID, PartnerPath: p.Path, ProjectID: proj.ID, Type: reseller.OpCharge,
		Currency: "EUR", Money: -100, Bonus: -20, Description: "day", Reference: "order 1", CreatedAt: now,
		LedgerTxID: ltx.ID, Key: "reseller:charge:1:x"}
	must(t, s.st.InsertResellerOperation(s.ctx, op))
	dupOp := op
	dupOp.ID = 2
	wantKind(t, s.st.InsertResellerOperation(s.ctx, dupOp), errs.KindConflict)
	for i := int64(3); i <= 4; i++ { // unkeyed operations do not collide
		must(t, s.st.InsertResellerOperation(s.ctx, reseller.Operation{ID: i, PartnerID: p.ID, PartnerPath: p.Path,
			ProjectID: proj2.ID, Type: reseller.OpBonusPlus, Currency: "EUR", Bonus: 5, CreatedAt: now.Add(time.Duration(i) * time.Hour),
			LedgerTxID: ltx.ID}))
	}
	gotOp, err := s.st.GetResellerOperationByKey(s.ctx, op.Key)
	must(t, err)
	if d := cmp.Diff(op, gotOp); d != "" {
		t.Fatalf("operation round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetResellerOperationByKey(s.ctx, "")
	wantKind(t, err, errs.KindNotFound)
	for _, c := range []struct {
		project  int64
		from, to time.Time
		want     int
	}{
		{0, now, now.Add(5 * time.Hour), 3},
		{proj.ID, now, now.Add(5 * time.Hour), 1},
		{proj2.ID, now, now.Add(4 * time.Hour), 1}, // the upper bound is exclusive
		{0, now.Add(time.Microsecond), now.Add(5 * time.Hour), 2},
	} {
		ops, err := s.st.ListResellerOperations(s.ctx, p.Path, c.project, c.from, c.to)
		must(t, err)
		if len(ops) != c.want {
			t.Fatalf("ListResellerOperations(%d, %v, %v) = %d, want %d", c.project, c.from, c.to, len(ops), c.want)
		}
	}
	ops, err := s.st.ListResellerOperations(s.ctx, other.Path, 0, now, now.Add(5*time.Hour))
	must(t, err)
	if len(ops) != 0 {
		t.Fatalf("other partner sees %d operations", len(ops))
	}
}
