package money

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randInt64 draws values of every magnitude (uniform bit length, random
// sign), plus the int64 edges, so property tests reach both 0.01 and 9e16.
func randInt64(rng *rand.Rand) int64 {
	switch rng.IntN(20) {
	case 0:
		return math.MaxInt64
	case 1:
		return math.MinInt64
	case 2:
		return 0
	}
	bits := rng.IntN(64)
	v := int64(rng.Uint64() >> (64 - bits - 1) >> 1) // 0 … 2^bits−1
	if rng.IntN(2) == 0 {
		return -v
	}
	return v
}

func roundTripIters() int {
	if testing.Short() {
		return 2000
	}
	return 50000
}

func TestRoundTripITGlobal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 2))
	curs := []Currency{RUB, KZT, BYN, EUR, JPY, KWD}
	for range roundTripIters() {
		cur := curs[rng.IntN(len(curs))]
		a := NewAmount(randInt64(rng), cur)
		n, err := FormatITGlobal(a)
		if cur == KWD && a.Minor()%10 != 0 {
			if err == nil {
				t.Fatalf("FormatITGlobal(%v) = %s, want error (3rd decimal)", a, n)
			}
			continue
		}
		if err != nil {
			t.Fatalf("FormatITGlobal(%v): %v", a, err)
		}
		back, err := ParseITGlobal("Amount", n, cur, AnySign)
		if err != nil || back != a {
			t.Fatalf("ITGLOBAL round trip %v → %s → %v, %v", a, n, back, err)
		}
	}
}

func TestRoundTripIDCH(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	for range roundTripIters() {
		// Money: Python-float text and form-data text.
		a := NewAmount(randInt64(rng), EUR)
		n := FormatIDCHMoney(a)
		back, err := ParseIDCHMoney("amount", n, EUR, AnySign)
		if err != nil || back != a {
			t.Fatalf("idcloudhost money round trip %v → %s → %v, %v", a, n, back, err)
		}
		s := FormatIDCHFormAmount(a)
		back, err = ParseIDCHFormAmount("amount", s, EUR, AnySign)
		if err != nil || back != a {
			t.Fatalf("idcloudhost form round trip %v → %s → %v, %v", a, s, back, err)
		}

		// Rates: any coefficient, any exponent the parser's range allows.
		d := newDecimal(randInt64(rng), int32(rng.IntN(61)-40))
		r := FormatIDCHFloat(d)
		got, err := ParseJSONNumber("price", r)
		if err != nil || !got.Equal(d) {
			t.Fatalf("idcloudhost rate round trip %s → %s → %s, %v", d, r, got, err)
		}
	}
}

func TestRoundTripJSONNumberHelpers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	for range roundTripIters() {
		d := newDecimal(randInt64(rng), int32(rng.IntN(30)-20))
		places := int32(rng.IntN(8))
		n := FormatJSONNumber(d, places)
		got, err := ParseJSONNumber("x", n)
		if err != nil || !got.Equal(RoundHalfUp(d, places)) {
			t.Fatalf("FormatJSONNumber(%s, %d) = %s → %s, %v", d, places, n, got, err)
		}
		n = FormatJSONNumberShortest(d)
		got, err = ParseJSONNumber("x", n)
		if err != nil || !got.Equal(d) {
			t.Fatalf("FormatJSONNumberShortest(%s) = %s → %s, %v", d, n, got, err)
		}
		s := d.String()
		if got, err := ParseDecimal("x", s); err != nil || !got.Equal(d) {
			t.Fatalf("ParseDecimal(%s) = %s, %v", s, got, err)
		}
	}
}

// Amount ↔ Decimal is exact both ways for every currency.
func TestRoundTripAmountDecimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	for range roundTripIters() {
		cur := Currencies()[rng.IntN(len(Currencies()))]
		a := NewAmount(randInt64(rng), cur)
		back, err := ToAmount(a.Decimal(), cur, ModeExact)
		if err != nil || back != a {
			t.Fatalf("%v → %s → %v, %v", a, a.Decimal(), back, err)
		}
	}
}
