package idcloudhost

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
)

// TestParamsPythonLiterals: a JSON body written with the seed's Python
// literals (True, False, None outside strings) is read as what it means;
// the same words inside strings stay as they are; other invalid JSON is
// refused naming the body.
func TestParamsPythonLiterals(t *testing.T) {
	t.Parallel()
	read := func(body string) (decode.Values, error) {
		r, _ := http.NewRequest("POST", "/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return readParams(r)
	}
	p, err := read(`{"is_multi_node": True, "backup": False, "note": "True story", "x": None}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		MultiNode bool          `wire:"is_multi_node"`
		Backup    *bool         `wire:"backup"`
		Note      string        `wire:"note"`
		X         *decode.Value `wire:"x"`
	}
	if err := loose.Decode(p, &got); err != nil {
		t.Fatal(err)
	}
	if !got.MultiNode || got.Backup == nil || *got.Backup || got.Note != "True story" {
		t.Fatalf("vals = %#v", p)
	}
	if got.X == nil {
		t.Fatal("x missing")
	}
	if !got.X.IsNull() {
		t.Fatalf("x = %s, want null", got.X.Raw())
	}
	for _, bad := range []string{`{"a": Truee}`, `{"a": 1,}`, `[1]`, `{"a":1}{"b":2}`} {
		if _, err := read(bad); err == nil || !strings.Contains(err.Error(), "body") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if !json.Valid(pythonLiteralsToJSON([]byte(`{"a": [True, False, None], "b": "None\"True"}`))) {
		t.Fatal("conversion produced invalid JSON")
	}
}

// TestParamsPrecedence: one bag per request on every method, GET and
// DELETE bodies included (ID-amb-2): path > JSON > form > query; query and
// form texts become the request struct's types; mistakes name the
// parameter.
func TestParamsPrecedence(t *testing.T) {
	type req struct {
		UUID   string `wire:"uuid,nonblank"`
		VCPU   int64  `wire:"vcpu"`
		Backup bool   `wire:"backup"`
		Disks  gbSize `wire:"disks"`
		Name   string `wire:"name"`
	}
	read := func(method, target, ct, body string) (req, error) {
		t.Helper()
		r, _ := http.NewRequest(method, target, strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		r.SetPathValue("uuid", "from-path")
		p, err := readParams(r, "uuid")
		if err != nil {
			return req{}, err
		}
		var in req
		return in, loose.Decode(p, &in)
	}
	const form = "application/x-www-form-urlencoded"
	for _, method := range []string{"GET", "DELETE", "POST", "PATCH"} {
		in, err := read(method, "/x?uuid=q&vcpu=1&backup=no&name=query", form, "vcpu=+4&vcpu=%204%20&backup=YES&disks=")
		if err != nil {
			t.Fatalf("%s form: %v", method, err)
		}
		if want := (req{UUID: "from-path", VCPU: 4, Backup: true, Name: "query"}); in != want {
			t.Errorf("%s form: %+v, want %+v", method, in, want)
		}
		in, err = read(method, "/x?vcpu=1&name=query", "", "vcpu=2")
		if err != nil || in.VCPU != 2 {
			t.Errorf("%s untyped body: %+v %v", method, in, err)
		}
		in, err = read(method, "/x?vcpu=1&backup=true&name=query", "application/json",
			`{"uuid": "json", "vcpu": 8, "backup": False, "disks": "40", "name": 6281234}`)
		if err != nil {
			t.Fatalf("%s JSON: %v", method, err)
		}
		if want := (req{UUID: "from-path", VCPU: 8, Disks: 40, Name: "6281234"}); in != want {
			t.Errorf("%s JSON: %+v, want %+v", method, in, want)
		}
	}
	for _, tc := range []struct{ ct, body, field, msg string }{
		{form, "vcpu=-1", "vcpu", "must be a whole number"},
		{form, "backup=maybe", "backup", "must be true or false"},
		{form, "disks=ten", "disks", "must be a whole number of GB"},
		{"application/json", `{"vcpu": 1.5}`, "vcpu", "must be a whole number"},
		{"application/json", `{"name": {"a": 1}}`, "name", "must be a string"},
		{"application/json", `{"disks": true}`, "disks", "must be a whole number of GB"},
		{"text/plain", "x", "Content-Type", ""},
		{"application/json", `{"a": 1,}`, "body", ""},
	} {
		_, err := read("POST", "/x", tc.ct, tc.body)
		if errs.FieldOf(err) != tc.field || !strings.HasSuffix(errs.Public(err), tc.msg) {
			t.Errorf("%s %s: %v, want %s: %s", tc.ct, tc.body, err, tc.field, tc.msg)
		}
	}
}
