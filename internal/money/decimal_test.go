package money

import (
	"errors"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func dec(t testing.TB, s string) Decimal {
	t.Helper()
	d, err := ParseJSONNumber("test", jsonNumber(s))
	if err != nil {
		t.Fatalf("bad test decimal %q: %v", s, err)
	}
	return d
}

func TestRounding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		places int32
		halfUp string
		ceil   string
		floor  string
	}{
		{"1.22231", 2, "1.22", "1.23", "1.22"},
		{"2.9568", 2, "2.96", "2.96", "2.95"},
		{"1.225", 2, "1.23", "1.23", "1.22"},
		{"-1.225", 2, "-1.23", "-1.22", "-1.23"},
		{"0.123", 2, "0.12", "0.13", "0.12"},
		{"0.202", 2, "0.2", "0.21", "0.2"},
		{"0.246", 2, "0.25", "0.25", "0.24"},
		{"1.23", 2, "1.23", "1.23", "1.23"},
		{"0.5", 0, "1", "1", "0"},
		{"-0.5", 0, "-1", "0", "-1"},
		{"3.42e-05", 5, "0.00003", "0.00004", "0.00003"},
	}
	for _, c := range cases {
		d := dec(t, c.in)
		for _, r := range []struct {
			name string
			got  Decimal
			want string
		}{
			{"RoundHalfUp", RoundHalfUp(d, c.places), c.halfUp},
			{"Ceil", Ceil(d, c.places), c.ceil},
			{"Floor", Floor(d, c.places), c.floor},
		} {
			if !r.got.Equal(dec(t, r.want)) {
				t.Errorf("%s(%s, %d) = %s, want %s", r.name, c.in, c.places, r.got, r.want)
			}
		}
	}
}

func TestToAmount(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		cur   Currency
		mode  RoundingMode
		minor int64
		fail  bool
	}{
		{"12.34", EUR, ModeExact, 1234, false},
		{"12.340000", EUR, ModeExact, 1234, false},
		{"12.345", EUR, ModeExact, 0, true},
		{"12.345", EUR, ModeHalfUp, 1235, false},
		{"-12.345", EUR, ModeHalfUp, -1235, false},
		{"12.341", EUR, ModeCeil, 1235, false},
		{"-12.349", EUR, ModeCeil, -1234, false},
		{"12.349", EUR, ModeFloor, 1234, false},
		{"12.5", JPY, ModeHalfUp, 13, false},
		{"1.2345", KWD, ModeHalfUp, 1235, false},
		{"92233720368547758.07", EUR, ModeExact, 9223372036854775807, false},
		{"-92233720368547758.08", EUR, ModeExact, -9223372036854775808, false},
		{"92233720368547758.08", EUR, ModeExact, 0, true},
		{"92233720368547758.075", EUR, ModeHalfUp, 0, true},
		{"1e30", EUR, ModeExact, 0, true},
		{"0", EUR, ModeExact, 0, false},
	}
	for _, c := range cases {
		got, err := ToAmount(dec(t, c.in), c.cur, c.mode)
		if c.fail {
			if err == nil {
				t.Errorf("ToAmount(%s, %v, %v) = %v, want error", c.in, c.cur, c.mode, got)
			}
			continue
		}
		if err != nil || got != NewAmount(c.minor, c.cur) {
			t.Errorf("ToAmount(%s, %v, %v) = %v, %v; want %d", c.in, c.cur, c.mode, got, err, c.minor)
		}
	}
	if _, err := ToAmount(dec(t, "1e30"), EUR, ModeHalfUp); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow err = %v", err)
	}
	if _, err := ToAmount(dec(t, "1"), Currency(0), ModeExact); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("invalid currency err = %v", err)
	}
	if _, err := Round(dec(t, "1"), 2, RoundingMode(99)); err == nil {
		t.Error("invalid rounding mode accepted")
	}
}

func TestFormatJSONNumber(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		places int32
		want   string
	}{
		{"-0.1", 2, "-0.10"}, // idcloudhost invoice 1 "credit": -0.10
		{"52", 0, "52"},      // idcloudhost "recurring_payment_amount": 52
		{"0", 0, "0"},        // idcloudhost running_totals "subtotal": 0
		{"1.2", 2, "1.20"},
		{"1.005", 2, "1.01"},
		{"-1.005", 2, "-1.01"},
		{"3.42e-05", 6, "0.000034"},
		{"7", -1, "7"},
	}
	for _, c := range cases {
		if got := FormatJSONNumber(dec(t, c.in), c.places); string(got) != c.want {
			t.Errorf("FormatJSONNumber(%s, %d) = %s, want %s", c.in, c.places, got, c.want)
		}
	}
	for in, want := range map[string]string{"1234": "1234", "12.30": "12.3", "0.00521": "0.00521", "5e3": "5000", "-0": "0", "3.42e-05": "0.0000342"} {
		if got := FormatJSONNumberShortest(dec(t, in)); string(got) != want {
			t.Errorf("FormatJSONNumberShortest(%s) = %s, want %s", in, got, want)
		}
	}
}
