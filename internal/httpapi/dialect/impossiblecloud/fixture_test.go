package impossiblecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The fixture mirrors the vendor walkthrough: distributor A owns the two
// seed contracts and the seed partners with their documented ids; B is a
// second, unrelated distributor.
const (
	prefix = impossiblecloud.Prefix

	TB = int64(1_000_000_000_000) // the vendor counts capacity in decimal bytes

	distAID    = "7e1fe78d-3f61-4215-8c48-eda9e1b08f13"
	contractA1 = "606f031c-0f85-4444-8c7d-4a8f1ede7cd3" // 100 TB reserved, 53 TB allocated
	contractA2 = "bb0a102d-ad4b-4738-b405-561add97abbb" // 10 TB reserved, nothing allocated
	partnerP   = "e37e6c0f-688e-4da4-8717-a52b48bcee3d" // "Test partner", 5 TB
	partnerQ   = "e4985686-c089-46fd-ae82-0af7ce2888bf" // "Another test partner", pay-per-use

	// strongPassword satisfies the Management Console password rule.
	strongPassword = "Str0ng!Passw0rd"
)

// t0 is where the fake clock starts.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

type fixtureKeys struct {
	provider                         string
	distAdmin, distStaff, distViewer string
	distBAdmin                       string
	partnerAdmin, partnerStaff       string // partner P
	partnerViewer                    string // partner P
	otherPartnerAdmin                string // partner Q, also under distributor A
	revoked                          string // was distributor A's admin key
}

// fixture is a seeded database behind the dialect's handler.
type fixture struct {
	ctx context.Context
	st  *sqlstore.Store
	clk *clock.Fake
	ten *tenancy.Service
	obj *objstore.Service
	s3  *testPlane // the S3 slot objstore asks for its URL
	acc *access.Service
	met *metering.Service
	h   http.Handler
	v   *apitest.Validator

	root, distB   string
	contractB     string // distributor B's contract (10 TB)
	partnerBig    string // third partner under contractA1 (48 TB)
	partnerB      string // distributor B's partner (1 TB)
	accountP      string // partner P's strict 1 TB account (seedAccounts)
	accountB      string // partner B's account (seedAccounts)
	key           fixtureKeys
	emailSequence atomic.Int64
}

var sys = actor.System("")

// newFixture seeds d and builds the handler as the server mounts it: behind
// a 1 MiB body limit.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	st := sqlstore.New(d)
	clk := clock.NewFake(t0)
	s3 := &testPlane{}
	f := &fixture{
		s3:  s3,
		ctx: t.Context(),
		st:  st,
		clk: clk,
		ten: tenancy.NewService(sqlstore.Tenancy{Store: st}, clk),
		obj: wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, newBox(t), s3)),
		acc: access.NewService(sqlstore.Access{Store: st}, clk),
		met: metering.NewService(sqlstore.Metering{Store: st}, clk),
		v:   apitest.NewValidator(t, impossiblecloud.Spec()),
	}
	f.h = http.MaxBytesHandler(impossiblecloud.Handler(impossiblecloud.Deps{
		Tenancy: f.ten, Objstore: f.obj, Access: f.acc, Metering: f.met, Idem: st, Clock: clk,
	}), 1<<20)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	root, err := f.ten.EnsureRoot(f.ctx, tenancy.CreateRootInput{Name: "Trellis provider"})
	must(err)
	f.root = root.ID
	_, err = f.ten.CreateOrg(f.ctx, sys, tenancy.CreateOrgInput{ID: distAID, ParentID: root.ID, Name: "Distributor A"})
	must(err)
	distB, err := f.ten.CreateOrg(f.ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "Distributor B"})
	must(err)
	f.distB = distB.ID

	for _, c := range []tenancy.CreateContractInput{
		{ID: contractA1, OrgID: distAID, ReservedCapacity: 100 * TB, CostStorageGBCents: 100, Currency: "EUR", Details: "Impossible Cloud Test Contract"},
		{ID: contractA2, OrgID: distAID, ReservedCapacity: 10 * TB, CostStorageGBCents: 100, Currency: "EUR", Details: "Another test contract"},
	} {
		_, err := f.ten.CreateContract(f.ctx, sys, c)
		must(err)
	}
	cb, err := f.ten.CreateContract(f.ctx, sys, tenancy.CreateContractInput{OrgID: f.distB, ReservedCapacity: 10 * TB,
		CostStorageGBCents: 90, Currency: "EUR", Details: "Distributor B contract"})
	must(err)
	f.contractB = cb.ID

	f.createPartner(t, contractA1, partnerP, "Test partner", 5*TB)
	f.createPartner(t, contractA1, partnerQ, "Another test partner", 0)
	f.partnerBig = f.createPartner(t, contractA1, "", "Big partner", 48*TB)
	f.partnerB = f.createPartner(t, f.contractB, "", "Distributor B partner", 1*TB)

	k := &f.key
	for _, s := range []struct {
		dst  *string
		org  string
		role actor.Role
	}{
		{&k.provider, root.ID, actor.Admin},
		{&k.distAdmin, distAID, actor.Admin},
		{&k.distStaff, distAID, actor.Staff},
		{&k.distViewer, distAID, actor.Viewer},
		{&k.distBAdmin, f.distB, actor.Admin},
		{&k.partnerAdmin, partnerP, actor.Admin},
		{&k.partnerStaff, partnerP, actor.Staff},
		{&k.partnerViewer, partnerP, actor.Viewer},
		{&k.otherPartnerAdmin, partnerQ, actor.Admin},
		{&k.revoked, distAID, actor.Admin},
	} {
		*s.dst = f.createKey(t, s.org, s.role)
	}
	revoked, err := f.acc.Authenticate(f.ctx, k.revoked, "")
	must(err)
	_, err = f.acc.RevokeKey(f.ctx, sys, revoked.ID)
	must(err)
	return f
}

func (f *fixture) createPartner(t *testing.T, contractID, id, name string, capacity int64) string {
	t.Helper()
	p, err := f.ten.CreatePartner(f.ctx, sys, tenancy.CreatePartnerInput{ID: id, ContractID: contractID, Name: name, AllocatedCapacity: capacity})
	if err != nil {
		t.Fatalf("seed partner %q: %v", name, err)
	}
	return p.ID
}

func (f *fixture) createContract(t *testing.T, orgID string, reserved int64) string {
	t.Helper()
	c, err := f.ten.CreateContract(f.ctx, sys, tenancy.CreateContractInput{OrgID: orgID, ReservedCapacity: reserved,
		Currency: "EUR", Details: fmt.Sprintf("Contract of %d TB", reserved/TB)})
	if err != nil {
		t.Fatalf("seed contract: %v", err)
	}
	return c.ID
}

func (f *fixture) createKey(t *testing.T, orgID string, role actor.Role) string {
	t.Helper()
	k, err := f.acc.CreateKey(f.ctx, sys, access.CreateKeyInput{OrgID: orgID, Name: "test " + string(role), Role: role})
	if err != nil {
		t.Fatalf("seed key: %v", err)
	}
	return k.Secret
}

// createAccount creates a storage account through the service.
func (f *fixture) createAccount(t *testing.T, partnerID string, capacity int64, overdraft bool) string {
	t.Helper()
	sa, err := f.obj.CreateStorageAccount(f.ctx, sys, partnerID, objstore.CreateStorageAccountInput{
		Name: "Seed account", AllocatedCapacity: capacity, AllowOverdraft: overdraft,
		ContactEmail: f.email("seed"), Password: strongPassword})
	if err != nil {
		t.Fatalf("seed storage account: %v", err)
	}
	return sa.ID
}

func (f *fixture) createMember(t *testing.T, partnerID string, role actor.Role) string {
	t.Helper()
	u, err := f.acc.CreateMember(f.ctx, sys, partnerID, access.CreateMemberInput{
		Email: f.email("member"), Name: "Seed member", Password: strongPassword, Role: string(role)})
	if err != nil {
		t.Fatalf("seed member: %v", err)
	}
	return u.ID
}

// seedAccounts gives partner P a strict 1 TB account and partner B one.
func (f *fixture) seedAccounts(t *testing.T) {
	t.Helper()
	f.accountP = f.createAccount(t, partnerP, 1*TB, false)
	f.accountB = f.createAccount(t, f.partnerB, 0, false)
}

// email returns a unique address (contact e-mails and member e-mails are
// unique across the installation).
func (f *fixture) email(tag string) string {
	return fmt.Sprintf("%s-%d@example.com", tag, f.emailSequence.Add(1))
}

// ---- HTTP ----

// req is one request to the dialect; path is below the mount prefix.
type req struct {
	key     string // sent as "Authorization: Bearer <key>" unless empty
	method  string
	path    string
	body    any // nil: no body; string or []byte: sent verbatim; anything else: JSON-encoded
	header  http.Header
	invalid bool // the request violates the spec (apitest ExpectInvalidRequest)
}

// send serves r through the validator. It only uses Errorf, so it may run
// on any goroutine.
func (f *fixture) send(t testing.TB, r req) apitest.Response {
	t.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Errorf("encode request body: %v", err)
			return apitest.Response{}
		}
	}
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if r.key != "" {
		h.Set("Authorization", "Bearer "+r.key)
	}
	return f.v.Do(t, f.h, apitest.Request{Method: r.method, Path: prefix + r.path, Body: body, Header: h,
		ExpectInvalidRequest: r.invalid})
}

// do sends a request the spec allows.
func (f *fixture) do(t testing.TB, key, method, path string, body any) apitest.Response {
	t.Helper()
	return f.send(t, req{key: key, method: method, path: path, body: body})
}

// wantStatus reports whether resp has the status, failing the test if not.
func wantStatus(t testing.TB, resp apitest.Response, want int) bool {
	t.Helper()
	if resp.Status != want {
		t.Errorf("status %d, want %d; body: %s", resp.Status, want, resp.Body)
		return false
	}
	return true
}

// wantError checks an error response: its status, and that its message
// contains every fragment (a field name, usually).
func wantError(t testing.TB, resp apitest.Response, status int, fragments ...string) {
	t.Helper()
	wantStatus(t, resp, status)
	msg := message(t, resp)
	if msg == "" {
		t.Errorf("error response without a message: %s", resp.Body)
	}
	for _, frag := range fragments {
		if !strings.Contains(msg, frag) {
			t.Errorf("message %q does not contain %q", msg, frag)
		}
	}
}

func message(t testing.TB, resp apitest.Response) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		t.Errorf("decode error body %q: %v", resp.Body, err)
	}
	return e.Message
}

// decode decodes a JSON response body, rejecting unknown fields so a
// renamed field is noticed.
func decode[T any](t testing.TB, resp apitest.Response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("decode %T from %s: %v", v, resp.Body, err)
	}
	return v
}

// decodeAny decodes JSON keeping numbers as json.Number, so integers and
// strings stay distinguishable when compared.
func decodeAny(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("decode %s: %v", data, err)
	}
	return v
}

// Wire shapes (field names as the vendor sends them).

type contractJSON struct {
	ID                 string `json:"id"`
	DistributorID      string `json:"distributorId"`
	ReservedCapacity   int64  `json:"reservedCapacity"`
	AllocatedCapacity  int64  `json:"allocatedCapacity"`
	CostStorageGBCents string `json:"costStorageGBCents"`
	CostEgressGBCents  string `json:"costEgressGBCents"`
	Currency           string `json:"currency"`
	Details            string `json:"details"`
}

type partnerJSON struct {
	ID                    string  `json:"id"`
	DistributorContractID string  `json:"distributorContractId"`
	Name                  string  `json:"name"`
	AllocatedCapacity     int64   `json:"allocatedCapacity"`
	AllowOverdraft        bool    `json:"allowOverdraft"`
	Details               *string `json:"details,omitempty"`
}

type memberJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

type accountJSON struct {
	ClientAccountID   string     `json:"clientAccountId"`
	Name              string     `json:"name"`
	ContactEmail      string     `json:"contactEmail"`
	AllocatedCapacity int64      `json:"allocatedCapacity"`
	AllowOverdraft    bool       `json:"allowOverdraft"`
	PendingDeletedAt  *time.Time `json:"pendingDeletedAt"`
}

type usageJSON struct {
	ClientID          string    `json:"client_id"`
	Name              string    `json:"name"`
	AllocatedCapacity int64     `json:"allocated_capacity"`
	DailyUsage        []dayJSON `json:"daily_usage"`
}

type dayJSON struct {
	Date              string `json:"date"`
	Usage             int64  `json:"usage"`
	AllocatedCapacity int64  `json:"allocated_capacity"`
}

type regionsJSON struct {
	Regions []struct {
		Name   string `json:"name"`
		S3URL  string `json:"s3_url"`
		IAMURL string `json:"iam_url"`
		STSURL string `json:"sts_url"`
	} `json:"regions"`
}

// ---- state read through the services ----

// snapshot is everything a rejected request must leave unchanged.
type snapshot struct {
	Contracts []tenancy.Contract
	Partners  map[string][]tenancy.Org
	Accounts  map[string][]objstore.StorageAccount
	Members   map[string][]access.User
	Audit     int
}

func (f *fixture) snapshot(t testing.TB) snapshot {
	t.Helper()
	s := snapshot{Partners: map[string][]tenancy.Org{}, Accounts: map[string][]objstore.StorageAccount{},
		Members: map[string][]access.User{}}
	var err error
	if s.Contracts, err = f.ten.ListContracts(f.ctx, sys, "", 1000); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for _, c := range s.Contracts {
		ps, err := f.ten.ListPartners(f.ctx, sys, c.ID)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		s.Partners[c.ID] = ps
		for _, p := range ps {
			if s.Accounts[p.ID], err = f.obj.ListStorageAccounts(f.ctx, sys, p.ID); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			if s.Members[p.ID], err = f.acc.ListMembers(f.ctx, sys, p.ID); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
		}
	}
	entries, err := f.st.ListAudit(f.ctx, "/", "", 10000)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	s.Audit = len(entries)
	return s
}

func diffSnapshots(before, after snapshot) string { return cmp.Diff(before, after) }

// allocation returns a contract's allocated capacity and the sum of its
// partners' allocations, as stored.
func (f *fixture) allocation(t testing.TB, contractID string) (allocated, sum int64) {
	t.Helper()
	c, err := f.ten.GetContract(f.ctx, sys, contractID)
	if err != nil {
		t.Fatalf("get contract: %v", err)
	}
	ps, err := f.ten.ListPartners(f.ctx, sys, contractID)
	if err != nil {
		t.Fatalf("list partners: %v", err)
	}
	for _, p := range ps {
		sum += p.AllocatedCapacity
	}
	return c.AllocatedCapacity, sum
}
