package network_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
	"github.com/trellis-cloud/trellis/internal/store/pgdriver"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// pool250 replaces location A's pool with exactly 250 addresses: a /24
// (254 usable) with four exclusions.
func pool250(t *testing.T, f *fixture) {
	t.Helper()
	ctx := t.Context()
	ranges, err := f.net.ListPoolRanges(ctx, sys, f.locA)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		if err := f.net.RemovePoolRange(ctx, sys, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: f.locA, CIDR: "100.64.10.0/24",
		Exclude: []string{"100.64.10.1", "100.64.10.2", "100.64.10.3", "100.64.10.254"}})
	if err != nil || r.Size != 250 {
		t.Fatalf("pool: %+v %v", r, err)
	}
}

// race creates n floating IPs at once, spread round-robin over svcs (one
// per node), and returns the addresses and the errors.
func race(t *testing.T, f *fixture, svcs []*network.Service, n int) ([]string, []error) {
	t.Helper()
	ctx := t.Context()
	var mu sync.Mutex
	var addrs []string
	var errList []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			ip, err := svcs[i%len(svcs)].CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA,
				BillingAccountID: f.acct, Name: fmt.Sprintf("ip-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errList = append(errList, err)
				return
			}
			addrs = append(addrs, ip.Address)
		}(i)
	}
	close(start)
	wg.Wait()
	return addrs, errList
}

func distinct(t *testing.T, addrs []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("address %s handed out twice", a)
		}
		seen[a] = true
	}
}

// checkExhausted wants every error to be the clear "pool exhausted" one.
func checkExhausted(t *testing.T, errList []error, want int) {
	t.Helper()
	if len(errList) != want {
		t.Fatalf("%d errors, want %d: %v", len(errList), want, errList)
	}
	for _, err := range errList {
		if errs.KindOf(err) != errs.KindCapacityExceeded || !strings.Contains(err.Error(), "pool exhausted") {
			t.Fatalf("error %v (kind %v), want pool exhausted", err, errs.KindOf(err))
		}
	}
}

// consistent checks the database agrees: as many floating IPs as claimed
// pool addresses, each floating IP on its own claimed address.
func consistent(t *testing.T, f *fixture, want int) {
	t.Helper()
	ctx := t.Context()
	list, err := f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ranges, _ := f.net.ListPoolRanges(ctx, sys, f.locA)
	used := 0
	for _, r := range ranges {
		used += r.Used
	}
	if len(list) != want || used != want {
		t.Fatalf("%d floating IPs, %d pool addresses used, want %d", len(list), used, want)
	}
	addrs := make([]string, len(list))
	for i, ip := range list {
		addrs[i] = ip.Address
	}
	distinct(t, addrs)
}

// TestConcurrentReservations200: 200 parallel creations against a pool of
// 250 give 200 distinct addresses.
func TestConcurrentReservations200(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		pool250(t, f)
		addrs, errList := race(t, f, []*network.Service{f.net}, 200)
		if len(errList) != 0 || len(addrs) != 200 {
			t.Fatalf("%d addresses, errors %v", len(addrs), errList)
		}
		distinct(t, addrs)
		consistent(t, f, 200)
	})
}

// TestConcurrentReservations300: 300 against 250 give exactly 250
// successes and 50 "pool exhausted" errors; releasing and reallocating
// concurrently keeps every address unique.
func TestConcurrentReservations300(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		pool250(t, f)
		addrs, errList := race(t, f, []*network.Service{f.net}, 300)
		if len(addrs) != 250 {
			t.Fatalf("%d successes, want 250", len(addrs))
		}
		distinct(t, addrs)
		checkExhausted(t, errList, 50)
		consistent(t, f, 250)

		// Release 100 at once and reallocate 120 at once: 100 succeed,
		// still all distinct, the released ones come back.
		var wg sync.WaitGroup
		for _, a := range addrs[:100] {
			wg.Add(1)
			go func(a string) {
				defer wg.Done()
				if err := f.net.DeleteFloatingIP(ctx, f.cust, f.locA, a); err != nil {
					t.Error(err)
				}
			}(a)
		}
		wg.Wait()
		consistent(t, f, 150)
		again, errList := race(t, f, []*network.Service{f.net}, 120)
		if len(again) != 100 {
			t.Fatalf("%d reallocated, want 100", len(again))
		}
		checkExhausted(t, errList, 20)
		consistent(t, f, 250)
		released := map[string]bool{}
		for _, a := range addrs[:100] {
			released[a] = true
		}
		for _, a := range again {
			if !released[a] {
				t.Fatalf("reallocated %s, which was never released", a)
			}
		}
	})
}

// TestTwoNodes: two separate connection pools on one PostgreSQL database
// (two "nodes"), the requests split between them.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if !slicesContains(dbtest.Kinds(), "postgres") {
		t.Skip("needs " + dbtest.EnvPostgres)
	}
	for _, c := range []struct {
		n, ok int
	}{{200, 200}, {300, 250}} {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			t.Parallel()
			u := dbtest.NewPostgresDatabase(t)
			d1, d2 := openNode(t, u), openNode(t, u)
			if err := migrations.Up(ctx, d1); err != nil {
				t.Fatal(err)
			}
			if err := jobs.Migrate(ctx, d1); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, d1)
			pool250(t, f)
			node2 := f.service(sqlstore.New(d2).WithJobs(f.jobs))
			addrs, errList := race(t, f, []*network.Service{f.net, node2}, c.n)
			if len(addrs) != c.ok {
				t.Fatalf("%d successes, want %d (errors %v)", len(addrs), c.ok, errList)
			}
			distinct(t, addrs)
			checkExhausted(t, errList, c.n-c.ok)
			consistent(t, f, c.ok)
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// openNode opens a pool on the PostgreSQL database at u.
func openNode(t *testing.T, u string) *db.DB {
	t.Helper()
	ctx := t.Context()
	d, pool, err := pgdriver.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(); pool.Close() })
	return d
}
