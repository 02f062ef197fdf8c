package money

import (
	"errors"
	"math"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestCurrencyTable(t *testing.T) {
	t.Parallel()
	want := map[string]int32{"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "IDR": 2, "RUB": 2, "KZT": 2, "BYN": 2, "JPY": 0, "KWD": 3}
	if got := len(Currencies()); got != len(want) {
		t.Fatalf("Currencies() has %d entries, want %d", got, len(want))
	}
	for _, c := range Currencies() {
		exp, ok := want[c.Code()]
		if !ok {
			t.Errorf("unexpected currency %v", c)
			continue
		}
		if c.Exponent() != exp {
			t.Errorf("%v exponent = %d, want %d", c, c.Exponent(), exp)
		}
		got, err := ParseCurrency("currency", c.Code())
		if err != nil || got != c {
			t.Errorf("ParseCurrency(%q) = %v, %v", c.Code(), got, err)
		}
		txt, err := c.MarshalText()
		if err != nil || string(txt) != c.Code() {
			t.Errorf("MarshalText(%v) = %q, %v", c, txt, err)
		}
		var back Currency
		if err := back.UnmarshalText(txt); err != nil || back != c {
			t.Errorf("UnmarshalText(%q) = %v, %v", txt, back, err)
		}
	}
	for _, bad := range []string{"", "eur", "XXX", "EURO", "US D"} {
		_, err := ParseCurrency("currency", bad)
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "currency" {
			t.Errorf("ParseCurrency(%q) err = %v, want invalid naming currency", bad, err)
		}
	}
	if Currency(0).Valid() || Currency(200).Valid() {
		t.Error("zero or out-of-table currency reported valid")
	}
	if _, err := Currency(0).MarshalText(); err == nil {
		t.Error("MarshalText of invalid currency succeeded")
	}
}

func TestAmountArithmetic(t *testing.T) {
	t.Parallel()
	a := NewAmount(1234, EUR)
	b := NewAmount(-34, EUR)
	if got, err := a.Add(b); err != nil || got != NewAmount(1200, EUR) {
		t.Errorf("Add = %v, %v", got, err)
	}
	if got, err := a.Sub(b); err != nil || got != NewAmount(1268, EUR) {
		t.Errorf("Sub = %v, %v", got, err)
	}
	if got, err := b.Neg(); err != nil || got != NewAmount(34, EUR) {
		t.Errorf("Neg = %v, %v", got, err)
	}
	if got, err := a.MulInt(-3); err != nil || got != NewAmount(-3702, EUR) {
		t.Errorf("MulInt = %v, %v", got, err)
	}
	if c, err := a.Cmp(b); err != nil || c != 1 {
		t.Errorf("Cmp = %v, %v", c, err)
	}
	if s := a.String(); s != "12.34 EUR" {
		t.Errorf("String = %q", s)
	}
	if s := NewAmount(-5, KWD).String(); s != "-0.005 KWD" {
		t.Errorf("String = %q", s)
	}
	if s := NewAmount(500, JPY).String(); s != "500 JPY" {
		t.Errorf("String = %q", s)
	}
	if !a.Decimal().Equal(newDecimal(1234, -2)) {
		t.Errorf("Decimal = %v", a.Decimal())
	}
}

func TestAmountOverflow(t *testing.T) {
	t.Parallel()
	hi, lo := NewAmount(math.MaxInt64, EUR), NewAmount(math.MinInt64, EUR)
	one, minusOne := NewAmount(1, EUR), NewAmount(-1, EUR)
	cases := []struct {
		name string
		f    func() (Amount, error)
	}{
		{"max+1", func() (Amount, error) { return hi.Add(one) }},
		{"min-1", func() (Amount, error) { return lo.Sub(one) }},
		{"min+-1", func() (Amount, error) { return lo.Add(minusOne) }},
		{"max--1", func() (Amount, error) { return hi.Sub(minusOne) }},
		{"0-min", func() (Amount, error) { return Zero(EUR).Sub(lo) }},
		{"-min", func() (Amount, error) { return lo.Neg() }},
		{"max*2", func() (Amount, error) { return hi.MulInt(2) }},
		{"min*-1", func() (Amount, error) { return lo.MulInt(-1) }},
		{"-1*min", func() (Amount, error) { return minusOne.MulInt(math.MinInt64) }},
		{"big*big", func() (Amount, error) { return NewAmount(1<<32, EUR).MulInt(1 << 31) }},
	}
	for _, c := range cases {
		got, err := c.f()
		if !errors.Is(err, ErrOverflow) || !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s = %v, %v; want overflow error of kind invalid", c.name, got, err)
		}
	}
	// Edges that fit.
	if got, err := hi.Add(minusOne); err != nil || got.Minor() != math.MaxInt64-1 {
		t.Errorf("max-1 = %v, %v", got, err)
	}
	if got, err := lo.Add(hi); err != nil || got.Minor() != -1 {
		t.Errorf("min+max = %v, %v", got, err)
	}
	if got, err := Zero(EUR).Sub(hi); err != nil || got.Minor() != -math.MaxInt64 {
		t.Errorf("0-max = %v, %v", got, err)
	}
	if got, err := NewAmount(math.MinInt64/2, EUR).MulInt(2); err != nil || got != lo {
		t.Errorf("min/2*2 = %v, %v", got, err)
	}
}

func TestAmountCurrencyMismatch(t *testing.T) {
	t.Parallel()
	eur, rub := NewAmount(100, EUR), NewAmount(100, RUB)
	checks := map[string]error{}
	_, checks["Add"] = eur.Add(rub)
	_, checks["Sub"] = eur.Sub(rub)
	_, checks["Cmp"] = eur.Cmp(rub)
	for name, err := range checks {
		if !errors.Is(err, ErrCurrencyMismatch) || !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s: err = %v, want currency mismatch of kind invalid", name, err)
		}
	}
	// The zero Amount has no currency and cannot be combined, even with itself.
	var zero Amount
	if _, err := zero.Add(zero); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("zero Amount Add err = %v", err)
	}
	if _, err := zero.Neg(); err == nil {
		t.Error("zero Amount Neg succeeded")
	}
	if _, err := zero.MulInt(2); err == nil {
		t.Error("zero Amount MulInt succeeded")
	}
}
