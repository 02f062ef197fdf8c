package money

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Currency is an ISO-4217 currency Trellis can bill in. It is a small enum
// rather than a string so an Amount is comparable and cheap, and so only
// currencies whose minor unit is known can exist: the zero value is invalid.
//
// The table is explicit and small on purpose (the vendors use EUR, RUB, KZT,
// BYN; USD, GBP, CHF and IDR are near-term; JPY and KWD exercise the
// exponents 0 and 3). Adding a currency means adding it to every switch below.
type Currency uint8

// The supported currencies. The exponent (digits of the minor unit) follows
// ISO 4217, not market practice: ISO lists IDR with 2 decimals even though
// rupiah cents are not used in practice.
const (
	EUR Currency = iota + 1 // euro, 2
	USD                     // US dollar, 2
	GBP                     // pound sterling, 2
	CHF                     // Swiss franc, 2
	IDR                     // Indonesian rupiah, 2 (ISO 4217)
	RUB                     // Russian ruble, 2
	KZT                     // Kazakhstani tenge, 2
	BYN                     // Belarusian ruble, 2
	JPY                     // yen, 0
	KWD                     // Kuwaiti dinar, 3
	maxCurrency
)

// Currencies lists every supported currency, for tables and tests.
func Currencies() []Currency {
	out := make([]Currency, 0, maxCurrency-1)
	for c := EUR; c < maxCurrency; c++ {
		out = append(out, c)
	}
	return out
}

// Valid reports whether c is one of the supported currencies.
func (c Currency) Valid() bool { return c >= EUR && c < maxCurrency }

// Code is the ISO-4217 alphabetic code, or "" for an invalid currency.
func (c Currency) Code() string {
	switch c {
	case EUR:
		return "EUR"
	case USD:
		return "USD"
	case GBP:
		return "GBP"
	case CHF:
		return "CHF"
	case IDR:
		return "IDR"
	case RUB:
		return "RUB"
	case KZT:
		return "KZT"
	case BYN:
		return "BYN"
	case JPY:
		return "JPY"
	case KWD:
		return "KWD"
	}
	return ""
}

// Exponent is the number of decimal digits of the minor unit (2 for EUR:
// 1 EUR = 100 minor units). It is 0 for an invalid currency.
func (c Currency) Exponent() int32 {
	switch c {
	case JPY:
		return 0
	case KWD:
		return 3
	case EUR, USD, GBP, CHF, IDR, RUB, KZT, BYN:
		return 2
	}
	return 0
}

func (c Currency) String() string {
	if code := c.Code(); code != "" {
		return code
	}
	return "Currency(" + strconv.Itoa(int(c)) + ")"
}

// ParseCurrency maps an ISO-4217 code (upper case, as every vendor sends it)
// to a Currency. Unknown codes are an error naming field, because billing in
// a currency whose minor unit we do not know would mis-scale every amount.
func ParseCurrency(field, code string) (Currency, error) {
	for c := EUR; c < maxCurrency; c++ {
		if c.Code() == code {
			return c, nil
		}
	}
	if len(code) > 16 {
		code = code[:16] + "…"
	}
	return 0, errs.Invalidf(field, "unknown or unsupported currency %q", code)
}

// MarshalText writes the ISO code, so a Currency is a JSON string.
func (c Currency) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, errs.New(errs.KindInternal, "money: marshal of invalid currency")
	}
	return []byte(c.Code()), nil
}

// UnmarshalText reads an ISO code.
func (c *Currency) UnmarshalText(b []byte) error {
	v, err := ParseCurrency("currency", string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
