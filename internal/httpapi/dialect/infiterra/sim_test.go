package infiterra_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// TB is the product's unit: allocatedCapacity counts decimal bytes.
const TB = int64(1_000_000_000_000)

// refContract is the contract id of the reference's fields/validate example,
// so that example names a real contract here.
const refContract = "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"

var sys = actor.System("")

// world is a Trellis with one distributor, its 20 TB contract and a BSS
// installation registered with the reference's application id and key,
// served over HTTP.
type world struct {
	ctx      context.Context
	ten      *tenancy.Service
	obj      *objstore.Service
	aud      *audit.Service
	svc      *bss.Service
	url      string
	v        *apitest.Validator
	dist     string
	contract string
	distKey  string // a Trellis API key of the distributor: the ICApiKey setting
}

func newWorld(t *testing.T, d *db.DB, v *apitest.Validator) *world {
	t.Helper()
	return newWorldReserving(t, d, v, 20*TB)
}

func newWorldReserving(t *testing.T, d *db.DB, v *apitest.Validator, reserved int64) *world {
	t.Helper()
	ctx := t.Context()
	st := sqlstore.New(d)
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: ctx, v: v,
		ten: tenancy.NewService(sqlstore.Tenancy{Store: st}, clk),
		obj: wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, box, objstore.NoDataPlane{})),
		aud: audit.NewService(st),
	}
	acc := access.NewService(sqlstore.Access{Store: st}, clk)
	w.svc = wiring.Must(bss.NewService(sqlstore.BSS{Store: st}, w.ten, w.obj, clk, acc))

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	root, err := w.ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "Trellis provider"})
	must(err)
	dist, err := w.ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "Distributor"})
	must(err)
	w.dist = dist.ID
	c, err := w.ten.CreateContract(ctx, sys, tenancy.CreateContractInput{ID: refContract, OrgID: dist.ID, ReservedCapacity: reserved,
		CostStorageGBCents: 100, Currency: "EUR", Details: "BSS contract"})
	must(err)
	w.contract = c.ID
	k, err := acc.CreateKey(ctx, sys, access.CreateKeyInput{OrgID: dist.ID, Name: "BSS settings", Role: actor.Admin})
	must(err)
	w.distKey = k.Secret
	must(w.svc.EnsureInstallation(ctx, dist.ID, c.ID, refAppID, refAPIKey))

	h := middleware.Chain(infiterra.Handler(infiterra.Deps{BSS: w.svc, Logger: slog.New(slog.NewTextHandler(tlog{t}, nil))}),
		middleware.RequestID, middleware.BodyLimit(1<<20))
	mux := http.NewServeMux()
	mux.Handle(infiterra.Prefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// tlog sends the handler's log to the test's.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ---- the BSS simulator ----

// simBSS drives the endpoints as an Infiterra BSS does (reference §4 and
// §6): the full URLs it was given, the headers of every example (the API
// key Base64-encoded, a fresh track id per call), after activation the
// settings headers, and bodies built from the reference's examples with
// the ids Trellis answered substituted as the BSS stores them.
type simBSS struct {
	t        *testing.T
	w        *world
	appID    string
	apiKey   string            // the raw key; sent Base64-encoded
	settings map[string]string // X-CloudPlatform-Setting-<ID>, after fields/validate accepted them
	mu       sync.Mutex
	tracks   map[string]string // track id → endpoint, of the calls to enveloped endpoints
}

func newSim(t *testing.T, w *world) *simBSS {
	return &simBSS{t: t, w: w, appID: refAppID, apiKey: refAPIKey, tracks: map[string]string{}}
}

// send makes one call and checks the exchange against the spec.
func (s *simBSS) send(method, endpoint string, body []byte, mod ...func(*apitest.Request)) apitest.Response {
	s.t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set(infiterra.HeaderApplicationID, s.appID)
	h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(s.apiKey)))
	track := ids.New()
	h.Set(infiterra.HeaderTrackID, track)
	for id, v := range s.settings {
		h.Set(infiterra.HeaderSettingPrefix+id, v)
	}
	if body == nil {
		h["Content-Type"] = nil
	}
	req := apitest.Request{Method: method, Path: infiterra.Prefix + "/" + endpoint, Body: body, Header: h}
	for _, m := range mod {
		m(&req)
	}
	resp := s.w.v.DoURL(s.t, nil, s.w.url, req)
	if method == "POST" && resp.Status == 200 && !strings.HasPrefix(endpoint, "fields/") && endpoint != "accounts/syncoptions" {
		s.mu.Lock()
		s.tracks[track] = req.Path
		s.mu.Unlock()
	}
	return resp
}

// envelope is the answer of the account, subscription and add-on calls.
type envelope struct {
	Code              int               `json:"Code"`
	Message           string            `json:"Message"`
	Result            *string           `json:"Result"`
	ResultUser        *string           `json:"ResultUser"`
	CustomFieldValues map[string]string `json:"CustomFieldValues"`
}

func (e envelope) result() string {
	if e.Result == nil {
		return ""
	}
	return *e.Result
}

// post sends a body and decodes the 200 envelope.
func (s *simBSS) post(endpoint string, body []byte, mod ...func(*apitest.Request)) envelope {
	s.t.Helper()
	resp := s.send("POST", endpoint, body, mod...)
	if resp.Status != http.StatusOK {
		s.t.Fatalf("%s: status %d: %s", endpoint, resp.Status, resp.Body)
	}
	var e envelope
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		s.t.Fatalf("%s: %v: %s", endpoint, err, resp.Body)
	}
	return e
}

// twice delivers a call twice, as a BSS retrying after a lost answer does:
// both answers must be identical.
func (s *simBSS) twice(endpoint string, body []byte) envelope {
	s.t.Helper()
	first := s.send("POST", endpoint, body)
	second := s.send("POST", endpoint, body)
	if first.Status != 200 || !bytes.Equal(first.Body, second.Body) {
		s.t.Fatalf("%s delivered twice: %d %s, then %d %s", endpoint, first.Status, first.Body, second.Status, second.Body)
	}
	var e envelope
	if err := json.Unmarshal(first.Body, &e); err != nil {
		s.t.Fatal(err)
	}
	return e
}

// get reads a bare endpoint with GET or POST into v.
func (s *simBSS) get(method, endpoint string, v any) {
	s.t.Helper()
	var body []byte
	if method == "POST" {
		body = []byte("{}")
	}
	resp := s.send(method, endpoint, body)
	if resp.Status != 200 {
		s.t.Fatalf("%s %s: status %d: %s", method, endpoint, resp.Status, resp.Body)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		s.t.Fatalf("%s: %v", endpoint, err)
	}
}

// example returns a reference request example with fields replaced: keys
// are paths like "Account.ExternalID" or "Addons.0.ProductID"; a nil value
// removes the field (the BSS sends null).
func example(t *testing.T, name string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(sample(t, name), &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		setPath(t, m, strings.Split(path, "."), v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setPath(t *testing.T, node any, path []string, v any) {
	t.Helper()
	switch n := node.(type) {
	case map[string]any:
		if len(path) == 1 {
			n[path[0]] = v
			return
		}
		child, ok := n[path[0]]
		if !ok || child == nil {
			child = map[string]any{}
			n[path[0]] = child
		}
		setPath(t, child, path[1:], v)
	case []any:
		var i int
		if _, err := fmt.Sscan(path[0], &i); err != nil || i >= len(n) {
			t.Fatalf("bad index %q", path[0])
		}
		if len(path) == 1 {
			n[i] = v
			return
		}
		setPath(t, n[i], path[1:], v)
	default:
		t.Fatalf("cannot set %v in %T", path, node)
	}
}

// ---- what the walk checks on the Trellis side ----

func (w *world) contractAllocated(t *testing.T) int64 {
	t.Helper()
	c, err := w.ten.GetContract(w.ctx, sys, w.contract)
	if err != nil {
		t.Fatal(err)
	}
	return c.AllocatedCapacity
}

func (w *world) partnerNamed(t *testing.T, name string) tenancy.Org {
	t.Helper()
	ps, err := w.ten.ListPartners(w.ctx, sys, w.contract)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no partner %q under the contract", name)
	return tenancy.Org{}
}

func (w *world) account(t *testing.T, partnerID, id string) objstore.StorageAccount {
	t.Helper()
	sa, err := w.obj.GetStorageAccount(w.ctx, sys, partnerID, id)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// snapshot is the state a refused call must leave alone.
type snapshot struct {
	contractAllocated int64
	partners          string // id=allocation of every partner under the contract
	accounts          string // id=capacity/suspended/pending of their storage accounts
}

func (w *world) snapshot(t *testing.T) snapshot {
	t.Helper()
	ps, err := w.ten.ListPartners(w.ctx, sys, w.contract)
	if err != nil {
		t.Fatal(err)
	}
	var s snapshot
	s.contractAllocated = w.contractAllocated(t)
	for _, p := range ps {
		s.partners += fmt.Sprintf("%s=%d ", p.ID, p.AllocatedCapacity)
		sas, err := w.obj.ListStorageAccounts(w.ctx, sys, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sa := range sas {
			s.accounts += fmt.Sprintf("%s=%d/%t/%t ", sa.ID, sa.AllocatedCapacity, sa.SuspendedAt != nil, sa.PendingDeletedAt != nil)
		}
	}
	return s
}

// ---- the acceptance walk ----

// TestBSSWalkthrough walks a customer through the lifecycle as an Infiterra
// BSS drives it, every call delivered twice, on SQLite and PostgreSQL; the
// spec validates every exchange and every operation is exercised. That S3
// writes are refused while suspended and accepted after activation is the
// app-level test's (it runs the S3 gateway); here the storage account's
// suspension is checked.
func TestBSSWalkthrough(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		v := apitest.NewValidator(t, infiterra.Spec())
		w := newWorld(t, d, v)
		s := newSim(t, w)

		// Setup: the activation page and its validation.
		var fields infiterra.FieldCollection
		s.get("GET", "fields/get", &fields)
		s.get("POST", "fields/get", &fields)
		ids := map[string]bool{}
		for _, f := range fields.Fields {
			ids[f.ID] = true
		}
		if !ids["ICApiKey"] || !ids["ICContractId"] {
			t.Fatalf("fields/get: %+v", fields)
		}
		var problems []string
		resp := s.send("POST", "fields/validate", sample(t, "fields_validate")) // the reference's key is no Trellis key
		if err := json.Unmarshal(resp.Body, &problems); err != nil || resp.Status != 200 || len(problems) != 1 ||
			!strings.Contains(strings.ToLower(problems[0]), "key") {
			t.Fatalf("fields/validate with the reference's key: %d %s", resp.Status, resp.Body)
		}
		valid := example(t, "fields_validate", map[string]any{"Fields.0.Value": w.distKey})
		resp = s.send("POST", "fields/validate", valid)
		if resp.Status != 200 || string(bytes.TrimSpace(resp.Body)) != "[]" {
			t.Fatalf("fields/validate: %d %s", resp.Status, resp.Body)
		}
		s.settings = map[string]string{"ICApiKey": w.distKey, "ICContractId": w.contract}

		// The catalog the BSS imports: requests name its ids.
		var catalog infiterra.ProductTypeCollection
		s.get("POST", "fields/servicedefinition", &catalog)
		s.get("GET", "fields/servicedefinition", &catalog)
		if len(catalog.ProductTypes) != 1 || catalog.ProductTypes[0].ID != "ImpossibleCloudStorage" {
			t.Fatalf("catalog %+v", catalog)
		}
		pc := catalog.ProductTypes[0].ProductsCollection
		if len(pc.Products) != 1 || pc.Products[0].UnitType != "TB" || len(pc.Addons) != 1 {
			t.Fatalf("products %+v", pc)
		}
		product, addon := pc.Products[0].ID, pc.Addons[0].ID
		var syncOpts infiterra.CustomFieldCollection
		s.get("GET", "accounts/syncoptions", &syncOpts)
		s.get("POST", "accounts/syncoptions", &syncOpts)
		if len(syncOpts.Fields) != 1 || syncOpts.Fields[0].ID != "username" {
			t.Fatalf("syncoptions %+v", syncOpts)
		}

		// The reseller's first order: exists? then synchronize the reseller
		// and its end customer (the reference's example).
		reseller := example(t, "accounts_synchronize", map[string]any{"ID": "1021", "ResellerID": nil, "ResellerExternalID": nil,
			"Name": "Reseller GmbH", "Code": "ACC-001021", "Email": "billing@reseller.example", "SyncOptions.username": "admin@reseller.example"})
		if e := s.post("accounts/exists", example(t, "accounts_exists", map[string]any{"ID": "1021", "ResellerID": nil,
			"ResellerExternalID": nil, "Email": "billing@reseller.example"})); e.Code != 0 || e.Result != nil {
			t.Fatalf("exists before synchronize: %+v", e)
		}
		e := s.twice("accounts/synchronize", reseller)
		resellerExt := e.result()
		if e.Code != 0 || resellerExt == "" {
			t.Fatalf("synchronize reseller: %+v", e)
		}
		partner := w.partnerNamed(t, "Reseller GmbH")
		if partner.AllocatedCapacity != 0 {
			t.Fatalf("new partner allocation %d", partner.AllocatedCapacity)
		}
		customer := example(t, "accounts_synchronize", map[string]any{"ResellerExternalID": resellerExt})
		e = s.twice("accounts/synchronize", customer)
		customerExt := e.result()
		if e.Code != 0 || customerExt == "" || customerExt == resellerExt {
			t.Fatalf("synchronize customer: %+v", e)
		}
		// Synchronizing again, now with the ExternalID the BSS stored, is an
		// update answering the same id.
		if e := s.post("accounts/synchronize", example(t, "accounts_synchronize", map[string]any{"ExternalID": customerExt,
			"ResellerExternalID": resellerExt, "Phone": "+49 30 7654321"})); e.Code != 0 || e.result() != customerExt {
			t.Fatalf("re-synchronize: %+v", e)
		}
		if e := s.post("accounts/exists", sample(t, "accounts_exists")); e.Code != 1 || e.result() != customerExt {
			t.Fatalf("exists after synchronize: %+v", e)
		}

		// Pre-check, by body and by query: accepted, nothing written.
		acct := map[string]any{"Account.ExternalID": customerExt, "Account.ResellerExternalID": resellerExt}
		create := example(t, "subscriptions_create", acct)
		before := w.snapshot(t)
		check := example(t, "subscriptions_create", merge(acct, map[string]any{"CheckOnly": true}))
		if e := s.twice("subscriptions/create", check); e.Code != 0 || e.Result != nil {
			t.Fatalf("pre-check: %+v", e)
		}
		// (This one names the product by our catalog id instead of the plan
		// attribute: reference Q4's second way.)
		byProduct := example(t, "subscriptions_create", merge(acct, map[string]any{"ProductID": product, "AttributeList": map[string]any{}}))
		if e := s.post("subscriptions/create", byProduct, query("?checkonly=true")); e.Code != 0 || e.Result != nil {
			t.Fatalf("pre-check by query: %+v", e)
		}
		if after := w.snapshot(t); after != before {
			t.Fatalf("a pre-check changed the state: %+v -> %+v", before, after)
		}

		// Create: a storage account of 5 TB with S3 credentials under the
		// reseller's partner, the capacity taken from the contract.
		e = s.twice("subscriptions/create", create)
		sub := e.result()
		saID := e.CustomFieldValues["ICStorageAccountId"]
		if e.Code != 0 || !strings.HasPrefix(sub, "s-") || saID == "" {
			t.Fatalf("create: %+v", e)
		}
		sa := w.account(t, partner.ID, saID)
		if sa.AllocatedCapacity != 5*TB || sa.SuspendedAt != nil || sa.PendingDeletedAt != nil {
			t.Fatalf("storage account %+v", sa)
		}
		_, keys, err := w.obj.AccountKeys(w.ctx, sys, partner.ID, saID)
		if err != nil || len(keys) == 0 || keys[0].AccessKey == "" || keys[0].Secret == "" {
			t.Fatalf("S3 credentials: %v %+v", err, keys)
		}
		wantCapacity(t, w, partner.ID, saID, 5*TB)

		// Quantity update with its pre-check: absolute, 8 TB.
		upd := map[string]any{"ID": sub, "Account.ExternalID": customerExt, "Addons": []any{}}
		if e := s.post("subscriptions/update", example(t, "subscriptions_update", merge(upd, map[string]any{"CheckOnly": true}))); e.Code != 0 {
			t.Fatalf("update pre-check: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 5*TB)
		if e := s.twice("subscriptions/update", example(t, "subscriptions_update", upd)); e.Code != 0 || e.result() != sub {
			t.Fatalf("update: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 8*TB)

		// Add-on: 1 TB extra, then 2 TB, then cancelled.
		ad := map[string]any{"ID": sub, "Account.ExternalID": customerExt, "Addons.0.ParentID": sub, "Addons.0.ProductID": addon, "Quantity": 8}
		e = s.twice("addons/create", example(t, "addons_create", ad))
		addonExt := e.result()
		if e.Code != 0 || addonExt == "" || addonExt == sub {
			t.Fatalf("addons/create: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 9*TB)
		adUpd := map[string]any{"ID": sub, "Account.ExternalID": customerExt, "Addons.0.ID": addonExt, "Addons.0.ParentID": sub,
			"Addons.0.ProductID": addon, "Addons.0.ActionType": "Provision", "Addons.0.Quantity": 2}
		if e := s.twice("addons/update", example(t, "addons_cancel", adUpd)); e.Code != 0 || e.result() != addonExt {
			t.Fatalf("addons/update: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 10*TB)
		adCancel := map[string]any{"ID": sub, "Account.ExternalID": customerExt, "Addons.0.ID": addonExt, "Addons.0.ParentID": sub,
			"Addons.0.ProductID": addon}
		if e := s.twice("addons/cancel", example(t, "addons_cancel", adCancel)); e.Code != 0 || e.result() != addonExt {
			t.Fatalf("addons/cancel: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 8*TB)

		// Suspend and activate (the S3 side is the app-level test's).
		life := map[string]any{"ID": sub, "Account.ExternalID": customerExt}
		if e := s.twice("subscriptions/suspend", example(t, "subscriptions_suspend", life)); e.Code != 0 || e.result() != sub {
			t.Fatalf("suspend: %+v", e)
		}
		if sa := w.account(t, partner.ID, saID); sa.SuspendedAt == nil {
			t.Fatal("suspend: the storage account is not suspended")
		}
		activate := example(t, "subscriptions_suspend", merge(life, map[string]any{"ActionType": "Activate"}))
		if e := s.twice("subscriptions/activate", activate); e.Code != 0 || e.result() != sub {
			t.Fatalf("activate: %+v", e)
		}
		if sa := w.account(t, partner.ID, saID); sa.SuspendedAt != nil {
			t.Fatal("activate: the storage account is still suspended")
		}

		// The customer cannot be deleted while the subscription lives.
		del := example(t, "accounts_delete", map[string]any{"ExternalID": customerExt, "ResellerExternalID": resellerExt})
		if e := s.post("accounts/delete", del); e.Code != -1 || e.Message == "" {
			t.Fatalf("delete with a live subscription: %+v", e)
		}

		// Cancel: the capacity goes back to the contract, deletion scheduled;
		// terminal.
		cancel := example(t, "subscriptions_suspend", merge(life, map[string]any{"ActionType": "Cancel"}))
		if e := s.twice("subscriptions/cancel", cancel); e.Code != 0 || e.result() != sub {
			t.Fatalf("cancel: %+v", e)
		}
		sa = w.account(t, partner.ID, saID)
		if sa.AllocatedCapacity != 0 || sa.PendingDeletedAt == nil {
			t.Fatalf("cancelled storage account %+v", sa)
		}
		if got := w.contractAllocated(t); got != 0 {
			t.Fatalf("contract allocation after cancel %d", got)
		}
		if p, _ := w.ten.GetPartner(w.ctx, sys, partner.ID); p.AllocatedCapacity != 0 {
			t.Fatalf("partner allocation after cancel %d", p.AllocatedCapacity)
		}
		if e := s.post("subscriptions/activate", activate); e.Code != -1 || e.result() != sub || e.Message == "" {
			t.Fatalf("activate after cancel: %+v", e)
		}

		// Account delete: the customer, then the reseller; repeats are Code 0.
		if e := s.twice("accounts/delete", del); e.Code != 0 || e.result() != customerExt {
			t.Fatalf("delete customer: %+v", e)
		}
		delReseller := example(t, "accounts_delete", map[string]any{"ID": "1021", "ExternalID": resellerExt, "ResellerID": nil, "ResellerExternalID": nil})
		if e := s.twice("accounts/delete", delReseller); e.Code != 0 {
			t.Fatalf("delete reseller: %+v", e)
		}
		if e := s.post("accounts/exists", sample(t, "accounts_exists")); e.Code != 0 {
			t.Fatalf("exists after delete: %+v", e)
		}

		// Every call is in the audit log under the BSS's track id.
		entries, err := w.aud.List(w.ctx, sys, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, en := range entries {
			seen[en.RequestID] = true
		}
		for tr, path := range s.tracks {
			if !seen[tr] {
				t.Errorf("no audit row carries the track id of %s", path)
			}
		}
		if u := v.Uncovered(); len(u) > 0 {
			t.Errorf("operations never exercised successfully: %v", u)
		}
	})
}

func wantCapacity(t *testing.T, w *world, partnerID, saID string, want int64) {
	t.Helper()
	if sa := w.account(t, partnerID, saID); sa.AllocatedCapacity != want {
		t.Fatalf("storage account capacity %d TB, want %d TB", sa.AllocatedCapacity/TB, want/TB)
	}
	p, err := w.ten.GetPartner(w.ctx, sys, partnerID)
	if err != nil {
		t.Fatal(err)
	}
	if p.AllocatedCapacity != want {
		t.Fatalf("partner allocation %d TB, want %d TB", p.AllocatedCapacity/TB, want/TB)
	}
	if got := w.contractAllocated(t); got != want {
		t.Fatalf("contract allocation %d TB, want %d TB", got/TB, want/TB)
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func query(q string) func(*apitest.Request) {
	return func(r *apitest.Request) { r.Path += q }
}

// provisioned synchronizes a direct customer (a partner of its own) and
// creates a subscription of quantity TB for it; it returns the ids.
func provisioned(t *testing.T, w *world, s *simBSS, bssID string, quantity int) (partner tenancy.Org, accountExt, sub, saID string) {
	t.Helper()
	name := "Customer " + bssID
	e := s.post("accounts/synchronize", example(t, "accounts_synchronize", map[string]any{"ID": bssID, "ResellerID": nil,
		"ResellerExternalID": nil, "Name": name, "Email": "billing+" + bssID + "@example.com"}))
	if e.Code != 0 {
		t.Fatalf("synchronize: %+v", e)
	}
	accountExt = e.result()
	partner = w.partnerNamed(t, name)
	e = s.post("subscriptions/create", example(t, "subscriptions_create", map[string]any{"SubscriptionID": "sub-" + bssID,
		"Account.ID": bssID, "Account.ExternalID": accountExt, "Account.ResellerID": nil, "Account.ResellerExternalID": nil,
		"Quantity": quantity}))
	if e.Code != 0 {
		t.Fatalf("create: %+v", e)
	}
	return partner, accountExt, e.result(), e.CustomFieldValues["ICStorageAccountId"]
}

// TestOutOfOrderDeliveries: late duplicates and calls arriving in the wrong
// order leave the state the BSS meant, on SQLite and PostgreSQL.
func TestOutOfOrderDeliveries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, apitest.NewValidator(t, infiterra.Spec()))
		s := newSim(t, w)
		var catalog infiterra.ProductTypeCollection
		s.get("GET", "fields/servicedefinition", &catalog)
		addon := catalog.ProductTypes[0].ProductsCollection.Addons[0].ID

		// Calls for a subscription that does not exist yet (update, suspend
		// or an add-on overtaking the create) are refused and change nothing.
		syncBody := example(t, "accounts_synchronize", map[string]any{"ID": "2001", "ResellerID": nil, "ResellerExternalID": nil,
			"Name": "Customer 2001", "Email": "billing@c2001.example"})
		accExt := s.post("accounts/synchronize", syncBody).result()
		before := w.snapshot(t)
		for _, c := range []struct{ endpoint, sample string }{
			{"subscriptions/update", "subscriptions_update"},
			{"subscriptions/suspend", "subscriptions_suspend"},
			{"addons/create", "addons_create"},
		} {
			e := s.post(c.endpoint, example(t, c.sample, map[string]any{"ID": "s-000000000000", "Account.ExternalID": accExt,
				"Addons": []any{}}))
			if e.Code != -1 || e.Message == "" {
				t.Errorf("%s before create: %+v", c.endpoint, e)
			}
		}
		if after := w.snapshot(t); after != before {
			t.Fatalf("refused calls changed the state: %+v -> %+v", before, after)
		}

		create := example(t, "subscriptions_create", map[string]any{"SubscriptionID": "sub-2001", "Account.ID": "2001",
			"Account.ExternalID": accExt, "Account.ResellerID": nil, "Account.ResellerExternalID": nil, "Quantity": 5})
		first := s.send("POST", "subscriptions/create", create)
		var e envelope
		_ = json.Unmarshal(first.Body, &e)
		sub, saID := e.result(), e.CustomFieldValues["ICStorageAccountId"]
		partner := w.partnerNamed(t, "Customer 2001")
		upd := map[string]any{"ID": sub, "Account.ExternalID": accExt, "Addons": []any{}}
		if e := s.post("subscriptions/update", example(t, "subscriptions_update", upd)); e.Code != 0 {
			t.Fatalf("update: %+v", e)
		}
		adCreate := example(t, "addons_create", map[string]any{"ID": sub, "Account.ExternalID": accExt, "Addons.0.ParentID": sub,
			"Addons.0.ProductID": addon})
		ad := s.post("addons/create", adCreate).result()
		wantCapacity(t, w, partner.ID, saID, 9*TB)

		// A late duplicate of the create (after the update) returns the
		// first answer and does not reset the quantity; likewise the add-on
		// and the account.
		if again := s.send("POST", "subscriptions/create", create); !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("late create: %s, first %s", again.Body, first.Body)
		}
		if e := s.post("addons/create", adCreate); e.Code != 0 || e.result() != ad {
			t.Fatalf("late addons/create: %+v", e)
		}
		if e := s.post("accounts/synchronize", syncBody); e.Code != 0 || e.result() != accExt {
			t.Fatalf("late synchronize: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 9*TB)
		// A repeated update converges to the same absolute state.
		if e := s.post("subscriptions/update", example(t, "subscriptions_update", upd)); e.Code != 0 {
			t.Fatalf("repeated update: %+v", e)
		}
		wantCapacity(t, w, partner.ID, saID, 9*TB)

		// After the cancel, late suspend, update and add-on calls change
		// nothing: the capacity stays on the contract.
		life := map[string]any{"ID": sub, "Account.ExternalID": accExt}
		if e := s.post("subscriptions/cancel", example(t, "subscriptions_suspend", merge(life, map[string]any{"ActionType": "Cancel"}))); e.Code != 0 {
			t.Fatalf("cancel: %+v", e)
		}
		before = w.snapshot(t)
		if before.contractAllocated != 0 {
			t.Fatalf("contract allocation after cancel %d", before.contractAllocated)
		}
		s.post("subscriptions/suspend", example(t, "subscriptions_suspend", life))
		if e := s.post("subscriptions/update", example(t, "subscriptions_update", merge(upd, map[string]any{"Quantity": 12}))); e.Code != -1 {
			t.Errorf("update after cancel: %+v", e)
		}
		if e := s.post("addons/update", example(t, "addons_cancel", map[string]any{"ID": sub, "Account.ExternalID": accExt,
			"Addons.0.ID": ad, "Addons.0.ParentID": sub, "Addons.0.ProductID": addon, "Addons.0.ActionType": "Provision",
			"Addons.0.Quantity": 3})); e.Code != -1 {
			t.Errorf("addons/update after cancel: %+v", e)
		}
		if e := s.post("subscriptions/cancel", example(t, "subscriptions_suspend", merge(life, map[string]any{"ActionType": "Cancel"}))); e.Code != 0 || e.result() != sub {
			t.Errorf("repeated cancel: %+v", e)
		}
		if after := w.snapshot(t); after.contractAllocated != 0 || after.partners != before.partners {
			t.Fatalf("late calls after cancel changed the capacity: %+v -> %+v", before, after)
		}
	})
}

// TestBadInput: bad input gets the contract's envelope (Code -1 and a clear
// message, or 401 for a wrong installation key) and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, apitest.NewValidator(t, infiterra.Spec()))
		s := newSim(t, w)
		partner, accExt, sub, saID := provisioned(t, w, s, "3001", 5)
		var catalog infiterra.ProductTypeCollection
		s.get("GET", "fields/servicedefinition", &catalog)
		addon := catalog.ProductTypes[0].ProductsCollection.Addons[0].ID

		acct := map[string]any{"SubscriptionID": "sub-new", "Account.ID": "3001", "Account.ExternalID": accExt,
			"Account.ResellerID": nil, "Account.ResellerExternalID": nil}
		create := func(set map[string]any) []byte { return example(t, "subscriptions_create", merge(acct, set)) }
		otherPlan := map[string]any{"ICPlan": map[string]any{"ID": "ICPlan", "Name": "Plan", "Value": "Gold", "Code": "ICPlan_Gold"}}
		adCreate := func(set map[string]any) []byte {
			return example(t, "addons_create", merge(map[string]any{"ID": sub, "Account.ExternalID": accExt, "Addons.0.ParentID": sub,
				"Addons.0.ProductID": addon}, set))
		}
		for _, c := range []struct {
			name     string
			endpoint string
			body     []byte
			mod      []func(*apitest.Request)
			status   int
			message  string // a substring of the Message (lower case)
		}{
			{"unknown product: plan and product id", "subscriptions/create", create(map[string]any{"AttributeList": otherPlan, "ProductID": "ic-gold"}), nil, 200, ""},
			{"unknown product: service type", "subscriptions/create", create(map[string]any{"ServiceType": "Compute"}), nil, 200, ""},
			{"unknown add-on product", "addons/create", adCreate(map[string]any{"Addons.0.ProductID": "ic-gold-extra"}), nil, 200, ""},
			{"zero quantity", "subscriptions/create", create(map[string]any{"Quantity": 0}), nil, 200, "quantity"},
			{"negative quantity", "subscriptions/create", create(map[string]any{"Quantity": -3}), nil, 200, "quantity"},
			{"zero quantity (pre-check)", "subscriptions/create", create(map[string]any{"Quantity": 0, "CheckOnly": true}), nil, 200, "quantity"},
			{"update to zero", "subscriptions/update", example(t, "subscriptions_update", map[string]any{"ID": sub, "Account.ExternalID": accExt,
				"Addons": []any{}, "Quantity": 0}), nil, 200, "quantity"},
			{"add-on of negative quantity", "addons/create", adCreate(map[string]any{"Addons.0.Quantity": -1}), nil, 200, "quantity"},
			{"unknown account", "subscriptions/create", create(map[string]any{"Account.ID": "9999", "Account.ExternalID": "a-000000000000"}), nil, 200, ""},
			{"account never synchronized", "subscriptions/create", create(map[string]any{"Account.ID": "9999", "Account.ExternalID": nil}), nil, 200, ""},
			{"unknown subscription", "subscriptions/suspend", example(t, "subscriptions_suspend", map[string]any{"ID": "s-000000000000"}), nil, 200, ""},
			{"beyond the contract", "subscriptions/create", create(map[string]any{"Quantity": 16}), nil, 200, "capacity"},
			{"beyond the contract (pre-check by query)", "subscriptions/create", create(map[string]any{"Quantity": 16}),
				[]func(*apitest.Request){query("?checkonly=true")}, 200, "capacity"},
			{"update beyond the contract", "subscriptions/update", example(t, "subscriptions_update", map[string]any{"ID": sub,
				"Account.ExternalID": accExt, "Addons": []any{}, "Quantity": 21}), nil, 200, "capacity"},
			{"malformed JSON", "subscriptions/create", []byte(`{"ID":null,"Quantity":5,`), []func(*apitest.Request){invalidSpec}, 200, "invalid request body"},
			{"malformed JSON (account)", "accounts/synchronize", []byte(`{"ID":"3002"`), []func(*apitest.Request){invalidSpec}, 200, "invalid request body"},
			{"wrong installation key", "subscriptions/create", create(nil), []func(*apitest.Request){header(infiterra.HeaderAPIKey,
				base64.StdEncoding.EncodeToString([]byte("wrong-key")))}, 401, ""},
			{"unknown installation", "subscriptions/cancel", example(t, "subscriptions_suspend", map[string]any{"ID": sub, "ActionType": "Cancel"}),
				[]func(*apitest.Request){header(infiterra.HeaderApplicationID, ids.New())}, 401, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				s.t = t
				defer func() { s.t = nil }()
				before := w.snapshot(t)
				resp := s.send("POST", c.endpoint, c.body, c.mod...)
				if resp.Status != c.status {
					t.Fatalf("status %d, want %d: %s", resp.Status, c.status, resp.Body)
				}
				if c.status == 401 {
					if string(bytes.TrimSpace(resp.Body)) != `{"Message":"Authorization has been denied for this request."}` {
						t.Fatalf("401 body %s", resp.Body)
					}
				} else {
					var e envelope
					if err := json.Unmarshal(resp.Body, &e); err != nil {
						t.Fatal(err)
					}
					if e.Code != -1 || e.Message == "" || !strings.Contains(strings.ToLower(e.Message), c.message) {
						t.Fatalf("answer %s, want Code -1 with a message about %q", resp.Body, c.message)
					}
				}
				if after := w.snapshot(t); after != before {
					t.Fatalf("the state changed: %+v -> %+v", before, after)
				}
			})
		}
		s.t = t
		wantCapacity(t, w, partner.ID, saID, 5*TB)
	})
}

func invalidSpec(r *apitest.Request) { r.ExpectInvalidRequest = true }

func header(name, value string) func(*apitest.Request) {
	return func(r *apitest.Request) { r.Header.Set(name, value) }
}

// TestConcurrentCreates: 40 creates delivered at once against a contract
// with room for 25 provision exactly 25; the 15 others are refused with the
// contract's capacity message and leave nothing behind.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorldReserving(t, d, apitest.NewValidator(t, infiterra.Spec()), 25*TB)
		s := newSim(t, w)
		accExt := s.post("accounts/synchronize", example(t, "accounts_synchronize", map[string]any{"ID": "4001", "ResellerID": nil,
			"ResellerExternalID": nil, "Name": "Customer 4001", "Email": "billing@c4001.example"})).result()
		partner := w.partnerNamed(t, "Customer 4001")
		answers := make(chan envelope, 40)
		var wg sync.WaitGroup
		for i := range 40 {
			body := example(t, "subscriptions_create", map[string]any{"SubscriptionID": fmt.Sprintf("sub-4001-%d", i), "Name": fmt.Sprintf("Storage %d", i),
				"Account.ID": "4001", "Account.ExternalID": accExt, "Account.ResellerID": nil, "Account.ResellerExternalID": nil, "Quantity": 1})
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := s.send("POST", "subscriptions/create", body)
				var e envelope
				if err := json.Unmarshal(resp.Body, &e); err != nil || resp.Status != 200 {
					t.Errorf("status %d: %s", resp.Status, resp.Body)
				}
				answers <- e
			}()
		}
		wg.Wait()
		close(answers)
		var ok, refused int
		for e := range answers {
			switch {
			case e.Code == 0 && e.result() != "":
				ok++
			case e.Code == -1 && strings.Contains(strings.ToLower(e.Message), "capacity"):
				refused++
			default:
				t.Errorf("unexpected answer %+v", e)
			}
		}
		if ok != 25 || refused != 15 {
			t.Fatalf("%d provisioned and %d refused, want 25 and 15", ok, refused)
		}
		sas, err := w.obj.ListStorageAccounts(w.ctx, sys, partner.ID)
		if err != nil || len(sas) != 25 {
			t.Fatalf("%d storage accounts (%v), want 25", len(sas), err)
		}
		if got := w.contractAllocated(t); got != 25*TB {
			t.Fatalf("contract allocation %d TB, want 25", got/TB)
		}
	})
}
