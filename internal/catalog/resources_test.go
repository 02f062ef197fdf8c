package catalog_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

var (
	sys      = actor.System("")
	staff    = actor.Actor{Type: actor.TypeUser, ID: "u1", OrgPath: "/p/", OrgKind: actor.Provider, Role: actor.Staff}
	outsider = []actor.Actor{
		{Type: actor.TypeUser, ID: "u2", OrgPath: "/p/", OrgKind: actor.Provider, Role: actor.Viewer},
		{Type: actor.TypeUser, ID: "u3", OrgPath: "/p/d/", OrgKind: actor.Distributor, Role: actor.Admin},
		{Type: actor.TypeUser, ID: "u4", OrgPath: "/p/d/c/", OrgKind: actor.Customer, Role: actor.Admin},
	}
)

// demo returns a service with the demo locations and resources loaded.
func demo(t *testing.T, d *db.DB) *catalog.Service {
	t.Helper()
	s := newService(t, d)
	ctx := t.Context()
	if err := s.LoadDemo(ctx, sys); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadDemoResources(ctx, sys); err != nil {
		t.Fatal(err)
	}
	return s
}

// snapshot is everything the catalog holds, to check that refused
// requests change nothing.
func snapshot(t *testing.T, s *catalog.Service) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	for _, loc := range []string{"cyc01", "bus02", "zzz09"} {
		ps, err := s.ListHostPools(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %+v\n", loc, ps)
	}
	ims, err := s.ListImages(ctx, catalog.AllImages)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "images: %+v\n", ims)
	r, err := s.VMRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Params {
		fmt.Fprintf(&b, "param %s %q %v %d %d %q %v", p.Parameter, p.Description, p.Mandatory, p.Min, p.Max, p.Expression, p.Values)
		for _, l := range p.Limits {
			fmt.Fprintf(&b, " [%s %v %v %v %v]", l.OSName, deref(l.Min), deref(l.Max), deref(l.Mandatory), l.Values)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func p64(v int64) *int64 { return &v }

func TestHostPools(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := demo(t, d)
		// The demo: the seed's pools in cyc01, the same classes in bus02.
		ps, err := s.ListHostPools(ctx, "cyc01")
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].Name != "General" || !ps[0].IsDefault || ps[0].UUID != "4820b11f-82c9-4313-a1ef-14d6039981db" ||
			ps[1].Name != "Performance" || ps[1].IsDefault || ps[1].UUID != "d2fc6881-9316-46d7-b515-b6cddaeee927" ||
			ps[1].Description != "another fine server class" {
			t.Fatalf("cyc01 pools: %+v", ps)
		}
		if ps, _ := s.ListHostPools(ctx, "bus02"); len(ps) != 2 || !ps[0].IsDefault || ps[0].UUID == "4820b11f-82c9-4313-a1ef-14d6039981db" {
			t.Fatalf("bus02 pools: %+v", ps)
		}
		if ps, err := s.ListHostPools(ctx, "NOPE"); err != nil || len(ps) != 0 {
			t.Fatalf("pools of a bad slug: %v %v", ps, err)
		}
		// The VM-create lookups.
		p, err := s.HostPool(ctx, "cyc01", "D2FC6881-9316-46d7-b515-b6cddaeee927")
		if err != nil || p.Name != "Performance" {
			t.Fatalf("HostPool: %+v %v", p, err)
		}
		for _, c := range []struct{ loc, uuid string }{
			{"bus02", "d2fc6881-9316-46d7-b515-b6cddaeee927"}, // another location's pool
			{"cyc01", "00000000-0000-0000-0000-000000000000"},
			{"cyc01", "not-a-uuid"},
		} {
			if _, err := s.HostPool(ctx, c.loc, c.uuid); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "designated_pool_uuid" {
				t.Errorf("HostPool(%s, %s): %v", c.loc, c.uuid, err)
			}
		}
		if p, err := s.DefaultHostPool(ctx, "bus02"); err != nil || p.Name != "General" || p.Location != "bus02" {
			t.Fatalf("DefaultHostPool: %+v %v", p, err)
		}

		// A new location: its first pool is the default whatever it says.
		if _, err := s.PutLocation(ctx, sys, catalog.PutLocationInput{Slug: "zzz09", DisplayName: "Z", CountryCode: "est"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DefaultHostPool(ctx, "zzz09"); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "designated_pool_uuid" {
			t.Fatalf("default of a location without pools: %v", err)
		}
		a, err := s.PutHostPool(ctx, staff, catalog.PutHostPoolInput{Location: "zzz09", Name: "Alpha", Description: "first"})
		if err != nil || !a.IsDefault || a.Location != "zzz09" || a.UUID == "" {
			t.Fatalf("first pool: %+v %v", a, err)
		}
		b, err := s.PutHostPool(ctx, staff, catalog.PutHostPoolInput{Location: "zzz09", Name: "Beta"})
		if err != nil || b.IsDefault {
			t.Fatalf("second pool: %+v %v", b, err)
		}
		// Update, and move the default.
		b2, err := s.PutHostPool(ctx, staff, catalog.PutHostPoolInput{UUID: b.UUID, Name: "Beta 2", Description: "d", IsDefault: true})
		if err != nil || !b2.IsDefault || b2.Name != "Beta 2" || b2.CreatedAt != b.CreatedAt {
			t.Fatalf("update: %+v %v", b2, err)
		}
		if a, _ := s.GetHostPool(ctx, a.UUID); a.IsDefault {
			t.Fatal("the old default kept its flag")
		}

		// A partial update keeps what it does not name.
		desc := "described"
		b3, err := s.UpdateHostPool(ctx, staff, catalog.UpdateHostPoolInput{UUID: b.UUID, Description: &desc})
		if err != nil || b3.Name != "Beta 2" || b3.Description != "described" || !b3.IsDefault {
			t.Fatalf("partial update: %+v %v", b3, err)
		}

		before := snapshot(t, s)
		// Refused: nothing changes.
		for _, c := range []struct {
			in    catalog.PutHostPoolInput
			kind  errs.Kind
			field string
		}{
			{catalog.PutHostPoolInput{Location: "zzz09", Name: ""}, errs.KindInvalid, "name"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: "x\x01"}, errs.KindInvalid, "name"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: strings.Repeat("n", 256)}, errs.KindInvalid, "name"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: "N", Description: strings.Repeat("d", 1001)}, errs.KindInvalid, "description"},
			{catalog.PutHostPoolInput{Location: "", Name: "N"}, errs.KindInvalid, "location"},
			{catalog.PutHostPoolInput{Location: "Bad-Slug", Name: "N"}, errs.KindInvalid, "location"},
			{catalog.PutHostPoolInput{Location: "nope1", Name: "N"}, errs.KindInvalid, "location"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: "N", NewUUID: "x"}, errs.KindInvalid, "uuid"},
			{catalog.PutHostPoolInput{UUID: "x", Name: "N"}, errs.KindInvalid, "uuid"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: "Alpha"}, errs.KindConflict, "name"},
			{catalog.PutHostPoolInput{Location: "zzz09", Name: "Gamma", NewUUID: a.UUID}, errs.KindConflict, "uuid"},
			{catalog.PutHostPoolInput{UUID: a.UUID, Name: "Beta 2"}, errs.KindConflict, "name"},
			{catalog.PutHostPoolInput{UUID: a.UUID, Name: "Alpha", Location: "cyc01"}, errs.KindInvalid, "location"},
			{catalog.PutHostPoolInput{UUID: b.UUID, Name: "Beta 2"}, errs.KindInvalid, "is_default_designated"},
			{catalog.PutHostPoolInput{UUID: "00000000-0000-0000-0000-000000000001", Name: "N"}, errs.KindNotFound, ""},
		} {
			_, err := s.PutHostPool(ctx, staff, c.in)
			if !errs.Is(err, c.kind) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want %v on %q", c.in, err, c.kind, c.field)
			}
		}
		no, empty, long := false, " ", strings.Repeat("d", 1001)
		for _, c := range []struct {
			in    catalog.UpdateHostPoolInput
			kind  errs.Kind
			field string
		}{
			{catalog.UpdateHostPoolInput{UUID: "x"}, errs.KindInvalid, "uuid"},
			{catalog.UpdateHostPoolInput{UUID: b.UUID}, errs.KindInvalid, "body"}, // nothing to change
			{catalog.UpdateHostPoolInput{UUID: b.UUID, Name: &empty}, errs.KindInvalid, "name"},
			{catalog.UpdateHostPoolInput{UUID: b.UUID, Description: &long}, errs.KindInvalid, "description"},
			{catalog.UpdateHostPoolInput{UUID: b.UUID, IsDefault: &no}, errs.KindInvalid, "is_default_designated"},
			{catalog.UpdateHostPoolInput{UUID: a.UUID, Name: &b3.Name}, errs.KindConflict, "name"},
			{catalog.UpdateHostPoolInput{UUID: "00000000-0000-0000-0000-000000000001"}, errs.KindNotFound, ""},
		} {
			_, err := s.UpdateHostPool(ctx, staff, c.in)
			if !errs.Is(err, c.kind) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want %v on %q", c.in, err, c.kind, c.field)
			}
		}
		for _, o := range outsider {
			if _, err := s.UpdateHostPool(ctx, o, catalog.UpdateHostPoolInput{UUID: a.UUID, Name: &desc}); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v updated a pool: %v", o, err)
			}
			if _, err := s.PutHostPool(ctx, o, catalog.PutHostPoolInput{Location: "zzz09", Name: "Gamma"}); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v created a pool: %v", o, err)
			}
			if err := s.DeleteHostPool(ctx, o, a.UUID); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v deleted a pool: %v", o, err)
			}
		}
		if err := s.DeleteHostPool(ctx, staff, b.UUID); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("delete the default with others: %v", err)
		}
		if err := s.DeleteHostPool(ctx, staff, "nope"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete a bad uuid: %v", err)
		}
		if err := s.DeleteLocation(ctx, sys, "zzz09"); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("delete a location with pools: %v", err)
		}
		if after := snapshot(t, s); after != before {
			t.Fatalf("refused requests changed the catalog:\n%s\n%s", before, after)
		}

		// Concurrent moves of the default: one default at the end.
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := []catalog.HostPool{a, b2}[i%2]
				if _, err := s.PutHostPool(ctx, staff, catalog.PutHostPoolInput{UUID: p.UUID, Name: p.Name, IsDefault: true}); err != nil {
					t.Errorf("move the default to %s: %v", p.Name, err)
				}
			}()
		}
		wg.Wait()
		ps, _ = s.ListHostPools(ctx, "zzz09")
		n := 0
		for _, p := range ps {
			if p.IsDefault {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("defaults after concurrent moves: %+v", ps)
		}
		// The non-default goes, then the last one, then the location.
		def, _ := s.DefaultHostPool(ctx, "zzz09")
		for _, p := range ps {
			if p.UUID != def.UUID {
				if err := s.DeleteHostPool(ctx, staff, p.UUID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.DeleteHostPool(ctx, staff, def.UUID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteLocation(ctx, sys, "zzz09"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetHostPool(ctx, def.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted pool: %v", err)
		}
	})
}

func TestImages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := demo(t, d)
		all, err := s.ListImages(ctx, catalog.AllImages)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, im := range all {
			names = append(names, im.OSName)
		}
		if !slices.Equal(names, []string{"almalinux", "centos", "ubuntu", "windows", "debian"}) || !all[0].IsDefault || all[1].IsDefault {
			t.Fatalf("demo images: %v", names)
		}
		// The seed's ID-71 images are as in the sample.
		want := catalog.Image{OSName: "almalinux", DisplayName: "Almalinux", UIPosition: 1, IsDefault: true, Icon: "...",
			Versions: []catalog.ImageVersion{{OSVersion: "8", DisplayName: "8", Published: true}}}
		got := all[0]
		got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("almalinux (-want +got):\n%s", d)
		}
		plain, _ := s.ListImages(ctx, catalog.PlainOS)
		app, _ := s.ListImages(ctx, catalog.AppCatalog)
		if len(plain) != 4 || len(app) != 1 || app[0].OSName != "centos" || len(app[0].Versions) != 3 || app[0].Versions[0].OSVersion != "7.3.1611" {
			t.Fatalf("plain %d, app catalog %+v", len(plain), app)
		}
		// Image: the VM-create lookup.
		if im, err := s.Image(ctx, "ubuntu", "16.04"); err != nil || im.OSName != "ubuntu" {
			t.Fatalf("Image: %+v %v", im, err)
		}
		for _, c := range []struct{ name, version, field string }{
			{"", "16.04", "os_name"}, {"ubuntu", "", "os_version"}, {"plan9", "4", "os_name"},
			{"ubuntu", "99.04", "os_version"}, {"UBUNTU", "16.04", "os_name"},
		} {
			if _, err := s.Image(ctx, c.name, c.version); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("Image(%q, %q): %v, want invalid %s", c.name, c.version, err, c.field)
			}
		}
		// An unpublished version exists but cannot be installed, nor is it
		// in the rules' enum.
		ub := catalog.PutImageInput{OSName: "ubuntu", DisplayName: "Ubuntu", UIPosition: 3,
			Versions: []catalog.ImageVersion{{OSVersion: "16.04", Published: false}, {OSVersion: "24.04", DisplayName: "24.04 LTS", Published: true}}}
		im, err := s.PutImage(ctx, staff, ub)
		if err != nil || len(im.Versions) != 2 || im.Versions[0].DisplayName != "16.04" || im.IsDefault {
			t.Fatalf("PutImage: %+v %v", im, err)
		}
		if _, err := s.Image(ctx, "ubuntu", "16.04"); errs.FieldOf(err) != "os_version" || !strings.Contains(err.Error(), "24.04") {
			t.Fatalf("unpublished version: %v", err)
		}
		r, _ := s.VMRules(ctx)
		if vs := r.Versions("ubuntu"); !slices.Equal(vs, []string{"24.04"}) {
			t.Fatalf("published versions of ubuntu: %v", vs)
		}
		// A new default image; the old one loses the flag.
		if _, err := s.PutImage(ctx, staff, catalog.PutImageInput{OSName: "fedora", DisplayName: "Fedora", IsDefault: true,
			Versions: []catalog.ImageVersion{{OSVersion: "40", Published: true}}}); err != nil {
			t.Fatal(err)
		}
		if im, _ := s.GetImage(ctx, "almalinux"); im.IsDefault {
			t.Fatal("almalinux kept the default flag")
		}

		before := snapshot(t, s)
		for _, c := range []struct {
			in    catalog.PutImageInput
			field string
		}{
			{catalog.PutImageInput{OSName: "", DisplayName: "X"}, "os_name"},
			{catalog.PutImageInput{OSName: "Ubuntu", DisplayName: "X"}, "os_name"},
			{catalog.PutImageInput{OSName: "-x", DisplayName: "X"}, "os_name"},
			{catalog.PutImageInput{OSName: strings.Repeat("x", 65), DisplayName: "X"}, "os_name"},
			{catalog.PutImageInput{OSName: "x", DisplayName: " "}, "display_name"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", UIPosition: -1}, "ui_position"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Icon: strings.Repeat("i", 100_001)}, "icon"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Versions: []catalog.ImageVersion{{OSVersion: ""}}}, "versions"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Versions: []catalog.ImageVersion{{OSVersion: "1 2"}}}, "versions"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Versions: []catalog.ImageVersion{{OSVersion: "1"}, {OSVersion: "1"}}}, "versions"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Versions: []catalog.ImageVersion{{OSVersion: "1", DisplayName: "a\x00"}}}, "versions"},
			{catalog.PutImageInput{OSName: "x", DisplayName: "X", Versions: make([]catalog.ImageVersion, 101)}, "versions"},
			{catalog.PutImageInput{OSName: "fedora", DisplayName: "Fedora"}, "is_default"},
		} {
			if _, err := s.PutImage(ctx, staff, c.in); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want invalid %s", c.in.OSName, err, c.field)
			}
		}
		for _, o := range outsider {
			if _, err := s.PutImage(ctx, o, catalog.PutImageInput{OSName: "x", DisplayName: "X"}); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v put an image: %v", o, err)
			}
			if err := s.DeleteImage(ctx, o, "centos"); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v deleted an image: %v", o, err)
			}
		}
		if err := s.DeleteImage(ctx, staff, "fedora"); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("delete the default image: %v", err)
		}
		if err := s.DeleteImage(ctx, staff, "plan9"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete an unknown image: %v", err)
		}
		if after := snapshot(t, s); after != before {
			t.Fatalf("refused requests changed the catalog:\n%s\n%s", before, after)
		}
		if err := s.DeleteImage(ctx, staff, "centos"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Image(ctx, "centos", "7.6"); errs.FieldOf(err) != "os_name" {
			t.Fatalf("deleted image: %v", err)
		}
		r, _ = s.VMRules(ctx)
		if p, _ := r.Param("os_name"); slices.Contains(p.Values, "centos") {
			t.Fatalf("deleted image still in the enum: %v", p.Values)
		}
	})
}

// seedCreate is the VM of the seed's Create VM request (ID-12).
var seedCreate = catalog.VMSpec{Name: "Ubuntu-16-04", OSName: "ubuntu", OSVersion: "16.04", DiskGB: 20, VCPU: 2, RAMMB: 2048,
	Username: "example", HasUsername: true, Password: "Password123"}

func TestVMRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := demo(t, d)
		r, err := s.VMRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range r.Params {
			names = append(names, p.Parameter)
		}
		if !slices.Equal(names, catalog.ParamNames()) {
			t.Fatalf("served parameters: %v", names)
		}
		// The seed's expressions are served verbatim.
		pw, _ := r.Param("password")
		un, _ := r.Param("username")
		if pw.Expression != `^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,}$` || un.Expression != `^(?=.{1,30}$)[a-zA-Z_][0-9a-zA-Z_-]*$` ||
			pw.Type() != "string" || pw.Constraint() != "regexp" || un.LimitedBy() != "os_name" || pw.LimitedBy() != "" {
			t.Fatalf("password %+v, username %+v", pw, un)
		}
		osn, _ := r.Param("os_name")
		osv, _ := r.Param("os_version")
		if !slices.Equal(osn.Values, []string{"almalinux", "centos", "ubuntu", "windows", "debian"}) || osv.LimitedBy() != "os_name" ||
			len(osv.Limits) != 5 || osv.Limits[1].OSName != "centos" || !slices.Equal(osv.Limits[1].Values, []string{"7.3.1611", "7.6", "8.2"}) {
			t.Fatalf("os enums: %+v %+v", osn, osv)
		}
		if err := r.CheckCreate(seedCreate); err != nil {
			t.Fatalf("the seed's VM: %v", err)
		}
		win := catalog.VMSpec{Name: "win-1", OSName: "windows", OSVersion: "2016", DiskGB: 40, VCPU: 2, RAMMB: 1024, Password: "Passw0rdX"}
		if err := r.CheckCreate(win); err != nil {
			t.Fatalf("windows without a username: %v", err)
		}
		clone := catalog.VMSpec{Name: "clone-1", VCPU: 1, RAMMB: 512, Username: "u", Password: "Passw0rdX", FromSource: true}
		if err := r.CheckCreate(clone); err != nil {
			t.Fatalf("from a source: %v", err)
		}
		with := func(f func(*catalog.VMSpec)) catalog.VMSpec { v := seedCreate; f(&v); return v }
		for i, c := range []struct {
			in    catalog.VMSpec
			field string
		}{
			{with(func(v *catalog.VMSpec) { v.DiskGB = 0 }), "disks"},
			{with(func(v *catalog.VMSpec) { v.DiskGB = 19 }), "disks"},
			{with(func(v *catalog.VMSpec) { v.DiskGB = 241 }), "disks"},
			{with(func(v *catalog.VMSpec) { v.DiskGB = -20 }), "disks"},
			{with(func(v *catalog.VMSpec) { v.Name = "" }), "name"},
			{with(func(v *catalog.VMSpec) { v.Name = "abc" }), "name"},
			{with(func(v *catalog.VMSpec) { v.Name = "-abcd" }), "name"},
			{with(func(v *catalog.VMSpec) { v.Name = "abcd-" }), "name"},
			{with(func(v *catalog.VMSpec) { v.Name = "ab cd" }), "name"},
			{with(func(v *catalog.VMSpec) { v.Name = "Name of the Clone" }), "name"},
			{with(func(v *catalog.VMSpec) { v.OSName = "" }), "os_name"},
			{with(func(v *catalog.VMSpec) { v.OSName = "plan9" }), "os_name"},
			{with(func(v *catalog.VMSpec) { v.OSVersion = "" }), "os_version"},
			{with(func(v *catalog.VMSpec) { v.OSVersion = "9.1" }), "os_version"},
			{with(func(v *catalog.VMSpec) { v.OSName, v.OSVersion = "", "16.04" }), "os_name"},
			{with(func(v *catalog.VMSpec) { v.Password = "" }), "password"},
			{with(func(v *catalog.VMSpec) { v.Password = "Passw0r" }), "password"},
			{with(func(v *catalog.VMSpec) { v.Password = "password123" }), "password"},
			{with(func(v *catalog.VMSpec) { v.Password = "PASSWORD123" }), "password"},
			{with(func(v *catalog.VMSpec) { v.Password = "Passwordxyz" }), "password"},
			{with(func(v *catalog.VMSpec) { v.Password = "Pass\nword123" }), "password"},
			{with(func(v *catalog.VMSpec) { v.RAMMB = 0 }), "ram"},
			{with(func(v *catalog.VMSpec) { v.RAMMB = 511 }), "ram"},
			{with(func(v *catalog.VMSpec) { v.RAMMB = 65537 }), "ram"},
			{with(func(v *catalog.VMSpec) { v.Username = "" }), "username"},
			{with(func(v *catalog.VMSpec) { v.Username, v.HasUsername = "", false }), "username"},
			{with(func(v *catalog.VMSpec) { v.Username = "1abc" }), "username"},
			{with(func(v *catalog.VMSpec) { v.Username = "ab.c" }), "username"},
			{with(func(v *catalog.VMSpec) { v.Username = strings.Repeat("u", 31) }), "username"},
			{with(func(v *catalog.VMSpec) { v.VCPU = 0 }), "vcpu"},
			{with(func(v *catalog.VMSpec) { v.VCPU = 17 }), "vcpu"},
			// The per-OS limits of windows.
			{func() catalog.VMSpec { v := win; v.VCPU = 1; return v }(), "vcpu"},
			{func() catalog.VMSpec { v := win; v.RAMMB = 1023; return v }(), "ram"},
			{func() catalog.VMSpec { v := win; v.Username = "bad name"; return v }(), "username"},
			// From a source: the rest still applies.
			{func() catalog.VMSpec { v := clone; v.Name = ""; return v }(), "name"},
			{func() catalog.VMSpec { v := clone; v.VCPU = 99; return v }(), "vcpu"},
			{func() catalog.VMSpec { v := clone; v.OSName, v.RAMMB = "windows", 1024; v.VCPU = 1; return v }(), "vcpu"},
		} {
			err := r.CheckCreate(c.in)
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("case %d %+v: %v, want invalid %s", i, c.in, err, c.field)
			}
		}
		if err := r.CheckCreate(with(func(v *catalog.VMSpec) { v.Username = strings.Repeat("u", 30) })); err != nil {
			t.Fatalf("30-character username: %v", err)
		}
		if err := r.CheckCreate(func() catalog.VMSpec { v := win; v.VCPU = 1; return v }()); !strings.Contains(err.Error(), "between 2 and 16 for windows") {
			t.Fatalf("message of a per-OS limit: %v", err)
		}
		// Resize, password, username.
		if err := r.CheckResize("windows", 1, 0); errs.FieldOf(err) != "vcpu" {
			t.Fatalf("resize windows to 1 vcpu: %v", err)
		}
		if err := r.CheckResize("windows", 0, 512); errs.FieldOf(err) != "ram" {
			t.Fatalf("resize windows to 512 MB: %v", err)
		}
		if err := r.CheckResize("ubuntu", 1, 512); err != nil {
			t.Fatal(err)
		}
		if err := r.CheckResize("ubuntu", 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.CheckResize("ubuntu", -1, 0); errs.FieldOf(err) != "vcpu" {
			t.Fatalf("negative vcpu: %v", err)
		}
		if err := r.CheckPassword("Password123"); err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"", "short1A", "nouppercase1", "NOLOWER1", "NoDigitsHere"} {
			if err := r.CheckPassword(pw); errs.FieldOf(err) != "password" {
				t.Errorf("password %q: %v", pw, err)
			}
		}
		if err := r.CheckUsername("windows", ""); err != nil {
			t.Fatal(err)
		}
		if err := r.CheckUsername("ubuntu", ""); errs.FieldOf(err) != "username" {
			t.Fatalf("empty username on ubuntu: %v", err)
		}
		if err := r.CheckUsername("ubuntu", "_ok-1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestVMParamsEditable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := demo(t, d)
		// Operators change the rules; enforcement follows.
		p, err := s.PutVMParam(ctx, staff, catalog.PutParamInput{Parameter: "disks", Description: "Main disk (GB).", Mandatory: true,
			Min: p64(10), Max: p64(100), Limits: []catalog.Limit{{OSName: "windows", Min: p64(50)}}})
		if err != nil || p.Min != 10 || p.Max != 100 || p.LimitedBy() != "os_name" || *p.Limits[0].Min != 50 {
			t.Fatalf("PutVMParam: %+v %v", p, err)
		}
		r, _ := s.VMRules(ctx)
		v := seedCreate
		v.DiskGB = 120
		if err := r.CheckCreate(v); errs.FieldOf(err) != "disks" {
			t.Fatalf("disks over the new max: %v", err)
		}
		v.DiskGB = 10
		if err := r.CheckCreate(v); err != nil {
			t.Fatal(err)
		}
		// A new RE2 expression, and one with leading look-aheads.
		if _, err := s.PutVMParam(ctx, staff, catalog.PutParamInput{Parameter: "name", Mandatory: true, Expression: `^vm-[a-z]+$`}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutVMParam(ctx, staff, catalog.PutParamInput{Parameter: "password", Mandatory: true,
			Expression: `^(?=.*[!#])(?=.{10,}$).*$`}); err != nil {
			t.Fatal(err)
		}
		r, _ = s.VMRules(ctx)
		v = seedCreate
		if err := r.CheckCreate(v); errs.FieldOf(err) != "name" || !strings.Contains(err.Error(), "^vm-[a-z]+$") {
			t.Fatalf("new name rule: %v", err)
		}
		v.Name = "vm-abc"
		if err := r.CheckCreate(v); errs.FieldOf(err) != "password" {
			t.Fatalf("new password rule: %v", err)
		}
		v.Password = "abcdefgh#x"
		if err := r.CheckCreate(v); err != nil {
			t.Fatal(err)
		}
		// Removing a rule: neither served nor enforced.
		if err := s.DeleteVMParam(ctx, staff, "username"); err != nil {
			t.Fatal(err)
		}
		r, _ = s.VMRules(ctx)
		if _, ok := r.Param("username"); ok {
			t.Fatal("a deleted rule is still served")
		}
		v.Username = ""
		if err := r.CheckCreate(v); err != nil {
			t.Fatalf("without the username rule: %v", err)
		}
		if err := s.DeleteVMParam(ctx, staff, "username"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if err := s.DeleteVMParam(ctx, staff, "colour"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete an unknown parameter: %v", err)
		}
		// Put it back (created again).
		if _, err := s.PutVMParam(ctx, staff, catalog.DefaultVMParams()[6]); err != nil {
			t.Fatal(err)
		}

		before := snapshot(t, s)
		for _, c := range []struct {
			in    catalog.PutParamInput
			field string
		}{
			{catalog.PutParamInput{Parameter: "colour"}, "parameter"},
			{catalog.PutParamInput{Parameter: ""}, "parameter"},
			{catalog.PutParamInput{Parameter: "vcpu", Max: p64(4)}, "min"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1)}, "max"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(-1), Max: p64(4)}, "min"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(5), Max: p64(4)}, "max"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(1 << 40)}, "max"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Expression: "^x$"}, "expression"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Description: strings.Repeat("d", 1001)}, "description"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Limits: []catalog.Limit{{OSName: "windows"}}}, "limits"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Limits: []catalog.Limit{{OSName: "Windows", Min: p64(2)}}}, "limits"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Limits: []catalog.Limit{{OSName: "windows", Min: p64(5)}}}, "limits"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Limits: []catalog.Limit{{OSName: "windows", Min: p64(2)}, {OSName: "windows", Max: p64(3)}}}, "limits"},
			{catalog.PutParamInput{Parameter: "vcpu", Min: p64(1), Max: p64(4), Limits: []catalog.Limit{{OSName: "windows", Values: []string{"x"}}}}, "limits"},
			{catalog.PutParamInput{Parameter: "name"}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^(x$"}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^a(?=b)c$"}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^(?=a"}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^(?=a)(?<=b)$"}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "x" + strings.Repeat("y", 1000)}, "expression"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^x$", Min: p64(1)}, "min"},
			{catalog.PutParamInput{Parameter: "name", Expression: "^x$", Max: p64(1)}, "max"},
			{catalog.PutParamInput{Parameter: "username", Expression: "^x$", Limits: []catalog.Limit{{OSName: "windows", Min: p64(1)}}}, "limits"},
			{catalog.PutParamInput{Parameter: "os_name", Expression: "^x$"}, "expression"},
			{catalog.PutParamInput{Parameter: "os_name", Min: p64(1)}, "min"},
			{catalog.PutParamInput{Parameter: "os_version", Limits: []catalog.Limit{{OSName: "ubuntu", Values: []string{"1"}}}}, "limits"},
		} {
			if _, err := s.PutVMParam(ctx, staff, c.in); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want invalid %s", c.in, err, c.field)
			}
		}
		for _, o := range outsider {
			if _, err := s.PutVMParam(ctx, o, catalog.DefaultVMParams()[0]); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v put a rule: %v", o, err)
			}
			if err := s.DeleteVMParam(ctx, o, "disks"); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("%+v deleted a rule: %v", o, err)
			}
		}
		if after := snapshot(t, s); after != before {
			t.Fatalf("refused requests changed the catalog:\n%s\n%s", before, after)
		}
	})
}

func TestLoadDemoResourcesIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := demo(t, d)
		first := snapshot(t, s)
		if err := s.LoadDemoResources(ctx, sys); err != nil {
			t.Fatal(err)
		}
		if again := snapshot(t, s); again != first {
			t.Fatalf("a second load changed the catalog:\n%s\n%s", first, again)
		}
		// Without the locations the pools cannot be loaded.
		if err := newService(t, dbtest.Open(t, d.Dialect().Name())).LoadDemoResources(ctx, sys); errs.FieldOf(err) != "location" {
			t.Fatalf("demo resources without locations: %v", err)
		}
	})
}
