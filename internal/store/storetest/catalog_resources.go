package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// catalogResources covers host pools, images and VM parameter rules
// (sqlstore/catalog_resources.go, migration 00008).
func (s *suite) catalogResources(t *testing.T) {
	t.Run("host pools", s.hostPools)
	t.Run("images", s.images)
	t.Run("vm parameters", s.vmParams)
}

func (s *suite) hostPools(t *testing.T) {
	s.cover("CountHostPools", "ListHostPools", "GetHostPool", "DefaultHostPool", "InsertHostPool", "UpdateHostPool",
		"SetDefaultHostPool", "DeleteHostPool")
	now := db.Micro(t0)
	for _, slug := range []string{"hpa01", "hpb02"} {
		_, err := s.st.UpsertLocation(s.ctx, catalog.Location{Slug: slug, DisplayName: slug, CountryCode: "est", CreatedAt: now, UpdatedAt: now})
		must(t, err)
	}
	_, err := s.st.DefaultHostPool(s.ctx, "hpa01")
	wantKind(t, err, errs.KindNotFound)
	a := catalog.HostPool{UUID: ids.New(), Location: "hpa01", Name: "General", Description: "d", CreatedAt: now, UpdatedAt: now}
	b := catalog.HostPool{UUID: ids.New(), Location: "hpa01", Name: "Performance", CreatedAt: now, UpdatedAt: now}
	c := catalog.HostPool{UUID: ids.New(), Location: "hpb02", Name: "General", CreatedAt: now, UpdatedAt: now}
	for _, p := range []catalog.HostPool{b, a, c} {
		must(t, s.st.InsertHostPool(s.ctx, p))
	}
	// Duplicates: the uuid anywhere, the name within a location; an
	// unknown location.
	wantKind(t, s.st.InsertHostPool(s.ctx, catalog.HostPool{UUID: a.UUID, Location: "hpb02", Name: "X", CreatedAt: now, UpdatedAt: now}), errs.KindConflict)
	wantKind(t, s.st.InsertHostPool(s.ctx, catalog.HostPool{UUID: ids.New(), Location: "hpa01", Name: "General", CreatedAt: now, UpdatedAt: now}), errs.KindConflict)
	if err := s.st.InsertHostPool(s.ctx, catalog.HostPool{UUID: ids.New(), Location: "nope", Name: "X", CreatedAt: now, UpdatedAt: now}); err == nil {
		t.Fatal("a pool in an unknown location was inserted")
	}

	got, err := s.st.GetHostPool(s.ctx, a.UUID)
	must(t, err)
	if d := cmp.Diff(a, got); d != "" {
		t.Fatalf("pool round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetHostPool(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListHostPools(s.ctx, "hpa01")
	must(t, err)
	if len(list) != 2 || list[0].UUID != a.UUID || list[1].UUID != b.UUID {
		t.Fatalf("ListHostPools order: %+v", list)
	}
	n, err := s.st.CountHostPools(s.ctx, "hpa01")
	must(t, err)
	if n != 2 {
		t.Fatalf("CountHostPools = %d", n)
	}

	// Defaults: per location; a pool of another location is refused.
	must(t, s.st.SetDefaultHostPool(s.ctx, "hpa01", a.UUID))
	must(t, s.st.SetDefaultHostPool(s.ctx, "hpb02", c.UUID))
	wantKind(t, s.st.SetDefaultHostPool(s.ctx, "hpb02", b.UUID), errs.KindNotFound)
	wantKind(t, s.st.SetDefaultHostPool(s.ctx, "hpa01", ids.New()), errs.KindNotFound)
	def, err := s.st.DefaultHostPool(s.ctx, "hpa01")
	must(t, err)
	if def.UUID != a.UUID || !def.IsDefault {
		t.Fatalf("DefaultHostPool: %+v", def)
	}
	if def, _ := s.st.DefaultHostPool(s.ctx, "hpb02"); def.UUID != c.UUID {
		t.Fatalf("DefaultHostPool of hpb02: %+v", def)
	}
	// Many writers moving the default: exactly one default at the end.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uuid := []string{a.UUID, b.UUID}[i%2]
			err := sqlstore.Catalog{Store: s.st}.Tx(s.ctx, func(tx catalog.Store) error {
				return tx.SetDefaultHostPool(s.ctx, "hpa01", uuid)
			})
			if err != nil && !errs.Is(err, errs.KindConflict) {
				t.Errorf("SetDefaultHostPool: %v", err)
			}
		}()
	}
	wg.Wait()
	list, _ = s.st.ListHostPools(s.ctx, "hpa01")
	if list[0].IsDefault == list[1].IsDefault {
		t.Fatalf("defaults after concurrent moves: %+v", list)
	}

	later := now.Add(time.Hour)
	b2 := b
	b2.Name, b2.Description, b2.UpdatedAt = "Fast", "new", later
	must(t, s.st.UpdateHostPool(s.ctx, b2))
	got, _ = s.st.GetHostPool(s.ctx, b.UUID)
	b2.IsDefault = got.IsDefault
	if d := cmp.Diff(b2, got); d != "" {
		t.Fatalf("update (-want +got):\n%s", d)
	}
	b2.Name = "General"
	wantKind(t, s.st.UpdateHostPool(s.ctx, b2), errs.KindConflict)
	wantKind(t, s.st.UpdateHostPool(s.ctx, catalog.HostPool{UUID: ids.New(), Name: "X", UpdatedAt: later}), errs.KindNotFound)

	// Deleting a pool takes its default mark with it.
	must(t, s.st.SetDefaultHostPool(s.ctx, "hpa01", b.UUID))
	must(t, s.st.DeleteHostPool(s.ctx, b.UUID))
	wantKind(t, s.st.DeleteHostPool(s.ctx, b.UUID), errs.KindNotFound)
	_, err = s.st.DefaultHostPool(s.ctx, "hpa01")
	wantKind(t, err, errs.KindNotFound)
	must(t, s.st.DeleteHostPool(s.ctx, a.UUID))
	must(t, s.st.DeleteHostPool(s.ctx, c.UUID))
	if n, _ := s.st.CountHostPools(s.ctx, "hpa01"); n != 0 {
		t.Fatalf("left: %d", n)
	}
	for _, slug := range []string{"hpa01", "hpb02"} {
		must(t, s.st.DeleteLocation(s.ctx, slug))
	}
}

func (s *suite) images(t *testing.T) {
	s.cover("ListImages", "GetImage", "UpsertImage", "SetDefaultImage", "DeleteImage")
	now := db.Micro(t0)
	centos := catalog.Image{OSName: "centos", DisplayName: "Centos", UIPosition: 2, IsAppCatalog: true, Icon: "....",
		Versions: []catalog.ImageVersion{{OSVersion: "7.6", DisplayName: "7.6", Published: true},
			{OSVersion: "7.3.1611", DisplayName: "7.3.1611 (old)", Published: false}},
		CreatedAt: now, UpdatedAt: now}
	alma := catalog.Image{OSName: "almalinux", DisplayName: "Almalinux", UIPosition: 2, Icon: "...",
		Versions: []catalog.ImageVersion{}, CreatedAt: now, UpdatedAt: now}
	for _, im := range []catalog.Image{centos, alma} {
		created, err := s.st.UpsertImage(s.ctx, im)
		must(t, err)
		if !created {
			t.Fatalf("UpsertImage %s: not created", im.OSName)
		}
	}
	got, err := s.st.GetImage(s.ctx, "centos")
	must(t, err)
	if d := cmp.Diff(centos, got); d != "" {
		t.Fatalf("image round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetImage(s.ctx, "plan9")
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListImages(s.ctx)
	must(t, err)
	if len(list) != 2 || list[0].OSName != "almalinux" || len(list[0].Versions) != 0 || len(list[1].Versions) != 2 {
		t.Fatalf("ListImages: %+v", list)
	}

	// A replace rewrites the versions as a whole and keeps created_at.
	later := now.Add(time.Hour)
	c2 := centos
	c2.DisplayName, c2.UIPosition, c2.IsAppCatalog, c2.UpdatedAt, c2.CreatedAt = "CentOS", 1, false, later, later
	c2.Versions = []catalog.ImageVersion{{OSVersion: "8.2", DisplayName: "8.2", Published: true}}
	created, err := s.st.UpsertImage(s.ctx, c2)
	must(t, err)
	if created {
		t.Fatal("UpsertImage of an existing image reported a creation")
	}
	got, _ = s.st.GetImage(s.ctx, "centos")
	c2.CreatedAt = now
	if d := cmp.Diff(c2, got); d != "" {
		t.Fatalf("image replace (-want +got):\n%s", d)
	}
	// A duplicate version is refused, and nothing of the upsert stays.
	bad := c2
	bad.DisplayName = "broken"
	bad.Versions = []catalog.ImageVersion{{OSVersion: "1", DisplayName: "1"}, {OSVersion: "1", DisplayName: "1"}}
	_, err = s.st.UpsertImage(s.ctx, bad)
	wantKind(t, err, errs.KindConflict)
	if got, _ := s.st.GetImage(s.ctx, "centos"); got.DisplayName != "CentOS" || len(got.Versions) != 1 {
		t.Fatalf("a failed upsert left %+v", got)
	}

	must(t, s.st.SetDefaultImage(s.ctx, "almalinux"))
	must(t, s.st.SetDefaultImage(s.ctx, "centos"))
	wantKind(t, s.st.SetDefaultImage(s.ctx, "plan9"), errs.KindNotFound)
	list, _ = s.st.ListImages(s.ctx)
	if list[0].OSName != "centos" || !list[0].IsDefault || list[1].IsDefault {
		t.Fatalf("default image: %+v", list)
	}
	must(t, s.st.DeleteImage(s.ctx, "centos"))
	wantKind(t, s.st.DeleteImage(s.ctx, "centos"), errs.KindNotFound)
	must(t, s.st.DeleteImage(s.ctx, "almalinux"))
	if list, _ := s.st.ListImages(s.ctx); len(list) != 0 {
		t.Fatalf("left: %+v", list)
	}
	// The versions went with the image: the same versions can come back.
	_, err = s.st.UpsertImage(s.ctx, centos)
	must(t, err)
	must(t, s.st.DeleteImage(s.ctx, "centos"))
}

func (s *suite) vmParams(t *testing.T) {
	s.cover("ListVMParams", "PutVMParam", "DeleteVMParam")
	now := db.Micro(t0)
	two, off := int64(2), false
	vcpu := catalog.Param{Parameter: "vcpu", Description: "Number of CPUs.", Mandatory: true, Min: 1, Max: 16,
		Limits: []catalog.Limit{{OSName: "windows", Min: &two}}, UpdatedAt: now}
	user := catalog.Param{Parameter: "username", Description: "Username.", Mandatory: true,
		Expression: `^(?=.{1,30}$)[a-zA-Z_][0-9a-zA-Z_-]*$`, Limits: []catalog.Limit{{OSName: "windows", Mandatory: &off}}, UpdatedAt: now}
	osName := catalog.Param{Parameter: "os_name", Description: "OS.", Mandatory: true, UpdatedAt: now}
	for _, p := range []catalog.Param{vcpu, user, osName} {
		created, err := s.st.PutVMParam(s.ctx, p)
		must(t, err)
		if !created {
			t.Fatalf("PutVMParam %s: not created", p.Parameter)
		}
	}
	got, err := s.st.ListVMParams(s.ctx)
	must(t, err)
	if d := cmp.Diff([]catalog.Param{osName, user, vcpu}, got); d != "" {
		t.Fatalf("params round trip (-want +got):\n%s", d)
	}
	// Replace: the limits are rewritten as a whole.
	later := now.Add(time.Hour)
	v2 := vcpu
	v2.Max, v2.UpdatedAt = 32, later
	eight := int64(8)
	v2.Limits = []catalog.Limit{{OSName: "debian", Max: &eight}, {OSName: "alma", Min: &two, Max: &eight, Mandatory: &off}}
	created, err := s.st.PutVMParam(s.ctx, v2)
	must(t, err)
	if created {
		t.Fatal("PutVMParam of an existing rule reported a creation")
	}
	got, _ = s.st.ListVMParams(s.ctx)
	v2.Limits = []catalog.Limit{v2.Limits[1], v2.Limits[0]} // by os_name
	if d := cmp.Diff(v2, got[2]); d != "" {
		t.Fatalf("param replace (-want +got):\n%s", d)
	}
	must(t, s.st.DeleteVMParam(s.ctx, "vcpu"))
	wantKind(t, s.st.DeleteVMParam(s.ctx, "vcpu"), errs.KindNotFound)
	for _, p := range []string{"username", "os_name"} {
		must(t, s.st.DeleteVMParam(s.ctx, p))
	}
	if got, _ := s.st.ListVMParams(s.ctx); len(got) != 0 {
		t.Fatalf("left: %+v", got)
	}
	// The limits went with their rule.
	_, err = s.st.PutVMParam(s.ctx, catalog.Param{Parameter: "vcpu", UpdatedAt: now})
	must(t, err)
	if got, _ := s.st.ListVMParams(s.ctx); len(got) != 1 || len(got[0].Limits) != 0 {
		t.Fatalf("limits outlived their rule: %+v", got)
	}
	must(t, s.st.DeleteVMParam(s.ctx, "vcpu"))
}
