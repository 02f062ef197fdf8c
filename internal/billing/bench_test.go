package billing_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestInvoiceRunThroughput times the invoice run for many accounts with ten
// lines each (TRELLIS_BILLING_BENCH_ACCOUNTS, default 200, to keep the suite
// fast): the figure to watch is invoices per second.
func TestInvoiceRunThroughput(t *testing.T) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("TRELLIS_BILLING_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for i := range n {
			a := f.account(20, 0, 0)
			for r := range 10 {
				f.usage.add(a.ID, feb, line(fmt.Sprintf("vm-%d-%d", i, r), "0.02882", "720"))
			}
		}
		start := time.Now()
		issued, err := f.svc.IssueInvoices(ctx, closeFeb, nil)
		must(t, err)
		el := time.Since(start)
		if issued != n {
			t.Fatalf("issued %d of %d", issued, n)
		}
		t.Logf("%d invoices in %v: %.0f invoices/s", n, el, float64(n)/el.Seconds())
		f.trialBalanceZero()
	})
}
