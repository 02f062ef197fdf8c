package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// contractDailyUsage: the usage of every account of every partner under a
// contract, in the day range, by day; other contracts' partners are not
// included.
func (s *suite) contractDailyUsage(t *testing.T) {
	s.cover("ContractDailyUsage")
	_, dist, p1, c := s.tree(t)
	now := db.Micro(t0)
	pid := ids.New()
	p2 := tenancy.Org{ID: pid, Kind: actor.Partner, ParentID: dist.ID, Path: dist.Path + pid + "/", Name: "P2", TimeZone: "UTC",
		CreatedAt: now, UpdatedAt: now, ContractID: c.ID}
	must(t, s.st.InsertOrg(s.ctx, p2))
	oid, cid := ids.New(), ids.New()
	must(t, s.st.InsertContract(s.ctx, tenancy.Contract{ID: cid, ParentOrgID: dist.ParentID, OrgID: dist.ID, OrgPath: dist.Path,
		ReservedCapacity: 1, Currency: "EUR", Details: "other", CreatedAt: now, UpdatedAt: now}))
	other := tenancy.Org{ID: oid, Kind: actor.Partner, ParentID: dist.ID, Path: dist.Path + oid + "/", Name: "O", TimeZone: "UTC",
		CreatedAt: now, UpdatedAt: now, ContractID: cid}
	must(t, s.st.InsertOrg(s.ctx, other))
	a, b, o := s.account(t, p1), s.account(t, p2), s.account(t, other)
	row := func(sa, day string, usage int64) metering.DailyUsage {
		return metering.DailyUsage{StorageAccountID: sa, Day: day, UsageBytes: usage, AllocatedCapacity: 5, RecordedAt: now}
	}
	rows := []metering.DailyUsage{
		row(a.ID, "2026-02-28", 1), row(a.ID, "2026-03-01", 2), row(b.ID, "2026-03-01", 3), row(b.ID, "2026-03-31", 4),
		row(a.ID, "2026-04-01", 5), row(o.ID, "2026-03-01", 6),
	}
	for _, r := range rows {
		must(t, s.st.UpsertDailyUsage(s.ctx, r))
	}
	got, err := s.st.ContractDailyUsage(s.ctx, c.ID, "2026-03-01", "2026-03-31")
	must(t, err)
	want := []metering.DailyUsage{rows[1], rows[2], rows[3]}
	if a.ID > b.ID {
		want[0], want[1] = want[1], want[0]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ContractDailyUsage (-want +got):\n%s", d)
	}
	none, err := s.st.ContractDailyUsage(s.ctx, ids.New(), "2026-03-01", "2026-03-31")
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("usage of an unknown contract: %v", none)
	}
}
