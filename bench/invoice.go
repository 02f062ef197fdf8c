package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// usageShape is the size of the invoice-run benchmark.
type usageShape struct {
	accounts, resources, hours int
}

func (u usageShape) rows() int { return u.accounts * u.resources * u.hours }

// benchMonth is the month the usage is loaded into.
var benchMonth = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// invoiceBench loads accounts × resources × hours hourly usage records with
// raw SQL (loadUsage), then times the whole invoice run (billing.IssueInvoices: one
// invoice per account with its records, totals, ledger posting and credit
// record, each in its own transaction) against a raw SQL aggregate over the
// same rows (GROUP BY account, resource, price). The ratio is raw time /
// run time: the share of the run's time the unavoidable aggregate takes.
// It also times metering.Lines alone for every account (the run's reading
// part), since that is where the run spends its time.
func invoiceBench(ctx context.Context, name string, a *app.App, shape usageShape) {
	clk := clock.NewFake(benchMonth.AddDate(0, 1, 0).Add(metering.CloseGrace))
	st := sqlstore.New(a.DB)
	prices := pricing.NewService(sqlstore.Pricing{Store: st}, clk)
	check(prices.EnsureDefault(ctx))
	hourly := metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, prices, clk)
	led := ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	bill := billing.NewService(sqlstore.Billing{Store: st}, led, clk, billing.Config{Usage: hourly, CloseGrace: metering.CloseGrace})

	start := time.Now()
	accts := createAccounts(ctx, a, bill, shape.accounts)
	fmt.Printf("  %s: %d billing accounts created in %.1f s\n", name, len(accts), time.Since(start).Seconds())

	start = time.Now()
	policy, err := prices.PolicyAt(ctx, benchMonth)
	check(err)
	loadUsage(ctx, a.DB, policy, accts, shape)
	load := time.Since(start)
	fmt.Printf("  %s: %d usage records loaded in %.1f s (%.0f rows/s, indexes rebuilt included)\n",
		name, shape.rows(), load.Seconds(), float64(shape.rows())/load.Seconds())

	start = time.Now()
	groups := rawAggregate(ctx, a.DB)
	raw := time.Since(start)
	if groups != shape.accounts*shape.resources {
		check(fmt.Errorf("raw aggregate: %d groups, want %d", groups, shape.accounts*shape.resources))
	}

	// The run's reading part alone: metering.Lines for every account.
	start = time.Now()
	lines := 0
	for _, id := range accts {
		ls, err := hourly.Lines(ctx, id, benchMonth, benchMonth.AddDate(0, 1, 0))
		check(err)
		lines += len(ls)
	}
	linesTime := time.Since(start)
	if lines != shape.accounts*shape.resources {
		check(fmt.Errorf("metering.Lines: %d lines, want %d", lines, shape.accounts*shape.resources))
	}

	start = time.Now()
	n, err := bill.IssueInvoices(ctx, clk.Now(), nil)
	check(err)
	run := time.Since(start)
	if n != shape.accounts {
		check(fmt.Errorf("invoice run issued %d invoices, want %d", n, shape.accounts))
	}
	label := fmt.Sprintf("invoice run %d×%d×%d (%s)", shape.accounts, shape.resources, shape.hours, name)
	fmt.Printf("%-34s %8.1f s       raw SQL GROUP BY aggregate  %8.1f s       ratio %.3f\n", label, run.Seconds(), raw.Seconds(), raw.Seconds()/run.Seconds())
	fmt.Printf("  %s: %.0f invoices/s, %.0f usage rows/s through the run; raw aggregate %.0f rows/s; metering.Lines alone %.1f s (ratio %.3f)\n",
		name, float64(n)/run.Seconds(), float64(shape.rows())/run.Seconds(), float64(shape.rows())/raw.Seconds(),
		linesTime.Seconds(), raw.Seconds()/linesTime.Seconds())
}

// createAccounts creates n billing accounts through billing.CreateAccount,
// spread over one org per worker (CreateAccount locks its org's row).
func createAccounts(ctx context.Context, a *app.App, bill *billing.Service, n int) []int64 {
	sys := actor.System("bench")
	boot, err := a.Bootstrap(ctx, "")
	check(err)
	orgs := make([]string, workers)
	for i := range orgs {
		o, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: boot.Root.ID, Name: fmt.Sprintf("Invoice bench %d", i), TimeZone: "UTC"})
		check(err)
		orgs[i] = o.ID
	}
	ids := make([]int64, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				acct, err := bill.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: orgs[w], UserID: int64(i + 1),
					VATPercentage: 20, DiscountPercentage: 10})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				ids[i] = acct.ID
			}
		}()
	}
	wg.Wait()
	check(firstErr)
	return ids
}

// benchResource is one resource of the load: its configuration, rated once.
type benchResource struct {
	config, price, desc, types string
}

func benchResources(p pricing.Policy, n int) []benchResource {
	out := make([]benchResource, n)
	for i := range out {
		disk := int64(20 + 10*(i%5))
		cfg := pricing.Config{VMName: fmt.Sprintf("vm-%d", i), CPUs: int64(1 + i%4), RAMMB: int64(1024 * (1 + i%8)), DiskGB: &disk, Status: "running"}
		if i%7 == 6 {
			cfg.Status = "stopped"
		}
		r, err := pricing.Rate(p, pricing.MeterVM, cfg)
		check(err)
		c, _ := json.Marshal(cfg)
		t, _ := json.Marshal(r.UptimeTypes)
		out[i] = benchResource{config: string(c), price: r.UnitPrice.String(), desc: r.Description, types: string(t)}
	}
	return out
}

// loadUsage bulk-loads the usage with INSERT … SELECT statements that
// generate the rows in the database: the same rows the resources would have
// recorded, in the order they would have (hour by hour, every account's
// resources in each hour, so one account's month is spread over the table
// as in production), hoursPerTx hours per transaction, two loaders in
// parallel on PostgreSQL (SQLite has one writer). The two secondary indexes
// are dropped for the load and rebuilt after it, as a bulk load would.
func loadUsage(ctx context.Context, d *db.DB, p pricing.Policy, accts []int64, shape usageShape) {
	const hoursPerTx = 24
	secondary := []string{
		`CREATE INDEX usage_hourly_account_period ON usage_hourly (billing_account_id, period_start)`,
		`CREATE INDEX usage_hourly_period_account ON usage_hourly (period_start, billing_account_id)`,
	}
	for _, ix := range []string{"usage_hourly_account_period", "usage_hourly_period_account"} {
		_, err := d.Writer().ExecContext(ctx, `DROP INDEX `+ix)
		check(err)
	}
	if len(accts) == 0 {
		return
	}
	lo, hi := accts[0], accts[0]
	for _, a := range accts {
		lo, hi = min(lo, a), max(hi, a)
	}
	res := benchResources(p, shape.resources)
	// $1/$2 hour range, $3 month start, $4 recorded_at, $5/$6 account
	// range, then 5 parameters per resource.
	var values []string
	args := []any{0, 0, benchMonth, benchMonth.AddDate(0, 1, 0), lo, hi + 1}
	for i, r := range res {
		n := len(args)
		values = append(values, fmt.Sprintf("(CAST($%d AS BIGINT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT))", n+1, n+2, n+3, n+4, n+5))
		args = append(args, int64(i), r.config, r.price, r.desc, r.types)
	}
	// h holds the hours of the chunk, each period start computed once.
	hours := `n(n) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT n + 1 FROM n WHERE n + 1 < $2),
		h(p) AS MATERIALIZED (SELECT strftime('%Y-%m-%dT%H:%M:%S', $3, '+' || n || ' hours') || '.000000Z' FROM n)`
	if d.Dialect().Name() == "postgres" {
		hours = `h(p) AS MATERIALIZED (SELECT CAST($3 AS TIMESTAMPTZ) + n * INTERVAL '1 hour'
			FROM generate_series(CAST($1 AS INT), CAST($2 AS INT) - 1) AS n)`
	}
	stmt := `WITH RECURSIVE ` + hours + `, r(i, config, price, descr, types) AS (VALUES ` + strings.Join(values, ", ") + `)
		INSERT INTO usage_hourly (resource_id, meter, period_start, billing_account_id, location_slug, owner_uuid,
			user_id, config, quantity_e6, unit_price, description, uptime_types, recorded_at)
		SELECT 'vm-' || a.id || '-' || r.i, 'vm', h.p, a.id, 'tll', 'uuid-' || a.id || '-' || r.i,
			a.id, r.config, 1000000, r.price, r.descr, r.types, $4
		FROM h CROSS JOIN billing_accounts a CROSS JOIN r
		WHERE a.id >= $5 AND a.id < $6
		ORDER BY h.p, a.id, r.i`
	loaders := 1
	if d.Dialect().Name() == "postgres" {
		loaders = 2
	}
	next := make(chan int)
	go func() {
		for at := 0; at < shape.hours; at += hoursPerTx {
			next <- at
		}
		close(next)
	}()
	var wg sync.WaitGroup
	errc := make(chan error, loaders)
	for range loaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := append([]any(nil), args...)
			for at := range next {
				a[0], a[1] = at, min(at+hoursPerTx, shape.hours)
				if err := d.Tx(ctx, func(q db.Querier) error {
					_, err := q.ExecContext(ctx, stmt, a...)
					return err
				}); err != nil {
					errc <- err
					for range next {
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	check(<-errc)
	var n int
	check(d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_hourly`).Scan(&n))
	if n != shape.rows() {
		check(fmt.Errorf("loaded %d usage rows, want %d", n, shape.rows()))
	}
	for _, ix := range secondary {
		_, err := d.Writer().ExecContext(ctx, ix)
		check(err)
	}
	_, err := d.Writer().ExecContext(ctx, `ANALYZE`)
	check(err)
}

// rawAggregate is the baseline: the month's usage summed per account,
// resource and price in one query, every row read by the client.
func rawAggregate(ctx context.Context, d *db.DB) int {
	rows, err := d.Read().QueryContext(ctx, `SELECT billing_account_id, resource_id, unit_price, SUM(quantity_e6)
		FROM usage_hourly WHERE period_start >= $1 AND period_start < $2
		GROUP BY billing_account_id, resource_id, unit_price`, benchMonth, benchMonth.AddDate(0, 1, 0))
	check(err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var acct, qty int64
		var res, price string
		check(rows.Scan(&acct, &res, &price, &qty))
		n++
	}
	check(rows.Err())
	return n
}
