package native

import (
	"encoding/json"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	var doc map[string]any
	json.Unmarshal(Spec(), &doc)
	out := map[string]any{}
	for p, v := range doc["paths"].(map[string]any) {
		if len(p) > 8 && (p[:9] == "/reseller" || p[:8] == "/tickets" || p[:8] == "/reviews" || (len(p) > 10 && (p[len(p)-8:] == "-keys" || true))) {
			out[p] = v
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"paths": out, "schemas": doc["components"]}, "", " ")
	os.WriteFile("/tmp/spec.json", b, 0o644)
	b30, _ := json.MarshalIndent(json.RawMessage(Spec30()), "", " ")
	os.WriteFile("/tmp/spec30.json", b30, 0o644)
}
