package money

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Impossible Cloud (management console API) prices are integer minor units
// ("cents") of the contract's currency, sent as a JSON string of digits:
//
//	"costStorageGBCents": "100",  // 1.00 EUR per GB per month (excess only)
//	"costEgressGBCents": "0",
//	"currency": "EUR"
//
// (seeds 000 and 001, the distributor contract list). The vendor's swagger
// types these fields as "number", but every sample is a string; we follow the
// samples. Being prices, they are never negative.
//
// The same integer-cents form appears in idcloudhost's payment-processor
// additional_data ("amount": 147, "origin_amount": 147), where it is a JSON
// number: ParseICCents(field, string(n), EUR) reads that too.

// maxICLen is the longest digit string of a non-negative int64.
const maxICLen = maxMinorInt64

// ParseICCents parses an Impossible Cloud cents string ("100") into an
// Amount of cur. It accepts only canonical non-negative integers: digits, no
// sign, no leading zeros (except "0"), no decimals, no spaces, within int64.
func ParseICCents(field, s string, cur Currency) (Amount, error) {
	if !cur.Valid() {
		return Amount{}, errs.New(errs.KindInternal, "money: parse into invalid currency")
	}
	if s == "" {
		return Amount{}, errs.Invalid(field, "must not be empty")
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			if s[i] == '-' {
				return Amount{}, errs.Invalid(field, "must not be negative")
			}
			return Amount{}, errs.Invalid(field, "must be a whole number of cents as a string of digits")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return Amount{}, errs.Invalid(field, "must not have leading zeros")
	}
	if len(s) > maxICLen {
		return Amount{}, overflowErr(field, "out of range")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return Amount{}, overflowErr(field, "out of range")
	}
	return Amount{minor: v, cur: cur}, nil
}

// FormatICCents writes a as Impossible Cloud cents: NewAmount(100, EUR) →
// "100". Negative amounts are an error, since the dialect has none.
func FormatICCents(a Amount) (string, error) {
	if !a.cur.Valid() {
		return "", errs.New(errs.KindInternal, "money: format of amount without currency")
	}
	if a.minor < 0 {
		return "", errs.New(errs.KindInternal, "money: Impossible Cloud cents cannot be negative")
	}
	return strconv.FormatInt(a.minor, 10), nil
}
