package jsonbody

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestInt64(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body    string
		want    int64
		present bool
		errHas  string
	}{
		{`{"n": 5000000000000}`, 5000000000000, true, ""},
		{`{"n": 9223372036854775807}`, 9223372036854775807, true, ""},
		{`{"n": 9223372036854775808}`, 0, true, "out of range"},
		{`{"n": -3}`, -3, true, ""},
		{`{"n": 1.5}`, 0, true, "must be an integer"},
		{`{"n": 1e3}`, 0, true, "must be an integer"},
		{`{"n": "5"}`, 0, true, "got a string"},
		{`{"n": null}`, 0, true, "got a null"},
		{`{"n": true}`, 0, true, "got a boolean"},
		{`{}`, 0, false, ""},
	} {
		o, err := Parse([]byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		n, present, err := o.Int64("n", false)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || errs.FieldOf(err) != "n" {
				t.Errorf("%s: err = %v, want one naming n and saying %q", tc.body, err, tc.errHas)
			}
			continue
		}
		if err != nil || n != tc.want || present != tc.present {
			t.Errorf("%s: got %d %v %v", tc.body, n, present, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `   `, `null`, `[]`, `"x"`, `{"a":`, `{"a":1}{"b":2}`, `{"a":1} x`} {
		_, err := Parse([]byte(body))
		if err == nil || errs.FieldOf(err) != "body" || !errs.Is(err, errs.KindInvalid) {
			t.Errorf("Parse(%q) = %v", body, err)
		}
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	o, err := Parse([]byte(`{"s": "x", "b": false, "o": {"e": 7}, "t": null, "t2": "2026-01-31T12:00:00Z", "t3": "yesterday"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok, err := o.String("s", true); s != "x" || !ok || err != nil {
		t.Errorf("String: %q %v %v", s, ok, err)
	}
	if _, _, err := o.String("missing", true); err == nil || !strings.Contains(err.Error(), "missing: is required") {
		t.Errorf("required: %v", err)
	}
	if b, ok, err := o.Bool("b", true); b || !ok || err != nil {
		t.Errorf("Bool: %v %v %v", b, ok, err)
	}
	if _, _, err := o.Bool("s", true); err == nil {
		t.Error("string accepted as bool")
	}
	inner, _, err := o.Object("o", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := inner.String("e", true); err == nil || errs.FieldOf(err) != "o.e" {
		t.Errorf("nested field error: %v", err)
	}
	if tm, ok, err := o.NullableTime("t", true); tm != nil || !ok || err != nil {
		t.Errorf("null time: %v %v %v", tm, ok, err)
	}
	if tm, _, err := o.NullableTime("t2", true); tm == nil || err != nil || tm.Year() != 2026 {
		t.Errorf("time: %v %v", tm, err)
	}
	if _, _, err := o.NullableTime("t3", true); err == nil || errs.FieldOf(err) != "t3" {
		t.Errorf("bad time: %v", err)
	}
	if err := o.Only("s", "b", "o", "t", "t2"); err == nil || errs.FieldOf(err) != "t3" {
		t.Errorf("Only: %v", err)
	}
}

// FuzzParse: any input either parses into an object or fails with an
// Invalid error naming "body"; field readers never panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"allocatedCapacity": 5000000000000, "name": "x"}`, `{"a": {"b": [1, 2]}}`, `{`, `[]`, `{"n": 1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			if errs.FieldOf(err) != "body" {
				t.Fatalf("parse error without the body field: %v", err)
			}
			return
		}
		for _, k := range o.Fields() {
			_, _, _ = o.Int64(k, true)
			_, _, _ = o.Bool(k, true)
			_, _, _ = o.NullableTime(k, true)
			// A string read back survives a JSON round trip unchanged.
			if s, _, err := o.String(k, true); err == nil {
				b, _ := json.Marshal(map[string]string{k: s})
				again, err := Parse(b)
				if err != nil {
					t.Fatalf("re-parse %s: %v", b, err)
				}
				if s2, _, _ := again.String(k, true); s2 != s && utf8.ValidString(s) {
					t.Fatalf("round trip changed %q into %q", s, s2)
				}
			}
			if in, ok, err := o.Object(k, true); err == nil && ok {
				_ = in.Fields()
			}
		}
	})
}
