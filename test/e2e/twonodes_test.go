package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Two trellis serve processes on one PostgreSQL serve the same data, and the
// contract's capacity holds when a race is split across both nodes.
func TestTwoNodesOnePostgres(t *testing.T) {
	t.Parallel()
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
	floatingIPRace(t, a, b, adminKey, partnersOf(t, a, key.Secret, contract.ID))

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

// partnersOf returns the id of one partner of the contract.
func partnersOf(t *testing.T, n *node, key, contract string) string {
	t.Helper()
	var partners []struct {
		ID string `json:"id"`
	}
	call(t, "GET", n.URL+"/impossiblecloud/v1/contract/"+contract+"/partners", key, "", &partners)
	if len(partners) == 0 {
		t.Fatal("no partner")
	}
	return partners[0].ID
}

// floatingIPRace: a location whose public pool holds exactly 250 addresses
// (a /24 less four excluded), and 300 parallel floating-IP creations over
// the idcloudhost API split between the two nodes: exactly 250 distinct
// addresses, and 50 clear "pool exhausted" answers.
func floatingIPRace(t *testing.T, a, b *node, adminKey, partner string) {
	mustStatus(t, 200, call(t, "PUT", a.URL+"/api/v1/locations/race01", adminKey,
		`{"displayName": "Race", "countryCode": "est"}`, nil))
	mustStatus(t, 200, call(t, "POST", a.URL+"/api/v1/locations/race01/ip-pools", adminKey,
		`{"cidr": "203.0.113.0/24", "exclude": ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]}`, nil))
	var cust struct{ ID string }
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/orgs", adminKey,
		fmt.Sprintf(`{"parentId": %q, "name": "IP racer"}`, partner), &cust))
	var user struct {
		ID int64 `json:"id"`
	}
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/users", adminKey,
		fmt.Sprintf(`{"orgId": %q, "email": "racer@example.com"}`, cust.ID), &user))
	var acct struct {
		ID int64 `json:"id"`
	}
	mustStatus(t, 201, call(t, "POST", b.URL+"/api/v1/billing-accounts", adminKey,
		fmt.Sprintf(`{"orgId": %q, "userId": %d, "title": "race", "email": "racer@example.com"}`, cust.ID, user.ID), &acct))
	var tok struct{ Secret string }
	mustStatus(t, 201, call(t, "POST", b.URL+fmt.Sprintf("/api/v1/users/%d/tokens", user.ID), adminKey, `{}`, &tok))

	const racers = 300
	type answer struct {
		status int
		body   string
	}
	answers := make([]answer, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := a.URL
			if i%2 == 1 {
				base = b.URL
			}
			req, _ := http.NewRequest("POST", base+"/idcloudhost/v1/race01/network/ip_addresses",
				strings.NewReader(fmt.Sprintf(`{"name": "ip-%d", "billing_account_id": %d}`, i, acct.ID)))
			req.Header.Set("apikey", tok.Secret)
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var sb strings.Builder
			_, _ = io.Copy(&sb, resp.Body)
			answers[i] = answer{resp.StatusCode, sb.String()}
		}()
	}
	close(start)
	wg.Wait()
	seen := map[string]bool{}
	exhausted := 0
	for _, ans := range answers {
		switch ans.status {
		case http.StatusOK:
			var ip struct {
				Address string `json:"address"`
			}
			if err := json.Unmarshal([]byte(ans.body), &ip); err != nil || ip.Address == "" || seen[ip.Address] {
				t.Fatalf("address %q twice or unreadable: %s", ip.Address, ans.body)
			}
			seen[ip.Address] = true
		case http.StatusBadRequest:
			if !strings.Contains(ans.body, "pool exhausted") {
				t.Errorf("refusal without a clear reason: %s", ans.body)
			}
			exhausted++
		default:
			t.Errorf("unexpected answer %d %s", ans.status, ans.body)
		}
	}
	if len(seen) != 250 || exhausted != 50 {
		t.Fatalf("%d addresses, %d exhausted; want 250 and 50", len(seen), exhausted)
	}
	for _, ex := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"} {
		if seen[ex] {
			t.Errorf("excluded address %s handed out", ex)
		}
	}
}
