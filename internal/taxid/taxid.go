// Package taxid validates the tax ids of the reseller channel's countries:
// the Russian INN (10 digits for organisations, 12 for individuals, with
// their check digits), the Kazakh BIN (12 digits with the IIN/BIN check
// digit) and the Belarusian UNP (9 digits), plus the Russian KPP and OGRN
// a company record carries. Errors are errs.KindInvalid naming the field.
package taxid

import (
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Validate checks the tax id value of a company registered in country
// ("RU" INN, "KZ" BIN, "BY" UNP).
func Validate(country, field, value string) error {
	switch country {
	case "RU":
		return INN(field, value)
	case "KZ":
		return BIN(field, value)
	case "BY":
		return UNP(field, value)
	}
	return errs.Invalidf(field, "no tax id rules for country %q", country)
}

// digitsOf returns the digits of s, or nil when s is not all ASCII digits.
func digitsOf(s string) []int {
	d := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil
		}
		d[i] = int(s[i] - '0')
	}
	return d
}

// weighted returns Σ d[i]·w[i] mod m.
func weighted(d, w []int, m int) int {
	sum := 0
	for i, x := range w {
		sum += d[i] * x
	}
	return sum % m
}

var (
	inn10  = []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	inn12a = []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	inn12b = []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
)

// INN checks a Russian taxpayer number: 10 digits (an organisation; check
// digit = (Σ d·(2,4,10,3,5,9,4,6,8) mod 11) mod 10) or 12 digits (an
// individual; two check digits with the weights (7,2,4,10,3,5,9,4,6,8) and
// (3,7,2,4,10,3,5,9,4,6,8)).
func INN(field, v string) error {
	d := digitsOf(v)
	if d == nil || (len(d) != 10 && len(d) != 12) {
		return errs.Invalid(field, "an INN must be 10 or 12 digits")
	}
	if len(d) == 10 {
		if weighted(d, inn10, 11)%10 != d[9] {
			return errs.Invalid(field, "is not a valid INN (its check digit does not match)")
		}
		return nil
	}
	if weighted(d, inn12a, 11)%10 != d[10] || weighted(d, inn12b, 11)%10 != d[11] {
		return errs.Invalid(field, "is not a valid INN (its check digits do not match)")
	}
	return nil
}

var (
	bin1 = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	bin2 = []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}
)

// BIN checks a Kazakh business (or individual) identification number: 12
// digits, the last = Σ d·(1..11) mod 11; when that is 10, Σ d·(3..11,1,2)
// mod 11, and 10 again means the number is invalid.
func BIN(field, v string) error {
	d := digitsOf(v)
	if d == nil || len(d) != 12 {
		return errs.Invalid(field, "a BIN must be 12 digits")
	}
	c := weighted(d, bin1, 11)
	if c == 10 {
		c = weighted(d, bin2, 11)
	}
	if c == 10 || c != d[11] {
		return errs.Invalid(field, "is not a valid BIN (its check digit does not match)")
	}
	return nil
}

// UNP checks a Belarusian payer account number: 9 digits.
func UNP(field, v string) error {
	d := digitsOf(v)
	if d == nil || len(d) != 9 {
		return errs.Invalid(field, "a UNP must be 9 digits")
	}
	return nil
}

// KPP checks a Russian tax registration reason code when present: 9
// characters, digits except positions 5–6, which may be A–Z.
func KPP(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) != 9 {
		return errs.Invalid(field, "a KPP must be 9 characters")
	}
	for i := 0; i < 9; i++ {
		c := v[i]
		if c >= '0' && c <= '9' || (i == 4 || i == 5) && c >= 'A' && c <= 'Z' {
			continue
		}
		return errs.Invalid(field, "a KPP is 9 digits (positions 5 and 6 may be capital letters)")
	}
	return nil
}

// OGRN checks a Russian state registration number when present: 13 digits
// (check = (first 12 mod 11) mod 10) or 15 for an individual entrepreneur
// (check = (first 14 mod 13) mod 10).
func OGRN(field, v string) error {
	if v == "" {
		return nil
	}
	d := digitsOf(v)
	if d == nil || (len(d) != 13 && len(d) != 15) {
		return errs.Invalid(field, "an OGRN must be 13 or 15 digits")
	}
	m := 11
	if len(d) == 15 {
		m = 13
	}
	// The leading digits as a number, mod m, without overflow.
	r := 0
	for _, x := range d[:len(d)-1] {
		r = (r*10 + x) % m
	}
	if r%10 != d[len(d)-1] {
		return errs.Invalid(field, "is not a valid OGRN (its check digit does not match)")
	}
	return nil
}
