package impossiblecloud_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestScenarios exercises every operation of the spec with realistic flows,
// reading every change back, and finally checks that each operation was
// answered with a 2xx at least once.
func TestScenarios(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := &scenario{fixture: newFixture(t, d)}
		// The steps share state (accounts made in one are metered in the
		// next), so they run in order; the deletion job moves the clock and
		// comes last.
		for _, step := range []struct {
			name string
			run  func(*testing.T)
		}{
			{"partners", s.partners},
			{"members", s.members},
			{"storage accounts via distributor routes", s.distributorAccounts},
			{"storage accounts via partner routes", s.partnerAccounts},
			{"usage", s.usage},
			{"regions", s.regions},
			{"deletion job", s.deletionJob},
		} {
			t.Run(step.name, step.run)
		}
		if u := s.v.Uncovered(); len(u) > 0 {
			t.Errorf("operations never answered with a 2xx status: %v", u)
		}
	})
}

type scenario struct {
	*fixture
	distAccount, partnerAccount, overdraftAccount accountJSON
}

func accountBody(name, email string, capacity int64, overdraft bool) map[string]any {
	return map[string]any{
		"allocatedCapacity": capacity,
		"allowOverdraft":    overdraft,
		"name":              name,
		"clientAccount":     map[string]any{"contactEmail": email, "password": strongPassword},
	}
}

func findContract(t *testing.T, resp []contractJSON, id string) contractJSON {
	t.Helper()
	for _, c := range resp {
		if c.ID == id {
			return c
		}
	}
	t.Errorf("contract %s not listed in %+v", id, resp)
	return contractJSON{}
}

func (s *scenario) partners(t *testing.T) {
	key := s.key.distStaff
	resp := s.do(t, key, "POST", "/partner", map[string]any{
		"allocatedCapacity": 2 * TB, "distributorContractId": contractA2, "name": "Scenario partner", "allowOverdraft": true})
	if !wantStatus(t, resp, 201) {
		t.FailNow()
	}
	p := decode[partnerJSON](t, resp)
	want := partnerJSON{ID: p.ID, DistributorContractID: contractA2, Name: "Scenario partner", AllocatedCapacity: 2 * TB, AllowOverdraft: true}
	if diff := cmp.Diff(want, p); diff != "" || !ids.Valid(p.ID) {
		t.Errorf("created partner (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, decode[partnerJSON](t, s.do(t, s.key.distViewer, "GET", "/partner/"+p.ID, nil))); diff != "" {
		t.Errorf("GET partner (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]partnerJSON{want}, decode[[]partnerJSON](t, s.do(t, key, "GET", "/contract/"+contractA2+"/partners", nil))); diff != "" {
		t.Errorf("partners of the contract (-want +got):\n%s", diff)
	}
	if c := findContract(t, decode[[]contractJSON](t, s.do(t, key, "GET", "/contract/list", nil)), contractA2); c.AllocatedCapacity != 2*TB {
		t.Errorf("contract allocatedCapacity = %d, want %d", c.AllocatedCapacity, 2*TB)
	}

	// Resize: merges, takes the difference from the contract.
	resp = s.do(t, key, "PUT", "/partner/"+p.ID, map[string]any{"allocatedCapacity": 4 * TB})
	want.AllocatedCapacity = 4 * TB
	if wantStatus(t, resp, 200) {
		if diff := cmp.Diff(want, decode[partnerJSON](t, resp)); diff != "" {
			t.Errorf("PUT (-want +got):\n%s", diff)
		}
	}
	if c := findContract(t, decode[[]contractJSON](t, s.do(t, key, "GET", "/contract/list", nil)), contractA2); c.AllocatedCapacity != 4*TB {
		t.Errorf("contract allocatedCapacity after resize = %d, want %d", c.AllocatedCapacity, 4*TB)
	}
	wantError(t, s.do(t, key, "PUT", "/partner/"+p.ID, map[string]any{"allocatedCapacity": 11 * TB}), 400, "allocatedCapacity", "capacity")

	// Delete: 204 without a body, then gone; the capacity goes back.
	resp = s.do(t, key, "DELETE", "/partner/"+p.ID, nil)
	if wantStatus(t, resp, 204) && len(resp.Body) != 0 {
		t.Errorf("204 with a body: %s", resp.Body)
	}
	wantError(t, s.do(t, key, "GET", "/partner/"+p.ID, nil), 404, "partner")
	wantError(t, s.do(t, key, "PUT", "/partner/"+p.ID, map[string]any{"name": "Ghost"}), 404, "partner")
	wantError(t, s.do(t, key, "DELETE", "/partner/"+p.ID, nil), 404, "partner")
	if got := decode[[]partnerJSON](t, s.do(t, key, "GET", "/contract/"+contractA2+"/partners", nil)); len(got) != 0 {
		t.Errorf("partners after delete: %+v", got)
	}
	if alloc, sum := s.allocation(t, contractA2); alloc != 0 || sum != 0 {
		t.Errorf("contract allocated %d (partners %d) after delete, want 0", alloc, sum)
	}

	// A partner with storage accounts cannot be deleted.
	resp = s.do(t, key, "POST", "/partner", map[string]any{"allocatedCapacity": 1 * TB, "distributorContractId": contractA2, "name": "Busy partner"})
	if !wantStatus(t, resp, 201) {
		return
	}
	busy := decode[partnerJSON](t, resp)
	wantStatus(t, s.do(t, key, "POST", "/partner/"+busy.ID+"/storage-accounts", accountBody("Busy account", s.email("busy"), 0, false)), 201)
	wantError(t, s.do(t, key, "DELETE", "/partner/"+busy.ID, nil), 409, "storage account")
	wantStatus(t, s.do(t, key, "GET", "/partner/"+busy.ID, nil), 200)
}

func (s *scenario) members(t *testing.T) {
	key := s.key.distAdmin
	path := "/partner/" + partnerP + "/member"
	var created []memberJSON
	create := func(t *testing.T, role, password string) {
		email := s.email(role)
		resp := s.do(t, key, "POST", path, map[string]any{"email": email, "name": "Member " + role, "password": password, "role": role})
		if !wantStatus(t, resp, 201) {
			return
		}
		m := decode[memberJSON](t, resp)
		if diff := cmp.Diff(memberJSON{ID: m.ID, Email: email, Name: "Member " + role, Role: role}, m); diff != "" || !ids.Valid(m.ID) {
			t.Errorf("created member (-want +got):\n%s", diff)
		}
		created = append(created, m)
	}
	for _, role := range []string{"admin", "staff", "viewer"} {
		t.Run("role "+role, func(t *testing.T) { create(t, role, strongPassword) })
	}

	// The password rule: 8–128 characters with a lower-case and an
	// upper-case letter, a digit and a special character.
	for _, c := range []struct {
		name, password string
		ok             bool
	}{
		{"8 characters", "Aa1!aaaa", true},
		{"128 characters", "Aa1!" + strings.Repeat("b", 124), true},
		{"backquote is special", "Aa1`aaaa", true},
		{"7 characters", "Aa1!aaa", false},
		{"129 characters", "Aa1!" + strings.Repeat("b", 125), false},
		{"no upper-case", "aa1!aaaa", false},
		{"no lower-case", "AA1!AAAA", false},
		{"no digit", "Aaa!aaaa", false},
		{"no special", "Aa1aaaaa", false},
		{"space is not special", "Aa1 aaaa", false},
	} {
		t.Run("password "+c.name, func(t *testing.T) {
			if c.ok {
				create(t, "viewer", c.password)
				return
			}
			before := s.snapshot(t)
			wantError(t, s.do(t, key, "POST", path, map[string]any{"email": s.email("weak"), "password": c.password, "role": "staff"}), 400, "password")
			if diff := diffSnapshots(before, s.snapshot(t)); diff != "" {
				t.Errorf("rejected member changed the database:\n%s", diff)
			}
		})
	}

	// List: every created member, as created.
	listed := decode[[]memberJSON](t, s.do(t, s.key.distViewer, "GET", "/partner/"+partnerP+"/members", nil))
	for _, m := range created {
		if !slices.Contains(listed, m) {
			t.Errorf("member %+v not listed in %+v", m, listed)
		}
	}
	if len(listed) != len(created) {
		t.Errorf("listed %d members, created %d", len(listed), len(created))
	}

	// Delete: 204, gone from the list, a second delete is 404.
	if len(created) == 0 {
		return
	}
	gone := created[0]
	resp := s.do(t, key, "DELETE", "/partner/"+partnerP+"/member/"+gone.ID, nil)
	if wantStatus(t, resp, 204) && len(resp.Body) != 0 {
		t.Errorf("204 with a body: %s", resp.Body)
	}
	if listed := decode[[]memberJSON](t, s.do(t, key, "GET", "/partner/"+partnerP+"/members", nil)); slices.Contains(listed, gone) || len(listed) != len(created)-1 {
		t.Errorf("members after delete: %+v", listed)
	}
	wantError(t, s.do(t, key, "DELETE", "/partner/"+partnerP+"/member/"+gone.ID, nil), 404, "not found")
}

// accountLifecycle schedules, reschedules and cancels the deletion of the
// account at path (either route family) and leaves it live.
func (s *scenario) accountLifecycle(t *testing.T, key, path string) {
	t.Helper()
	get := func() accountJSON { return decode[accountJSON](t, s.do(t, key, "GET", path, nil)) }
	pending := func(what string, want *time.Time) {
		t.Helper()
		got := get().PendingDeletedAt
		if (got == nil) != (want == nil) || (got != nil && got.Sub(*want).Abs() > time.Second) {
			t.Errorf("%s: pendingDeletedAt = %v, want %v", what, got, want)
		}
	}

	// DELETE schedules the deletion 30 days out.
	resp := s.do(t, key, "DELETE", path, nil)
	if wantStatus(t, resp, 204) && len(resp.Body) != 0 {
		t.Errorf("204 with a body: %s", resp.Body)
	}
	scheduled := s.clk.Now().Add(30 * 24 * time.Hour)
	pending("after DELETE", &scheduled)
	// A second DELETE keeps the first date.
	s.clk.Advance(time.Hour)
	wantStatus(t, s.do(t, key, "DELETE", path, nil), 204)
	pending("after a second DELETE", &scheduled)

	// PATCH null cancels.
	resp = s.do(t, key, "PATCH", path, map[string]any{"pendingDeletedAt": nil})
	if wantStatus(t, resp, 200) && decode[accountJSON](t, resp).PendingDeletedAt != nil {
		t.Errorf("PATCH null answered %s", resp.Body)
	}
	pending("after PATCH null", nil)

	// PATCH a future time sets it.
	future := s.clk.Now().Add(72 * time.Hour).Truncate(time.Second)
	resp = s.do(t, key, "PATCH", path, map[string]any{"pendingDeletedAt": future.Format(time.RFC3339)})
	if wantStatus(t, resp, 200) {
		if got := decode[accountJSON](t, resp).PendingDeletedAt; got == nil || !got.Equal(future) {
			t.Errorf("PATCH future answered pendingDeletedAt %v, want %v", got, future)
		}
	}
	pending("after PATCH future", &future)

	// PATCH a past time is refused and changes nothing.
	past := s.clk.Now().Add(-time.Hour)
	wantError(t, s.do(t, key, "PATCH", path, map[string]any{"pendingDeletedAt": past.Format(time.RFC3339)}), 400, "pendingDeletedAt")
	pending("after PATCH past", &future)

	wantStatus(t, s.do(t, key, "PATCH", path, map[string]any{"pendingDeletedAt": nil}), 200)
	pending("after the final cancel", nil)
}

func (s *scenario) distributorAccounts(t *testing.T) {
	key := s.key.distStaff
	base := "/partner/" + partnerP + "/storage-accounts"
	email := s.email("dist-account")
	resp := s.do(t, key, "POST", base, accountBody("Distributor-made account", email, 2*TB, false))
	if !wantStatus(t, resp, 201) {
		t.FailNow()
	}
	a := decode[accountJSON](t, resp)
	want := accountJSON{ClientAccountID: a.ClientAccountID, Name: "Distributor-made account", ContactEmail: email, AllocatedCapacity: 2 * TB}
	if diff := cmp.Diff(want, a); diff != "" || !ids.Valid(a.ClientAccountID) {
		t.Errorf("created account (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, decode[accountJSON](t, s.do(t, s.key.distViewer, "GET", base+"/"+a.ClientAccountID, nil))); diff != "" {
		t.Errorf("GET account (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]accountJSON{want}, decode[[]accountJSON](t, s.do(t, s.key.distViewer, "GET", base, nil))); diff != "" {
		t.Errorf("account list (-want +got):\n%s", diff)
	}
	s.distAccount = want
	s.accountLifecycle(t, key, base+"/"+a.ClientAccountID)
}

func (s *scenario) partnerAccounts(t *testing.T) {
	key := s.key.partnerStaff
	email := s.email("partner-account")
	resp := s.do(t, key, "POST", "/storage-account", accountBody("Partner-made account", email, 2*TB, false))
	if !wantStatus(t, resp, 201) {
		t.FailNow()
	}
	a := decode[accountJSON](t, resp)
	want := accountJSON{ClientAccountID: a.ClientAccountID, Name: "Partner-made account", ContactEmail: email, AllocatedCapacity: 2 * TB}
	if diff := cmp.Diff(want, a); diff != "" || !ids.Valid(a.ClientAccountID) {
		t.Errorf("created account (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, decode[accountJSON](t, s.do(t, s.key.partnerViewer, "GET", "/storage-account/"+a.ClientAccountID, nil))); diff != "" {
		t.Errorf("GET account (-want +got):\n%s", diff)
	}
	s.partnerAccount = want

	// Partner P has 5 TB: 4 TB are now in strict accounts, so another
	// strict 2 TB does not fit, while an overdraft account is not capped.
	wantError(t, s.do(t, key, "POST", "/storage-account", accountBody("Too big", s.email("too-big"), 2*TB, false)), 400, "allocatedCapacity", "capacity")
	resp = s.do(t, key, "POST", "/storage-account", accountBody("Overdraft account", s.email("overdraft"), 20*TB, true))
	if wantStatus(t, resp, 201) {
		s.overdraftAccount = decode[accountJSON](t, resp)
		if !s.overdraftAccount.AllowOverdraft || s.overdraftAccount.AllocatedCapacity != 20*TB {
			t.Errorf("overdraft account: %+v", s.overdraftAccount)
		}
	}

	// Both route families see the same accounts.
	all := []accountJSON{s.distAccount, s.partnerAccount, s.overdraftAccount}
	if diff := cmp.Diff(all, decode[[]accountJSON](t, s.do(t, s.key.partnerViewer, "GET", "/storage-account/list", nil))); diff != "" {
		t.Errorf("partner's account list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all, decode[[]accountJSON](t, s.do(t, s.key.distViewer, "GET", "/partner/"+partnerP+"/storage-accounts", nil))); diff != "" {
		t.Errorf("distributor's account list (-want +got):\n%s", diff)
	}
	s.accountLifecycle(t, key, "/storage-account/"+a.ClientAccountID)
}

func (s *scenario) usage(t *testing.T) {
	dist, part := s.distAccount.ClientAccountID, s.partnerAccount.ClientAccountID
	for _, u := range []metering.RecordDailyInput{
		{StorageAccountID: dist, Day: "2026-01-01", UsageBytes: 100},
		{StorageAccountID: dist, Day: "2026-01-02", UsageBytes: 200},
		{StorageAccountID: dist, Day: "2026-01-03", UsageBytes: 300},
		{StorageAccountID: dist, Day: "2026-01-04", UsageBytes: 400},
		{StorageAccountID: dist, Day: "2026-01-05", UsageBytes: 500},
		{StorageAccountID: part, Day: "2026-01-03", UsageBytes: 7},
	} {
		if _, err := s.met.RecordDaily(s.ctx, sys, u); err != nil {
			t.Fatalf("record usage: %v", err)
		}
	}
	day := func(d string, usage int64) dayJSON { return dayJSON{Date: d, Usage: usage, AllocatedCapacity: 2 * TB} }
	usageOf := func(a accountJSON, days ...dayJSON) usageJSON {
		if days == nil {
			days = []dayJSON{}
		}
		return usageJSON{ClientID: a.ClientAccountID, Name: a.Name, AllocatedCapacity: a.AllocatedCapacity, DailyUsage: days}
	}
	dk, pk := s.key.distViewer, s.key.partnerViewer
	for _, c := range []struct {
		name, key, path string
		want            any
	}{
		{"partner usage, bounds inclusive", dk, "/partner/" + partnerP + "/usage?from=2026-01-02&to=2026-01-04", []usageJSON{
			usageOf(s.distAccount, day("2026-01-02", 200), day("2026-01-03", 300), day("2026-01-04", 400)),
			usageOf(s.partnerAccount, day("2026-01-03", 7)),
			usageOf(s.overdraftAccount),
		}},
		{"account usage via distributor, one day", dk, "/partner/" + partnerP + "/storage-accounts/" + dist + "/usage?from=2026-01-01&to=2026-01-01",
			usageOf(s.distAccount, day("2026-01-01", 100))},
		{"account usage via partner", pk, "/storage-account/" + part + "/usage?from=2026-01-01&to=2026-01-31",
			usageOf(s.partnerAccount, day("2026-01-03", 7))},
		{"all accounts' usage via partner", pk, "/storage-accounts/usage?from=2026-01-04&to=2026-01-05", []usageJSON{
			usageOf(s.distAccount, day("2026-01-04", 400), day("2026-01-05", 500)),
			usageOf(s.partnerAccount),
			usageOf(s.overdraftAccount),
		}},
		{"nothing in the period", pk, "/storage-account/" + part + "/usage?from=2025-12-01&to=2025-12-31", usageOf(s.partnerAccount)},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := s.do(t, c.key, "GET", c.path, nil)
			if !wantStatus(t, resp, 200) {
				return
			}
			var got any
			if _, many := c.want.([]usageJSON); many {
				got = decode[[]usageJSON](t, resp)
			} else {
				got = decode[usageJSON](t, resp)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}

	// The period is checked the same way on all four usage routes.
	routes := []struct{ label, key, path string }{
		{"getPartnerUsage", dk, "/partner/" + partnerP + "/usage"},
		{"getPartnerStorageAccountUsage", dk, "/partner/" + partnerP + "/storage-accounts/" + dist + "/usage"},
		{"getStorageAccountUsage", pk, "/storage-account/" + part + "/usage"},
		{"listStorageAccountsUsage", pk, "/storage-accounts/usage"},
	}
	for _, c := range []struct {
		name, query string
		invalid     bool // the spec itself requires both parameters
		field       string
	}{
		{"missing from", "?to=2026-01-05", true, "from"},
		{"missing to", "?from=2026-01-01", true, "to"},
		{"missing both", "", true, "from"},
		{"bad from", "?from=2026-13-01&to=2026-01-05", false, "from"},
		{"bad to", "?from=2026-01-01&to=05.01.2026", false, "to"},
		{"to before from", "?from=2026-01-05&to=2026-01-04", false, "to"},
		{"period over a year", "?from=2025-01-01&to=2026-01-05", false, "to"},
	} {
		for _, r := range routes {
			t.Run(c.name+" "+r.label, func(t *testing.T) {
				wantError(t, s.send(t, req{key: r.key, method: "GET", path: r.path + c.query, invalid: c.invalid}), 400, c.field)
			})
		}
	}
}

func (s *scenario) regions(t *testing.T) {
	in := objstore.PutRegionInput{Name: "eu-central-2", S3URL: "https://eu-central-2.storage.example.net",
		IAMURL: "https://iam.example.net", STSURL: "https://sts.example.net"}
	if _, err := s.obj.PutRegion(s.ctx, sys, in); err != nil {
		t.Fatalf("put region: %v", err)
	}
	// The public route needs no key.
	resp := s.do(t, "", "GET", "/integration/regions/list", nil)
	if !wantStatus(t, resp, 200) {
		return
	}
	got := decode[regionsJSON](t, resp)
	if len(got.Regions) != 1 || got.Regions[0].Name != in.Name || got.Regions[0].S3URL != in.S3URL ||
		got.Regions[0].IAMURL != in.IAMURL || got.Regions[0].STSURL != in.STSURL {
		t.Errorf("regions = %+v, want just %+v", got.Regions, in)
	}
}

// deletionJob: a scheduled deletion is carried out by PurgeDue once the
// grace period has passed, and the account's capacity goes back to the
// partner.
func (s *scenario) deletionJob(t *testing.T) {
	key := s.key.distStaff
	resp := s.do(t, key, "POST", "/partner", map[string]any{"allocatedCapacity": 2 * TB, "distributorContractId": contractA2, "name": "Deletion partner"})
	if !wantStatus(t, resp, 201) {
		t.FailNow()
	}
	p := decode[partnerJSON](t, resp)
	base := "/partner/" + p.ID + "/storage-accounts"
	resp = s.do(t, key, "POST", base, accountBody("Doomed account", s.email("doomed"), 2*TB, false))
	if !wantStatus(t, resp, 201) {
		t.FailNow()
	}
	doomed := decode[accountJSON](t, resp).ClientAccountID
	if _, err := s.met.RecordDaily(s.ctx, sys, metering.RecordDailyInput{StorageAccountID: doomed, Day: "2026-02-01", UsageBytes: 1}); err != nil {
		t.Fatal(err)
	}
	// The partner is full.
	wantError(t, s.do(t, key, "POST", base, accountBody("No room", s.email("no-room"), 1*TB, false)), 400, "allocatedCapacity")

	wantStatus(t, s.do(t, key, "DELETE", base+"/"+doomed, nil), 204)
	s.clk.Advance(objstore.DeletionGrace - time.Second)
	if n, err := s.obj.PurgeDue(s.ctx, noObjects{}); err != nil || n != 0 {
		t.Errorf("PurgeDue a second early = %d, %v; want 0", n, err)
	}
	wantStatus(t, s.do(t, key, "GET", base+"/"+doomed, nil), 200)

	s.clk.Advance(2 * time.Second) // 30 days and 1 s after the DELETE
	if n, err := s.obj.PurgeDue(s.ctx, noObjects{}); err != nil || n != 1 {
		t.Errorf("PurgeDue = %d, %v; want 1", n, err)
	}
	wantError(t, s.do(t, key, "GET", base+"/"+doomed, nil), 404, "not found")
	wantError(t, s.do(t, key, "GET", base+"/"+doomed+"/usage?from=2026-02-01&to=2026-02-01", nil), 404, "not found")
	if got := decode[[]accountJSON](t, s.do(t, key, "GET", base, nil)); len(got) != 0 {
		t.Errorf("accounts after purge: %+v", got)
	}
	if n, err := s.obj.PurgeDue(s.ctx, noObjects{}); err != nil || n != 0 {
		t.Errorf("second PurgeDue = %d, %v; want 0", n, err)
	}

	// The capacity is free again: the partner holds 2 TB strict again.
	wantStatus(t, s.do(t, key, "POST", base, accountBody("Reborn account", s.email("reborn"), 2*TB, false)), 201)
	if got, err := s.ten.GetPartner(s.ctx, sys, p.ID); err != nil || got.AccountsAllocated != 2*TB {
		t.Errorf("partner accounts allocated = %d, %v; want %d", got.AccountsAllocated, err, 2*TB)
	}
}
