package impossiblecloud_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// family is who a route is for.
type family int

const (
	distributorRoute family = iota // a distributor (or the provider) acting on its partners
	partnerRoute                   // a partner acting on itself
	publicRoute                    // anyone, without a key
)

// route is one operation of the spec, with what it takes to call it.
type route struct {
	op       string // operationId
	method   string
	tmpl     string // the spec's path template
	query    string
	family   family
	min      actor.Role // the least role allowed
	ok       int        // the success status
	noObject bool       // addresses nothing another tenant could own
	body     func(f *fixture, o objects) any
}

// objects are the ids a route's path and body are filled with.
type objects struct {
	contract, partner, account, member string
	spare                              string // a partner that deletePartner may really delete
}

func (r route) path(o objects) string {
	partner := o.partner
	if r.op == "deletePartner" {
		partner = o.spare
	}
	return strings.NewReplacer("{contractID}", o.contract, "{partnerID}", partner, "{accountID}", o.account,
		"{memberID}", o.member).Replace(r.tmpl) + r.query
}

const usageQuery = "?from=2026-01-01&to=2026-01-31"

// allRoutes lists the 24 operations of the spec; TestAuthorizationMatrix
// checks the list against the spec, so a route added there and not here
// fails the test.
func allRoutes() []route {
	newPartner := func(_ *fixture, o objects) any {
		return map[string]any{"allocatedCapacity": 0, "distributorContractId": o.contract, "name": "Authz partner"}
	}
	newAccount := func(f *fixture, _ objects) any {
		return accountBody("Authz account", f.email("authz-account"), 0, false)
	}
	newMember := func(f *fixture, _ objects) any {
		return map[string]any{"email": f.email("authz-member"), "password": strongPassword, "role": "viewer"}
	}
	cancelDeletion := func(*fixture, objects) any { return map[string]any{"pendingDeletedAt": nil} }
	rename := func(*fixture, objects) any { return map[string]any{"name": "Test partner"} }
	const (
		d, p           = distributorRoute, partnerRoute
		viewer, staff  = actor.Viewer, actor.Staff
		admin          = actor.Admin
		get, post, put = http.MethodGet, http.MethodPost, http.MethodPut
		del, patch     = http.MethodDelete, http.MethodPatch
	)
	return []route{
		{op: "listContracts", method: get, tmpl: "/contract/list", family: d, min: viewer, ok: 200, noObject: true},
		{op: "listContractPartners", method: get, tmpl: "/contract/{contractID}/partners", family: d, min: viewer, ok: 200},
		{op: "createPartner", method: post, tmpl: "/partner", family: d, min: staff, ok: 201, body: newPartner},
		{op: "deletePartner", method: del, tmpl: "/partner/{partnerID}", family: d, min: staff, ok: 204},
		{op: "getPartner", method: get, tmpl: "/partner/{partnerID}", family: d, min: viewer, ok: 200},
		{op: "updatePartner", method: put, tmpl: "/partner/{partnerID}", family: d, min: staff, ok: 200, body: rename},
		{op: "createPartnerMember", method: post, tmpl: "/partner/{partnerID}/member", family: d, min: admin, ok: 201, body: newMember},
		{op: "deletePartnerMember", method: del, tmpl: "/partner/{partnerID}/member/{memberID}", family: d, min: admin, ok: 204},
		{op: "listPartnerMembers", method: get, tmpl: "/partner/{partnerID}/members", family: d, min: viewer, ok: 200},
		{op: "listPartnerStorageAccounts", method: get, tmpl: "/partner/{partnerID}/storage-accounts", family: d, min: viewer, ok: 200},
		{op: "createPartnerStorageAccount", method: post, tmpl: "/partner/{partnerID}/storage-accounts", family: d, min: staff, ok: 201, body: newAccount},
		{op: "deletePartnerStorageAccount", method: del, tmpl: "/partner/{partnerID}/storage-accounts/{accountID}", family: d, min: staff, ok: 204},
		{op: "getPartnerStorageAccount", method: get, tmpl: "/partner/{partnerID}/storage-accounts/{accountID}", family: d, min: viewer, ok: 200},
		{op: "patchPartnerStorageAccount", method: patch, tmpl: "/partner/{partnerID}/storage-accounts/{accountID}", family: d, min: staff, ok: 200, body: cancelDeletion},
		{op: "getPartnerStorageAccountUsage", method: get, tmpl: "/partner/{partnerID}/storage-accounts/{accountID}/usage", query: usageQuery, family: d, min: viewer, ok: 200},
		{op: "getPartnerUsage", method: get, tmpl: "/partner/{partnerID}/usage", query: usageQuery, family: d, min: viewer, ok: 200},
		{op: "createStorageAccount", method: post, tmpl: "/storage-account", family: p, min: staff, ok: 201, noObject: true, body: newAccount},
		{op: "listStorageAccounts", method: get, tmpl: "/storage-account/list", family: p, min: viewer, ok: 200, noObject: true},
		{op: "deleteStorageAccount", method: del, tmpl: "/storage-account/{accountID}", family: p, min: staff, ok: 204},
		{op: "getStorageAccount", method: get, tmpl: "/storage-account/{accountID}", family: p, min: viewer, ok: 200},
		{op: "patchStorageAccount", method: patch, tmpl: "/storage-account/{accountID}", family: p, min: staff, ok: 200, body: cancelDeletion},
		{op: "getStorageAccountUsage", method: get, tmpl: "/storage-account/{accountID}/usage", query: usageQuery, family: p, min: viewer, ok: 200},
		{op: "listStorageAccountsUsage", method: get, tmpl: "/storage-accounts/usage", query: usageQuery, family: p, min: viewer, ok: 200, noObject: true},
		// The vendor publishes the region list: no key is needed, and a
		// key sent anyway (even a bad one) is ignored.
		{op: "listRegions", method: get, tmpl: "/integration/regions/list", family: publicRoute, ok: 200, noObject: true},
	}
}

// specOperations returns "METHOD /template" by operationId, from the spec.
func specOperations(t *testing.T) map[string]string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(impossiblecloud.Spec())
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	ops := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = method + " " + path
		}
	}
	return ops
}

type authCase struct {
	name   string
	key    string
	status int
}

// authCases are the callers tried on a route: every failure first, the
// least-privileged allowed caller last.
func (f *fixture) authCases(r route) []authCase {
	if r.family == publicRoute {
		return []authCase{{"no key", "", 200}, {"revoked key", f.key.revoked, 200}, {"garbage key", "garbage", 200}}
	}
	k := f.key
	byRole := map[actor.Role]string{actor.Viewer: k.distViewer, actor.Staff: k.distStaff, actor.Admin: k.distAdmin}
	wrongKind, wrongKindName, foreign := k.partnerAdmin, "partner admin key", k.distBAdmin
	if r.family == partnerRoute {
		byRole = map[actor.Role]string{actor.Viewer: k.partnerViewer, actor.Staff: k.partnerStaff, actor.Admin: k.partnerAdmin}
		wrongKind, wrongKindName, foreign = k.distAdmin, "distributor admin key", k.otherPartnerAdmin
	}
	cs := []authCase{
		{"no key", "", 401},
		{"revoked key", k.revoked, 401},
		{"garbage key", "trl_not-a-real-key", 401},
	}
	if r.min != actor.Viewer {
		cs = append(cs, authCase{"viewer", byRole[actor.Viewer], 403})
	}
	if r.min == actor.Admin {
		cs = append(cs, authCase{"staff", byRole[actor.Staff], 403})
	}
	cs = append(cs, authCase{wrongKindName, wrongKind, 403})
	if r.family == partnerRoute {
		cs = append(cs, authCase{"provider admin key", k.provider, 403})
	}
	if !r.noObject {
		cs = append(cs, authCase{"other tenant's object", foreign, 404})
	}
	return append(cs, authCase{"allowed: " + string(r.min), byRole[r.min], r.ok})
}

// TestAuthorizationMatrix calls every route of the spec as every kind of
// caller: without a key, with a revoked or unknown key (401), with too
// low a role or the wrong kind of org (403), on another tenant's object
// (404), and as the least-privileged caller allowed. Rejected calls must
// change nothing.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	routes := allRoutes()
	covered := map[string]string{}
	for _, r := range routes {
		covered[r.op] = r.method + " " + r.tmpl
	}
	if diff := cmp.Diff(specOperations(t), covered); diff != "" {
		t.Fatalf("the route table does not match the spec's operations (-spec +table):\n%s", diff)
	}
	if len(covered) != 24 {
		t.Fatalf("%d operations, want the vendor's 24", len(covered))
	}

	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		f.seedAccounts(t)
		o := objects{
			contract: contractA1,
			partner:  partnerP,
			account:  f.accountP,
			member:   f.createMember(t, partnerP, actor.Viewer),
			spare:    f.createPartner(t, contractA1, "", "Spare partner", 0),
		}
		for _, r := range routes {
			t.Run(r.op, func(t *testing.T) {
				cases := f.authCases(r)
				before := f.snapshot(t)
				for i, c := range cases {
					if i == len(cases)-1 && r.family != publicRoute {
						if diff := diffSnapshots(before, f.snapshot(t)); diff != "" {
							t.Errorf("rejected calls changed the database:\n%s", diff)
						}
					}
					t.Run(c.name, func(t *testing.T) {
						var body any
						if r.body != nil {
							body = r.body(f, o)
						}
						resp := f.do(t, c.key, r.method, r.path(o), body)
						if c.status < 300 {
							wantStatus(t, resp, c.status)
							return
						}
						wantError(t, resp, c.status)
						if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
							t.Errorf("401 without WWW-Authenticate")
						}
					})
				}
			})
		}

		// Lists address no single object, so instead of a 404 another
		// tenant must get a list without ours.
		for _, c := range []struct{ name, key, path, ours string }{
			{"contracts", f.key.distBAdmin, "/contract/list", contractA1},
			{"storage accounts", f.key.otherPartnerAdmin, "/storage-account/list", f.accountP},
			{"usage", f.key.otherPartnerAdmin, "/storage-accounts/usage" + usageQuery, f.accountP},
		} {
			t.Run("other tenant's list of "+c.name, func(t *testing.T) {
				resp := f.do(t, c.key, "GET", c.path, nil)
				if wantStatus(t, resp, 200) && strings.Contains(string(resp.Body), c.ours) {
					t.Errorf("%s leaks %s: %s", c.path, c.ours, resp.Body)
				}
			})
		}
		if u := f.v.Uncovered(); len(u) > 0 {
			t.Errorf("operations never answered with a 2xx status: %v", u)
		}
	})
}
