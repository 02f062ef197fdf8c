package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeWalkthrough runs the README's walkthrough block, as written,
// with bash and curl against a fresh `trellis serve --demo` (only the
// address differs: the test listens on an ephemeral port), and checks what
// the reader is told to expect.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s", tool)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "distributor_key") {
			script = m[1]
		}
	}
	if script == "" {
		t.Fatal("README has no walkthrough block (a sh block reading distributor_key)")
	}
	if !strings.Contains(string(readme), "go run ./cmd/trellis serve --demo") {
		t.Fatal("README no longer starts the walkthrough with serve --demo")
	}
	work := t.TempDir()
	n := start(t, nil, "--demo", "--data-dir", filepath.Join(work, "data"))
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", n.URL)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		`"name":"Renamed partner"`,
		`"allocatedCapacity":250000000`,
		`"message":"allocatedCapacity: insufficient capacity: the contract has`,
		`<Key>hello.txt</Key>`,
		"Hello from Trellis object storage.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the walkthrough's output lacks %s:\n%s", want, got)
		}
	}
	if c := strings.Count(got, `"name":"Too big"`); c != 0 {
		t.Errorf("the refused partner was created:\n%s", got)
	}
}
