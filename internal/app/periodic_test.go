package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// billingJob is the periodic job that runs the timed work at the clock's
// time (what every node's ticker calls).
func billingJob(t *testing.T, a *app.App) func(context.Context) error {
	t.Helper()
	for _, j := range a.Jobs() {
		if j.Name == "billing" {
			return j.Run
		}
	}
	t.Fatal("no billing job")
	return nil
}

// stepMetric reads metric `name` of step from reg: its value (a gauge's or
// counter's, a histogram's sample count) and whether the series exists.
func stepMetric(t *testing.T, reg *prometheus.Registry, name, step string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "step" && l.GetValue() == step {
					return metricValue(m), true
				}
			}
		}
	}
	return 0, false
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// TestFailingStepDoesNotStopTheOthers: the resources' meter fails (its
// table is gone), and yet the steps that do not need it run (a storage
// account whose deletion came due is purged); the invoice run and auto-pay,
// which need the hours metered, wait; each step's metrics say so; when the
// meter works again the next run catches up.
func TestFailingStepDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC))
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clk})
		sys := actor.System("")
		due := clk.Now().Add(time.Minute)
		if _, err := a.Objstore.SetPendingDeletion(ctx, sys, app.DemoPartnerID, creds["storage_account_id"], &due); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Writer().ExecContext(ctx, `ALTER TABLE usage_segments RENAME TO usage_segments_away`); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Minute)
		run := billingJob(t, a)
		err := run(ctx)
		if err == nil || !strings.Contains(err.Error(), "meter-resources") {
			t.Fatalf("billing run with the meter broken: %v; want the meter's failure", err)
		}
		if _, err := a.Objstore.GetStorageAccount(ctx, sys, app.DemoPartnerID, creds["storage_account_id"]); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("storage account whose deletion came due: %v; want it purged although the meter failed", err)
		}
		want := func(name, step string, v float64) {
			t.Helper()
			got, ok := stepMetric(t, a.Registry, name, step)
			if !ok || got != v {
				t.Errorf("%s{step=%q} = %v (present %v), want %v", name, step, got, ok, v)
			}
		}
		absent := func(name, step string) {
			t.Helper()
			if got, ok := stepMetric(t, a.Registry, name, step); ok {
				t.Errorf("%s{step=%q} = %v, want no series", name, step, got)
			}
		}
		now := float64(clk.Now().Unix())
		want("trellis_job_step_failures_total", "meter-resources", 1)
		absent("trellis_job_step_last_success_timestamp_seconds", "meter-resources")
		want("trellis_job_step_skipped_total", "issue-invoices", 1)
		want("trellis_job_step_skipped_total", "auto-pay", 1)
		absent("trellis_job_step_last_success_timestamp_seconds", "issue-invoices")
		for _, step := range []string{"meter-object-storage", "object-storage-days", "vm-backups", "reseller-charges",
			"resolve-pending-charges", "dunning", "recurring-top-up", "reconcile-resources", "purge-storage-accounts"} {
			want("trellis_job_step_last_success_timestamp_seconds", step, now)
			absent("trellis_job_step_failures_total", step)
			want("trellis_job_step_duration_seconds", step, 1)
		}
		if t.Failed() {
			return
		}
		// The meter is back: the next period's run does everything.
		if _, err := d.Writer().ExecContext(ctx, `ALTER TABLE usage_segments_away RENAME TO usage_segments`); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if err := run(ctx); err != nil {
			t.Fatalf("billing run with the meter back: %v", err)
		}
		now = float64(clk.Now().Unix())
		for _, step := range []string{"meter-resources", "issue-invoices", "auto-pay", "dunning"} {
			want("trellis_job_step_last_success_timestamp_seconds", step, now)
		}
		want("trellis_job_step_failures_total", "meter-resources", 1)
	})
}

// TestPeriodicSweepRunsOncePerPeriod: two nodes (Apps) on one database tick
// at the same instant; each period's sweep runs on one of them only.
func TestPeriodicSweepRunsOncePerPeriod(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 6, 1, 9, 0, 10, 0, time.UTC))
		var nodes []*app.App
		for range 2 {
			a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir(), Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, a)
		}
		if _, err := nodes[0].Bootstrap(ctx, ""); err != nil {
			t.Fatal(err)
		}
		runs := func() (total float64) {
			for _, a := range nodes {
				n, _ := stepMetric(t, a.Registry, "trellis_job_step_duration_seconds", "dunning")
				total += n
			}
			return total
		}
		tick := func() {
			var wg sync.WaitGroup
			for _, a := range nodes {
				run := billingJob(t, a)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := run(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		tick()
		tick() // the same period again: nothing to run
		if n := runs(); n != 1 {
			t.Fatalf("dunning ran %v times in one period over two nodes, want 1", n)
		}
		clk.Advance(30 * time.Second) // 09:00:40, still the same minute
		tick()
		if n := runs(); n != 1 {
			t.Fatalf("dunning ran %v times in one period over two nodes, want 1", n)
		}
		clk.Advance(30 * time.Second) // 09:01:10, the next period
		tick()
		tick()
		if n := runs(); n != 2 {
			t.Fatalf("dunning ran %v times in two periods over two nodes, want 2", n)
		}
	})
}
