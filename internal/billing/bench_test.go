package billing_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// invoiceRunFixture is a fixture with n accounts of ten February usage
// lines each, none invoiced yet.
func invoiceRunFixture(tb testing.TB, d *db.DB, n int) *fixture {
	tb.Helper()
	f := newFixture(tb, d)
	for i := range n {
		a := f.account(20, 0, 0)
		for r := range 10 {
			f.usage.add(a.ID, feb, line(fmt.Sprintf("vm-%d-%d", i, r), "0.02882", "720"))
		}
	}
	return f
}

// The invoice run issues one invoice per account with usage, and the
// ledger balances afterwards (the correctness half of BenchmarkInvoiceRun,
// on a few accounts).
func TestInvoiceRunIssuesEveryAccount(t *testing.T) {
	t.Parallel()
	const n = 12
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := invoiceRunFixture(t, d, n)
		issued, err := f.svc.IssueInvoices(t.Context(), closeFeb, nil)
		must(t, err)
		if issued != n {
			t.Fatalf("issued %d of %d", issued, n)
		}
		f.trialBalanceZero()
	})
}

// BenchmarkInvoiceRun times the invoice run for many accounts with ten
// lines each (TRELLIS_BILLING_BENCH_ACCOUNTS per run, default 200); the
// figure to watch is invoices/s:
//
//	go test -run '^$' -bench InvoiceRun ./internal/billing
func BenchmarkInvoiceRun(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("TRELLIS_BILLING_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				f := invoiceRunFixture(b, dbtest.Open(b, kind), n)
				b.StartTimer()
				issued, err := f.svc.IssueInvoices(b.Context(), closeFeb, nil)
				b.StopTimer()
				must(b, err)
				if issued != n {
					b.Fatalf("issued %d of %d", issued, n)
				}
				f.trialBalanceZero()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "invoices/s")
		})
	}
}
