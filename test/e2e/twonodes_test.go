package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Two trellis serve processes on one PostgreSQL serve the same data, and the
// contract's capacity holds when a race is split across both nodes.
func TestTwoNodesOnePostgres(t *testing.T) {
	url := dbtest.NewPostgresDatabase(t) // skips without TRELLIS_TEST_POSTGRES_URL
	const adminKey = "two-nodes-admin-key-0123456789"
	args := []string{"--db", url, "--admin-key", adminKey, "--data-dir", t.TempDir(), "--rate-limit", "0"}
	// Both start at once: migrations run under a session lock, once.
	var a, b *node
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = start(t, nil, args...) }()
	go func() { defer wg.Done(); b = start(t, nil, args...) }()
	wg.Wait()
	if t.Failed() {
		return
	}

	// Set up on node A: a distributor with a 100 TB contract, 53 TB of it
	// allocated, and a distributor key.
	const tb = int64(1_000_000_000_000)
	var orgs struct {
		Items []struct{ ID string } `json:"items"`
	}
	call(t, "GET", a.URL+"/api/v1/orgs?kind=provider", adminKey, "", &orgs)
	if len(orgs.Items) != 1 {
		t.Fatalf("provider orgs: %+v", orgs)
	}
	var dist, contract struct{ ID string }
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/orgs", adminKey,
		fmt.Sprintf(`{"parentId": %q, "name": "Two-node distributor"}`, orgs.Items[0].ID), &dist))
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/contracts", adminKey,
		fmt.Sprintf(`{"orgId": %q, "reservedCapacity": %d, "costStorageGBCents": 100, "costEgressGBCents": 0, "currency": "EUR", "details": "Race"}`, dist.ID, 100*tb), &contract))
	var key struct{ Secret string }
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/keys", adminKey,
		fmt.Sprintf(`{"orgId": %q, "name": "dist", "role": "admin"}`, dist.ID), &key))
	// Node B sees what node A wrote.
	mustStatus(t, 201, call(t, "POST", b.URL+"/impossiblecloud/v1/partner", key.Secret,
		fmt.Sprintf(`{"allocatedCapacity": %d, "distributorContractId": %q, "name": "Holder"}`, 53*tb, contract.ID), nil))

	// 64 parallel creations of 10 TB, alternating between the nodes.
	const racers = 64
	statuses := make([]int, racers)
	start := make(chan struct{})
	var rg sync.WaitGroup
	for i := range racers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			base := a.URL
			if i%2 == 1 {
				base = b.URL
			}
			<-start
			statuses[i] = call(t, "POST", base+"/impossiblecloud/v1/partner", key.Secret,
				fmt.Sprintf(`{"allocatedCapacity": %d, "distributorContractId": %q, "name": "Racer %d"}`, 10*tb, contract.ID, i), nil)
		}()
	}
	close(start)
	rg.Wait()
	created, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
			refused++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if created != 4 || refused != 60 {
		t.Fatalf("%d created, %d refused; want 4 and 60", created, refused)
	}
	for _, n := range []*node{a, b} {
		var contracts []struct {
			ID                string `json:"id"`
			AllocatedCapacity int64  `json:"allocatedCapacity"`
		}
		call(t, "GET", n.URL+"/impossiblecloud/v1/contract/list", key.Secret, "", &contracts)
		if len(contracts) != 1 || contracts[0].AllocatedCapacity != 93*tb {
			t.Fatalf("%s: contract after the race: %+v, want 93 TB allocated", n.URL, contracts)
		}
		var partners []struct {
			AllocatedCapacity int64 `json:"allocatedCapacity"`
		}
		call(t, "GET", n.URL+"/impossiblecloud/v1/contract/"+contract.ID+"/partners", key.Secret, "", &partners)
		var sum int64
		for _, p := range partners {
			sum += p.AllocatedCapacity
		}
		if len(partners) != 5 || sum != 93*tb {
			t.Fatalf("%s: %d partners holding %d bytes, want 5 and %d", n.URL, len(partners), sum, 93*tb)
		}
	}
	if !strings.Contains(a.Stdout(), "postgres") || !strings.Contains(b.Stdout(), "postgres") {
		t.Errorf("nodes did not report PostgreSQL:\n%s\n%s", a.Stdout(), b.Stdout())
	}
}

func mustStatus(t *testing.T, want, got int) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
}
