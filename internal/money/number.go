package money

import (
	"encoding/json"
	"math/big"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Limits on parsed numbers. They bound the work an attacker can cause with
// one field and are far beyond any real money value: 34 significant digits is
// IEEE decimal128's precision, and 10^±100 covers every rate and balance.
const (
	maxNumberLen  = 100 // bytes of input text
	maxSigDigits  = 34  // significant digits after removing leading/trailing zeros
	maxAbsExp     = 100 // |exponent| of the normalised value (coef × 10^exp)
	maxExpDigits  = 4   // digits of an explicit exponent (e±dddd)
	maxMinorInt64 = 19  // decimal digits of math.MaxInt64
)

// number is a parsed decimal literal: (−1)^neg × digits × 10^exp, with digits
// free of leading and trailing zeros ("" for zero, which is never negative).
type number struct {
	neg    bool
	digits string
	exp    int
}

func (n number) decimal() Decimal {
	if n.digits == "" {
		return Decimal{}
	}
	c, _ := new(big.Int).SetString(n.digits, 10) // digits are validated
	if n.neg {
		c.Neg(c)
	}
	return DecimalFromBig(c, int32(n.exp))
}

// decimals is how many decimal places the value needs.
func (n number) decimals() int {
	if n.exp >= 0 {
		return 0
	}
	return -n.exp
}

// minor returns the value scaled by 10^places as int64, if it is an integer
// in range. The caller checks decimals() ≤ places first.
func (n number) minor(places int) (int64, bool) {
	if n.digits == "" {
		return 0, true
	}
	shift := n.exp + places
	if shift < 0 || len(n.digits)+shift > maxMinorInt64 {
		return 0, false
	}
	c, _ := new(big.Int).SetString(n.digits+strings.Repeat("0", shift), 10)
	if n.neg {
		c.Neg(c)
	}
	if !c.IsInt64() {
		return 0, false
	}
	return c.Int64(), true
}

// grammar selects what parseNumber accepts.
type grammar uint8

const (
	// grammarJSON is RFC 8259's number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
	grammarJSON grammar = iota
	// grammarPlain is a plain decimal string as sent in form data:
	// -?d+(.d+)? (leading zeros allowed, no exponent, no '+', no spaces).
	grammarPlain
)

// parseNumber parses s by grammar g, returning a message (for errs.Invalid)
// on failure. It never uses strconv.ParseFloat, so "NaN", "Inf", hex and
// every float-only spelling are rejected, and nothing is rounded.
func parseNumber(s string, g grammar) (number, string) {
	const notNumber = "must be a decimal number"
	if s == "" {
		return number{}, "must not be empty"
	}
	if len(s) > maxNumberLen {
		return number{}, "number is too long"
	}
	var n number
	i := 0
	if s[i] == '-' {
		n.neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	if intPart == "" {
		return number{}, notNumber
	}
	if g == grammarJSON && len(intPart) > 1 && intPart[0] == '0' {
		return number{}, notNumber + " (no leading zeros)"
	}
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
		if frac == "" {
			return number{}, notNumber
		}
	}
	e := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if g != grammarJSON {
			return number{}, notNumber + " without exponent"
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		ed := strings.TrimLeft(s[start:i], "0")
		if start == i {
			return number{}, notNumber
		}
		if len(ed) > maxExpDigits {
			return number{}, "exponent out of range"
		}
		for j := 0; j < len(ed); j++ {
			e = e*10 + int(ed[j]-'0')
		}
		if eneg {
			e = -e
		}
	}
	if i != len(s) {
		return number{}, notNumber
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp := e - len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	n.digits = trimmed
	if n.digits == "" {
		return number{}, "" // zero; "-0" is zero
	}
	n.exp = exp
	if len(n.digits) > maxSigDigits {
		return number{}, "too many significant digits"
	}
	if n.exp > maxAbsExp || n.exp < -maxAbsExp {
		return number{}, "out of range"
	}
	return n, ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ParseJSONNumber parses a JSON number (decode with json.Decoder.UseNumber)
// into an exact Decimal. The exponent form is accepted ("3.42e-05", as the
// idcloudhost pricing policy writes tiny rates). Anything that is not an RFC
// 8259 number — NaN, Infinity, hex, "+1", ".5", "1.", spaces — is an error
// naming field.
func ParseJSONNumber(field string, n json.Number) (Decimal, error) {
	v, msg := parseNumber(string(n), grammarJSON)
	if msg != "" {
		return Decimal{}, errs.Invalid(field, msg)
	}
	return v.decimal(), nil
}

// ParseDecimal parses a plain decimal string ("100.00", "10", "-0.5") into
// an exact Decimal: the form of form-data inputs and of prices kept as
// strings. No exponent, no '+', no spaces, no thousands separators.
func ParseDecimal(field, s string) (Decimal, error) {
	v, msg := parseNumber(s, grammarPlain)
	if msg != "" {
		return Decimal{}, errs.Invalid(field, msg)
	}
	return v.decimal(), nil
}

// Sign says which signs a parser accepts. The zero value, NonNegative, suits
// most money inputs (prices, thresholds), so forgetting it is safe.
type Sign uint8

const (
	NonNegative Sign = iota // ≥ 0
	Positive                // > 0 (payments, top-ups, ITGLOBAL operations)
	AnySign                 // balances, corrections
)

// check returns a message if a value of sign s (−1, 0, 1) is not allowed.
func (want Sign) check(sign int) string {
	switch want {
	case NonNegative:
		if sign < 0 {
			return "must not be negative"
		}
	case Positive:
		if sign <= 0 {
			return "must be positive"
		}
	case AnySign:
	default:
		return "invalid sign policy"
	}
	return ""
}

func (n number) sign() int {
	switch {
	case n.digits == "":
		return 0
	case n.neg:
		return -1
	}
	return 1
}

// parseMinor parses s by g into minor units of cur, accepting at most places
// decimals and the signs allowed by sign.
func parseMinor(field, s string, g grammar, cur Currency, places int32, sign Sign) (Amount, error) {
	if !cur.Valid() {
		return Amount{}, errs.New(errs.KindInternal, "money: parse into invalid currency")
	}
	n, msg := parseNumber(s, g)
	if msg != "" {
		return Amount{}, errs.Invalid(field, msg)
	}
	if msg := sign.check(n.sign()); msg != "" {
		return Amount{}, errs.Invalid(field, msg)
	}
	if n.decimals() > int(places) {
		return Amount{}, errs.Invalidf(field, "must have at most %d decimals", places)
	}
	m, ok := n.minor(int(cur.Exponent()))
	if !ok {
		return Amount{}, overflowErr(field, "out of range")
	}
	return Amount{minor: m, cur: cur}, nil
}

// FormatJSONNumber writes d as JSON number text with exactly places decimals
// (places < 0 counts as 0), rounding half up if d has more: 1.2 with 2 → "1.20",
// −0.1 with 2 → "-0.10", 52 with 0 → "52". Money should already be rounded
// (once, per invoice line) before it gets here; the rounding only makes the
// function total. The text is exact, never via float64.
func FormatJSONNumber(d Decimal, places int32) json.Number {
	if places < 0 {
		places = 0
	}
	return json.Number(RoundHalfUp(d, places).StringFixed(places))
}

// FormatJSONNumberShortest writes d exactly with no trailing zeros and no
// exponent: 1234 → "1234", 12.30 → "12.3", 0.00521 → "0.00521".
func FormatJSONNumberShortest(d Decimal) json.Number {
	return json.Number(d.String())
}
