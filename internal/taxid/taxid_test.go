package taxid

import (
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		country, value string
		ok             bool
	}{
		{"RU", "7838413489", true},    // the seed's INN (organisation)
		{"RU", "7838413488", false},   // wrong check digit
		{"RU", "500100732259", true},  // an individual's INN, both check digits right
		{"RU", "500100732258", false}, // second check digit wrong
		{"RU", "500100732249", false}, // first check digit wrong
		{"RU", "770708389324", true},
		{"RU", "783841348", false},   // 9 digits
		{"RU", "78384134890", false}, // 11 digits
		{"RU", "78384134 9", false},
		{"RU", "７８３８４１３４８９", false}, // full-width digits are not digits
		{"RU", "", false},
		{"KZ", "990740002243", true},
		{"KZ", "000940000864", true},
		{"KZ", "990740002244", false},
		{"KZ", "010000000307", true},  // the first weights give 10: the second set decides
		{"KZ", "010000000300", false}, // … and must match
		{"KZ", "010000000370", false}, // both sets give 10: never valid
		{"KZ", "010000000379", false},
		{"KZ", "99074000224", false},
		{"KZ", "99074000224a", false},
		{"BY", "190345678", true},
		{"BY", "19034567", false},
		{"BY", "1903456789", false},
		{"BY", "AB0345678", false},
		{"US", "123456789", false},
	} {
		err := Validate(c.country, "taxId", c.value)
		if (err == nil) != c.ok {
			t.Errorf("Validate(%s, %q) = %v, want ok=%v", c.country, c.value, err, c.ok)
		}
		if err != nil {
			if e, ok := err.(*errs.Error); !ok || e.Kind != errs.KindInvalid || e.Field != "taxId" {
				t.Errorf("Validate(%s, %q): error %#v does not name the field", c.country, c.value, err)
			}
		}
	}
}

func TestKPPAndOGRN(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fn    func(string, string) error
		value string
		ok    bool
	}{
		{KPP, "", true},
		{KPP, "784101001", true}, // the seed's KPP
		{KPP, "7841AB001", true},
		{KPP, "78410100", false},
		{KPP, "78A101001", false},
		{OGRN, "", true},
		{OGRN, "1089847323180", true}, // the seed's OGRN
		{OGRN, "1089847323181", false},
		{OGRN, "304500116000157", true}, // an individual entrepreneur's OGRNIP
		{OGRN, "304500116000158", false},
		{OGRN, "10898473231", false},
	} {
		if err := c.fn("f", c.value); (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok=%v", c.value, err, c.ok)
		}
	}
}

// checkDigitProperty: a valid id with one check digit becomes invalid
// when that digit changes.
func checkDigitProperty(t *testing.T, fn func(string, string) error, v string) {
	if fn("f", v) != nil {
		return
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			t.Fatalf("%q accepted with a non-digit", v)
		}
	}
	last := v[len(v)-1]
	for d := byte('0'); d <= '9'; d++ {
		if d != last && fn("f", v[:len(v)-1]+string(d)) == nil {
			t.Fatalf("%q and %q both accepted", v, v[:len(v)-1]+string(d))
		}
	}
}

func FuzzINN(f *testing.F) {
	for _, s := range []string{"7838413489", "500100732259", "", "abc", strings.Repeat("9", 12)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if INN("f", s) == nil && len(s) != 10 && len(s) != 12 {
			t.Fatalf("%q accepted with %d characters", s, len(s))
		}
		checkDigitProperty(t, INN, s)
	})
}

func FuzzBIN(f *testing.F) {
	for _, s := range []string{"990740002243", "010000000307", "010000000370", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if BIN("f", s) == nil && len(s) != 12 {
			t.Fatalf("%q accepted with %d characters", s, len(s))
		}
		checkDigitProperty(t, BIN, s)
	})
}

func FuzzUNP(f *testing.F) {
	for _, s := range []string{"190345678", "", "12345678a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := UNP("f", s)
		if err == nil && (len(s) != 9 || strings.Trim(s, "0123456789") != "") {
			t.Fatalf("%q accepted", s)
		}
	})
}

func FuzzOGRNAndKPP(f *testing.F) {
	for _, s := range []string{"1089847323180", "304500116000157", "784101001", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			checkDigitProperty(t, OGRN, s)
		}
		if KPP("f", s) == nil && s != "" && len(s) != 9 {
			t.Fatalf("KPP %q accepted", s)
		}
	})
}
