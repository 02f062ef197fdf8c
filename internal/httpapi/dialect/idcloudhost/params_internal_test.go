package idcloudhost

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
)

// TestParamsPythonLiterals: a JSON body written with the seed's Python
// literals (True, False, None outside strings) is read as what it means;
// the same words inside strings stay as they are; other invalid JSON is
// refused naming the body.
func TestParamsPythonLiterals(t *testing.T) {
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
