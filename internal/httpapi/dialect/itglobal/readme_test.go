package itglobal_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
)

// TestReadmeListsEveryRoute keeps the route table of docs/itglobal.md (which tells
// users which paths are inferred) equal to the dialect's route table: the
// same operations, methods, paths, roles and inferred marks.
func TestReadmeListsEveryRoute(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs", "itglobal.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| (IT-\\d+) \\| `([A-Z]+) ([^`]+)` \\| ([^|]+) \\| ([^|]+) \\|")
	inReadme := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			inReadme[m[1]] = m[2] + " " + m[3] + " | " + strings.TrimSpace(m[4]) + " | " + strings.TrimSpace(m[5])
		}
	}
	routes := itglobal.Routes()
	if len(inReadme) != len(routes) {
		t.Errorf("docs/itglobal.md lists %d operations, the route table has %d", len(inReadme), len(routes))
	}
	for _, r := range routes {
		roles := strings.Join(r.Roles, ", ")
		if r.Feature != "" {
			roles += " + " + r.Feature
		}
		from := "seed"
		if r.Inferred {
			from = "**inferred**"
		}
		want := r.Method + " " + itglobal.Prefix + r.Path + " | " + roles + " | " + from
		if got := inReadme[r.ID]; got != want {
			t.Errorf("docs/itglobal.md row %s = %q, want %q", r.ID, got, want)
		}
	}
}
