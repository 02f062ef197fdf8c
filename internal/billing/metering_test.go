package billing_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The invoice run on metering's real hourly usage: a VM metered hour by
// hour through February with a configuration change in the middle, and a
// disk. The invoice's records are metering's lines, its totals money.Totals
// of them with the account's credit, and the ledger balances.
func TestInvoiceFromHourlyMetering(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		st := sqlstore.New(d)
		prices := pricing.NewService(sqlstore.Pricing{Store: st}, f.clock)
		must(t, prices.EnsureDefault(ctx))
		meter := metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, prices, f.clock)
		f.svc = billing.NewService(sqlstore.Billing{Store: st}, f.ledger, f.clock, billing.Config{Usage: meter})
		a := f.account(20, 10, 200)

		disk := int64(20)
		small := pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: &disk, Status: "running"}
		big := small
		big.CPUs, big.RAMMB = 4, 4096
		sys := actor.System("test")
		hours := int(feb.AddDate(0, 1, 0).Sub(feb) / time.Hour)
		for h := range hours {
			start := feb.Add(time.Duration(h) * time.Hour)
			f.clock.Set(start.Add(30 * time.Minute))
			cfg := small
			if h >= hours/2 {
				cfg = big
			}
			_, err := meter.RecordBatch(ctx, sys, []metering.RecordInput{
				{ResourceID: "vm-1", Meter: pricing.MeterVM, PeriodStart: start, BillingAccountID: a.ID, LocationSlug: "tll",
					OwnerUUID: "f80b1d62-ffe4-43ef-9210-60f05445456a", UserID: 8, Config: cfg, Quantity: money.DecimalFromInt(1)},
				{ResourceID: "disk-1", Meter: pricing.MeterDisk, PeriodStart: start, BillingAccountID: a.ID, LocationSlug: "tll",
					UserID: 8, Config: pricing.Config{Name: "data", SizeGB: 100}, Quantity: money.DecimalFromInt(1)},
			})
			must(t, err)
		}
		// Mid-month view: running totals come from the same lines.
		lines, err := meter.Lines(ctx, a.ID, feb, feb.AddDate(0, 1, 0))
		must(t, err)
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3 (two VM configurations and the disk)", len(lines))
		}
		closeAt := feb.AddDate(0, 1, 0).Add(metering.CloseGrace)
		f.clock.Set(closeAt)
		n, err := f.svc.IssueInvoices(ctx, closeAt, nil)
		must(t, err)
		if n != 1 {
			t.Fatalf("issued %d", n)
		}
		list, err := f.svc.ListInvoices(ctx, f.cust, a.ID)
		must(t, err)
		inv := list[0]
		var amounts []money.Decimal
		for i, l := range lines {
			r := inv.Records[i]
			if r.Name != l.Description || !r.Qty.Equal(l.Quantity) || !r.ItemPrice.Equal(l.UnitPrice) || !r.Amount.Equal(l.Amount) {
				t.Fatalf("record %d %+v from line %+v", i, r, l)
			}
			if !l.Quantity.Equal(money.DecimalFromInt(int64(hours/2))) && !l.Quantity.Equal(money.DecimalFromInt(int64(hours))) {
				t.Fatalf("line %d has %s hours", i, l.Quantity)
			}
			amounts = append(amounts, l.Amount)
		}
		noCredit, err := money.Totals(amounts, money.DecimalFromInt(10), money.DecimalFromInt(20), money.Zero(money.EUR))
		must(t, err)
		applied := min(int64(200), noCredit.Subtotal.Minor()-noCredit.Discount.Minor())
		want, err := money.Totals(amounts, money.DecimalFromInt(10), money.DecimalFromInt(20), money.NewAmount(-applied, money.EUR))
		must(t, err)
		if inv.Subtotal != want.Subtotal.Minor() || inv.Discount != want.Discount.Minor() || inv.Credit != -applied ||
			inv.VAT != want.VAT.Minor() || inv.Total != want.Total.Minor() || inv.Total <= 0 {
			t.Fatalf("totals %+v, want %+v with credit %d", inv, want, applied)
		}
		bal := f.balances(a.ID)
		if bal[ledger.KindReceivables] != -inv.Total || bal[ledger.KindCredit] != 200-applied || bal[ledger.KindVATPayable] != inv.VAT {
			t.Fatalf("balances %v", bal)
		}
		f.trialBalanceZero()
	})
}
