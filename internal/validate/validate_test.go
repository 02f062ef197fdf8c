package validate

import (
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw      string
		ok      bool
		missing string
	}{
		{"Abcdef1!", true, ""},
		{"Abcde1!", false, "8 to 128"},
		{"A" + strings.Repeat("b", 125) + "1!", true, ""},
		{"A" + strings.Repeat("b", 126) + "1!", false, "8 to 128"},
		{"abcdefg1!", false, "upper-case"},
		{"ABCDEFG1!", false, "lower-case"},
		{"Abcdefgh!", false, "digit"},
		{"Abcdefgh1", false, "special"},
		{"Abcdefg1 ", false, "special"}, // a space is not in the special set
		{"Abcdefg1~", true, ""},
	} {
		err := Password("password", tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.pw, err, tc.ok)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tc.missing) || errs.FieldOf(err) != "password" || !errs.Is(err, errs.KindInvalid)) {
			t.Errorf("%q: error %q should name the field and mention %q", tc.pw, err, tc.missing)
		}
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  Acme  ", "Acme", true},
		{"", "", false},
		{"   ", "", false},
		{strings.Repeat("é", 255), strings.Repeat("é", 255), true},
		{strings.Repeat("é", 256), "", false},
		{"a\x00b", "", false},
		{"\xff", "", false},
	} {
		got, err := Name("name", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Name(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && errs.FieldOf(err) != "name" {
			t.Errorf("Name(%q): field %q", tc.in, errs.FieldOf(err))
		}
	}
}

func TestEmailAndCurrency(t *testing.T) {
	t.Parallel()
	if got, err := Email("email", " Ann@Example.COM "); err != nil || got != "ann@example.com" {
		t.Errorf("Email = %q, %v", got, err)
	}
	for _, bad := range []string{"", "ann", "Ann <ann@example.com>", "ann@", strings.Repeat("a", 250) + "@x.io"} {
		if _, err := Email("email", bad); err == nil {
			t.Errorf("Email(%q) accepted", bad)
		}
	}
	for _, c := range []string{"EUR", "USD"} {
		if err := Currency("currency", c); err != nil {
			t.Errorf("Currency(%q): %v", c, err)
		}
	}
	for _, c := range []string{"", "eur", "EURO", "E1R"} {
		if err := Currency("currency", c); err == nil {
			t.Errorf("Currency(%q) accepted", c)
		}
	}
	if err := Capacity("allocatedCapacity", -1); err == nil || errs.FieldOf(err) != "allocatedCapacity" {
		t.Errorf("negative capacity: %v", err)
	}
}

func TestWire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s   string
		raw []byte
		max int
		msg string // "" = accepted
	}{
		{"plain text", nil, 0, ""},
		{"tab\tnew line\ncarriage return\r", nil, 0, ""},
		{"Zoë 日本", nil, 7, ""},
		{"nul\x00", nil, 0, "control characters (found U+0000"},
		{"bell\a", nil, 0, "control characters"},
		{"del\x7f", nil, 0, "control characters"},
		{"bad\xff", nil, 0, "valid UTF-8"},
		{"replaced\uFFFD", []byte("\"replaced\xff\""), 0, "valid UTF-8"},
		{"Zoë 日本!!", nil, 7, "at most 7 characters"},
	} {
		err := Wire("f", tc.s, tc.raw, tc.max)
		if tc.msg == "" && err != nil || tc.msg != "" && (!errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "f" || !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%q: %v, want %q", tc.s, err, tc.msg)
		}
	}
}

func TestIDAndSlug(t *testing.T) {
	t.Parallel()
	if s, err := ID("id", "  abc-1 ", MaxID); err != nil || s != "abc-1" {
		t.Errorf("ID: %q %v", s, err)
	}
	for _, bad := range []string{"", "  ", strings.Repeat("i", MaxID+1), "a\x00", "a\u0085b"} {
		if _, err := ID("id", bad, MaxID); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ID(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"eu-central-1", "jkt01", "US_West.2"} {
		if err := Slug("region", ok, 63); err != nil {
			t.Errorf("Slug(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "' OR 1=1 --", "-lead", "a b", "a/b", strings.Repeat("r", 64), "ünï"} {
		if err := Slug("region", bad, 63); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("Slug(%q) accepted", bad)
		}
	}
}
