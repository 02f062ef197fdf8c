package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/httpapi"
)

// TestConfigurationPageIsCurrent keeps docs/configuration.md equal to what
// the flags say: a flag added, renamed or re-documented without
// `go generate ./internal/cli` fails here.
func TestConfigurationPageIsCurrent(t *testing.T) {
	t.Parallel()
	want, err := ConfigurationPage()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("docs/configuration.md is stale; run go generate ./internal/cli (-want +got):\n%s", diff)
	}
	for _, flag := range []string{"--data-dir", "--db", "--http", "--s3", "--metrics-token", "--reseller-monthly-limit"} {
		if !strings.Contains(want, "`"+flag+"`") {
			t.Errorf("the page does not document %s", flag)
		}
	}
}

// TestOpenAPIHelpNamesEveryDialect: `trellis openapi --help` (and the
// configuration page) list every dialect the server has a spec for.
func TestOpenAPIHelpNamesEveryDialect(t *testing.T) {
	t.Parallel()
	page, err := ConfigurationPage()
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(page, "## `trellis openapi`")
	if i < 0 {
		t.Fatal("the page has no openapi command")
	}
	section := page[i:]
	if j := strings.Index(section[1:], "\n## "); j >= 0 {
		section = section[:j+1]
	}
	for name := range httpapi.Dialects() {
		if !strings.Contains(section, name) {
			t.Errorf("openapi's help does not name the dialect %s: %s", name, section)
		}
	}
}
