package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// vmEnv is a customer with a billing account, the demo catalog and a
// default network in location cyc01.
type vmEnv struct {
	app      *app.App
	customer actor.Actor
	account  int64
	adminKey string
	// networks hold the VMs, vmsPerNetwork each (a /24 has 253 host
	// addresses).
	networks []string
}

const vmsPerNetwork = 250

func vmSetup(ctx context.Context, a *app.App) *vmEnv {
	sys := actor.System("bench")
	boot, err := a.Bootstrap(ctx, "")
	check(err)
	check(a.Catalog.LoadDemo(ctx, sys))
	check(a.Catalog.LoadDemoResources(ctx, sys))
	d, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: boot.Root.ID, Name: "VM bench distributor"})
	check(err)
	c, err := a.Tenancy.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: d.ID, ReservedCapacity: 1,
		Currency: "EUR", Details: "VM bench"})
	check(err)
	p, err := a.Tenancy.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "VM bench partner"})
	check(err)
	cust, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: p.ID, Name: "VM bench customer"})
	check(err)
	user, err := a.Identity.CreateUser(ctx, sys, accessUser(cust.ID))
	check(err)
	acct, err := a.Billing.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: cust.ID, UserID: user.ID,
		Data: billing.AccountData{Title: "bench", Email: "bench@example.com"}})
	check(err)
	e := &vmEnv{app: a, account: acct.ID, adminKey: boot.NewAdminKey, customer: actor.Actor{Type: actor.TypeUser, ID: "bench",
		OrgID: cust.ID, OrgPath: cust.Path, OrgKind: actor.Customer, Role: actor.Admin}}
	for i := range 80 {
		name := fmt.Sprintf("bench-%d", i)
		n, err := a.Network.CreateNetwork(ctx, e.customer, "cyc01", &name)
		check(err)
		e.networks = append(e.networks, n.UUID)
	}
	return e
}

func (e *vmEnv) createVM(ctx context.Context, i int64) error {
	_, err := e.app.Compute.CreateVM(ctx, e.customer, compute.CreateVMInput{Location: "cyc01", BillingAccountID: e.account,
		Name: fmt.Sprintf("bench-%d", i), OSName: "ubuntu", OSVersion: "16.04", Username: "bench", HasUsername: true,
		Password: "Password123", DiskGB: 20, VCPU: 1, RAMMB: 1024,
		NetworkUUID: e.networks[int(i/vmsPerNetwork)%len(e.networks)]})
	return err
}

// tableCounts returns the row count of every table.
func tableCounts(ctx context.Context, d *db.DB) map[string]int64 {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if d.Dialect().Name() == "postgres" {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`
	}
	rows, err := d.Read().QueryContext(ctx, q)
	check(err)
	var tables []string
	for rows.Next() {
		var t string
		check(rows.Scan(&t))
		tables = append(tables, t)
	}
	check(rows.Close())
	out := map[string]int64{}
	for _, t := range tables {
		var n int64
		check(d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n))
		out[t] = n
	}
	return out
}

func counters(ctx context.Context, d *db.DB) map[string]int64 {
	rows, err := d.Read().QueryContext(ctx, `SELECT name, value FROM counters`)
	check(err)
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		check(rows.Scan(&k, &v))
		out[k] = v
	}
	check(rows.Close())
	return out
}

func countDiff(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for t, n := range after {
		if n != before[t] {
			out[t] = n - before[t]
		}
	}
	return out
}

func fmtDiff(m map[string]int64) string {
	var parts []string
	for t, n := range m {
		parts = append(parts, fmt.Sprintf("%s %+d", t, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// vmBench measures VM creations per second (the compute service with its
// validation, admission, address allocation, usage segment, audit row and
// job, the provider step run inline) against the raw SQL transaction that
// inserts the same rows, and then list-VM page latency.
func vmBench(ctx context.Context, name string, a *app.App, dur time.Duration, listVMs int) {
	e := vmSetup(ctx, a)
	var n atomic.Int64
	check(e.createVM(ctx, n.Add(1)))
	before := tableCounts(ctx, a.DB)
	cBefore := counters(ctx, a.DB)
	check(e.createVM(ctx, n.Add(1)))
	diff := countDiff(before, tableCounts(ctx, a.DB))
	fmt.Printf("VM create on %s moves counters: %s\n", name, fmtDiff(countDiff(cBefore, counters(ctx, a.DB))))
	fmt.Printf("VM create on %s writes: %s\n", name, fmtDiff(diff))

	raw := newRawVM(ctx, e)
	before = tableCounts(ctx, a.DB)
	check(raw.create(ctx, 0))
	if rawDiff := countDiff(before, tableCounts(ctx, a.DB)); fmtDiff(rawDiff) != fmtDiff(diff) {
		fmt.Fprintf(os.Stderr, "raw baseline writes %s, the service %s: not the same rows\n", fmtDiff(rawDiff), fmtDiff(diff))
		os.Exit(1)
	}
	var failed atomic.Int64
	var seq atomic.Int64
	seq.Store(1)
	svc := rate(dur, func(int) bool {
		if err := e.createVM(ctx, n.Add(1)); err != nil {
			if failed.Add(1) == 1 {
				fmt.Fprintln(os.Stderr, "create VM:", err)
			}
			return false
		}
		return true
	})
	base := rate(dur, func(int) bool {
		if err := raw.create(ctx, seq.Add(1)); err != nil {
			if failed.Add(1) == 1 {
				fmt.Fprintln(os.Stderr, "raw VM insert:", err)
			}
			return false
		}
		return true
	})
	fmt.Printf("VM creations, %s, %d workers: %.0f VMs/s vs raw inserts of the same rows %.0f tx/s → ratio %.3f\n",
		name, workers, svc, base, svc/base)
	if failed.Load() > 0 {
		fmt.Printf("  (%d failed attempts)\n", failed.Load())
	}
	if listVMs > 0 {
		listBench(ctx, name, e, raw, listVMs)
	}
}
