package money

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// The six invoices of idcloudhost seed 003 (ID-amb-13): records_list amounts,
// discount_percentage, vat_percentage, totals.credit, and the published
// totals.
func TestTotalsSeedInvoices(t *testing.T) {
	t.Parallel()
	inv1 := []string{"0.02602", "0.87927", "0.08646", "0.1441", "0.08646"}
	cases := []struct {
		name                           string
		lines                          []string
		sum                            string
		discountPct, vatPct, credit    string
		subtotal, discount, vat, total string
	}{
		{"invoice 1 detail", inv1, "1.22231", "10", "20", "-0.10", "1.23", "0.12", "0.2", "1.21"},
		{"list 2.96", []string{"0.3696", "0.3696", "0.3696", "0.3696", "1.1088", "0.3696"}, "2.9568", "0", "20", "0", "2.96", "0", "0.59", "3.55"},
		{"list 22.89", []string{"0.02602", "0.87927", "4.0348", "0.0392", "4.12126", "0.0392", "4.1789", "0.0392", "4.12126", "0.0392", "1.2936", "4.0348", "0.0392"}, "22.88591", "0", "20", "0", "22.89", "0", "4.58", "27.47"},
		{"list 2.36", []string{"0.294", "0.294", "0.294", "0.294", "0.882", "0.294"}, "2.352", "0", "20", "0", "2.36", "0", "0.47", "2.83"},
		{"list 21.76", []string{"4.0348", "0.0392", "4.0348", "0.0392", "4.0348", "0.0392", "4.12126", "0.0392", "1.2936", "4.0348", "0.0392"}, "21.75006", "0", "20", "0", "21.76", "0", "4.35", "26.11"},
		{"list invoice 1", inv1, "1.22231", "0", "20", "0", "1.23", "0", "0.25", "1.48"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lines := make([]Decimal, len(c.lines))
			sum := Decimal{}
			for i, l := range c.lines {
				lines[i] = dec(t, l)
				sum = sum.Add(lines[i])
			}
			if !sum.Equal(dec(t, c.sum)) {
				t.Fatalf("Σ lines = %s, want %s (test data)", sum, c.sum)
			}
			credit, err := ToAmount(dec(t, c.credit), EUR, ModeExact)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Totals(lines, dec(t, c.discountPct), dec(t, c.vatPct), credit)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				got  Amount
				want string
			}{
				{"subtotal", got.Subtotal, c.subtotal},
				{"discount_amount", got.Discount, c.discount},
				{"credit", got.Credit, c.credit},
				{"vat_tax", got.VAT, c.vat},
				{"total", got.Total, c.total},
			} {
				// Compare as the vendor prints them (Python floats).
				want := FormatIDCHFloat(dec(t, f.want))
				if s := FormatIDCHMoney(f.got); s != want {
					t.Errorf("%s = %s, want %s", f.name, s, want)
				}
			}
		})
	}
}

func TestTotalsErrors(t *testing.T) {
	t.Parallel()
	one := []Decimal{dec(t, "1")}
	cases := []struct {
		name      string
		lines     []Decimal
		disc, vat string
		credit    Amount
		field     string
	}{
		{"negative line", []Decimal{dec(t, "1"), dec(t, "-0.5")}, "0", "20", Zero(EUR), "lines[1]"},
		{"discount > 100", one, "100.01", "20", Zero(EUR), "discount_percentage"},
		{"discount < 0", one, "-1", "20", Zero(EUR), "discount_percentage"},
		{"vat < 0", one, "0", "-20", Zero(EUR), "vat_percentage"},
		{"positive credit", one, "0", "20", NewAmount(1, EUR), "credit"},
		{"credit too large", one, "10", "20", NewAmount(-91, EUR), "credit"},
		{"no currency", one, "0", "20", Amount{}, "credit"},
	}
	for _, c := range cases {
		_, err := Totals(c.lines, dec(t, c.disc), dec(t, c.vat), c.credit)
		wantInvalid(t, c.name, err, c.field)
	}
	// Credit equal to the discounted subtotal is fine: total 0.
	got, err := Totals(one, dec(t, "10"), dec(t, "20"), NewAmount(-90, EUR))
	if err != nil || got.Total != Zero(EUR) || got.VAT != Zero(EUR) {
		t.Errorf("full credit: %+v, %v", got, err)
	}
	// An empty invoice is all zeros.
	got, err = Totals(nil, dec(t, "0"), dec(t, "20"), Zero(EUR))
	if err != nil || got.Total != Zero(EUR) || got.Subtotal != Zero(EUR) {
		t.Errorf("empty: %+v, %v", got, err)
	}
	// A subtotal beyond int64 cents is an overflow, not a wrap.
	_, err = Totals([]Decimal{dec(t, "1e17")}, dec(t, "0"), dec(t, "0"), Zero(EUR))
	if !errs.Is(err, errs.KindInvalid) {
		t.Errorf("overflow: err = %v", err)
	}
}

// ratCeilInt and ratHalfUpInt are the reference roundings, on non-negative
// rationals, written with big.Int only.
func ratCeilInt(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func ratHalfUpInt(r *big.Rat) *big.Int {
	// floor(r + 1/2) for r ≥ 0.
	h := new(big.Rat).Add(r, big.NewRat(1, 2))
	return new(big.Int).Quo(h.Num(), h.Denom())
}

// TestTotalsPropertyBigRat recomputes random invoices independently in
// big.Rat arithmetic (cents as integers) and requires Totals to agree to the
// cent, the subtotal to be within one cent above Σ lines, and the total to be
// exactly the sum of its parts.
func TestTotalsPropertyBigRat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 2024))
	iters := 20000
	if testing.Short() {
		iters = 2000
	}
	hundred := big.NewRat(100, 1)
	for it := 0; it < iters; it++ {
		// Lines like qty × item_price: up to 5-6 decimals, up to ~100 EUR each.
		n := rng.IntN(30)
		lines := make([]Decimal, n)
		sum := new(big.Rat)
		for i := range lines {
			places := rng.IntN(7)
			coef := rng.Int64N(100 * pow10(places))
			lines[i] = newDecimal(coef, -int32(places))
			sum.Add(sum, new(big.Rat).SetFrac(big.NewInt(coef), big.NewInt(pow10(places))))
		}
		// Percentages: integers mostly (as in the samples), sometimes with
		// decimals (12.5 %, 7.75 %).
		pct := func(hi int64) (Decimal, *big.Rat) {
			p := rng.IntN(3)
			c := rng.Int64N(hi*pow10(p) + 1)
			return newDecimal(c, -int32(p)), new(big.Rat).SetFrac(big.NewInt(c), big.NewInt(pow10(p)))
		}
		discD, discR := pct(100)
		vatD, vatR := pct(30)

		// Reference, in cents.
		subC := ratCeilInt(new(big.Rat).Mul(sum, hundred))
		discC := ratHalfUpInt(new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).SetInt(subC), discR), hundred))
		avail := new(big.Int).Sub(subC, discC).Int64()
		var creditC int64
		if avail > 0 && rng.IntN(2) == 0 {
			creditC = -rng.Int64N(avail + 1)
		}
		baseC := new(big.Int).Add(new(big.Int).Sub(subC, discC), big.NewInt(creditC))
		vatC := ratHalfUpInt(new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).SetInt(baseC), vatR), hundred))
		totalC := new(big.Int).Add(baseC, vatC)

		got, err := Totals(lines, discD, vatD, NewAmount(creditC, EUR))
		if err != nil {
			t.Fatalf("iteration %d: %v", it, err)
		}
		want := []int64{subC.Int64(), discC.Int64(), creditC, vatC.Int64(), totalC.Int64()}
		have := []int64{got.Subtotal.Minor(), got.Discount.Minor(), got.Credit.Minor(), got.VAT.Minor(), got.Total.Minor()}
		for k := range want {
			if want[k] != have[k] {
				t.Fatalf("iteration %d (lines %v, discount %s%%, vat %s%%, credit %d): totals %v, want %v",
					it, lines, discD, vatD, creditC, have, want)
			}
		}
		// No drift: 0 ≤ subtotal − Σ lines < 0.01, and total = parts.
		drift := new(big.Rat).Sub(new(big.Rat).SetFrac(subC, big.NewInt(100)), sum)
		if drift.Sign() < 0 || drift.Cmp(big.NewRat(1, 100)) >= 0 {
			t.Fatalf("iteration %d: subtotal drifts %s from Σ lines", it, drift.FloatString(6))
		}
		if have[0]-have[1]+have[2]+have[3] != have[4] {
			t.Fatalf("iteration %d: total %d ≠ parts %v", it, have[4], have)
		}
		for _, a := range []Amount{got.Subtotal, got.Discount, got.Credit, got.VAT, got.Total} {
			if a.Currency() != EUR {
				t.Fatalf("iteration %d: currency %v", it, a.Currency())
			}
		}
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
