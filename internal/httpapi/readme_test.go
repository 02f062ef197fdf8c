package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi"
)

// TestReadmeAPITable keeps the README's table of APIs true: one row per
// dialect spec, with the number of operations the spec really has (a
// location-scoped twin of an idcloudhost path counts once, as the vendor
// documents it once).
func TestReadmeAPITable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	specPaths := map[string]string{
		"impossiblecloud": "/impossiblecloud/openapi.json",
		"infiterra":       "/impossiblecloud/infiterra/openapi.json",
		"itglobal":        "/itglobal/openapi.json",
		"idcloudhost":     "/idcloudhost/openapi.json",
		"native":          "/api/openapi.json",
	}
	dialects := httpapi.Dialects()
	if len(dialects) != len(specPaths) {
		t.Fatalf("%d dialects serve specs, the test knows %d: add the new one to the README and here", len(dialects), len(specPaths))
	}
	for name, spec := range dialects {
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(spec(), &doc); err != nil {
			t.Fatal(err)
		}
		ops := map[string]bool{}
		for p, methods := range doc.Paths {
			for m := range methods {
				switch m {
				case "get", "put", "post", "delete", "patch":
					ops[m+" "+strings.TrimPrefix(p, "/{location}")] = true
				}
			}
		}
		row := regexp.MustCompile("(?m)^\\|[^|]+\\| ([0-9]+) \\|[^|]+\\| `" + regexp.QuoteMeta(specPaths[name]) + "` \\|$").FindSubmatch(readme)
		if row == nil {
			t.Errorf("README has no row for %s (spec %s)", name, specPaths[name])
			continue
		}
		if n, _ := strconv.Atoi(string(row[1])); n != len(ops) {
			t.Errorf("README says %s has %d operations, its spec has %d", name, n, len(ops))
		}
	}
}
