package money

import (
	"encoding/json"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// ITGLOBAL amounts (MaxDebt, AutoInvoiceAmount, invoice/payment/operation
// Amount) are JSON numbers ("number <double>") in currency units with at most
// two decimals ("Validates two characters after the dot"). Seed 002 samples:
//
//	"MaxDebt": 12.34
//	"AutoInvoiceAmount": 444
//	"Amount": 1234      (invoice; operation)
//	"Amount": 556       (payment)
//	"Amount": 20.21     (payment)
//
// The currency is implicit (RUB/KZT/BYN from the company's country); all
// three have two decimals. Integral values are written without a fraction,
// as the .NET serializer behind the API writes doubles: 1234, not 1234.00.

// itglobalMaxPlaces is the vendor's two-decimals rule.
const itglobalMaxPlaces = 2

func itglobalPlaces(cur Currency) int32 { return min(itglobalMaxPlaces, cur.Exponent()) }

// ParseITGlobal parses an ITGLOBAL amount into an Amount of cur. It rejects:
// text that is not an RFC 8259 number (NaN, Infinity, "+1", "1.", hex…);
// more than 2 decimals (or more than cur has); an exponent form is accepted
// only when the value it denotes is exact within those decimals ("1.234e1" =
// 12.34 is fine, "1e-3" is not); signs not allowed by sign (operations are
// Positive); values beyond int64 minor units.
func ParseITGlobal(field string, n json.Number, cur Currency, sign Sign) (Amount, error) {
	return parseMinor(field, string(n), grammarJSON, cur, itglobalPlaces(cur), sign)
}

// FormatITGlobal writes a as ITGLOBAL does: the shortest exact decimal, no
// trailing zeros, no exponent (NewAmount(123400, RUB) → 1234,
// NewAmount(1234, RUB) → 12.34, NewAmount(2021, RUB) → 20.21). An amount with
// a non-zero digit beyond 2 decimals (possible only for 3-decimal currencies)
// is an error, because ITGLOBAL clients would reject it.
func FormatITGlobal(a Amount) (json.Number, error) {
	if !a.cur.Valid() {
		return "", errs.New(errs.KindInternal, "money: format of amount without currency")
	}
	d := a.Decimal()
	if !fitsPlaces(d, itglobalPlaces(a.cur)) {
		return "", errs.Newf(errs.KindInternal, "money: %s has more than %d decimals for ITGLOBAL", a, itglobalMaxPlaces)
	}
	return FormatJSONNumberShortest(d), nil
}
