package decode

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// cents is a custom type: a JSON number with at most two decimals, kept
// as minor units.
type cents int64

func (c *cents) DecodeWire(field string, v Value) error {
	n, ok := v.Number()
	if !ok {
		return errs.Invalidf(field, "must be a number, got a %s", v.Kind())
	}
	whole, frac, _ := strings.Cut(n.String(), ".")
	if len(frac) > 2 {
		return errs.Invalid(field, "must have at most 2 decimals")
	}
	frac += strings.Repeat("0", 2-len(frac))
	var out int64
	for _, d := range whole + frac {
		out = out*10 + int64(d-'0')
	}
	*c = cents(out)
	return nil
}

type inner struct {
	Email string `wire:"email,required"`
	Level int32  `wire:"level"`
}

type common struct {
	Note string `wire:"note,trim"`
}

type request struct {
	Name     string              `wire:"name,required"`
	ID       string              `wire:"id,nonblank"`
	Count    int64               `wire:"count"`
	Small    int32               `wire:"small"`
	Bounded  int                 `wire:"bounded,min=1,max=10"`
	On       bool                `wire:"on"`
	Opt      *int64              `wire:"opt"`
	When     time.Time           `wire:"when"`
	Clear    Nullable[time.Time] `wire:"clear"`
	State    string              `wire:"state,enum=Active|NotActivated"`
	Inner    inner               `wire:"inner"`
	List     []int32             `wire:"list"`
	Objects  []RawObject         `wire:"objects"`
	Extra    json.RawMessage     `wire:"extra"`
	Any      any                 `wire:"any"`
	Raw      Value               `wire:"raw"`
	Price    cents               `wire:"price"`
	PriceOpt *cents              `wire:"priceOpt"`
	common
	Untagged string // no wire tag: never read
}

const base = `"name": "n", "id": "i"`

func decodeJSON(t *testing.T, ru Rules, body string) (request, error) {
	t.Helper()
	var in request
	o, err := ParseObject([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return in, ru.Decode(o, &in)
}

// TestStrictErrors: every mistake of the strict rules names its field,
// nested ones as "outer.inner" and items as "field[i]".
func TestStrictErrors(t *testing.T) {
	for _, tc := range []struct {
		body, field, msg string
	}{
		{`{"id": "i"}`, "name", "is required"},
		{`{"name": "n"}`, "id", "is required"},
		{`{"name": "n", "id": "  "}`, "id", "is required"},
		{`{"name": null, "id": "i"}`, "name", "must be a string, got a null"},
		{`{"name": 42, "id": "i"}`, "name", "must be a string, got a number"},
		{`{` + base + `, "count": "5"}`, "count", "must be an integer, got a string"},
		{`{` + base + `, "count": 1.5}`, "count", "must be an integer, got 1.5"},
		{`{` + base + `, "count": 1e3}`, "count", "must be an integer, got 1e3"},
		{`{` + base + `, "count": 9223372036854775808}`, "count", "is out of range (at most 9223372036854775807)"},
		{`{` + base + `, "count": -9223372036854775809}`, "count", "is out of range (at least -9223372036854775808)"},
		{`{` + base + `, "small": 2147483648}`, "small", "must be between -2147483648 and 2147483647"},
		{`{` + base + `, "bounded": 0}`, "bounded", "must be between 1 and 10"},
		{`{` + base + `, "bounded": 11}`, "bounded", "must be between 1 and 10"},
		{`{` + base + `, "on": "true"}`, "on", "must be true or false, got a string"},
		{`{` + base + `, "opt": null}`, "opt", "must be an integer, got a null"},
		{`{` + base + `, "when": "yesterday"}`, "when", "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z"},
		{`{` + base + `, "when": 5}`, "when", "must be an RFC 3339 date-time string, got a number"},
		{`{` + base + `, "clear": "soon"}`, "clear", "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z, or null"},
		{`{` + base + `, "state": "Pending"}`, "state", `must be one of "Active", "NotActivated"`},
		{`{` + base + `, "inner": []}`, "inner", "must be an object, got a array"},
		{`{` + base + `, "inner": {}}`, "inner.email", "is required"},
		{`{` + base + `, "inner": {"email": "e", "level": "x"}}`, "inner.level", "must be an integer, got a string"},
		{`{` + base + `, "list": 5}`, "list", "must be an array, got a number"},
		{`{` + base + `, "list": [1, "2"]}`, "list[1]", "must be an integer, got a string"},
		{`{` + base + `, "objects": [{}, 3]}`, "objects[1]", "must be an object, got a number"},
		{`{` + base + `, "price": 1.234}`, "price", "must have at most 2 decimals"},
		{`{` + base + `, "price": "1"}`, "price", "must be a number, got a string"},
		{`{` + base + `, "priceOpt": "1"}`, "priceOpt", "must be a number, got a string"},
		{`{` + base + `, "note": 1}`, "note", "must be a string, got a number"},
	} {
		_, err := decodeJSON(t, Rules{}, tc.body)
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field || !strings.HasSuffix(err.Error(), ": "+tc.msg) {
			t.Errorf("%s: err = %v, want %s: %s", tc.body, err, tc.field, tc.msg)
		}
	}
}

// TestStrictValues: what each type reads, exactly (numbers past float64's
// precision included).
func TestStrictValues(t *testing.T) {
	in, err := decodeJSON(t, Rules{}, `{"name": "n", "id": " i ", "count": 9007199254740993, "small": -5,
		"bounded": 10, "on": true, "opt": 0, "when": "2026-01-31T12:00:00.5+01:00", "clear": null,
		"state": "Active", "inner": {"email": "e", "level": 3, "unknown": 1}, "list": [1, 2],
		"objects": [{"a": 1}], "extra": [1, {"b": 2}], "any": {"n": 12345678901234567890},
		"raw": "x", "price": 12.3, "priceOpt": 7, "note": "  hi  ", "Untagged": "no"}`)
	if err != nil {
		t.Fatal(err)
	}
	opt, price := int64(0), cents(700)
	want := request{Name: "n", ID: "i", Count: 9007199254740993, Small: -5, Bounded: 10, On: true, Opt: &opt,
		When:  time.Date(2026, 1, 31, 12, 0, 0, 5e8, time.FixedZone("", 3600)),
		Clear: Nullable[time.Time]{Set: true, Null: true},
		State: "Active", Inner: inner{Email: "e", Level: 3}, List: []int32{1, 2},
		Objects: []RawObject{RawObject(`{"a": 1}`)}, Extra: json.RawMessage(`[1, {"b": 2}]`),
		Any: map[string]any{"n": json.Number("12345678901234567890")},
		Raw: JSON(json.RawMessage(`"x"`)), Price: 1230, PriceOpt: &price, common: common{Note: "hi"}}
	if in.Untagged != "" {
		t.Errorf("an untagged field was read: %q", in.Untagged)
	}
	if !in.When.Equal(want.When) {
		t.Errorf("When = %v, want %v", in.When, want.When)
	}
	in.When = want.When
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %+v\nwant %+v", in, want)
	}

	// Absent fields keep their zero value; an empty list is non-nil.
	in, err = decodeJSON(t, Rules{}, `{"name": "", "id": "i", "list": [], "clear": "2026-01-31T12:00:00Z"}`)
	if err != nil {
		t.Fatal(err)
	}
	if in.Opt != nil || in.PriceOpt != nil || in.List == nil || len(in.List) != 0 || in.Count != 0 {
		t.Errorf("absent fields: %+v", in)
	}
	if !in.Clear.Set || in.Clear.Null || in.Clear.Value.Year() != 2026 {
		t.Errorf("Clear = %+v", in.Clear)
	}
}

// TestNullAbsent: ITGLOBAL's rule — null is absent, so a required field
// sent as null "is required" and an optional one stays zero; Nullable
// still sees the null. Names are matched exactly (PascalCase stays
// PascalCase: "email" is not "Email").
func TestNullAbsent(t *testing.T) {
	type req struct {
		Email string              `wire:"Email,required"`
		Debt  *cents              `wire:"MaxDebt"`
		Post  bool                `wire:"IsPostPaid"`
		At    Nullable[time.Time] `wire:"At"`
	}
	ru := Rules{NullAbsent: true}
	for _, tc := range []struct{ body, field, msg string }{
		{`{"Email": null}`, "Email", "is required"},
		{`{"email": "x@example.com"}`, "Email", "is required"},
		{`{"Email": "x", "IsPostPaid": "yes"}`, "IsPostPaid", "must be true or false, got a string"},
	} {
		var in req
		o, _ := ParseObject([]byte(tc.body))
		err := ru.Decode(o, &in)
		if errs.FieldOf(err) != tc.field || !strings.HasSuffix(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.body, err)
		}
	}
	var in req
	o, _ := ParseObject([]byte(`{"Email": "x", "MaxDebt": null, "IsPostPaid": null, "At": null}`))
	if err := ru.Decode(o, &in); err != nil || in.Debt != nil || in.Post || !in.At.Set || !in.At.Null {
		t.Errorf("%+v %v", in, err)
	}
}

// TestLoose: idcloudhost's parameters — texts and JSON strings converted
// to the field's type, booleans as words, JSON numbers as strings, null as "", integers
// as whole numbers; messages without JSON types.
func TestLoose(t *testing.T) {
	type req struct {
		UUID   string  `wire:"uuid,nonblank"`
		Bucket string  `wire:"bucket,nonempty"`
		Name   *string `wire:"name"`
		Phone  string  `wire:"phone"`
		VCPU   int64   `wire:"vcpu"`
		RAM    *int64  `wire:"ram"`
		Backup bool    `wire:"backup"`
		Force  *bool   `wire:"force"`
		Any    any     `wire:"any"`
		Shadow *Value  `wire:"show_shadow"`
	}
	ru := Rules{Loose: true}
	for _, tc := range []struct {
		vals  Values
		field string
		msg   string
	}{
		{Values{"bucket": Text("b")}, "uuid", "is required"},
		{Values{"uuid": Text("u")}, "bucket", "is required"},
		{Values{"uuid": Text("u"), "bucket": Text("")}, "bucket", "is required"},
		{Values{"uuid": Text("   ")}, "uuid", "is required"},
		{Values{"uuid": JSON(json.RawMessage(`true`))}, "uuid", "must be a string"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "vcpu": Text("-1")}, "vcpu", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "vcpu": Text("+1")}, "vcpu", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "vcpu": Text("two")}, "vcpu", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "vcpu": JSON(json.RawMessage(`1.5`))}, "vcpu", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "vcpu": JSON(json.RawMessage(`"2x"`))}, "vcpu", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "ram": JSON(json.RawMessage(`null`))}, "ram", "must be a whole number"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "backup": Text("maybe")}, "backup", "must be true or false"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "backup": JSON(json.RawMessage(`2`))}, "backup", "must be true or false"},
		{Values{"uuid": Text("u"), "bucket": Text(" "), "force": JSON(json.RawMessage(`"sure"`))}, "force", "must be true or false"},
	} {
		var in req
		err := ru.Decode(tc.vals, &in)
		if errs.FieldOf(err) != tc.field || err == nil || !strings.HasSuffix(err.Error(), ": "+tc.msg) {
			t.Errorf("%v: %v, want %s: %s", tc.vals, err, tc.field, tc.msg)
		}
	}
	var in req
	err := ru.Decode(Values{"uuid": Text(" u "), "bucket": Text(" "), "name": JSON(json.RawMessage(`null`)),
		"phone": JSON(json.RawMessage(`6281234`)), "vcpu": JSON(json.RawMessage(`" 4 "`)), "ram": JSON(json.RawMessage(`2048`)),
		"backup": JSON(json.RawMessage(`"YES"`)), "force": JSON(json.RawMessage(`0`)), "any": Text("x"), "show_shadow": Text("")}, &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.UUID != "u" || in.Bucket != " " || in.Name == nil || *in.Name != "" || in.Phone != "6281234" || in.VCPU != 4 ||
		in.RAM == nil || *in.RAM != 2048 || !in.Backup || in.Force == nil || *in.Force || in.Any != "x" ||
		in.Shadow == nil || !in.Shadow.IsText() {
		t.Errorf("%+v", in)
	}
	for _, word := range []string{"true", "True", "yes", "1", " on "} {
		var in req
		err := ru.Decode(Values{"uuid": Text("u"), "bucket": Text("b"), "backup": Text(word)}, &in)
		if (word == " on ") != (err != nil) || (err == nil && !in.Backup) {
			t.Errorf("backup=%q: %v %v", word, in.Backup, err)
		}
	}
}

// TestStrictText: texts (path and query values) under the strict rules
// convert to integers and booleans too, naming the field when they do not.
func TestStrictText(t *testing.T) {
	type req struct {
		ID       int32 `wire:"id,min=1"`
		Internal *bool `wire:"withAnInternalRole"`
	}
	var in req
	if err := (Rules{}).Decode(Values{"id": Text("1427"), "withAnInternalRole": Text("true")}, &in); err != nil || in.ID != 1427 || !*in.Internal {
		t.Fatalf("%+v %v", in, err)
	}
	for _, tc := range []struct {
		vals  Values
		field string
	}{
		{Values{"id": Text("x")}, "id"},
		{Values{"id": Text("0")}, "id"},
		{Values{"id": Text("99999999999")}, "id"},
		{Values{"withAnInternalRole": Text("sometimes")}, "withAnInternalRole"},
	} {
		if err := (Rules{}).Decode(tc.vals, &req{}); errs.FieldOf(err) != tc.field {
			t.Errorf("%v: %v", tc.vals, err)
		}
	}
}

func TestParseObjectErrors(t *testing.T) {
	for _, body := range []string{``, `   `, `null`, `[]`, `"x"`, `{"a":`, `{"a":1}{"b":2}`, `{"a":1} x`, `{"a": True}`} {
		_, err := ParseObject([]byte(body))
		if err == nil || errs.FieldOf(err) != "body" || !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ParseObject(%q) = %v", body, err)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	r, _ := http.NewRequest("POST", "/", strings.NewReader(`{"name": "`+strings.Repeat("x", 100)+`"}`))
	r.Body = http.MaxBytesReader(nil, r.Body, 10)
	var in request
	if err := (Rules{}).Body(r, &in); !errs.Is(err, errs.KindTooLarge) || errs.FieldOf(err) != "body" {
		t.Fatalf("err = %v", err)
	}
}

// TestBadTypesPanic: a struct the decoder cannot fill is a programming
// mistake found by the first test that decodes it.
func TestBadTypesPanic(t *testing.T) {
	for name, dst := range map[string]any{
		"float": &struct {
			F float64 `wire:"f"`
		}{},
		"bad option": &struct {
			S string `wire:"s,requird"`
		}{},
		"not struct": new(int),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			_ = (Rules{}).Decode(Values{"f": JSON(json.RawMessage(`1`))}, dst)
		}()
	}
}

// FuzzDecode: any body either fails to parse naming "body", or decodes
// into the test request without panicking, any error naming a field.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name": "n", "id": "i", "count": 5}`, `{"inner": {"level": [1]}}`, `{`, `[]`, `{"count": 1e400}`, `{"list": [1, {"a": 2}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		if err != nil {
			if errs.FieldOf(err) != "body" {
				t.Fatalf("parse error without the body field: %v", err)
			}
			return
		}
		for _, ru := range []Rules{{}, {NullAbsent: true}, {Loose: true}} {
			var in request
			if err := ru.Decode(o, &in); err != nil && (errs.FieldOf(err) == "" || !errs.Is(err, errs.KindInvalid)) {
				t.Fatalf("error without a field: %v", err)
			}
		}
	})
}

// TestInto: a custom type decodes through another type under the same
// rules, naming its field.
func TestInto(t *testing.T) {
	var n int64
	if err := (Rules{Loose: true}).Into("size_gb", Text(" 40 "), &n); err != nil || n != 40 {
		t.Fatalf("%d %v", n, err)
	}
	if err := (Rules{Loose: true}).Into("size_gb", Text("-1"), &n); errs.FieldOf(err) != "size_gb" {
		t.Fatalf("%v", err)
	}
	var list []string
	if err := (Rules{}).Into("tags", JSON(json.RawMessage(`["a", 1]`)), &list); errs.FieldOf(err) != "tags[1]" {
		t.Fatalf("%v", err)
	}
}
