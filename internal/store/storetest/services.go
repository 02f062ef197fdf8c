package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// servicePackages exercises the managed-service store methods (the state
// machine, billing and whitelist rules are tested in internal/services).
func (s *suite) servicePackages(t *testing.T) {
	s.cover("InsertServicePackage", "GetServicePackage", "LockServicePackage", "ListServicePackages",
		"UpdateServicePackage", "UpdateServiceResource", "CountActiveServicePackages", "ListServiceWhitelist",
		"AddServiceWhitelist", "DeleteServiceWhitelist")
	now := db.Micro(t0)
	org := s.customer(t)
	acct := s.billingAccount(t, org, 8)
	other := s.billingAccount(t, org, 8)
	for _, slug := range []string{"svc01", "svc02"} {
		_, err := s.st.UpsertLocation(s.ctx, catalog.Location{Slug: slug, DisplayName: slug, CountryCode: "est",
			CreatedAt: now, UpdatedAt: now})
		must(t, err)
	}
	pkg := func(location string, multi bool) services.Package {
		p := services.Package{UUID: ids.New(), OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct.ID,
			Location: location, Service: "postgresql", Version: "14.0", DisplayName: "pg", VMCPU: 2, VMRAMMB: 4096,
			VMDiskGB: 40, IsMultiNode: multi, Parameters: `{"location":"dc1"}`, Status: services.StatusCreating,
			SQLUser: "wadmin", Port: 5432, ServiceIP: "192.0.2.10", SealedPass: "plain:x", CreatedAt: now, UpdatedAt: now}
		if multi {
			p.Resources = append(p.Resources, services.Resource{ID: ids.New(), PackageUUID: p.UUID,
				Type: services.ResourceVirtualIP, Location: location, Address: p.ServiceIP, Status: services.StatusActive,
				CreatedAt: now, UpdatedAt: now})
		}
		for range 2 {
			p.Resources = append(p.Resources, services.Resource{ID: ids.New(), PackageUUID: p.UUID, Type: services.ResourceVM,
				Position: len(p.Resources), Location: location, VCPU: 2, MemoryMB: 4096, DiskUUID: ids.New(), DiskGB: 40,
				Status: services.VMCreating, CreatedAt: now, UpdatedAt: now})
		}
		return p
	}

	a, b := pkg("svc01", true), pkg("svc02", false)
	b.CreatedAt = now.Add(time.Second)
	must(t, s.st.InsertServicePackage(s.ctx, a))
	must(t, s.st.InsertServicePackage(s.ctx, b))
	wantKind(t, s.st.InsertServicePackage(s.ctx, a), errs.KindConflict)

	got, err := s.st.GetServicePackage(s.ctx, org.Path, a.UUID)
	must(t, err)
	if d := cmp.Diff(a, got); d != "" {
		t.Fatalf("service package round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetServicePackage(s.ctx, org.Path+"x/", a.UUID)
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetServicePackage(s.ctx, org.Path, ids.New())
	wantKind(t, err, errs.KindNotFound)

	list, err := s.st.ListServicePackages(s.ctx, services.PackageFilter{Scope: org.Path})
	must(t, err)
	if len(list) != 2 || list[0].UUID != a.UUID || list[1].UUID != b.UUID || len(list[0].Resources) != 3 ||
		len(list[1].Resources) != 2 {
		t.Fatalf("ListServicePackages: %+v", list)
	}
	for _, c := range []struct {
		f    services.PackageFilter
		want int
	}{
		{services.PackageFilter{Scope: org.Path, Location: "svc01"}, 1},
		{services.PackageFilter{Scope: org.Path, BillingAccountID: other.ID}, 0},
		{services.PackageFilter{Scope: org.Path, BillingAccountID: acct.ID}, 2},
		{services.PackageFilter{Scope: "/%"}, 0},
	} {
		list, err := s.st.ListServicePackages(s.ctx, c.f)
		must(t, err)
		if len(list) != c.want {
			t.Errorf("ListServicePackages %+v: %d packages, want %d", c.f, len(list), c.want)
		}
	}

	// Updates, under the lock.
	st := sqlstore.Services{Store: s.st}
	must(t, st.Tx(s.ctx, func(tx services.Store) error {
		p, err := tx.LockServicePackage(s.ctx, a.UUID)
		if err != nil {
			return err
		}
		if len(p.Resources) != 3 {
			t.Errorf("LockServicePackage: %d resources", len(p.Resources))
		}
		p.Status, p.DisplayName, p.BillingAccountID, p.UpdatedAt = services.StatusActive, "renamed", other.ID, now.Add(time.Minute)
		if err := tx.UpdateServicePackage(s.ctx, p); err != nil {
			return err
		}
		r := p.Resources[1]
		r.Status, r.UpdatedAt = services.VMRunning, now.Add(time.Minute)
		return tx.UpdateServiceResource(s.ctx, r)
	}))
	got, err = s.st.GetServicePackage(s.ctx, org.Path, a.UUID)
	must(t, err)
	if got.Status != services.StatusActive || got.DisplayName != "renamed" || got.BillingAccountID != other.ID ||
		!got.UpdatedAt.Equal(now.Add(time.Minute)) || got.Resources[1].Status != services.VMRunning {
		t.Fatalf("after the updates: %+v", got)
	}
	_, err = s.st.LockServicePackage(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.UpdateServicePackage(s.ctx, services.Package{UUID: ids.New(), UpdatedAt: now}), errs.KindNotFound)
	wantKind(t, s.st.UpdateServiceResource(s.ctx, services.Resource{ID: ids.New(), UpdatedAt: now}), errs.KindNotFound)

	count := func(acctID int64) int {
		t.Helper()
		n, err := s.st.CountActiveServicePackages(s.ctx, acctID)
		must(t, err)
		return n
	}
	if count(acct.ID) != 1 || count(other.ID) != 1 {
		t.Fatalf("CountActiveServicePackages: %d and %d, want 1 and 1", count(acct.ID), count(other.ID))
	}
	// A soft delete: gone from counts and lists, readable by uuid.
	del := now.Add(time.Hour)
	b.Status, b.DeletedAt = services.StatusDeleting, &del
	must(t, s.st.UpdateServicePackage(s.ctx, b))
	if count(acct.ID) != 0 {
		t.Fatal("a deleted package is still counted")
	}
	list, err = s.st.ListServicePackages(s.ctx, services.PackageFilter{Scope: org.Path})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListServicePackages lists %d packages after a delete, want 1", len(list))
	}
	list, err = s.st.ListServicePackages(s.ctx, services.PackageFilter{Scope: org.Path, WithDeleted: true})
	must(t, err)
	if len(list) != 2 || list[1].DeletedAt == nil || !list[1].DeletedAt.Equal(del) {
		t.Fatalf("ListServicePackages WithDeleted: %+v", list)
	}
	// The status and deleted_at agree (a check constraint).
	b.Status = services.StatusActive
	if err := s.st.UpdateServicePackage(s.ctx, b); err == nil {
		t.Fatal("an active package with deleted_at was written")
	}

	// Whitelist: insertion order, no duplicates, idempotent deletes.
	wl := func(uuid string) []string {
		t.Helper()
		l, err := s.st.ListServiceWhitelist(s.ctx, uuid)
		must(t, err)
		return l
	}
	if l := wl(a.UUID); l == nil || len(l) != 0 {
		t.Fatalf("empty whitelist = %#v, want []", l)
	}
	for _, e := range []string{"176.112.157.203", "10.123.8.0/24", "1.2.3.0/24"} {
		ok, err := s.st.AddServiceWhitelist(s.ctx, a.UUID, e, now)
		must(t, err)
		if !ok {
			t.Fatalf("AddServiceWhitelist %s: not added", e)
		}
	}
	ok, err := s.st.AddServiceWhitelist(s.ctx, a.UUID, "10.123.8.0/24", now)
	must(t, err)
	if ok {
		t.Fatal("AddServiceWhitelist added a duplicate")
	}
	ok, err = s.st.DeleteServiceWhitelist(s.ctx, a.UUID, "10.123.8.0/24")
	must(t, err)
	if !ok {
		t.Fatal("DeleteServiceWhitelist: not deleted")
	}
	ok, err = s.st.DeleteServiceWhitelist(s.ctx, a.UUID, "10.123.8.0/24")
	must(t, err)
	if ok {
		t.Fatal("DeleteServiceWhitelist of an absent entry reported a delete")
	}
	must2 := func(ok bool, err error) {
		t.Helper()
		must(t, err)
	}
	must2(s.st.AddServiceWhitelist(s.ctx, a.UUID, "10.123.8.0/24", now))
	if d := cmp.Diff([]string{"176.112.157.203", "1.2.3.0/24", "10.123.8.0/24"}, wl(a.UUID)); d != "" {
		t.Fatalf("whitelist order (-want +got):\n%s", d)
	}
	if len(wl(b.UUID)) != 0 {
		t.Fatal("another package's whitelist is not empty")
	}

	// Concurrent adds under the package lock get distinct positions.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entry := "198.51.100." + string(rune('0'+i))
			err := st.Tx(s.ctx, func(tx services.Store) error {
				if _, err := tx.LockServicePackage(s.ctx, b.UUID); err != nil {
					return err
				}
				_, err := tx.AddServiceWhitelist(s.ctx, b.UUID, entry, now)
				return err
			})
			if err != nil {
				t.Errorf("concurrent add %s: %v", entry, err)
			}
		}()
	}
	wg.Wait()
	if n := len(wl(b.UUID)); n != 10 {
		t.Fatalf("%d entries after 10 concurrent adds", n)
	}
}
