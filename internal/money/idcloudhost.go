package money

import (
	"encoding/json"
	"strconv"
	"strings"
)

// idcloudhost is a Python service: its responses write money as Python
// floats, i.e. JSON numbers in Python's repr form, and its inputs take
// decimal strings in form data. Currency is EUR (transaction additional_data
// "currency": "EUR"). Seed 003 samples:
//
// Responses, account-level money and invoice totals (2 decimals, floats):
//
//	"credit_amount": 2.0, "amount": 17.0, "amount": -3.44, "amount": 10.0,
//	"message": 59.96 (unpaid_amount), "subtotal": 1.23, "vat_tax": 0.2,
//	"discount_amount": 0.0, "total": 1.21, "amount_used": 10.0
//
// Responses, rates per hour (up to 6 decimals; exponent below 1e-4):
//
//	"item_price": 0.02882, "amount": 0.87927, "price": 0.001645,
//	"price": 0.0001, "price": 3.42e-05, "cost": 0.08646
//
// FormatIDCHFloat reproduces every value above exactly. A few sample values
// are integers instead ("recurring_payment_amount": 52, running_totals
// "subtotal": 0, "unpaid_amount": 0) and one is hand-written ("credit":
// -0.10, which no Python float prints); FormatJSONNumber(d, 0) and
// FormatJSONNumber(d, 2) reproduce those when a field needs them.
//
// Inputs (form data, "Decimal number"):
//
//	-d "amount=100.00"  (credit/buy, credit/request_invoice)
//	-d "amount=10"      (pay_amount)
//
// parsed by ParseIDCHFormAmount and written by FormatIDCHFormAmount ("100.00").

// FormatIDCHFloat writes d as Python's repr(float(d)) would, for any d with
// at most 15 significant digits (every idcloudhost value): integral values get
// ".0" (2.0, 0.0), the exponent form is used when the value is below 1e-4 or
// at least 1e16 (3.42e-05, 1e+16) with a sign and at least two exponent
// digits, and otherwise the plain shortest decimal (0.0001, 0.02882, -3.44).
// The text is built from d's digits, never via float64, so it is exact; a
// float-parsing client sees the double nearest to d, as with the vendor.
func FormatIDCHFloat(d Decimal) json.Number {
	if d.IsZero() {
		return "0.0"
	}
	coef := d.Coefficient() // a copy
	neg := coef.Sign() < 0
	coef.Abs(coef)
	digits := coef.String()
	exp := int(d.Exponent())
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	n := len(digits)
	// decpt is the position of the decimal point relative to the first
	// digit, as in CPython's float_repr: value = 0.DIGITS × 10^decpt.
	decpt := n + exp
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case decpt <= -4 || decpt > 16:
		b.WriteByte(digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		e := decpt - 1
		b.WriteByte('e')
		if e < 0 {
			b.WriteByte('-')
			e = -e
		} else {
			b.WriteByte('+')
		}
		if e < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(e))
	case decpt <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -decpt))
		b.WriteString(digits)
	case decpt >= n:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", decpt-n))
		b.WriteString(".0")
	default:
		b.WriteString(digits[:decpt])
		b.WriteByte('.')
		b.WriteString(digits[decpt:])
	}
	return json.Number(b.String())
}

// FormatIDCHMoney writes a ledger amount as idcloudhost does: a Python float
// (NewAmount(200, EUR) → 2.0, NewAmount(-344, EUR) → -3.44, NewAmount(20,
// EUR) → 0.2).
func FormatIDCHMoney(a Amount) json.Number { return FormatIDCHFloat(a.Decimal()) }

// ParseIDCHMoney parses an idcloudhost response money value (2.0, -3.44,
// 52, 0.2) into an Amount of cur; more decimals than cur has is an error
// (totals and balances are always whole cents), as is a sign not allowed.
func ParseIDCHMoney(field string, n json.Number, cur Currency, sign Sign) (Amount, error) {
	return parseMinor(field, string(n), grammarJSON, cur, cur.Exponent(), sign)
}

// ParseIDCHFormAmount parses an idcloudhost form-data amount ("100.00",
// "10") into an Amount of cur: a plain decimal string with at most cur's
// decimals, no exponent, no '+', no spaces, signs as allowed by sign (top-ups
// and payments are Positive).
func ParseIDCHFormAmount(field, s string, cur Currency, sign Sign) (Amount, error) {
	return parseMinor(field, s, grammarPlain, cur, cur.Exponent(), sign)
}

// FormatIDCHFormAmount writes a as the form-data samples do, with all of the
// currency's decimals: NewAmount(10000, EUR) → "100.00".
func FormatIDCHFormAmount(a Amount) string {
	return a.Decimal().StringFixed(a.cur.Exponent())
}
