package money

import (
	"math"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Amount is a ledger amount: an integer number of minor units (cents for
// EUR) of one currency. It is what balances, ledger entries, invoice totals
// and payments hold. int64 minor units give ±92 233 720 368 547 758.07 EUR,
// far beyond any balance, and make sums exact and associative.
//
// The zero value has no currency and is rejected by every operation, so a
// forgotten currency cannot silently become EUR.
type Amount struct {
	minor int64
	cur   Currency
}

// NewAmount returns minor units of cur: NewAmount(1234, EUR) is 12.34 EUR.
func NewAmount(minor int64, cur Currency) Amount { return Amount{minor: minor, cur: cur} }

// Zero returns 0 in cur.
func Zero(cur Currency) Amount { return Amount{cur: cur} }

// Minor is the amount in minor units.
func (a Amount) Minor() int64 { return a.minor }

// Currency is the amount's currency.
func (a Amount) Currency() Currency { return a.cur }

// IsZero reports whether the amount is zero (in any currency).
func (a Amount) IsZero() bool { return a.minor == 0 }

// Sign is -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a.minor < 0:
		return -1
	case a.minor > 0:
		return 1
	}
	return 0
}

// Decimal is the amount in major units, exactly (1234 EUR cents → 12.34).
func (a Amount) Decimal() Decimal {
	return newDecimal(a.minor, -a.cur.Exponent())
}

// String renders "12.34 EUR" for logs and messages; wire formats are the
// dialect formatters' job.
func (a Amount) String() string {
	return a.Decimal().StringFixed(a.cur.Exponent()) + " " + a.cur.String()
}

// same checks that a and b can be combined: both have the same, valid
// currency.
func same(a, b Amount) error {
	if !a.cur.Valid() || !b.cur.Valid() {
		return errs.New(errs.KindInvalid, "amount has no valid currency")
	}
	if a.cur != b.cur {
		return mismatchErr(a.cur, b.cur)
	}
	return nil
}

// Add returns a+b. Different currencies and int64 overflow are errors.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := same(a, b); err != nil {
		return Amount{}, err
	}
	s, ok := addInt64(a.minor, b.minor)
	if !ok {
		return Amount{}, overflowErr("", "sum out of range")
	}
	return Amount{minor: s, cur: a.cur}, nil
}

// Sub returns a−b. Different currencies and int64 overflow are errors.
func (a Amount) Sub(b Amount) (Amount, error) {
	if err := same(a, b); err != nil {
		return Amount{}, err
	}
	s, ok := subInt64(a.minor, b.minor)
	if !ok {
		return Amount{}, overflowErr("", "difference out of range")
	}
	return Amount{minor: s, cur: a.cur}, nil
}

// Neg returns −a; only the most negative int64 cannot be negated.
func (a Amount) Neg() (Amount, error) {
	if !a.cur.Valid() {
		return Amount{}, errs.New(errs.KindInvalid, "amount has no valid currency")
	}
	if a.minor == math.MinInt64 {
		return Amount{}, overflowErr("", "negation out of range")
	}
	return Amount{minor: -a.minor, cur: a.cur}, nil
}

// MulInt returns a×n (an integer quantity, e.g. months).
func (a Amount) MulInt(n int64) (Amount, error) {
	if !a.cur.Valid() {
		return Amount{}, errs.New(errs.KindInvalid, "amount has no valid currency")
	}
	p, ok := mulInt64(a.minor, n)
	if !ok {
		return Amount{}, overflowErr("", "product out of range")
	}
	return Amount{minor: p, cur: a.cur}, nil
}

// Cmp compares a and b (-1, 0, +1); comparing currencies is an error rather
// than an arbitrary answer.
func (a Amount) Cmp(b Amount) (int, error) {
	if err := same(a, b); err != nil {
		return 0, err
	}
	switch {
	case a.minor < b.minor:
		return -1, nil
	case a.minor > b.minor:
		return 1, nil
	}
	return 0, nil
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	// Overflow iff both operands have the same sign and the sum's differs.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

func subInt64(a, b int64) (int64, bool) {
	d := a - b
	// Overflow iff the operands have different signs and the result's sign
	// differs from a's.
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		return 0, false
	}
	return d, true
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) || p/b != a {
		return 0, false
	}
	return p, true
}
