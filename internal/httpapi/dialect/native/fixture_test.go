package native

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// outerLimit stands in for the body limit the outer server applies.
const outerLimit = 64 << 10

// Key names of the fixture.
const (
	provAdmin  = "provider-admin"
	provStaff  = "provider-staff"
	provViewer = "provider-viewer"
	aAdmin     = "a-admin"
	aStaff     = "a-staff"
	aViewer    = "a-viewer"
	bAdmin     = "b-admin"
	revoked    = "revoked"
	noKey      = ""
)

// env is a served API over a real database, with a small org tree built
// through the API itself: the provider, distributors A and B, a contract
// and a partner each, a storage account under each partner, and keys.
type env struct {
	h     http.Handler
	v     *apitest.Validator
	clock *clock.Fake
	deps  Deps
	d     *db.DB

	root                 string
	distA, distB         string
	contractA, contractB string
	partnerA, partnerB   string
	saA, saB             string // storage accounts
	keyIDs               map[string]string
	secrets              map[string]string
	idch                 idchEnv
	billing              billingEnv
	reseller             resellerEnv
	bss                  bssEnv
}

func newEnv(t *testing.T, d *db.DB, v *apitest.Validator) *env {
	t.Helper()
	ctx := t.Context()
	st := sqlstore.New(d)
	clk := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	deps := Deps{
		Tenancy:  tenancy.NewService(sqlstore.Tenancy{Store: st}, clk),
		Objstore: wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, testBox(t), objstore.NoDataPlane{})),
		Access:   access.NewService(sqlstore.Access{Store: st}, clk),
		Audit:    audit.NewService(st),
		Metering: metering.NewService(sqlstore.Metering{Store: st}, clk),
		Identity: access.NewIdentity(sqlstore.Identity{Store: st}, clk),
		Catalog:  catalog.NewService(sqlstore.Catalog{Store: st}, clk),
		Idem:     st,
		Clock:    clk,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sandbox:  &fixtureSandbox{clk: clk},
	}
	addBillingDeps(t, &deps, st, clk)
	q := addResourceDeps(t, &deps, d, st, clk)
	addObjectStorageDeps(&deps, st, clk)
	addResellerDeps(&deps, st.WithJobs(q), clk, q)
	addBSSDeps(&deps, st, clk)
	e := &env{
		h:       http.MaxBytesHandler(middleware.Chain(Handler(deps), middleware.RequestID), outerLimit),
		v:       v,
		clock:   clk,
		deps:    deps,
		d:       d,
		keyIDs:  map[string]string{},
		secrets: map[string]string{},
	}

	root, err := deps.Tenancy.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "Provider"})
	if err != nil {
		t.Fatal(err)
	}
	e.root = root.ID
	k, err := deps.Access.CreateKey(ctx, actor.System(""), access.CreateKeyInput{OrgID: root.ID, Name: provAdmin, Role: actor.Admin})
	if err != nil {
		t.Fatal(err)
	}
	e.keyIDs[provAdmin], e.secrets[provAdmin] = k.ID, k.Secret

	e.distA = e.create(t, "/orgs", `{"parentId":%q,"name":"Distributor A","timeZone":"Europe/Berlin"}`, e.root)
	e.distB = e.create(t, "/orgs", `{"parentId":%q,"name":"Distributor B"}`, e.root)
	e.contractA = e.create(t, "/contracts", `{"orgId":%q,"reservedCapacity":1000000,"costStorageGBCents":100,"currency":"EUR","details":"A 1 MB"}`, e.distA)
	e.contractB = e.create(t, "/contracts", `{"orgId":%q,"reservedCapacity":1000000,"currency":"EUR","details":"B 1 MB"}`, e.distB)
	e.partnerA = e.create(t, "/contracts/"+e.contractA+"/partners", `{"name":"Partner A","allocatedCapacity":%d}`, 1000)
	e.partnerB = e.create(t, "/contracts/"+e.contractB+"/partners", `{"name":"Partner B","allocatedCapacity":%d}`, 1000)
	for _, k := range []struct {
		name, org string
		role      actor.Role
	}{
		{provStaff, e.root, actor.Staff}, {provViewer, e.root, actor.Viewer},
		{aAdmin, e.distA, actor.Admin}, {aStaff, e.distA, actor.Staff}, {aViewer, e.distA, actor.Viewer},
		{bAdmin, e.distB, actor.Admin}, {revoked, e.distA, actor.Admin},
	} {
		r := e.ok(t, http.StatusCreated, "POST", "/keys", provAdmin, fmt.Sprintf(`{"orgId":%q,"name":%q,"role":%q}`, k.org, k.name, k.role))
		e.keyIDs[k.name], e.secrets[k.name] = str(r["id"]), str(r["secret"])
	}
	e.ok(t, http.StatusOK, "DELETE", "/keys/"+e.keyIDs[revoked], provAdmin, "")

	// Storage accounts have no native route: made through the service.
	for _, sa := range []struct {
		partner, email string
		dst            *string
	}{{e.partnerA, "sa-a@example.com", &e.saA}, {e.partnerB, "sa-b@example.com", &e.saB}} {
		acct, err := deps.Objstore.CreateStorageAccount(ctx, actor.System(""), sa.partner, objstore.CreateStorageAccountInput{
			Name: "bucket tenant", AllocatedCapacity: 100, ContactEmail: sa.email, Password: "Passw0rd!x"})
		if err != nil {
			t.Fatal(err)
		}
		*sa.dst = acct.ID
	}
	e.seedIdentity(t)
	e.seedBilling(t)
	e.seedCatalog(t)
	e.seedNetworkPools(t)
	e.seedReseller(t)
	e.seedBSS(t)
	return e
}

// req builds a request as the named key (noKey: no Authorization header).
func (e *env) req(method, path, key, body string) apitest.Request {
	r := apitest.Request{Method: method, Path: Prefix + path, Header: http.Header{}}
	if key != noKey {
		r.Header.Set("Authorization", "Bearer "+e.secrets[key])
	}
	if body != "" {
		r.Body = []byte(body)
	}
	return r
}

func (e *env) do(t *testing.T, r apitest.Request) apitest.Response {
	t.Helper()
	return e.v.Do(t, e.h, r)
}

// ok sends a request that must answer want, and returns the JSON body.
func (e *env) ok(t *testing.T, want int, method, path, key, body string) map[string]any {
	t.Helper()
	resp := e.do(t, e.req(method, path, key, body))
	if resp.Status != want {
		t.Fatalf("%s %s as %s = %d, want %d: %s", method, path, key, resp.Status, want, resp.Body)
	}
	return decode(t, resp)
}

// create POSTs as the provider admin and returns the new object's id.
func (e *env) create(t *testing.T, path, format string, args ...any) string {
	t.Helper()
	return str(e.ok(t, http.StatusCreated, "POST", path, provAdmin, fmt.Sprintf(format, args...))["id"])
}

func decode(t *testing.T, resp apitest.Response) map[string]any {
	t.Helper()
	if len(resp.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, resp.Body)
	}
	return m
}

// items returns the ids of a list response.
func items(m map[string]any) []string {
	var out []string
	for _, it := range m["items"].([]any) {
		out = append(out, str(it.(map[string]any)["id"]))
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// wantProblem checks a problem response: status, content type, and (when
// field is not empty) the field it names.
func wantProblem(t *testing.T, resp apitest.Response, status int, field string) map[string]any {
	t.Helper()
	if resp.Status != status {
		t.Errorf("status = %d, want %d: %s", resp.Status, status, resp.Body)
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("content type = %q, want application/problem+json", ct)
	}
	p := decode(t, resp)
	if int(p["status"].(float64)) != status || str(p["title"]) == "" || str(p["type"]) == "" || str(p["detail"]) == "" {
		t.Errorf("incomplete problem: %s", resp.Body)
	}
	if str(p["requestId"]) == "" || str(p["requestId"]) != resp.Header.Get(middleware.HeaderRequestID) {
		t.Errorf("problem requestId %q, header %q", p["requestId"], resp.Header.Get(middleware.HeaderRequestID))
	}
	if field != "" && str(p["field"]) != field {
		t.Errorf("problem field = %q, want %q: %s", p["field"], field, resp.Body)
	}
	return p
}
