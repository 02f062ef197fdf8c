package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"

	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

func (s *suite) usageSegments(t *testing.T) {
	s.cover("CloseUsageSegments", "InsertUsageSegment", "UsageSegmentsIn", "FirstUsageSegmentStart",
		"UsageSweptUntil", "AdvanceUsageSweep")
	h := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	if _, ok, err := s.st.FirstUsageSegmentStart(s.ctx); err != nil || ok {
		t.Fatalf("empty: %v %v", ok, err)
	}
	vm := metering.Segment{Meter: pricing.MeterVM, BillingAccountID: 6, LocationSlug: "cyc01", OwnerUUID: "u1", UserID: 8,
		Config: pricing.Config{VMName: "web", CPUs: 2, RAMMB: 2048, Status: pricing.StatusRunning}}
	// Opened at 10:20 (sub-microsecond digits are dropped), resized at
	// 10:40, deleted at 12:00; a zero-length segment is never returned.
	must(t, metering.SetUsageTx(s.ctx, s.st, h.Add(20*time.Minute+7), "vm-1", vm))
	big := vm
	big.Config.CPUs = 4
	must(t, metering.SetUsageTx(s.ctx, s.st, h.Add(40*time.Minute), "vm-1", big))
	must(t, metering.SetUsageTx(s.ctx, s.st, h.Add(40*time.Minute), "vm-1", big)) // zero-length predecessor
	must(t, metering.SetUsageTx(s.ctx, s.st, h.Add(2*time.Hour), "vm-1"))
	ip := metering.Segment{Meter: pricing.MeterFloatingIP, BillingAccountID: 6, OwnerUUID: "ip", Config: pricing.Config{Name: "1.2.3.4"}}
	must(t, metering.SetUsageTx(s.ctx, s.st, h.Add(90*time.Minute), "ip-1", ip))

	first, ok, err := s.st.FirstUsageSegmentStart(s.ctx)
	if err != nil || !ok || !first.Equal(h.Add(20*time.Minute)) {
		t.Fatalf("first = %v %v %v", first, ok, err)
	}
	in := func(from time.Time) []metering.StoredSegment {
		got, err := s.st.UsageSegmentsIn(s.ctx, from, from.Add(time.Hour))
		must(t, err)
		return got
	}
	got := in(h)
	if len(got) != 2 || got[0].Config.CPUs != 2 || got[1].Config.CPUs != 4 || got[0].EndedAt == nil ||
		!got[0].EndedAt.Equal(h.Add(40*time.Minute)) || got[1].EndedAt == nil {
		t.Fatalf("10:00 hour: %+v", got)
	}
	got = in(h.Add(time.Hour))
	if len(got) != 2 || got[0].ResourceID != "ip-1" || got[0].EndedAt != nil || got[1].ResourceID != "vm-1" {
		t.Fatalf("11:00 hour: %+v", got)
	}
	if got := in(h.Add(2 * time.Hour)); len(got) != 1 || got[0].ResourceID != "ip-1" {
		t.Fatalf("12:00 hour (the VM ended at 12:00): %+v", got)
	}
	if got := in(h.Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("09:00 hour: %+v", got)
	}

	// The sweep position: insert once, then compare-and-set.
	if _, ok, err := s.st.UsageSweptUntil(s.ctx, "t"); err != nil || ok {
		t.Fatalf("never ran: %v %v", ok, err)
	}
	for i, c := range []struct {
		from, to time.Time
		want     bool
	}{
		{time.Time{}, h, true},
		{time.Time{}, h.Add(time.Hour), false}, // another node inserted it
		{h, h.Add(time.Hour), true},
		{h, h.Add(2 * time.Hour), false}, // stale position
	} {
		moved, err := s.st.AdvanceUsageSweep(s.ctx, "t", c.from, c.to)
		if err != nil || moved != c.want {
			t.Fatalf("advance %d: %v %v", i, moved, err)
		}
	}
	if until, ok, err := s.st.UsageSweptUntil(s.ctx, "t"); err != nil || !ok || !until.Equal(h.Add(time.Hour)) {
		t.Fatalf("swept until %v %v %v", until, ok, err)
	}
}

type storetestJob struct {
	N int `json:"n"`
}

func (storetestJob) Kind() string { return "storetest.job" }

func (s *suite) jobs(t *testing.T) {
	s.cover("EnqueueJob", "WithJobs")
	if err := s.st.EnqueueJob(s.ctx, storetestJob{N: 1}, jobs.InsertOpts{}); errs.KindOf(err) != errs.KindInternal {
		t.Fatalf("no queue configured: %v", err)
	}
	q, err := jobs.NewQueue(s.st.DB(), jobs.QueueConfig{})
	must(t, err)
	jobs.AddWorker(q, func(context.Context, storetestJob) error { return nil })
	st := s.st.WithJobs(q)
	count := func() int {
		var n int
		must(t, s.st.DB().Read().QueryRowContext(s.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'storetest.job'`).Scan(&n))
		return n
	}
	// Inside a transaction: visible only once it commits; gone on rollback.
	rollback := errs.New(errs.KindConflict, "roll back")
	err = sqlstore.Billing{Store: st}.Tx(s.ctx, func(tx billing.Store) error {
		return errors.Join(tx.(sqlstore.Billing).EnqueueJob(s.ctx, storetestJob{N: 2}, jobs.InsertOpts{}), rollback)
	})
	if !errors.Is(err, rollback) || count() != 0 {
		t.Fatalf("rolled back: %v, %d jobs", err, count())
	}
	must(t, st.EnqueueJob(s.ctx, storetestJob{N: 3}, jobs.InsertOpts{RunAt: t0}))
	if count() != 1 {
		t.Fatalf("%d jobs after one insert", count())
	}
}
