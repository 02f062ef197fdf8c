package money

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

// Fuzz targets for every parser: they must never panic, and whatever they
// accept must come back unchanged through the matching formatter. Run e.g.
//
//	go test ./internal/money -run '^$' -fuzz '^FuzzParseITGlobal$' -fuzztime 10s

var numberSeeds = []string{
	"0", "-0", "100", "1234", "12.34", "20.21", "444", "556", "2.0", "-3.44", "59.96", "52",
	"0.2", "-0.10", "0.02882", "0.001645", "3.42e-05", "0.0001", "1e16", "1E+2", "1.234e1",
	"92233720368547758.07", "-92233720368547758.08", "9223372036854775807", "NaN", "Infinity",
	"-Inf", "+1", ".5", "1.", "01", "1e99999", "0e9999", "", " 1", "100.00", "10", "1,5",
}

// checkOracle compares an accepted value with shopspring's own parser, an
// independent implementation of the same decimal grammar.
func checkOracle(t *testing.T, s string, d Decimal) {
	t.Helper()
	o, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("accepted %q, which shopspring rejects: %v", s, err)
	}
	if !o.Equal(d) {
		t.Fatalf("%q parsed as %s, shopspring says %s", s, d, o)
	}
}

func FuzzParseJSONNumber(f *testing.F) {
	for _, s := range numberSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseJSONNumber("n", json.Number(s))
		if err != nil {
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("accepted %q, which is not valid JSON", s)
		}
		checkOracle(t, s, d)
		r := FormatIDCHFloat(d)
		back, err := ParseJSONNumber("n", r)
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q → %s → %s, %v", s, r, back, err)
		}
		if !json.Valid([]byte(r)) {
			t.Fatalf("FormatIDCHFloat wrote invalid JSON %q", r)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range numberSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal("n", s)
		if err != nil {
			return
		}
		checkOracle(t, s, d)
		back, err := ParseDecimal("n", d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q → %s → %s, %v", s, d.String(), back, err)
		}
	})
}

func fuzzCurrency(c uint8) Currency {
	all := Currencies()
	return all[int(c)%len(all)]
}

func FuzzParseITGlobal(f *testing.F) {
	for i, s := range numberSeeds {
		f.Add(s, uint8(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, c, sign uint8) {
		cur := fuzzCurrency(c)
		a, err := ParseITGlobal("Amount", json.Number(s), cur, Sign(sign%3))
		if err != nil {
			return
		}
		checkOracle(t, s, a.Decimal())
		n, err := FormatITGlobal(a)
		if err != nil {
			t.Fatalf("%q → %v: %v", s, a, err)
		}
		back, err := ParseITGlobal("Amount", n, cur, Sign(sign%3))
		if err != nil || back != a {
			t.Fatalf("%q → %v → %s → %v, %v", s, a, n, back, err)
		}
	})
}

func FuzzParseIDCHMoney(f *testing.F) {
	for i, s := range numberSeeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, sign uint8) {
		a, err := ParseIDCHMoney("amount", json.Number(s), EUR, Sign(sign%3))
		if err != nil {
			return
		}
		checkOracle(t, s, a.Decimal())
		n := FormatIDCHMoney(a)
		back, err := ParseIDCHMoney("amount", n, EUR, Sign(sign%3))
		if err != nil || back != a {
			t.Fatalf("%q → %v → %s → %v, %v", s, a, n, back, err)
		}
	})
}

func FuzzParseIDCHFormAmount(f *testing.F) {
	for i, s := range numberSeeds {
		f.Add(s, uint8(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, c, sign uint8) {
		cur := fuzzCurrency(c)
		a, err := ParseIDCHFormAmount("amount", s, cur, Sign(sign%3))
		if err != nil {
			return
		}
		checkOracle(t, s, a.Decimal())
		out := FormatIDCHFormAmount(a)
		back, err := ParseIDCHFormAmount("amount", out, cur, Sign(sign%3))
		if err != nil || back != a {
			t.Fatalf("%q → %v → %q → %v, %v", s, a, out, back, err)
		}
	})
}

func FuzzParseCurrency(f *testing.F) {
	for _, s := range []string{"EUR", "RUB", "eur", "", "XXX", "EUR "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCurrency("currency", s)
		if err != nil {
			return
		}
		if !c.Valid() || c.Code() != s {
			t.Fatalf("%q → %v", s, c)
		}
	})
}
