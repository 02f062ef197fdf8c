package money

import (
	"math/big"

	"github.com/shopspring/decimal"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Decimal is an exact, arbitrary-precision decimal (shopspring/decimal
// v1.6.0) for prices, rates, quantities and percentages. It is an alias, not
// a wrapper, so the library's arithmetic (Add, Sub, Mul, Cmp, Shift…) is
// available as is. Two rules keep it exact:
//
//   - never divide with Div (it rounds to the library's global
//     DivisionPrecision); divide by powers of ten with Shift, or use DivRound
//     with an explicit precision;
//   - never marshal it with its own MarshalJSON (a quoted string, switchable
//     by a library global); use the dialect formatters of this package.
type Decimal = decimal.Decimal

func newDecimal(coef int64, exp int32) Decimal { return decimal.New(coef, exp) }

// DecimalFromInt returns n as a Decimal.
func DecimalFromInt(n int64) Decimal { return decimal.NewFromInt(n) }

// DecimalFromBig returns coef × 10^exp, e.g. for values rebuilt from storage.
func DecimalFromBig(coef *big.Int, exp int32) Decimal { return decimal.NewFromBigInt(coef, exp) }

// RoundingMode says how a value with more digits than wanted is brought to
// the wanted number of decimal places. Every conversion that can lose digits
// takes one explicitly, so rounding is a visible decision at the call site.
type RoundingMode uint8

const (
	// ModeExact refuses to round: a value with more digits is an error. It
	// is the zero value so a forgotten mode fails loudly instead of rounding.
	ModeExact RoundingMode = iota
	// ModeHalfUp rounds to nearest, ties away from zero (1.225 → 1.23,
	// −1.225 → −1.23): commercial rounding, and Python's ROUND_HALF_UP, which
	// the idcloudhost invoice samples use for discount and VAT.
	ModeHalfUp
	// ModeCeil rounds toward +∞ (1.22231 → 1.23): the idcloudhost invoice
	// subtotal (ID-amb-13).
	ModeCeil
	// ModeFloor rounds toward −∞.
	ModeFloor
)

func (m RoundingMode) String() string {
	switch m {
	case ModeExact:
		return "exact"
	case ModeHalfUp:
		return "half-up"
	case ModeCeil:
		return "ceil"
	case ModeFloor:
		return "floor"
	}
	return "invalid"
}

// RoundHalfUp rounds d to places decimals, ties away from zero.
func RoundHalfUp(d Decimal, places int32) Decimal { return d.Round(places) }

// Ceil rounds d up (toward +∞) to places decimals; Ceil(d, 2) is
// "ceil to cent".
func Ceil(d Decimal, places int32) Decimal { return d.RoundCeil(places) }

// Floor rounds d down (toward −∞) to places decimals.
func Floor(d Decimal, places int32) Decimal { return d.RoundFloor(places) }

// Round rounds d to places decimals with mode. With ModeExact it returns d
// unchanged if d already fits in places, and an error otherwise.
func Round(d Decimal, places int32, mode RoundingMode) (Decimal, error) {
	switch mode {
	case ModeExact:
		if !fitsPlaces(d, places) {
			return Decimal{}, errs.Invalidf("", "%s has more than %d decimals", d.String(), places)
		}
		return d, nil
	case ModeHalfUp:
		return RoundHalfUp(d, places), nil
	case ModeCeil:
		return Ceil(d, places), nil
	case ModeFloor:
		return Floor(d, places), nil
	}
	return Decimal{}, errs.Newf(errs.KindInternal, "money: invalid rounding mode %d", mode)
}

// fitsPlaces reports whether d has no non-zero digit beyond places decimals.
func fitsPlaces(d Decimal, places int32) bool {
	if d.Exponent() >= -places {
		return true
	}
	return d.Equal(d.Truncate(places))
}

// ToAmount converts a major-unit decimal (12.345 EUR) to an Amount, rounding
// to the currency's minor unit with mode. Results beyond int64 minor units
// are an overflow error.
func ToAmount(d Decimal, cur Currency, mode RoundingMode) (Amount, error) {
	if !cur.Valid() {
		return Amount{}, errs.New(errs.KindInvalid, "amount has no valid currency")
	}
	r, err := Round(d, cur.Exponent(), mode)
	if err != nil {
		return Amount{}, err
	}
	minor, ok := decimalToInt64(r.Shift(cur.Exponent()))
	if !ok {
		return Amount{}, overflowErr("", r.String()+" "+cur.String()+" is out of range")
	}
	return Amount{minor: minor, cur: cur}, nil
}

// decimalToInt64 converts an integral decimal to int64 without float and
// without building huge big.Ints for absurd exponents.
func decimalToInt64(d Decimal) (int64, bool) {
	if d.IsZero() {
		return 0, true
	}
	if !d.IsInteger() {
		return 0, false
	}
	// |d| ≥ 10^19 cannot fit; NumDigits+Exponent is the number of integer
	// digits of a non-zero integral value.
	if int64(d.NumDigits())+int64(d.Exponent()) > 19 {
		return 0, false
	}
	b := d.BigInt()
	if !b.IsInt64() {
		return 0, false
	}
	return b.Int64(), true
}
