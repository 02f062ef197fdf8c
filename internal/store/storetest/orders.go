package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// resellerOrders exercises the catalog and order store methods (the order
// rules, charging and blocking are tested in internal/orders).
func (s *suite) resellerOrders(t *testing.T) {
	s.cover("GetResellerCatalog", "PutResellerCatalog", "InsertResellerCatalogIfAbsent", "InsertResellerOrder",
		"GetResellerOrder", "LockResellerOrder", "ListResellerOrders", "UpdateResellerOrder",
		"AdvanceResellerOrderCharge", "DueResellerOrders", "SetResellerProjectOrdersBlocked", "CountLiveResellerOrders")
	now := db.Micro(t0)

	// Catalogs: absent, inserted once, replaced.
	_, _, err := s.st.GetResellerCatalog(s.ctx, "test_kind")
	wantKind(t, err, errs.KindNotFound)
	ok, err := s.st.InsertResellerCatalogIfAbsent(s.ctx, "test_kind", json.RawMessage(`{"A":1}`), now)
	must(t, err)
	if !ok {
		t.Fatal("InsertResellerCatalogIfAbsent: first insert reported no change")
	}
	ok, err = s.st.InsertResellerCatalogIfAbsent(s.ctx, "test_kind", json.RawMessage(`{"A":2}`), now)
	must(t, err)
	if ok {
		t.Fatal("InsertResellerCatalogIfAbsent: second insert replaced the catalog")
	}
	body, at, err := s.st.GetResellerCatalog(s.ctx, "test_kind")
	must(t, err)
	if string(body) != `{"A":1}` || !at.Equal(now) {
		t.Fatalf("catalog = %s at %v", body, at)
	}
	must(t, s.st.PutResellerCatalog(s.ctx, "test_kind", json.RawMessage(`{"A":3}`), now.Add(time.Hour)))
	body, at, err = s.st.GetResellerCatalog(s.ctx, "test_kind")
	must(t, err)
	if string(body) != `{"A":3}` || !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("replaced catalog = %s at %v", body, at)
	}

	// Orders of two projects of one partner, and one of another partner.
	_, _, partner, _ := s.tree(t)
	_, _, other, _ := s.tree(t)
	p1, p2 := s.billingAccount(t, partner, 0), s.billingAccount(t, partner, 0)
	p3 := s.billingAccount(t, other, 0)
	next := int64(900000)
	order := func(project int64, path, partnerID, kind, state string) orders.Order {
		next++
		o := orders.Order{ID: next, PartnerID: partnerID, PartnerPath: path, ProjectID: project, Kind: kind,
			Name: "srv", Location: "ds1", Spec: json.RawMessage(`{"Name":"srv"}`), State: state, Currency: "RUB",
			MonthlyPrice: "1234.5", DailyPrice: 4115, NextChargeAt: now.Add(24 * time.Hour), CreatedAt: now, UpdatedAt: now}
		if state == orders.StateDeleted {
			o.DeletedAt = &now
		}
		must(t, s.st.InsertResellerOrder(s.ctx, o))
		return o
	}
	a := order(p1.ID, partner.Path, partner.ID, orders.KindVMwareServer, orders.StateActive)
	a2 := order(p1.ID, partner.Path, partner.ID, orders.KindVOrg, orders.StateCreating)
	a2.ParentID, a2.SecretHash = 0, ""
	b := order(p2.ID, partner.Path, partner.ID, orders.KindVDC, orders.StateActive)
	gone := order(p1.ID, partner.Path, partner.ID, orders.Kind1C, orders.StateDeleted)
	c := order(p3.ID, other.Path, other.ID, orders.KindKubernetes, orders.StateActive)
	wantKind(t, s.st.InsertResellerOrder(s.ctx, a), errs.KindConflict)

	got, err := s.st.GetResellerOrder(s.ctx, partner.Path, a.ID)
	must(t, err)
	if d := cmp.Diff(a, got); d != "" {
		t.Fatalf("order round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetResellerOrder(s.ctx, other.Path, a.ID)
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetResellerOrder(s.ctx, "/%", a.ID)
	wantKind(t, err, errs.KindNotFound)

	ids := func(list []orders.Order) []int64 {
		out := []int64{}
		for _, o := range list {
			out = append(out, o.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    orders.OrderFilter
		want []int64
	}{
		{orders.OrderFilter{Scope: partner.Path}, []int64{a.ID, a2.ID, b.ID}},
		{orders.OrderFilter{Scope: partner.Path, WithDeleted: true}, []int64{a.ID, a2.ID, b.ID, gone.ID}},
		{orders.OrderFilter{Scope: partner.Path, ProjectID: p2.ID}, []int64{b.ID}},
		{orders.OrderFilter{Scope: partner.Path, Kind: orders.KindVOrg}, []int64{a2.ID}},
		{orders.OrderFilter{Scope: "/"}, []int64{a.ID, a2.ID, b.ID, c.ID}},
		{orders.OrderFilter{Scope: "/%"}, []int64{}},
	} {
		list, err := s.st.ListResellerOrders(s.ctx, tc.f)
		must(t, err)
		if d := cmp.Diff(tc.want, ids(list)); d != "" {
			t.Fatalf("ListResellerOrders %+v (-want +got):\n%s", tc.f, d)
		}
	}

	locked, err := s.st.LockResellerOrder(s.ctx, a2.ID)
	must(t, err)
	if d := cmp.Diff(a2, locked); d != "" {
		t.Fatalf("LockResellerOrder (-want +got):\n%s", d)
	}
	_, err = s.st.LockResellerOrder(s.ctx, 1)
	wantKind(t, err, errs.KindNotFound)
	later := now.Add(time.Minute)
	a2.State, a2.ProviderRef, a2.LastError, a2.ProjectBlocked, a2.UpdatedAt = orders.StateError, "ref", "boom", true, later
	a2.NextChargeAt = now.Add(48 * time.Hour)
	must(t, s.st.UpdateResellerOrder(s.ctx, a2))
	got, err = s.st.GetResellerOrder(s.ctx, "/", a2.ID)
	must(t, err)
	if d := cmp.Diff(a2, got); d != "" {
		t.Fatalf("UpdateResellerOrder (-want +got):\n%s", d)
	}
	wantKind(t, s.st.UpdateResellerOrder(s.ctx, orders.Order{ID: 1, State: orders.StateActive, UpdatedAt: now}),
		errs.KindNotFound)

	n, err := s.st.CountLiveResellerOrders(s.ctx, p1.ID)
	must(t, err)
	if n != 2 {
		t.Fatalf("CountLiveResellerOrders = %d, want 2", n)
	}

	// Due: Active orders whose next day started, inclusive.
	due, err := s.st.DueResellerOrders(s.ctx, now.Add(24*time.Hour-time.Microsecond), 10)
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("due before the day: %v", due)
	}
	due, err = s.st.DueResellerOrders(s.ctx, now.Add(24*time.Hour), 10)
	must(t, err)
	if d := cmp.Diff([]int64{a.ID, b.ID, c.ID}, due); d != "" {
		t.Fatalf("DueResellerOrders (-want +got):\n%s", d)
	}
	due, err = s.st.DueResellerOrders(s.ctx, now.Add(24*time.Hour), 1)
	must(t, err)
	if len(due) != 1 {
		t.Fatalf("DueResellerOrders limit 1: %v", due)
	}

	// Advance is a compare-and-set.
	day := now.Add(24 * time.Hour)
	ok, err = s.st.AdvanceResellerOrderCharge(s.ctx, a.ID, day, day.Add(24*time.Hour), later)
	must(t, err)
	if !ok {
		t.Fatal("AdvanceResellerOrderCharge did not advance")
	}
	ok, err = s.st.AdvanceResellerOrderCharge(s.ctx, a.ID, day, day.Add(24*time.Hour), later)
	must(t, err)
	if ok {
		t.Fatal("AdvanceResellerOrderCharge advanced from a stale value")
	}
	got, _ = s.st.GetResellerOrder(s.ctx, "/", a.ID)
	if !got.NextChargeAt.Equal(day.Add(24*time.Hour)) || !got.UpdatedAt.Equal(later) {
		t.Fatalf("advanced order: next %v updated %v", got.NextChargeAt, got.UpdatedAt)
	}

	// Blocking p1: its Active order goes Blocked, every live order is
	// marked; the other projects are untouched.
	n, err = s.st.SetResellerProjectOrdersBlocked(s.ctx, p1.ID, true, later)
	must(t, err)
	if n != 1 {
		t.Fatalf("blocking changed %d orders, want 1", n)
	}
	states := func(want map[int64]string, blocked map[int64]bool) {
		t.Helper()
		for id, st := range want {
			o, err := s.st.GetResellerOrder(s.ctx, "/", id)
			must(t, err)
			if o.State != st || o.ProjectBlocked != blocked[id] {
				t.Fatalf("order %d: state %s blocked %v, want %s %v", id, o.State, o.ProjectBlocked, st, blocked[id])
			}
		}
	}
	states(map[int64]string{a.ID: orders.StateBlocked, a2.ID: orders.StateError, b.ID: orders.StateActive,
		gone.ID: orders.StateDeleted, c.ID: orders.StateActive}, map[int64]bool{a.ID: true, a2.ID: true})
	// Unblocking raises next_charge_at to the unblock time when earlier.
	resume := day.Add(72 * time.Hour)
	n, err = s.st.SetResellerProjectOrdersBlocked(s.ctx, p1.ID, false, resume)
	must(t, err)
	if n != 1 {
		t.Fatalf("unblocking changed %d orders, want 1", n)
	}
	states(map[int64]string{a.ID: orders.StateActive, a2.ID: orders.StateError}, nil)
	got, _ = s.st.GetResellerOrder(s.ctx, "/", a.ID)
	if !got.NextChargeAt.Equal(resume) {
		t.Fatalf("resumed next charge %v, want %v", got.NextChargeAt, resume)
	}
	// A later day is kept.
	_, err = s.st.SetResellerProjectOrdersBlocked(s.ctx, p1.ID, true, resume)
	must(t, err)
	_, err = s.st.SetResellerProjectOrdersBlocked(s.ctx, p1.ID, false, resume.Add(-time.Hour))
	must(t, err)
	got, _ = s.st.GetResellerOrder(s.ctx, "/", a.ID)
	if !got.NextChargeAt.Equal(resume) {
		t.Fatalf("unblock moved a later next charge back: %v", got.NextChargeAt)
	}
}
