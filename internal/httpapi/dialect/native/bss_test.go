package native

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The BSS installations' operator routes (bss.go): an Infiterra BSS
// registered for a distributor and one of its contracts. The env holds one
// installation for distributor A (on contract A) and one for B, made by
// the provider's admin.

// bssEnv are the BSS objects of the fixture.
type bssEnv struct {
	appA, appB string // Application Ids
	keyA       string // appA's API key
}

// addBSSDeps adds the BSS service, wired like the app does.
func addBSSDeps(deps *Deps, st *sqlstore.Store, clk clock.Clock) {
	deps.BSS = wiring.Must(bss.NewService(sqlstore.BSS{Store: st}, deps.Tenancy, deps.Objstore, clk, deps.Access))
}

// bssBody is a creation body for the distributor and contract.
func bssBody(dist, contract, rest string) string {
	b := `{"distributorId":"` + dist + `","contractId":"` + contract + `"`
	if rest != "" {
		b += "," + rest
	}
	return b + "}"
}

func (e *env) seedBSS(t *testing.T) {
	t.Helper()
	a := e.ok(t, http.StatusCreated, "POST", "/bss-installations", provAdmin, bssBody(e.distA, e.contractA, `"name":"BSS A"`))
	b := e.ok(t, http.StatusCreated, "POST", "/bss-installations", provAdmin, bssBody(e.distB, e.contractB, `"name":"BSS B"`))
	e.bss = bssEnv{appA: str(a["applicationId"]), appB: str(b["applicationId"]), keyA: str(a["apiKey"])}
}

// bssAuthzCases are the BSS operations for authzCases: the business of
// the operators above a distributor and of its admins, not of partners.
// A body naming B's distributor is refused with 400 by the service (see
// bssBadRoutes), so creation has no foreign case here.
func (e *env) bssAuthzCases() []authzCase {
	admins := []string{aViewer, aStaff, provViewer, provStaff, paAdmin}
	return []authzCase{
		{method: "GET", path: "/bss-installations", forbidden: []string{paAdmin}},
		{method: "POST", path: "/bss-installations", body: bssBody(e.distA, e.contractA, ""), forbidden: admins},
		{method: "DELETE", path: "/bss-installations/" + e.bss.appA, forbidden: admins,
			foreignPath: "/bss-installations/" + e.bss.appB},
	}
}

// bssBadRoutes are the BSS operations for badRoutes.
func (e *env) bssBadRoutes() []badRoute {
	valid := bssBody(e.distA, e.contractA, "")
	ids := `"distributorId":"` + e.distA + `","contractId":"` + e.contractA + `"`
	join := func(lists ...[]badCase) []badCase { return slices.Concat(lists...) }
	revoke := "/bss-installations/" + e.bss.appA
	return []badRoute{
		{"POST", "/bss-installations", join(bodyCases(ids), []badCase{
			{name: "empty body", body: "", status: 400, field: "body"},
			{name: "distributorId missing", body: `{"contractId":"` + e.contractA + `"}`, status: 422, field: "distributorId"},
			{name: "distributorId malformed", body: bssBody("x", e.contractA, ""), status: 422, field: "distributorId"},
			{name: "distributorId unknown", body: bssBody(unknownID, e.contractA, ""), status: 404, field: "distributorId", specValid: true},
			{name: "distributorId foreign", key: aAdmin, body: bssBody(e.distB, e.contractB, ""), status: 404, field: "distributorId", specValid: true},
			{name: "distributorId not a distributor", body: bssBody(e.partnerA, e.contractA, ""), status: 400, field: "distributorId", specValid: true},
			{name: "distributorId the provider", body: bssBody(e.root, e.contractA, ""), status: 400, field: "distributorId", specValid: true},
			{name: "contractId missing", body: `{"distributorId":"` + e.distA + `"}`, status: 422, field: "contractId"},
			{name: "contractId malformed", body: bssBody(e.distA, "x", ""), status: 422, field: "contractId"},
			{name: "contractId unknown", body: bssBody(e.distA, unknownID, ""), status: 404, field: "contractId", specValid: true},
			{name: "contractId of another distributor", body: bssBody(e.distA, e.contractB, ""), status: 404, field: "contractId", specValid: true},
			{name: "contractId foreign", key: aAdmin, body: bssBody(e.distA, e.contractB, ""), status: 404, field: "contractId", specValid: true},
			{name: "name too long", body: bssBody(e.distA, e.contractA, `"name":"`+strings.Repeat("é", 256)+`"`), status: 422, field: "name"},
			{name: "name wrong type", body: bssBody(e.distA, e.contractA, `"name":5`), status: 422, field: "name"},
			{name: "name control characters", body: bssBody(e.distA, e.contractA, `"name":"a\u0007b"`), status: 400, field: "name", specValid: true},
			{name: "applicationId not a GUID", body: bssBody(e.distA, e.contractA, `"applicationId":"app-1"`), status: 400, field: "applicationId", specValid: true},
			{name: "applicationId nil GUID", body: bssBody(e.distA, e.contractA, `"applicationId":"00000000-0000-0000-0000-000000000000"`),
				status: 400, field: "applicationId", specValid: true},
			{name: "applicationId wrong type", body: bssBody(e.distA, e.contractA, `"applicationId":1`), status: 422, field: "applicationId"},
			{name: "applicationId taken", body: bssBody(e.distA, e.contractA, `"applicationId":"`+strings.ToUpper(e.bss.appA)+`"`),
				status: 409, field: "applicationId", specValid: true},
			{name: "applicationId taken by another distributor's", body: bssBody(e.distA, e.contractA, `"applicationId":"`+e.bss.appB+`"`),
				status: 409, field: "applicationId", specValid: true},
			{name: "apiKey too short", body: bssBody(e.distA, e.contractA, `"apiKey":"short"`), status: 400, field: "apiKey", specValid: true},
			{name: "apiKey too long", body: bssBody(e.distA, e.contractA, `"apiKey":"`+strings.Repeat("k", 201)+`"`), status: 422, field: "apiKey"},
			{name: "apiKey wrong type", body: bssBody(e.distA, e.contractA, `"apiKey":true`), status: 422, field: "apiKey"},
			{name: "a staff key", key: aStaff, body: valid, status: 403, specValid: true},
			{name: "a viewer", key: provViewer, body: valid, status: 403, specValid: true},
			{name: "the partner's own admin", key: paAdmin, body: valid, status: 403, specValid: true},
		})},
		{"DELETE", revoke, []badCase{
			{name: "app_id unknown", path: "/bss-installations/" + unknownID, status: 404, specValid: true},
			{name: "app_id not a GUID", path: "/bss-installations/x", status: 404, specValid: true},
			{name: "app_id foreign", key: aAdmin, path: "/bss-installations/" + e.bss.appB, status: 404, specValid: true},
			{name: "a staff key", key: aStaff, status: 403, specValid: true},
			{name: "the partner's own admin", key: paAdmin, status: 403, specValid: true},
			{name: "oversize", body: strings.Repeat("x", outerLimit+1), status: 413, field: "body", specValid: true},
		}},
	}
}

// scenarioBSS answers every BSS operation with 2xx and reads each change
// back: installations are made by an operator and by the distributor's
// admin, authenticate with their key (Base64 or raw) until revoked, and
// cannot be bound to another distributor's contract.
func (e *env) scenarioBSS(t *testing.T) {
	ctx := t.Context()
	b := e.bss
	list := func(key string) map[string]map[string]any {
		t.Helper()
		out := map[string]map[string]any{}
		for _, it := range e.ok(t, 200, "GET", "/bss-installations", key, "")["items"].([]any) {
			in := it.(map[string]any)
			if _, ok := in["apiKey"]; ok {
				t.Errorf("listed installation shows its API key: %v", in)
			}
			out[str(in["applicationId"])] = in
		}
		return out
	}
	auth := func(appID, key string) error {
		in, err := e.deps.BSS.Authenticate(ctx, appID, key)
		if err == nil && (in.DistributorID != e.distA || in.ContractID != e.contractA) {
			t.Errorf("%s authenticates as %+v", appID, in)
		}
		return err
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	// The seeded ones: each distributor sees its own, the provider both.
	if got := list(aViewer); len(got) != 1 || got[b.appA] == nil || got[b.appA]["name"] != "BSS A" ||
		got[b.appA]["distributorId"] != e.distA || got[b.appA]["contractId"] != e.contractA || got[b.appA]["revokedAt"] != nil {
		t.Errorf("A's installations = %v", got)
	}
	if got := list(bAdmin); len(got) != 1 || got[b.appB] == nil {
		t.Errorf("B's installations = %v", got)
	}
	if got := list(provViewer); len(got) != 2 {
		t.Errorf("all installations = %v", got)
	}
	if err := auth(b.appA, b64(b.keyA)); err != nil {
		t.Errorf("the seeded key does not authenticate: %v", err)
	}

	// By the provider's admin, with a generated id and key: the key is
	// shown once and authenticates Base64-encoded (the SDK's form) and raw.
	e.clock.Advance(time.Second)
	c := e.ok(t, 201, "POST", "/bss-installations", provAdmin, bssBody(e.distA, e.contractA, `"name":"  Infiterra EU "`))
	app, key := str(c["applicationId"]), str(c["apiKey"])
	if _, ok := bss.ParseAppID(app); !ok || app != strings.ToLower(app) || c["distributorId"] != e.distA || c["contractId"] != e.contractA ||
		c["name"] != "Infiterra EU" || c["createdAt"] == nil || c["revokedAt"] != nil {
		t.Errorf("created installation = %v", c)
	}
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 32 {
		t.Errorf("generated API key %q: %d bytes, %v", key, len(raw), err)
	}
	for _, k := range []string{b64(key), key} {
		if err := auth(app, k); err != nil {
			t.Errorf("the new key %q does not authenticate: %v", k, err)
		}
	}
	if err := auth("{"+strings.ToUpper(app)+"}", b64(key)); err != nil {
		t.Errorf("the application id in braces, upper case: %v", err)
	}
	for _, wrong := range [][2]string{{app, b64(b.keyA)}, {b.appA, b64(key)}, {app, b64(key + "x")}, {app, ""}, {unknownID, b64(key)}} {
		if err := auth(wrong[0], wrong[1]); !errs.Is(err, errs.KindUnauthenticated) {
			t.Errorf("Authenticate(%q, %q) = %v, want unauthenticated", wrong[0], wrong[1], err)
		}
	}
	got := list(aViewer)
	if len(got) != 2 || got[app] == nil {
		t.Fatalf("A's installations after the create = %v", got)
	}
	delete(c, "apiKey")
	for k, v := range c {
		if got[app][k] != v {
			t.Errorf("read back %s = %v, created %v", k, got[app][k], v)
		}
	}

	// By the distributor's own admin, with the id and key its BSS
	// generated: the id is stored in its canonical form.
	e.clock.Advance(time.Second)
	const ownKey = "bss-generated-key-0123456789"
	own := e.ok(t, 201, "POST", "/bss-installations", aAdmin,
		bssBody(e.distA, e.contractA, `"applicationId":"{0190A8C4-5D6E-7F80-9A1B-2C3D4E5F6B00}","apiKey":"`+ownKey+`"`))
	ownApp := "0190a8c4-5d6e-7f80-9a1b-2c3d4e5f6b00"
	if own["applicationId"] != ownApp || own["apiKey"] != ownKey || own["name"] != "BSS installation "+ownApp || own["distributorId"] != e.distA {
		t.Errorf("the distributor's installation = %v", own)
	}
	for _, k := range []string{b64(ownKey), ownKey} {
		if err := auth(ownApp, k); err != nil {
			t.Errorf("the distributor's key %q does not authenticate: %v", k, err)
		}
	}
	if got := list(aViewer); len(got) != 3 || got[ownApp] == nil {
		t.Errorf("A's installations = %v", got)
	}

	// Another distributor's contract is refused, as if it did not exist.
	wantProblem(t, e.do(t, e.req("POST", "/bss-installations", aAdmin, bssBody(e.distB, e.contractB, ""))), 404, "distributorId")
	wantProblem(t, e.do(t, e.req("POST", "/bss-installations", aAdmin, bssBody(e.distA, e.contractB, ""))), 404, "contractId")
	wantProblem(t, e.do(t, e.req("POST", "/bss-installations", bAdmin, bssBody(e.distB, e.contractA, ""))), 404, "contractId")
	wantProblem(t, e.do(t, e.req("POST", "/bss-installations", provAdmin, bssBody(e.distB, e.contractA, ""))), 404, "contractId")
	if got := list(provViewer); len(got) != 4 {
		t.Errorf("installations after the refusals = %v", got)
	}

	// Revoked: its calls are refused from now on; revoking twice is no
	// error and changes nothing.
	e.clock.Advance(time.Second)
	if r := e.do(t, e.req("DELETE", "/bss-installations/"+app, aAdmin, "")); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	for _, k := range []string{b64(key), key} {
		if err := auth(app, k); !errs.Is(err, errs.KindUnauthenticated) {
			t.Errorf("a revoked installation authenticates: %v", err)
		}
	}
	if err := auth(b.appA, b64(b.keyA)); err != nil {
		t.Errorf("revoking one installation revoked another: %v", err)
	}
	revokedAt := list(aViewer)[app]["revokedAt"]
	if revokedAt == nil {
		t.Errorf("revoked installation = %v", list(aViewer)[app])
	}
	e.clock.Advance(time.Second)
	e.ok(t, 204, "DELETE", "/bss-installations/"+strings.ToUpper(app), provAdmin, "")
	if again := list(aViewer)[app]["revokedAt"]; again != revokedAt {
		t.Errorf("revoking twice changed revokedAt: %v, then %v", revokedAt, again)
	}
	if got := list(provViewer); got[b.appB]["revokedAt"] != nil || got[ownApp]["revokedAt"] != nil {
		t.Errorf("installations after the revoke = %v", got)
	}

	// Each change is in the audit log once, under A's subtree.
	var creates, revokes int
	for _, it := range e.ok(t, 200, "GET", "/audit?limit=1000", aViewer, "")["items"].([]any) {
		en := it.(map[string]any)
		switch en["action"] {
		case "bss_installation.create":
			creates++
		case "bss_installation.revoke":
			revokes++
			if en["objectId"] != app {
				t.Errorf("revoke entry = %v", en)
			}
		}
	}
	if creates != 3 || revokes != 1 {
		t.Errorf("A's audit log: %d creates, %d revokes", creates, revokes)
	}
}
