package billing_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

func TestAdmission(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 0, 0)
		b := f.account(20, 0, 0)
		run := func(id int64, required bool, restrictedTo int64) (billing.Account, error) {
			who := f.cust
			who.BillingAccount = restrictedTo
			var got billing.Account
			err := sqlstore.Billing{Store: f.st}.Tx(ctx, func(tx billing.Store) error {
				var err error
				got, err = f.svc.AdmitTx(ctx, tx, who, id, required)
				return err
			})
			return got, err
		}
		// Resolution: 0 = default unless required with a global token.
		if got, err := run(0, false, 0); err != nil || got.ID != a.ID {
			t.Fatalf("default: %d, %v", got.ID, err)
		}
		if _, err := run(0, true, 0); errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != "billing_account_id" {
			t.Fatalf("required with a global token: %v", err)
		}
		if got, err := run(0, true, b.ID); err != nil || got.ID != b.ID {
			t.Fatalf("restricted token: %d, %v", got.ID, err)
		}
		if _, err := run(a.ID, false, b.ID); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("restricted token naming another account: %v", err)
		}
		if _, err := run(999, false, 0); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("unknown account: %v", err)
		}

		// Below the floor: an unpaid invoice and no credit.
		f.usage.add(a.ID, feb, line("vm, 2 CPUs", "0.5", "10"))
		if _, _, err := f.svc.IssueInvoice(ctx, a.ID, feb, closeFeb); err != nil {
			t.Fatal(err)
		}
		_, err := run(a.ID, false, 0)
		if errs.KindOf(err) != errs.KindPrecondition || errs.FieldOf(err) != "billing_account_id" {
			t.Fatalf("unpaid invoice: %v", err)
		}
		if err := (sqlstore.Billing{Store: f.st}).Tx(ctx, func(tx billing.Store) error {
			return f.svc.CheckAdmissionTx(ctx, tx, a.ID)
		}); errs.KindOf(err) != errs.KindPrecondition {
			t.Fatalf("CheckAdmissionTx: %v", err)
		}
		// allow_debt with a cap above the debt admits; a lower cap does not.
		yes, capped := true, int64(100_000)
		if _, err := f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{AllowDebt: &yes, MaxDebt: &capped}); err != nil {
			t.Fatal(err)
		}
		if _, err := run(a.ID, false, 0); err != nil {
			t.Fatalf("within max_debt: %v", err)
		}
		low := int64(1)
		if _, err := f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{MaxDebt: &low}); err != nil {
			t.Fatal(err)
		}
		if _, err := run(a.ID, false, 0); errs.KindOf(err) != errs.KindPrecondition {
			t.Fatalf("beyond max_debt: %v", err)
		}
		if _, err := f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{MaxDebt: &capped}); err != nil {
			t.Fatal(err)
		}
		// Dunning freezes the account once the invoice is past due.
		f.clock.Set(closeFeb.Add(30 * 24 * time.Hour))
		if frozen, _, err := f.svc.Dunning(ctx, f.clock.Now()); err != nil || frozen != 1 {
			t.Fatalf("dunning: %d, %v", frozen, err)
		}
		if _, err := run(a.ID, false, 0); errs.KindOf(err) != errs.KindPrecondition {
			t.Fatalf("frozen: %v", err)
		}
		// Inactive.
		no := false
		if _, err := f.svc.AdminUpdate(ctx, f.op, b.ID, billing.AdminInput{IsActive: &no}); err != nil {
			t.Fatal(err)
		}
		if _, err := run(b.ID, false, 0); errs.KindOf(err) != errs.KindPrecondition {
			t.Fatalf("inactive: %v", err)
		}
	})
}
