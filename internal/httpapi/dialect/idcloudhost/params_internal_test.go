package idcloudhost

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestParamsPythonLiterals: a JSON body written with the seed's Python
// literals (True, False, None outside strings) is read as what it means;
// the same words inside strings stay as they are; other invalid JSON is
// refused naming the body.
func TestParamsPythonLiterals(t *testing.T) {
	t.Parallel()
	read := func(body string) (params, error) {
		r, _ := http.NewRequest("POST", "/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return readParams(r)
	}
	p, err := read(`{"is_multi_node": True, "backup": False, "note": "True story", "x": None}`)
	if err != nil {
		t.Fatal(err)
	}
	if p.vals["is_multi_node"] != true || p.vals["backup"] != false || p.vals["note"] != "True story" || p.vals["x"] != nil {
		t.Fatalf("vals = %#v", p.vals)
	}
	if _, ok := p.vals["x"]; !ok {
		t.Fatal("x missing")
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
