package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// run parses args as the trellis binary does and runs the command.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var c CLI
	var out bytes.Buffer
	p, err := kong.New(&c, kong.Name("trellis"), kong.Exit(func(int) { t.Fatalf("kong exited on %v", args) }))
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.Parse(args)
	if err != nil {
		return "", err
	}
	err = k.Run(&Globals{Ctx: t.Context(), Stdout: &out, Stderr: &out})
	return out.String(), err
}

func TestCommands(t *testing.T) {
	t.Setenv("TRELLIS_DB", "")
	dir := t.TempDir()
	out, err := run(t, "migrate", "--data-dir", dir)
	if err != nil || !regexp.MustCompile(`^sqlite schema at version [1-9][0-9]*\n$`).MatchString(out) {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if out, err := run(t, "version"); err != nil || !strings.HasPrefix(out, "trellis ") {
		t.Fatalf("version: %q %v", out, err)
	}
	for _, d := range []string{"impossiblecloud", "native"} {
		out, err := run(t, "openapi", d)
		var spec map[string]any
		if err != nil || json.Unmarshal([]byte(out), &spec) != nil || spec["openapi"] == nil || spec["paths"] == nil {
			t.Fatalf("openapi %s: %v %.100q", d, err, out)
		}
	}
	if _, err := run(t, "openapi", "nope"); err == nil || !strings.Contains(err.Error(), "impossiblecloud") {
		t.Fatalf("unknown dialect: %v", err)
	}

	out, err = run(t, "admin", "create-org", "--data-dir", dir, "--name", "Acme Distribution")
	if err != nil {
		t.Fatal(err)
	}
	var org map[string]string
	if err := json.Unmarshal([]byte(out), &org); err != nil || org["kind"] != "distributor" {
		t.Fatalf("create-org: %q %v", out, err)
	}
	out, err = run(t, "admin", "create-key", "--data-dir", dir, "--org", org["id"], "--role", "staff")
	if err != nil {
		t.Fatal(err)
	}
	var key map[string]string
	if err := json.Unmarshal([]byte(out), &key); err != nil || !strings.HasPrefix(key["key"], "trl_") || key["role"] != "staff" {
		t.Fatalf("create-key: %q %v", out, err)
	}
	out, err = run(t, "admin", "list-orgs", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Acme Distribution") || !strings.Contains(out, "provider") {
		t.Fatalf("list-orgs: %q %v", out, err)
	}
	out, err = run(t, "admin", "revoke-key", "--data-dir", dir, key["id"])
	if err != nil || !strings.Contains(out, "revokedAt") {
		t.Fatalf("revoke-key: %q %v", out, err)
	}
	if _, err := run(t, "admin", "create-key", "--data-dir", dir, "--org", "00000000-0000-4000-8000-000000000000"); err == nil {
		t.Fatal("a key for an unknown org")
	}
}

// `trellis serve` with no flags listens on the addresses the README gives
// (the e2e test of the defaults runs on free ports instead).
func TestServeDefaultAddresses(t *testing.T) {
	t.Parallel()
	var c CLI
	p, err := kong.New(&c, kong.Name("trellis"), kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ env, got, want string }{
		{"TRELLIS_HTTP", c.Serve.HTTP, "127.0.0.1:8080"},
		{"TRELLIS_S3", c.Serve.S3, "127.0.0.1:9000"},
		{"TRELLIS_DATA_DIR", c.Serve.DataDir, "./data"},
	} {
		want := f.want
		if v, ok := os.LookupEnv(f.env); ok {
			want = v // the environment wins over the default
		}
		if f.got != want {
			t.Errorf("serve's %s: %q, want %q", f.env, f.got, want)
		}
	}
}
