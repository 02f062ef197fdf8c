// Package storetest is the conformance suite of the SQL store: every method
// of sqlstore.Store, run against a real database. storetest_test.go runs it
// on SQLite always and on PostgreSQL whenever TRELLIS_TEST_POSTGRES_URL is
// set, so both databases are held to the same behaviour.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/idem"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// t0 is a fixed instant with sub-microsecond digits, to check that times
// round-trip at microsecond precision on both databases.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

type suite struct {
	st      *sqlstore.Store
	ctx     context.Context
	mu      sync.Mutex
	covered map[string]bool
}

func (s *suite) cover(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.covered[n] = true
	}
}

// Run runs the whole suite on d (a fresh, migrated database).
func Run(t *testing.T, d *db.DB) {
	s := &suite{st: sqlstore.New(d), ctx: t.Context(), covered: map[string]bool{}}
	t.Run("orgs", s.orgs)
	t.Run("contracts", s.contracts)
	t.Run("partner allocation", s.partnerAllocation)
	t.Run("storage accounts", s.storageAccounts)
	t.Run("regions", s.regions)
	t.Run("daily usage", s.dailyUsage)
	t.Run("contract daily usage", s.contractDailyUsage)
	t.Run("api keys", s.apiKeys)
	t.Run("users", s.users)
	t.Run("audit", s.audit)
	t.Run("idempotency", s.idempotency)
	t.Run("transactions", s.transactions)
	t.Run("conditional updates under concurrency", s.concurrency)
	t.Run("ledger", s.ledger)
	t.Run("pricing and hourly metering", s.pricingMetering)
	t.Run("idcloudhost identity and locations", func(t *testing.T) { s.identity(t); s.locations(t) })
	t.Run("billing", s.billing)
	t.Run("payments", s.payments)
	t.Run("usage segments", s.usageSegments)
	t.Run("jobs", s.jobs)
	t.Run("service packages", s.servicePackages)
	t.Run("compute", s.compute)
	t.Run("network", s.network)
	t.Run("catalog resources", s.catalogResources)
	t.Run("s3 principals and keys", s.s3Principals)
	t.Run("s3 quota", s.s3Quota)
	t.Run("s3 buckets", s.s3Buckets)
	t.Run("s3 targets", s.s3Targets)
	t.Run("s3 reservations", s.s3Reservations)
	t.Run("s3 bucket hours", s.s3BucketHours)
	t.Run("reseller", s.reseller)
	t.Run("reseller orders", s.resellerOrders)
	t.Run("support tickets", s.supportTickets)
	t.Run("bss mappings", s.bssMappings)
	t.Run("job periods", s.jobPeriods)
	t.Run("pending steps", s.pendingSteps)
	s.cover("DB")

	// Every exported method of the store must have been exercised.
	typ := reflect.TypeOf(s.st)
	var missing []string
	for i := 0; i < typ.NumMethod(); i++ {
		if n := typ.Method(i).Name; !s.covered[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("store methods without conformance tests: %v", missing)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if errs.KindOf(err) != k || err == nil {
		t.Fatalf("got error %v (kind %v), want kind %v", err, errs.KindOf(err), k)
	}
}

// tree creates provider → distributor → partner and returns them.
func (s *suite) tree(t *testing.T) (root, dist, partner tenancy.Org, c tenancy.Contract) {
	t.Helper()
	now := db.Micro(t0)
	rid, did, pid, cid := ids.New(), ids.New(), ids.New(), ids.New()
	root = tenancy.Org{ID: rid, Kind: actor.Provider, Path: "/" + rid + "/", Name: "P", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	dist = tenancy.Org{ID: did, Kind: actor.Distributor, ParentID: rid, Path: root.Path + did + "/", Name: "D", TimeZone: "Europe/Berlin", CreatedAt: now, UpdatedAt: now}
	c = tenancy.Contract{ID: cid, ParentOrgID: rid, OrgID: did, OrgPath: dist.Path, ReservedCapacity: 100, CostStorageGBCents: 100,
		Currency: "EUR", Details: "C", CreatedAt: now, UpdatedAt: now}
	partner = tenancy.Org{ID: pid, Kind: actor.Partner, ParentID: did, Path: dist.Path + pid + "/", Name: "Pa", TimeZone: "UTC",
		CreatedAt: now, UpdatedAt: now, ContractID: cid, AllocatedCapacity: 10}
	must(t, s.st.InsertOrg(s.ctx, root))
	must(t, s.st.InsertOrg(s.ctx, dist))
	must(t, s.st.InsertContract(s.ctx, c))
	must(t, s.st.InsertOrg(s.ctx, partner))
	return root, dist, partner, c
}

func (s *suite) orgs(t *testing.T) {
	s.cover("InsertOrg", "GetOrg", "ListOrgs", "LockOrg", "UpdateOrg", "DeleteOrg", "CountOrgChildren", "DeleteOrgPrincipals", "ListPartners")
	root, dist, partner, c := s.tree(t)

	got, err := s.st.GetOrg(s.ctx, root.Path, partner.ID)
	must(t, err)
	if d := cmp.Diff(partner, got); d != "" {
		t.Fatalf("org round trip (-want +got):\n%s", d)
	}
	// Scope: the partner cannot see its distributor; an unknown id is not found.
	_, err = s.st.GetOrg(s.ctx, partner.Path, dist.ID)
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetOrg(s.ctx, root.Path, ids.New())
	wantKind(t, err, errs.KindNotFound)
	// Duplicate id or path is a conflict.
	wantKind(t, s.st.InsertOrg(s.ctx, partner), errs.KindConflict)

	all, err := s.st.ListOrgs(s.ctx, root.Path, tenancy.OrgFilter{Limit: 10})
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("ListOrgs: got %d orgs, want 3", len(all))
	}
	onlyPartners, err := s.st.ListOrgs(s.ctx, root.Path, tenancy.OrgFilter{Kind: "partner", Limit: 10})
	must(t, err)
	if len(onlyPartners) != 1 || onlyPartners[0].ID != partner.ID {
		t.Fatalf("ListOrgs kind filter: %+v", onlyPartners)
	}
	page1, err := s.st.ListOrgs(s.ctx, root.Path, tenancy.OrgFilter{Limit: 2})
	must(t, err)
	page2, err := s.st.ListOrgs(s.ctx, root.Path, tenancy.OrgFilter{Limit: 2, After: page1[1].ID})
	must(t, err)
	if len(page1) != 2 || len(page2) != 1 || page2[0].ID <= page1[1].ID {
		t.Fatalf("ListOrgs pages: %d then %d", len(page1), len(page2))
	}
	// A LIKE wildcard in the scope must not widen it.
	none, err := s.st.ListOrgs(s.ctx, "/%", tenancy.OrgFilter{Limit: 10})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("scope %q matched %d orgs", "/%", len(none))
	}

	n, err := s.st.CountOrgChildren(s.ctx, dist.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountOrgChildren = %d, want 1", n)
	}
	ps, err := s.st.ListPartners(s.ctx, root.Path, c.ID)
	must(t, err)
	if len(ps) != 1 || ps[0].ID != partner.ID {
		t.Fatalf("ListPartners: %+v", ps)
	}
	ps, err = s.st.ListPartners(s.ctx, partner.Path+"x/", c.ID)
	must(t, err)
	if len(ps) != 0 {
		t.Fatalf("ListPartners outside scope: %+v", ps)
	}

	must(t, s.st.LockOrg(s.ctx, partner.ID))
	partner.Name, partner.Details, partner.TimeZone, partner.AllowOverdraft = "Renamed", "d", "Asia/Tokyo", true
	partner.UpdatedAt = db.Micro(t0.Add(time.Hour))
	must(t, s.st.UpdateOrg(s.ctx, partner))
	got, err = s.st.GetOrg(s.ctx, root.Path, partner.ID)
	must(t, err)
	if d := cmp.Diff(partner, got); d != "" {
		t.Fatalf("UpdateOrg (-want +got):\n%s", d)
	}
	wantKind(t, s.st.UpdateOrg(s.ctx, tenancy.Org{ID: ids.New(), Name: "x"}), errs.KindNotFound)

	// Deleting an org's principals, then the org.
	must(t, s.st.InsertAPIKey(s.ctx, access.APIKey{ID: ids.New(), OrgID: partner.ID, Name: "k", Role: actor.Admin, Prefix: "p", Hash: ids.New(), CreatedBy: "t", CreatedAt: t0}))
	must(t, s.st.InsertUser(s.ctx, access.User{ID: ids.New(), OrgID: partner.ID, Email: ids.New() + "@x.io", Name: "u", Role: actor.Viewer, PasswordHash: "h", CreatedAt: t0}))
	must(t, s.st.DeleteOrgPrincipals(s.ctx, partner.ID))
	us, err := s.st.ListUsers(s.ctx, partner.ID)
	must(t, err)
	ks, err := s.st.ListAPIKeys(s.ctx, partner.Path, "", 10)
	must(t, err)
	if len(us) != 0 || len(ks) != 0 {
		t.Fatalf("DeleteOrgPrincipals left %d users and %d keys", len(us), len(ks))
	}
	must(t, s.st.DeleteOrg(s.ctx, partner.ID))
	_, err = s.st.GetOrg(s.ctx, root.Path, partner.ID)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.DeleteOrg(s.ctx, partner.ID), errs.KindNotFound)
}

func (s *suite) contracts(t *testing.T) {
	s.cover("InsertContract", "GetContract", "ListContracts", "UpdateContractTerms", "SetContractReserved",
		"AddContractAllocation", "CountContractPartners", "DeleteContract")
	root, dist, partner, c := s.tree(t)
	got, err := s.st.GetContract(s.ctx, dist.Path, c.ID)
	must(t, err)
	if d := cmp.Diff(c, got); d != "" {
		t.Fatalf("contract round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetContract(s.ctx, partner.Path, c.ID)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.InsertContract(s.ctx, c), errs.KindConflict)
	list, err := s.st.ListContracts(s.ctx, root.Path, "", 10)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListContracts = %d", len(list))
	}
	list, err = s.st.ListContracts(s.ctx, root.Path, c.ID, 10)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListContracts after the last id = %d", len(list))
	}

	c.CostStorageGBCents, c.CostEgressGBCents, c.Currency, c.Details = 7, 3, "USD", "New"
	c.UpdatedAt = db.Micro(t0.Add(time.Minute))
	must(t, s.st.UpdateContractTerms(s.ctx, c))

	ok, err := s.st.AddContractAllocation(s.ctx, c.ID, 60, t0)
	must(t, err)
	if !ok {
		t.Fatal("AddContractAllocation 60 of 100 refused")
	}
	ok, err = s.st.AddContractAllocation(s.ctx, c.ID, 41, t0)
	must(t, err)
	if ok {
		t.Fatal("AddContractAllocation beyond the reservation accepted")
	}
	ok, err = s.st.AddContractAllocation(s.ctx, c.ID, -61, t0)
	must(t, err)
	if ok {
		t.Fatal("AddContractAllocation below zero accepted")
	}
	// Deltas near int64's limits are refused, not overflowed.
	for _, d := range []int64{1<<63 - 1, -1 << 63} {
		ok, err = s.st.AddContractAllocation(s.ctx, c.ID, d, t0)
		must(t, err)
		if ok {
			t.Fatalf("AddContractAllocation(%d) accepted", d)
		}
	}
	ok, err = s.st.SetContractReserved(s.ctx, c.ID, 59, t0)
	must(t, err)
	if ok {
		t.Fatal("SetContractReserved below the allocation accepted")
	}
	ok, err = s.st.SetContractReserved(s.ctx, c.ID, 60, t0)
	must(t, err)
	if !ok {
		t.Fatal("SetContractReserved to exactly the allocation refused")
	}
	got, err = s.st.GetContract(s.ctx, root.Path, c.ID)
	must(t, err)
	if got.ReservedCapacity != 60 || got.AllocatedCapacity != 60 || got.Currency != "USD" || got.CostEgressGBCents != 3 || got.Details != "New" {
		t.Fatalf("after updates: %+v", got)
	}

	n, err := s.st.CountContractPartners(s.ctx, c.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountContractPartners = %d", n)
	}
	must(t, s.st.DeleteOrg(s.ctx, partner.ID))
	must(t, s.st.DeleteContract(s.ctx, c.ID))
	wantKind(t, s.st.DeleteContract(s.ctx, c.ID), errs.KindNotFound)
}

func (s *suite) partnerAllocation(t *testing.T) {
	s.cover("SetPartnerAllocation", "AddPartnerAccountsAllocation", "CountPartnerStorageAccounts")
	root, _, partner, _ := s.tree(t) // partner has 10
	steps := []struct {
		name  string
		run   func() (bool, error)
		want  bool
		alloc int64
		accts int64
	}{
		{"accounts within allocation", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 8, t0) }, true, 10, 8},
		{"accounts beyond allocation", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 3, t0) }, false, 10, 8},
		{"shrink below accounts", func() (bool, error) { return s.st.SetPartnerAllocation(s.ctx, partner.ID, 7, t0) }, false, 10, 8},
		{"shrink to accounts", func() (bool, error) { return s.st.SetPartnerAllocation(s.ctx, partner.ID, 8, t0) }, true, 8, 8},
		{"pay-per-use always fits", func() (bool, error) { return s.st.SetPartnerAllocation(s.ctx, partner.ID, 0, t0) }, true, 0, 8},
		{"pay-per-use accounts uncapped", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 1000, t0) }, true, 0, 1008},
		{"release below zero refused", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, -2000, t0) }, false, 0, 1008},
		{"release", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, -1008, t0) }, true, 0, 0},
		{"beyond int32 is fine", func() (bool, error) { return s.st.SetPartnerAllocation(s.ctx, partner.ID, 5_000_000_000_000, t0) }, true, 5_000_000_000_000, 0},
		{"no int64 overflow", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 1<<63-1, t0) }, false, 5_000_000_000_000, 0},
		{"pay-per-use again", func() (bool, error) { return s.st.SetPartnerAllocation(s.ctx, partner.ID, 0, t0) }, true, 0, 0},
		{"uncapped up to int64", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 1<<63-1, t0) }, true, 0, 1<<63 - 1},
		{"but never past it", func() (bool, error) { return s.st.AddPartnerAccountsAllocation(s.ctx, partner.ID, 1, t0) }, false, 0, 1<<63 - 1},
	}
	for _, st := range steps {
		ok, err := st.run()
		must(t, err)
		if ok != st.want {
			t.Fatalf("%s: got %v, want %v", st.name, ok, st.want)
		}
		p, err := s.st.GetOrg(s.ctx, root.Path, partner.ID)
		must(t, err)
		if p.AllocatedCapacity != st.alloc || p.AccountsAllocated != st.accts {
			t.Fatalf("%s: allocation %d/%d, want %d/%d", st.name, p.AllocatedCapacity, p.AccountsAllocated, st.alloc, st.accts)
		}
	}
	n, err := s.st.CountPartnerStorageAccounts(s.ctx, partner.ID)
	must(t, err)
	if n != 0 {
		t.Fatalf("CountPartnerStorageAccounts = %d", n)
	}
}

func (s *suite) account(t *testing.T, p tenancy.Org) objstore.StorageAccount {
	t.Helper()
	now := db.Micro(t0)
	sa := objstore.StorageAccount{ID: ids.New(), PartnerID: p.ID, OrgPath: p.Path, Name: "SA", ContactEmail: ids.New() + "@example.com",
		PasswordHash: "h", AllocatedCapacity: 5, AllowOverdraft: true, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertStorageAccount(s.ctx, sa))
	return sa
}

func (s *suite) storageAccounts(t *testing.T) {
	s.cover("InsertStorageAccount", "GetStorageAccount", "GetStorageAccountAnywhere", "ListStorageAccounts",
		"SetStorageAccountPendingDeletion", "ListDueStorageAccounts", "DeleteDueStorageAccount",
		"SetStorageAccountSuspended", "SetStorageAccountCapacity")
	root, dist, partner, _ := s.tree(t)
	sa := s.account(t, partner)
	got, err := s.st.GetStorageAccount(s.ctx, dist.Path, partner.ID, sa.ID)
	must(t, err)
	if d := cmp.Diff(sa, got); d != "" {
		t.Fatalf("storage account round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetStorageAccount(s.ctx, dist.Path, ids.New(), sa.ID)
	wantKind(t, err, errs.KindNotFound)
	got, err = s.st.GetStorageAccountAnywhere(s.ctx, root.Path, sa.ID)
	must(t, err)
	if got.ID != sa.ID {
		t.Fatal("GetStorageAccountAnywhere returned another account")
	}
	_, err = s.st.GetStorageAccountAnywhere(s.ctx, "/elsewhere/", sa.ID)
	wantKind(t, err, errs.KindNotFound)
	dup := sa
	dup.ID = ids.New()
	err = s.st.InsertStorageAccount(s.ctx, dup)
	wantKind(t, err, errs.KindConflict)
	if errs.FieldOf(err) != "clientAccount.contactEmail" {
		t.Fatalf("duplicate e-mail names field %q", errs.FieldOf(err))
	}
	list, err := s.st.ListStorageAccounts(s.ctx, root.Path, partner.ID)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListStorageAccounts = %d", len(list))
	}
	n, err := s.st.CountPartnerStorageAccounts(s.ctx, partner.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountPartnerStorageAccounts = %d", n)
	}

	// Suspension and capacity round-trip; updated_at follows.
	susp, later := db.Micro(t0.Add(time.Minute)), db.Micro(t0.Add(2*time.Minute))
	must(t, s.st.SetStorageAccountSuspended(s.ctx, sa.ID, &susp, susp))
	must(t, s.st.SetStorageAccountCapacity(s.ctx, sa.ID, 77, later))
	got, err = s.st.GetStorageAccount(s.ctx, root.Path, partner.ID, sa.ID)
	must(t, err)
	want := sa
	want.SuspendedAt, want.AllocatedCapacity, want.UpdatedAt = &susp, 77, later
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("suspended and resized (-want +got):\n%s", d)
	}
	must(t, s.st.SetStorageAccountSuspended(s.ctx, sa.ID, nil, later))
	must(t, s.st.SetStorageAccountCapacity(s.ctx, sa.ID, sa.AllocatedCapacity, later))
	got, err = s.st.GetStorageAccount(s.ctx, root.Path, partner.ID, sa.ID)
	must(t, err)
	if got.SuspendedAt != nil || got.AllocatedCapacity != sa.AllocatedCapacity {
		t.Fatalf("resumed: suspended %v, capacity %d", got.SuspendedAt, got.AllocatedCapacity)
	}
	// Inserted suspended, the time round-trips.
	ins := sa
	ins.ID, ins.ContactEmail, ins.SuspendedAt = ids.New(), ids.New()+"@example.com", &susp
	must(t, s.st.InsertStorageAccount(s.ctx, ins))
	got, err = s.st.GetStorageAccountAnywhere(s.ctx, root.Path, ins.ID)
	must(t, err)
	if d := cmp.Diff(ins, got); d != "" {
		t.Fatalf("inserted suspended (-want +got):\n%s", d)
	}
	wantKind(t, s.st.SetStorageAccountSuspended(s.ctx, ids.New(), nil, later), errs.KindNotFound)
	wantKind(t, s.st.SetStorageAccountCapacity(s.ctx, ids.New(), 1, later), errs.KindNotFound)
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, ins.ID, &susp, later))
	ok, err := s.st.DeleteDueStorageAccount(s.ctx, ins.ID, later)
	must(t, err)
	if !ok {
		t.Fatal("second account not deleted")
	}

	due := db.Micro(t0.Add(time.Hour))
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, &due, t0))
	got, err = s.st.GetStorageAccount(s.ctx, root.Path, partner.ID, sa.ID)
	must(t, err)
	if got.PendingDeletedAt == nil || !got.PendingDeletedAt.Equal(due) {
		t.Fatalf("pending deletion = %v, want %v", got.PendingDeletedAt, due)
	}
	early, err := s.st.ListDueStorageAccounts(s.ctx, due.Add(-time.Microsecond), 10)
	must(t, err)
	if len(early) != 0 {
		t.Fatalf("due before its time: %d", len(early))
	}
	ok, err = s.st.DeleteDueStorageAccount(s.ctx, sa.ID, due.Add(-time.Microsecond))
	must(t, err)
	if ok {
		t.Fatal("deleted before due")
	}
	list, err = s.st.ListDueStorageAccounts(s.ctx, due, 10)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("due at its time: %d", len(list))
	}
	// Cancelled: no longer due.
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, nil, t0))
	ok, err = s.st.DeleteDueStorageAccount(s.ctx, sa.ID, due.Add(time.Hour))
	must(t, err)
	if ok {
		t.Fatal("deleted a cancelled deletion")
	}
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, &due, t0))
	ok, err = s.st.DeleteDueStorageAccount(s.ctx, sa.ID, due)
	must(t, err)
	if !ok {
		t.Fatal("due account not deleted")
	}
	wantKind(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, nil, t0), errs.KindNotFound)
}

func (s *suite) regions(t *testing.T) {
	s.cover("ListRegions", "UpsertRegion", "DeleteRegion")
	r := objstore.Region{Name: "eu-" + ids.New()[:8], S3URL: "http://a", IAMURL: "http://b", STSURL: "http://c", CreatedAt: db.Micro(t0)}
	must(t, s.st.UpsertRegion(s.ctx, r))
	r.S3URL = "http://a2"
	must(t, s.st.UpsertRegion(s.ctx, r))
	rs, err := s.st.ListRegions(s.ctx)
	must(t, err)
	found := false
	for _, g := range rs {
		if g.Name == r.Name {
			found = true
			if d := cmp.Diff(r, g); d != "" {
				t.Fatalf("region (-want +got):\n%s", d)
			}
		}
	}
	if !found {
		t.Fatal("region not listed")
	}
	ok, err := s.st.DeleteRegion(s.ctx, r.Name)
	must(t, err)
	if !ok {
		t.Fatal("DeleteRegion: nothing deleted")
	}
	ok, err = s.st.DeleteRegion(s.ctx, r.Name)
	must(t, err)
	if ok {
		t.Fatal("DeleteRegion twice")
	}
}

func (s *suite) dailyUsage(t *testing.T) {
	s.cover("UpsertDailyUsage", "ListDailyUsage")
	_, _, partner, _ := s.tree(t)
	a, b := s.account(t, partner), s.account(t, partner)
	at := db.Micro(t0)
	rows := []metering.DailyUsage{
		{StorageAccountID: a.ID, Day: "2026-03-01", UsageBytes: 1, AllocatedCapacity: 5, RecordedAt: at},
		{StorageAccountID: a.ID, Day: "2026-03-02", UsageBytes: 2, AllocatedCapacity: 5, RecordedAt: at},
		{StorageAccountID: a.ID, Day: "2026-03-03", UsageBytes: 3, AllocatedCapacity: 5, RecordedAt: at},
		{StorageAccountID: b.ID, Day: "2026-03-02", UsageBytes: 9, AllocatedCapacity: 5, RecordedAt: at},
	}
	for _, r := range rows {
		must(t, s.st.UpsertDailyUsage(s.ctx, r))
	}
	rows[1].UsageBytes = 20 // a correction replaces the day
	must(t, s.st.UpsertDailyUsage(s.ctx, rows[1]))
	got, err := s.st.ListDailyUsage(s.ctx, []string{a.ID, b.ID}, "2026-03-02", "2026-03-03")
	must(t, err)
	want := []metering.DailyUsage{rows[1], rows[2], rows[3]}
	sort.Slice(want, func(i, j int) bool {
		if want[i].StorageAccountID != want[j].StorageAccountID {
			return want[i].StorageAccountID < want[j].StorageAccountID
		}
		return want[i].Day < want[j].Day
	})
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ListDailyUsage (-want +got):\n%s", d)
	}
	none, err := s.st.ListDailyUsage(s.ctx, nil, "2026-03-01", "2026-03-31")
	must(t, err)
	if len(none) != 0 {
		t.Fatal("usage for no accounts")
	}
}

func (s *suite) apiKeys(t *testing.T) {
	s.cover("InsertAPIKey", "GetAPIKeyByHash", "GetAPIKey", "ListAPIKeys", "RevokeAPIKey", "TouchAPIKey")
	root, dist, partner, _ := s.tree(t)
	k := access.APIKey{ID: ids.New(), OrgID: partner.ID, OrgPath: partner.Path, OrgKind: actor.Partner, Name: "k", Role: actor.Staff,
		Prefix: "trl_abc", Hash: access.HashKey(ids.New()), CreatedBy: "tester", CreatedAt: db.Micro(t0)}
	must(t, s.st.InsertAPIKey(s.ctx, k))
	got, err := s.st.GetAPIKeyByHash(s.ctx, k.Hash)
	must(t, err)
	if d := cmp.Diff(k, got); d != "" {
		t.Fatalf("key round trip (-want +got):\n%s", d)
	}
	dup := k
	dup.ID = ids.New()
	wantKind(t, s.st.InsertAPIKey(s.ctx, dup), errs.KindConflict)
	_, err = s.st.GetAPIKeyByHash(s.ctx, "nope")
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetAPIKey(s.ctx, dist.Path, k.ID)
	must(t, err)
	_, err = s.st.GetAPIKey(s.ctx, root.Path+"other/", k.ID)
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListAPIKeys(s.ctx, root.Path, "", 10)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListAPIKeys = %d", len(list))
	}
	used := db.Micro(t0.Add(time.Minute))
	must(t, s.st.TouchAPIKey(s.ctx, k.ID, used))
	must(t, s.st.RevokeAPIKey(s.ctx, k.ID, used))
	must(t, s.st.RevokeAPIKey(s.ctx, k.ID, used.Add(time.Hour))) // second revoke keeps the first time
	got, err = s.st.GetAPIKey(s.ctx, root.Path, k.ID)
	must(t, err)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) || got.RevokedAt == nil || !got.RevokedAt.Equal(used) {
		t.Fatalf("after touch and revoke: used %v revoked %v", got.LastUsedAt, got.RevokedAt)
	}
}

func (s *suite) users(t *testing.T) {
	s.cover("InsertUser", "ListUsers", "GetUser", "DeleteUser")
	_, _, partner, _ := s.tree(t)
	u := access.User{ID: ids.New(), OrgID: partner.ID, OrgPath: partner.Path, Email: ids.New() + "@example.com", Name: "Ann",
		Role: actor.Viewer, PasswordHash: "$argon2id$…", CreatedAt: db.Micro(t0)}
	must(t, s.st.InsertUser(s.ctx, u))
	dup := u
	dup.ID = ids.New()
	wantKind(t, s.st.InsertUser(s.ctx, dup), errs.KindConflict)
	got, err := s.st.GetUser(s.ctx, partner.ID, u.ID)
	must(t, err)
	if d := cmp.Diff(u, got); d != "" {
		t.Fatalf("user round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetUser(s.ctx, ids.New(), u.ID)
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListUsers(s.ctx, partner.ID)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListUsers = %d", len(list))
	}
	must(t, s.st.DeleteUser(s.ctx, u.ID))
	wantKind(t, s.st.DeleteUser(s.ctx, u.ID), errs.KindNotFound)
}

func (s *suite) audit(t *testing.T) {
	s.cover("AppendAudit", "ListAudit")
	_, dist, partner, _ := s.tree(t)
	a := actor.Actor{Type: actor.TypeAPIKey, ID: "k1", OrgID: dist.ID, OrgPath: dist.Path, RequestID: "req-1"}
	e1 := audit.New(a, db.Micro(t0), "partner.create", "partner", partner.ID, partner.Path, "x")
	e2 := audit.New(a, db.Micro(t0), "contract.update", "contract", "c", dist.Path, "")
	must(t, s.st.AppendAudit(s.ctx, e1))
	must(t, s.st.AppendAudit(s.ctx, e2))
	got, err := s.st.ListAudit(s.ctx, dist.Path, "", 10)
	must(t, err)
	if d := cmp.Diff([]audit.Entry{e1, e2}, got); d != "" {
		t.Fatalf("audit (-want +got):\n%s", d)
	}
	got, err = s.st.ListAudit(s.ctx, partner.Path, "", 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != e1.ID {
		t.Fatalf("audit scoped to the partner: %+v", got)
	}
	got, err = s.st.ListAudit(s.ctx, dist.Path, e1.ID, 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != e2.ID {
		t.Fatalf("audit after cursor: %+v", got)
	}
}

func (s *suite) idempotency(t *testing.T) {
	s.cover("BeginIdempotency", "RenewIdempotency", "CompleteIdempotency", "AbandonIdempotency", "PurgeIdempotency")
	scope, key := ids.New(), "key-1"
	claim := func(hash, owner string, now time.Time) idem.Claim {
		return idem.Claim{Scope: scope, Key: key, PrincipalID: "p1", Grant: "admin|0|", RequestHash: hash,
			Owner: owner, Now: now, LockedUntil: now.Add(time.Minute)}
	}
	_, existing, err := s.st.BeginIdempotency(s.ctx, claim("h1", "o1", t0))
	must(t, err)
	if existing {
		t.Fatal("first begin found a record")
	}
	rec, existing, err := s.st.BeginIdempotency(s.ctx, claim("h1", "o2", t0))
	must(t, err)
	if !existing || rec.Status != 0 || rec.RequestHash != "h1" || rec.PrincipalID != "p1" || rec.Grant != "admin|0|" ||
		!rec.LockedUntil.Equal(db.Micro(t0.Add(time.Minute))) {
		t.Fatalf("second begin: existing=%v %+v", existing, rec)
	}
	// The lease is renewed by its owner only; another owner cannot abandon.
	must(t, s.st.RenewIdempotency(s.ctx, scope, key, "o2", t0.Add(time.Hour)))
	must(t, s.st.RenewIdempotency(s.ctx, scope, key, "o1", t0.Add(2*time.Minute)))
	must(t, s.st.AbandonIdempotency(s.ctx, scope, key, "o2"))
	// Live lease: no takeover; a different request never takes over.
	if _, existing, err = s.st.BeginIdempotency(s.ctx, claim("h1", "o2", t0.Add(time.Minute))); err != nil || !existing {
		t.Fatalf("takeover during the lease: existing=%v err=%v", existing, err)
	}
	if _, existing, err = s.st.BeginIdempotency(s.ctx, claim("h9", "o2", t0.Add(time.Hour))); err != nil || !existing {
		t.Fatalf("takeover by another request: existing=%v err=%v", existing, err)
	}
	// Expired lease: taken over by o2; o1 can no longer complete.
	_, existing, err = s.st.BeginIdempotency(s.ctx, claim("h1", "o2", t0.Add(2*time.Minute)))
	must(t, err)
	if existing {
		t.Fatal("an expired lease was not taken over")
	}
	must(t, s.st.CompleteIdempotency(s.ctx, scope, key, "o1", 500, "", nil))
	must(t, s.st.AbandonIdempotency(s.ctx, scope, key, "o2"))
	_, existing, err = s.st.BeginIdempotency(s.ctx, claim("h2", "o3", t0))
	must(t, err)
	if existing {
		t.Fatal("begin after abandon found a record")
	}
	must(t, s.st.CompleteIdempotency(s.ctx, scope, key, "o3", 201, "application/json", []byte(`{"ok":true}`)))
	must(t, s.st.AbandonIdempotency(s.ctx, scope, key, "o3")) // a completed record stays
	rec, existing, err = s.st.BeginIdempotency(s.ctx, claim("h2", "o4", t0.Add(time.Hour)))
	must(t, err)
	if !existing || rec.Status != 201 || string(rec.Body) != `{"ok":true}` || rec.ContentType != "application/json" {
		t.Fatalf("completed record: %+v", rec)
	}
	// Keys are per scope.
	other := claim("h3", "o5", t0)
	other.Scope = ids.New()
	_, existing, err = s.st.BeginIdempotency(s.ctx, other)
	must(t, err)
	if existing {
		t.Fatal("another scope's key collided")
	}
	n, err := s.st.PurgeIdempotency(s.ctx, t0.Add(time.Second))
	must(t, err)
	if n < 2 {
		t.Fatalf("PurgeIdempotency removed %d, want ≥ 2", n)
	}
}

func (s *suite) transactions(t *testing.T) {
	root, _, _, _ := s.tree(t)
	ten := sqlstore.Tenancy{Store: s.st}
	id := ids.New()
	boom := errors.New("boom")
	err := ten.Tx(s.ctx, func(tx tenancy.Store) error {
		now := db.Micro(t0)
		if err := tx.InsertOrg(s.ctx, tenancy.Org{ID: id, Kind: actor.Distributor, ParentID: root.ID, Path: root.Path + id + "/",
			Name: "rolled back", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		// Nested Tx joins the outer transaction and sees its writes.
		if err := tx.Tx(s.ctx, func(inner tenancy.Store) error {
			_, err := inner.GetOrg(s.ctx, root.Path, id)
			return err
		}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	_, err = s.st.GetOrg(s.ctx, root.Path, id)
	wantKind(t, err, errs.KindNotFound)
	// The other domain views run transactions the same way.
	must(t, sqlstore.Objstore{Store: s.st}.Tx(s.ctx, func(objstore.Store) error { return nil }))
	must(t, sqlstore.Access{Store: s.st}.Tx(s.ctx, func(access.Store) error { return nil }))
	must(t, sqlstore.Metering{Store: s.st}.Tx(s.ctx, func(metering.Store) error { return nil }))
}

// concurrency races conditional updates: whatever the interleaving, the
// contract never goes beyond its reservation.
func (s *suite) concurrency(t *testing.T) {
	_, _, _, c := s.tree(t) // 100 reserved
	ten := sqlstore.Tenancy{Store: s.st}
	const workers = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	start := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := ten.Tx(s.ctx, func(tx tenancy.Store) error {
				ok, err := tx.AddContractAllocation(s.ctx, c.ID, 7, t0)
				if err == nil && ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	got, err := s.st.GetContract(s.ctx, "/", c.ID)
	must(t, err)
	if wins != 14 || got.AllocatedCapacity != 98 {
		t.Fatalf("%d wins, allocated %d; want 14 wins and 98", wins, got.AllocatedCapacity)
	}
	s.DBCheck(t)
}

// DBCheck makes sure the database handle is the one the store uses.
func (s *suite) DBCheck(t *testing.T) {
	if s.st.DB() == nil || s.st.DB().Dialect() == nil {
		t.Fatal("store without a database")
	}
}
