package money

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// InvoiceTotals are an invoice's totals, in the shape of idcloudhost's
// "totals" object (subtotal, discount_amount, credit, vat_tax, total).
// Discount is positive and subtracted; Credit is ≤ 0 and added.
type InvoiceTotals struct {
	Subtotal Amount
	Discount Amount
	Credit   Amount
	VAT      Amount
	Total    Amount
}

// Totals computes an invoice's totals from its line amounts (exact decimals,
// e.g. qty × item_price = 21 × 0.04187 = 0.87927), by the arithmetic every
// idcloudhost sample satisfies (seed inventory ID-amb-13):
//
//	subtotal = ceil to the minor unit of Σ lines
//	discount = round half up(subtotal × discountPct / 100)
//	vat      = round half up((subtotal − discount + credit) × vatPct / 100)
//	total    = subtotal − discount + credit + vat
//
// Lines are summed exactly and rounded once, so the subtotal never drifts
// from the items by more than the one ceiling (< 1 minor unit). The currency
// is credit's; pass Zero(cur) for no credit. Errors name the field at fault:
// a negative line, a percentage outside [0, 100], a positive credit, or a
// credit larger than the discounted subtotal (it would make VAT negative; the
// caller applies at most that much credit).
func Totals(lines []Decimal, discountPct, vatPct Decimal, credit Amount) (InvoiceTotals, error) {
	cur := credit.Currency()
	if !cur.Valid() {
		return InvoiceTotals{}, errs.Invalid("credit", "amount has no valid currency")
	}
	places := cur.Exponent()
	if credit.Sign() > 0 {
		return InvoiceTotals{}, errs.Invalid("credit", "must not be positive")
	}
	if err := checkPct("discount_percentage", discountPct); err != nil {
		return InvoiceTotals{}, err
	}
	if err := checkPct("vat_percentage", vatPct); err != nil {
		return InvoiceTotals{}, err
	}
	sum := Decimal{}
	for i, l := range lines {
		if l.Sign() < 0 {
			return InvoiceTotals{}, errs.Invalid("lines["+strconv.Itoa(i)+"]", "must not be negative")
		}
		sum = sum.Add(l)
	}
	subtotal, err := ToAmount(Ceil(sum, places), cur, ModeExact)
	if err != nil {
		return InvoiceTotals{}, err
	}
	// ×pct/100 is exact: Mul is exact and Shift(-2) divides by 100 exactly.
	discount, err := ToAmount(subtotal.Decimal().Mul(discountPct).Shift(-2), cur, ModeHalfUp)
	if err != nil {
		return InvoiceTotals{}, err
	}
	base, err := subtotal.Sub(discount)
	if err == nil {
		base, err = base.Add(credit)
	}
	if err != nil {
		return InvoiceTotals{}, err
	}
	if base.Sign() < 0 {
		return InvoiceTotals{}, errs.Invalid("credit", "exceeds the discounted subtotal")
	}
	vat, err := ToAmount(base.Decimal().Mul(vatPct).Shift(-2), cur, ModeHalfUp)
	if err != nil {
		return InvoiceTotals{}, err
	}
	total, err := base.Add(vat)
	if err != nil {
		return InvoiceTotals{}, err
	}
	return InvoiceTotals{Subtotal: subtotal, Discount: discount, Credit: credit, VAT: vat, Total: total}, nil
}

func checkPct(field string, p Decimal) error {
	if p.Sign() < 0 || p.GreaterThan(DecimalFromInt(100)) {
		return errs.Invalid(field, "must be between 0 and 100")
	}
	return nil
}
