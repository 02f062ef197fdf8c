package billing_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/billing"
)

func TestPaddedID(t *testing.T) {
	t.Parallel()
	for id, want := range map[int64]string{1: "001", 6: "006", 99: "099", 999: "999", 1000: "001000",
		3782543: "003782543", 123456789: "123456789", 1234567890: "001234567890"} {
		if got := billing.PaddedID(id); got != want {
			t.Errorf("PaddedID(%d) = %q, want %q", id, got, want)
		}
	}
	if got := (billing.Invoice{ID: 6}).PaddedID(); got != "006" {
		t.Errorf("Invoice.PaddedID = %q", got)
	}
}

func TestLedgerOwner(t *testing.T) {
	t.Parallel()
	if got := billing.LedgerOwner(6); got != "billing_account:6" {
		t.Fatalf("LedgerOwner(6) = %q", got)
	}
}

func TestInvoiceUnpaid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		inv  billing.Invoice
		want int64
	}{
		{billing.Invoice{Status: billing.StatusUnpaid, Total: 121}, 121},
		{billing.Invoice{Status: billing.StatusUnpaid, Total: 121, PaidAmount: 100}, 21},
		{billing.Invoice{Status: billing.StatusPaid, Total: 121, PaidAmount: 121}, 0},
	} {
		if got := c.inv.Unpaid(); got != c.want {
			t.Errorf("%+v: unpaid %d, want %d", c.inv, got, c.want)
		}
	}
}

func TestAccountDataValidate(t *testing.T) {
	t.Parallel()
	ok := []billing.AccountData{{}, {Email: "user@example.com", Country: "EE", City: "Küla"}}
	for _, d := range ok {
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	for field, d := range map[string]billing.AccountData{
		"email":   {Email: "a b@example.com"},
		"country": {Country: "ee"},
		"title":   {Title: "\xff"},
		"city":    {City: "a\x00b"},
	} {
		err := d.Validate()
		if err == nil {
			t.Errorf("%+v accepted", d)
			continue
		}
		if got := errsField(err); got != field {
			t.Errorf("%+v: field %q, want %q", d, got, field)
		}
	}
}
