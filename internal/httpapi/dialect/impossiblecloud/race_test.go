package impossiblecloud_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// race sends the n requests made by mk from n goroutines released together,
// and returns the responses in order.
func race(t *testing.T, f *fixture, n int, mk func(i int) req) []apitest.Response {
	t.Helper()
	out := make([]apitest.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		r := mk(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f.send(t, r)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts the successes and checks every failure is a 400 about
// capacity.
func tally(t *testing.T, rs []apitest.Response, ok int) int {
	t.Helper()
	n := 0
	for _, r := range rs {
		switch {
		case r.Status == ok:
			n++
		case r.Status == 400 && strings.Contains(message(t, r), "capacity") && strings.Contains(message(t, r), "allocatedCapacity"):
		default:
			t.Errorf("status %d, want %d or 400 with a capacity message: %s", r.Status, ok, r.Body)
		}
	}
	return n
}

// checkContract checks, over HTTP, the contract's allocation against the
// sum of its partners'.
func checkContract(t *testing.T, f *fixture, key, contractID string, want int64) {
	t.Helper()
	c := findContract(t, decode[[]contractJSON](t, f.do(t, key, "GET", "/contract/list", nil)), contractID)
	var sum int64
	for _, p := range decode[[]partnerJSON](t, f.do(t, key, "GET", "/contract/"+contractID+"/partners", nil)) {
		sum += p.AllocatedCapacity
	}
	if c.AllocatedCapacity != want || sum != want || c.AllocatedCapacity > c.ReservedCapacity {
		t.Errorf("contract allocated %d, partners sum %d, reserved %d; want allocated = sum = %d",
			c.AllocatedCapacity, sum, c.ReservedCapacity, want)
	}
}

// TestCapacityRaces checks the capacity invariants under concurrent
// requests: a contract never allocates more than it reserves, a partner's
// strict storage accounts never exceed its allocation, and the contract's
// allocation always equals the sum of its partners'.
func TestCapacityRaces(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)

		t.Run("parallel partner creation", func(t *testing.T) {
			// 100 TB reserved, 53 TB allocated: room for 4 partners of 10 TB.
			rs := race(t, f, 64, func(i int) req {
				return req{key: f.key.distStaff, method: "POST", path: "/partner", body: map[string]any{
					"allocatedCapacity": 10 * TB, "distributorContractId": contractA1, "name": fmt.Sprintf("Racer %02d", i)}}
			})
			if n := tally(t, rs, 201); n != 4 {
				t.Errorf("%d partners created, want 4", n)
			}
			checkContract(t, f, f.key.distViewer, contractA1, 93*TB)
		})

		t.Run("parallel partner growth", func(t *testing.T) {
			// 16 partners of 1 TB under 20 TB: room for two to grow by 2 TB.
			contract := f.createContract(t, distAID, 20*TB)
			partners := make([]string, 16)
			for i := range partners {
				partners[i] = f.createPartner(t, contract, "", fmt.Sprintf("Grower %02d", i), 1*TB)
			}
			rs := race(t, f, len(partners), func(i int) req {
				return req{key: f.key.distStaff, method: "PUT", path: "/partner/" + partners[i], body: map[string]any{"allocatedCapacity": 3 * TB}}
			})
			if n := tally(t, rs, 200); n != 2 {
				t.Errorf("%d partners grew, want 2", n)
			}
			checkContract(t, f, f.key.distViewer, contract, 20*TB)
		})

		t.Run("racing updates of one partner", func(t *testing.T) {
			// Every target fits whatever the order, so all succeed; a lost
			// update would leave the contract out of step with the partner.
			contract := f.createContract(t, distAID, 10*TB)
			partner := f.createPartner(t, contract, "", "Contended partner", 1*TB)
			targets := []int64{3 * TB, 5 * TB, 2 * TB, 4 * TB}
			for round := range 8 {
				rs := race(t, f, len(targets), func(i int) req {
					return req{key: f.key.distStaff, method: "PUT", path: "/partner/" + partner,
						body: map[string]any{"allocatedCapacity": targets[i], "name": fmt.Sprintf("Round %d racer %d", round, i)}}
				})
				if n := tally(t, rs, 200); n != len(targets) {
					t.Errorf("round %d: %d updates succeeded, want %d", round, n, len(targets))
				}
				p := decode[partnerJSON](t, f.do(t, f.key.distViewer, "GET", "/partner/"+partner, nil))
				if !slices.Contains(targets, p.AllocatedCapacity) {
					t.Errorf("round %d: partner allocation %d is none of %v", round, p.AllocatedCapacity, targets)
				}
				checkContract(t, f, f.key.distViewer, contract, p.AllocatedCapacity)
				if t.Failed() {
					break
				}
			}
		})

		t.Run("parallel storage account creation", func(t *testing.T) {
			// A 10 TB partner takes exactly ten strict 1 TB accounts, made
			// through both route families at once.
			contract := f.createContract(t, distAID, 20*TB)
			partner := f.createPartner(t, contract, "", "Account racer", 10*TB)
			partnerKey := f.createKey(t, partner, actor.Staff)
			route := func(i int) (key, path string) {
				if i%2 == 0 {
					return f.key.distStaff, "/partner/" + partner + "/storage-accounts"
				}
				return partnerKey, "/storage-account"
			}
			rs := race(t, f, 32, func(i int) req {
				key, path := route(i)
				return req{key: key, method: "POST", path: path,
					body: accountBody(fmt.Sprintf("Strict %02d", i), f.email("strict"), 1*TB, false)}
			})
			if n := tally(t, rs, 201); n != 10 {
				t.Errorf("%d strict accounts created, want 10", n)
			}
			// Overdraft accounts are not capped by the partner's allocation.
			rs = race(t, f, 4, func(i int) req {
				key, path := route(i)
				return req{key: key, method: "POST", path: path,
					body: accountBody(fmt.Sprintf("Overdraft %02d", i), f.email("overdraft"), 5*TB, true)}
			})
			if n := tally(t, rs, 201); n != 4 {
				t.Errorf("%d overdraft accounts created, want 4", n)
			}
			var strict, overdraft int
			for _, a := range decode[[]accountJSON](t, f.do(t, partnerKey, "GET", "/storage-account/list", nil)) {
				if a.AllowOverdraft {
					overdraft++
				} else {
					strict++
				}
			}
			if strict != 10 || overdraft != 4 {
				t.Errorf("listed %d strict and %d overdraft accounts, want 10 and 4", strict, overdraft)
			}
			if p, err := f.ten.GetPartner(f.ctx, sys, partner); err != nil || p.AccountsAllocated != 10*TB {
				t.Errorf("partner's strict accounts hold %d bytes (%v), want %d", p.AccountsAllocated, err, 10*TB)
			}
		})
	})
}
