package services

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errs.Is(err, errs.KindInvalid) || !asErr(err, &e) || e.Field != field {
		t.Fatalf("error %v, want invalid %s", err, field)
	}
}

func TestWhitelistEntry(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"176.112.157.203": "176.112.157.203",
		" 1.2.3.0/24 ":    "1.2.3.0/24",
		"10.123.8.0/24":   "10.123.8.0/24",
		"0.0.0.0/0":       "0.0.0.0/0",
		"2001:DB8::1":     "2001:db8::1",
		"2001:db8::/32":   "2001:db8::/32",
		"1.2.3.4/32":      "1.2.3.4/32",
	} {
		got, err := WhitelistEntry(in)
		if err != nil || got != want {
			t.Errorf("WhitelistEntry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "1.2.3", "1.2.3.4/33", "1.2.3.0/", "/24", "example.com", "1.2.3.4/24",
		"fe80::1%eth0", "1.2.3.04", strings.Repeat("1", 80), "1.2.3.4 5.6.7.8"} {
		_, err := WhitelistEntry(in)
		wantField(t, err, "ip_address")
	}
	_, err := WhitelistEntry("1.2.3.4/24")
	if err == nil || !strings.Contains(err.Error(), "1.2.3.0/24") {
		t.Errorf("host bits: %v, want the masked prefix named", err)
	}
}

func TestNormalizeParameters(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		``:                            `{}`,
		`null`:                        `{}`,
		`""`:                          `{}`,
		`{}`:                          `{}`,
		`"{\"location\":\"dc1\"}"`:    `{"location":"dc1"}`,
		`{"location": "dc1", "n": 1}`: `{"location":"dc1","n":1}`,
	} {
		got, err := NormalizeParameters(json.RawMessage(in))
		if err != nil || string(got) != want {
			t.Errorf("NormalizeParameters(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`5`, `true`, `[1]`, `"x"`, `"[1]"`, `{`, `"` + strings.Repeat("a", 5000) + `"`,
		`{"a": "` + strings.Repeat("a", 5000) + `"}`} {
		_, err := NormalizeParameters(json.RawMessage(in))
		wantField(t, err, "package_parameters")
	}
}

func TestCreateInputValidate(t *testing.T) {
	t.Parallel()
	good := func() CreateInput {
		return CreateInput{Location: "cyc01", Service: "postgresql", Version: "14.0", DisplayName: "db", VMCPU: 2,
			VMRAMMB: 4096, VMDiskGB: 40, IsMultiNode: true, Parameters: json.RawMessage(`"{\"location\":\"dc1\"}"`)}
	}
	in := good()
	in.Service, in.DisplayName = " PostgreSQL ", "  db  "
	off, err := in.Validate(DefaultOfferings(), DefaultLimits())
	if err != nil || off.Port != 5432 || in.Service != "postgresql" || in.DisplayName != "db" ||
		string(in.Parameters) != `{"location":"dc1"}` {
		t.Fatalf("Validate: %v %+v %+v", err, off, in)
	}
	for _, c := range []struct {
		field string
		mod   func(*CreateInput)
	}{
		{"service", func(in *CreateInput) { in.Service = "" }},
		{"service", func(in *CreateInput) { in.Service = "mysql" }},
		{"version", func(in *CreateInput) { in.Version = "" }},
		{"version", func(in *CreateInput) { in.Version = "10.5" }},
		{"display_name", func(in *CreateInput) { in.DisplayName = " " }},
		{"display_name", func(in *CreateInput) { in.DisplayName = strings.Repeat("x", 256) }},
		{"display_name", func(in *CreateInput) { in.DisplayName = "a\x00b" }},
		{"vm_cpu", func(in *CreateInput) { in.VMCPU = 0 }},
		{"vm_cpu", func(in *CreateInput) { in.VMCPU = 17 }},
		{"vm_ram", func(in *CreateInput) { in.VMRAMMB = 512 }},
		{"vm_ram", func(in *CreateInput) { in.VMRAMMB = 65537 }},
		{"vm_disk_gb", func(in *CreateInput) { in.VMDiskGB = 19 }},
		{"vm_disk_gb", func(in *CreateInput) { in.VMDiskGB = 241 }},
		{"is_multi_node", func(in *CreateInput) { in.Service, in.Version = "mariadb", "10.5" }},
		{"package_parameters", func(in *CreateInput) { in.Parameters = json.RawMessage(`[]`) }},
		{"uuid", func(in *CreateInput) { in.UUID = "nope" }},
		{"location", func(in *CreateInput) { in.Location = "" }},
	} {
		in := good()
		c.mod(&in)
		_, err := in.Validate(DefaultOfferings(), DefaultLimits())
		wantField(t, err, c.field)
	}
}

func TestUpdateInputValidate(t *testing.T) {
	t.Parallel()
	name, neg := "  new  ", int64(-1)
	in := UpdateInput{DisplayName: &name}
	if err := in.Validate(); err != nil || *in.DisplayName != "new" {
		t.Fatalf("Validate: %v %q", err, *in.DisplayName)
	}
	empty := ""
	in = UpdateInput{DisplayName: &empty}
	wantField(t, in.Validate(), "display_name")
	in = UpdateInput{BillingAccountID: &neg}
	wantField(t, in.Validate(), "billing_account_id")
}

func TestPassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		p, err := newPassword()
		if err != nil || len(p) != PasswordLength || strings.Trim(p, passwordAlphabet) != "" || seen[p] {
			t.Fatalf("newPassword = %q, %v", p, err)
		}
		seen[p] = true
	}
	spec := PackageSpec{UUID: "u", SQLPass: "secret-pass"}
	for _, f := range []string{"%v", "%+v", "%s"} {
		if s := sprintf(f, spec); strings.Contains(s, "secret-pass") {
			t.Errorf("%s of a PackageSpec shows the password: %s", f, s)
		}
	}
}
