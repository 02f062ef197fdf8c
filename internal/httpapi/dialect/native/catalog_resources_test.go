package native

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// The catalog operations' entries of the shared tables (authzCases,
// badRoutes, TestScenario). The env must hold the catalog seeded by
// seedCatalog (after seedIdentity: it needs location bus02; nothing goes
// into cyc01, which scenarioIdentity deletes).

// The seeded pools of bus02 (the demo's uuids): General is the default.
const (
	poolGeneral     = "6f1c2a9e-3b7d-4e58-9a41-0c8d2e7b5f13"
	poolPerformance = "b7e4d0c2-5a19-4f36-8e2b-91d3c6a7f048"
)

// seedCatalog loads the demo images and VM parameter rules, and the demo
// host pools of bus02.
func (e *env) seedCatalog(t *testing.T) {
	t.Helper()
	ctx, sys := t.Context(), actor.System("")
	for _, in := range catalog.DemoHostPools() {
		if in.Location != "bus02" {
			continue
		}
		if _, err := e.deps.Catalog.PutHostPool(ctx, sys, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range catalog.DemoImages() {
		if _, err := e.deps.Catalog.PutImage(ctx, sys, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range catalog.DefaultVMParams() {
		if _, err := e.deps.Catalog.PutVMParam(ctx, sys, in); err != nil {
			t.Fatal(err)
		}
	}
}

// catalogNonWriters are keys that may read the catalog but not change it.
var catalogNonWriters = []string{aAdmin, aStaff, aViewer, provViewer}

// catalogAuthzCases are the catalog operations for authzCases. The
// catalog is the provider's offer to everybody: there is no foreign
// object.
func (e *env) catalogAuthzCases() []authzCase {
	w := catalogNonWriters
	return []authzCase{
		{method: "GET", path: "/locations/bus02/host-pools"},
		{method: "POST", path: "/locations/bus02/host-pools", body: `{"name":"X"}`, forbidden: w},
		{method: "GET", path: "/host-pools/" + poolGeneral},
		{method: "PATCH", path: "/host-pools/" + poolGeneral, body: `{"name":"X"}`, forbidden: w},
		{method: "DELETE", path: "/host-pools/" + poolPerformance, forbidden: w},
		{method: "GET", path: "/images"},
		{method: "GET", path: "/images/ubuntu"},
		{method: "PUT", path: "/images/x1", body: `{"displayName":"X"}`, forbidden: w},
		{method: "DELETE", path: "/images/ubuntu", forbidden: w},
		{method: "GET", path: "/vm-parameters"},
		{method: "PUT", path: "/vm-parameters/vcpu", body: `{"mandatory":true,"min":1,"max":2}`, forbidden: w},
		{method: "DELETE", path: "/vm-parameters/vcpu", forbidden: w},
	}
}

// catalogBadRoutes are the catalog operations for badRoutes.
func (e *env) catalogBadRoutes() []badRoute {
	join := func(lists ...[]badCase) []badCase {
		var out []badCase
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	pool := "/host-pools/" + poolGeneral
	vcpu := `"mandatory":true,"min":1,"max":16`
	return []badRoute{
		{"POST", "/locations/bus02/host-pools", join(bodyCases(`"name":"n"`), nameCases("name", ""), []badCase{
			{name: "name missing", body: `{}`, status: 422, field: "name"},
			{name: "name taken", body: `{"name":"General"}`, status: 409, field: "name", specValid: true},
			{name: "id malformed", body: `{"id":"x","name":"n"}`, status: 422, field: "id"},
			{name: "id taken", body: `{"id":"` + poolPerformance + `","name":"n"}`, status: 409, field: "id", specValid: true},
			{name: "description too long", body: `{"name":"n","description":"` + strings.Repeat("d", 1001) + `"}`, status: 422, field: "description"},
			{name: "isDefault string", body: `{"name":"n","isDefault":"yes"}`, status: 422, field: "isDefault"},
			{name: "location unknown", path: "/locations/nowhere1/host-pools", body: `{"name":"n"}`, status: 404, field: "slug", specValid: true},
			{name: "location malformed", path: "/locations/NO/host-pools", body: `{"name":"n"}`, status: 422, field: "slug"},
			{name: "not provider staff", key: aAdmin, body: `{"name":"n"}`, status: 403, specValid: true},
		})},
		{"PATCH", pool, join(bodyCases(`"name":"n"`), nameCases("name", ""), pathIDCases("/host-pools/", `{"name":"n"}`), []badCase{
			{name: "nothing to change", body: `{}`, status: 400, field: "body", specValid: true},
			{name: "unset the default", body: `{"isDefault":false}`, status: 400, field: "isDefault", specValid: true},
			{name: "name taken", body: `{"name":"Performance"}`, status: 409, field: "name", specValid: true},
			{name: "description wrong type", body: `{"description":1}`, status: 422, field: "description"},
			{name: "not provider staff", key: aAdmin, body: `{"name":"n"}`, status: 403, specValid: true},
		})},
		{"DELETE", pool, join(pathIDCases("/host-pools/", ""), []badCase{
			{name: "the default with others", status: 409, specValid: true},
			{name: "not provider staff", key: aAdmin, path: "/host-pools/" + poolPerformance, status: 403, specValid: true},
		})},
		{"PUT", "/images/x1", join(bodyCases(`"displayName":"X"`), nameCases("displayName", ""), []badCase{
			{name: "displayName missing", body: `{}`, status: 422, field: "displayName"},
			{name: "osName malformed", path: "/images/X1", body: `{"displayName":"X"}`, status: 422, field: "osName"},
			{name: "osName too long", path: "/images/" + strings.Repeat("x", 65), body: `{"displayName":"X"}`, status: 422, field: "osName"},
			{name: "uiPosition negative", body: `{"displayName":"X","uiPosition":-1}`, status: 422, field: "uiPosition"},
			{name: "icon wrong type", body: `{"displayName":"X","icon":false}`, status: 422, field: "icon"},
			{name: "versions not a list", body: `{"displayName":"X","versions":"8"}`, status: 422, field: "versions"},
			{name: "osVersion empty", body: `{"displayName":"X","versions":[{"osVersion":"","published":true}]}`, status: 422, field: "versions[0].osVersion"},
			{name: "published missing", body: `{"displayName":"X","versions":[{"osVersion":"8"}]}`, status: 422, field: "versions[0].published"},
			{name: "osVersion with a space", body: `{"displayName":"X","versions":[{"osVersion":"8 1","published":true}]}`, status: 400, field: "versions", specValid: true},
			{name: "osVersion twice", body: `{"displayName":"X","versions":[{"osVersion":"8","published":true},{"osVersion":"8","published":false}]}`, status: 400, field: "versions", specValid: true},
			{name: "unset the default", path: "/images/almalinux", body: `{"displayName":"Almalinux"}`, status: 400, field: "isDefault", specValid: true},
			{name: "not provider staff", key: aAdmin, body: `{"displayName":"X"}`, status: 403, specValid: true},
		})},
		{"DELETE", "/images/ubuntu", []badCase{
			{name: "unknown", path: "/images/plan9", status: 404, specValid: true},
			{name: "osName malformed", path: "/images/X", status: 422, field: "osName"},
			{name: "the default", path: "/images/almalinux", status: 409, specValid: true},
			{name: "not provider staff", key: aAdmin, status: 403, specValid: true},
		}},
		{"PUT", "/vm-parameters/vcpu", join(bodyCases(vcpu), []badCase{
			{name: "parameter unknown", path: "/vm-parameters/colour", body: `{` + vcpu + `}`, status: 422, field: "parameter"},
			{name: "mandatory missing", body: `{"min":1,"max":16}`, status: 422, field: "mandatory"},
			{name: "min missing", body: `{"mandatory":true,"max":16}`, status: 400, field: "min", specValid: true},
			{name: "max missing", body: `{"mandatory":true,"min":1}`, status: 400, field: "max", specValid: true},
			{name: "max below min", body: `{"mandatory":true,"min":4,"max":2}`, status: 400, field: "max", specValid: true},
			{name: "min negative", body: `{"mandatory":true,"min":-1,"max":2}`, status: 422, field: "min"},
			{name: "max too large", body: `{"mandatory":true,"min":1,"max":2147483648}`, status: 422, field: "max"},
			{name: "expression on a range", body: `{` + vcpu + `,"expression":"^x$"}`, status: 400, field: "expression", specValid: true},
			{name: "description too long", body: `{` + vcpu + `,"description":"` + strings.Repeat("d", 1001) + `"}`, status: 422, field: "description"},
			{name: "limit sets nothing", body: `{` + vcpu + `,"limits":[{"osName":"windows"}]}`, status: 400, field: "limits", specValid: true},
			{name: "limit out of range", body: `{` + vcpu + `,"limits":[{"osName":"windows","min":17}]}`, status: 400, field: "limits", specValid: true},
			{name: "limit osName twice", body: `{` + vcpu + `,"limits":[{"osName":"windows","min":2},{"osName":"windows","max":8}]}`, status: 400, field: "limits", specValid: true},
			{name: "limit osName malformed", body: `{` + vcpu + `,"limits":[{"osName":"Windows","min":2}]}`, status: 422, field: "limits[0].osName"},
			{name: "regexp without expression", path: "/vm-parameters/name", body: `{"mandatory":true}`, status: 400, field: "expression", specValid: true},
			{name: "expression RE2 cannot check", path: "/vm-parameters/name", body: `{"mandatory":true,"expression":"^a(?=b)c$"}`, status: 400, field: "expression", specValid: true},
			{name: "min on a regexp", path: "/vm-parameters/password", body: `{"mandatory":true,"expression":"^.{8,}$","min":8}`, status: 400, field: "min", specValid: true},
			{name: "limits on os_version", path: "/vm-parameters/os_version", body: `{"mandatory":true,"limits":[{"osName":"ubuntu","mandatory":false}]}`, status: 400, field: "limits", specValid: true},
			{name: "not provider staff", key: aAdmin, body: `{` + vcpu + `}`, status: 403, specValid: true},
		})},
		{"DELETE", "/vm-parameters/vcpu", []badCase{
			{name: "parameter unknown", path: "/vm-parameters/colour", status: 422, field: "parameter"},
			{name: "not provider staff", key: aAdmin, status: 403, specValid: true},
		}},
	}
}

// scenarioCatalog walks every catalog operation's happy path, reading
// every change back.
func (e *env) scenarioCatalog(t *testing.T) {
	// Host pools: the seeded ones, a new one, made default, renamed,
	// deleted.
	pools := e.ok(t, 200, "GET", "/locations/bus02/host-pools", aViewer, "")["items"].([]any)
	if len(pools) != 2 || pools[0].(map[string]any)["id"] != poolGeneral || pools[0].(map[string]any)["isDefault"] != true {
		t.Fatalf("pools = %v", pools)
	}
	const newPool = "0190a8c4-1111-7000-8000-000000000001"
	p := e.ok(t, 201, "POST", "/locations/bus02/host-pools", provStaff, `{"id":"`+newPool+`","name":" GPU ","description":"big"}`)
	if p["id"] != newPool || p["name"] != "GPU" || p["location"] != "bus02" || p["isDefault"] != false || p["description"] != "big" {
		t.Errorf("created pool = %v", p)
	}
	if got := e.ok(t, 200, "GET", "/host-pools/"+newPool, aViewer, ""); !reflect.DeepEqual(got, p) {
		t.Errorf("read back %v, created %v", got, p)
	}
	p = e.ok(t, 200, "PATCH", "/host-pools/"+newPool, provAdmin, `{"isDefault":true,"description":"bigger"}`)
	if p["isDefault"] != true || p["name"] != "GPU" || p["description"] != "bigger" {
		t.Errorf("updated pool = %v", p)
	}
	if g := e.ok(t, 200, "GET", "/host-pools/"+poolGeneral, aViewer, ""); g["isDefault"] != false {
		t.Errorf("the old default = %v", g)
	}
	e.ok(t, 200, "PATCH", "/host-pools/"+poolGeneral, provStaff, `{"isDefault":true}`)
	e.ok(t, 204, "DELETE", "/host-pools/"+newPool, provStaff, "")
	if r := e.do(t, e.req("GET", "/host-pools/"+newPool, aViewer, "")); r.Status != 404 {
		t.Errorf("deleted pool: %d", r.Status)
	}
	// A location's first pool is its default.
	e.ok(t, 200, "PUT", "/locations/tll", provAdmin, `{"displayName":"Tallinn","countryCode":"est"}`)
	first := e.ok(t, 201, "POST", "/locations/tll/host-pools", provStaff, `{"name":"Only"}`)
	if first["isDefault"] != true {
		t.Errorf("first pool of a location = %v", first)
	}
	if r := e.do(t, e.req("DELETE", "/locations/tll", provAdmin, "")); r.Status != http.StatusConflict {
		t.Errorf("delete a location with pools: %d %s", r.Status, r.Body)
	}
	e.ok(t, 204, "DELETE", "/host-pools/"+str(first["id"]), provStaff, "")
	e.ok(t, 204, "DELETE", "/locations/tll", provAdmin, "")

	// Images.
	ims := e.ok(t, 200, "GET", "/images", aViewer, "")["items"].([]any)
	if len(ims) != 5 || ims[0].(map[string]any)["osName"] != "almalinux" || ims[0].(map[string]any)["isDefault"] != true {
		t.Fatalf("images = %v", ims)
	}
	im := e.ok(t, 200, "PUT", "/images/fedora", provStaff,
		`{"displayName":"Fedora","uiPosition":9,"isAppCatalog":true,"icon":"f.svg","versions":[{"osVersion":"40","published":true},{"osVersion":"39","displayName":"39 (old)","published":false}]}`)
	if im["osName"] != "fedora" || im["isDefault"] != false || im["isAppCatalog"] != true ||
		!reflect.DeepEqual(im["versions"], []any{
			map[string]any{"osVersion": "40", "displayName": "40", "published": true},
			map[string]any{"osVersion": "39", "displayName": "39 (old)", "published": false}}) {
		t.Errorf("put image = %v", im)
	}
	if got := e.ok(t, 200, "GET", "/images/fedora", aViewer, ""); !reflect.DeepEqual(got, im) {
		t.Errorf("read back %v, put %v", got, im)
	}
	// Its published version is now a VM parameter value.
	params := e.ok(t, 200, "GET", "/vm-parameters", aViewer, "")["items"].([]any)
	var names []string
	for _, p := range params {
		names = append(names, str(p.(map[string]any)["parameter"]))
	}
	if !slices.Equal(names, catalog.ParamNames()) {
		t.Fatalf("parameters = %v", names)
	}
	osName := params[2].(map[string]any)
	if vs := osName["values"].([]any); !slices.Contains(vs, any("fedora")) {
		t.Errorf("os_name values = %v", vs)
	}
	e.ok(t, 204, "DELETE", "/images/fedora", provStaff, "")
	if r := e.do(t, e.req("GET", "/images/fedora", aViewer, "")); r.Status != 404 {
		t.Errorf("deleted image: %d", r.Status)
	}

	// VM parameter rules.
	v := e.ok(t, 200, "PUT", "/vm-parameters/vcpu", provStaff,
		`{"description":"CPUs.","mandatory":true,"min":1,"max":32,"limits":[{"osName":"windows","min":4}]}`)
	if v["min"] != 1.0 || v["max"] != 32.0 || v["limitedBy"] != "os_name" || v["constraint"] != "range" || v["type"] != "integer" ||
		!reflect.DeepEqual(v["limits"], []any{map[string]any{"osName": "windows", "min": 4.0}}) {
		t.Errorf("put vcpu = %v", v)
	}
	rules, err := e.deps.Catalog.VMRules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.CheckResize("windows", 3, 0); err == nil || !strings.HasPrefix(err.Error(), "vcpu: must be between 4 and 32 for windows") {
		t.Errorf("the new rule is not enforced: %v", err)
	}
	pw := e.ok(t, 200, "PUT", "/vm-parameters/password", provAdmin, `{"mandatory":true,"expression":"^(?=.*[!#]).{10,}$"}`)
	if pw["expression"] != "^(?=.*[!#]).{10,}$" || pw["constraint"] != "regexp" {
		t.Errorf("put password = %v", pw)
	}
	e.ok(t, 204, "DELETE", "/vm-parameters/username", provStaff, "")
	params = e.ok(t, 200, "GET", "/vm-parameters", aViewer, "")["items"].([]any)
	if len(params) != 7 {
		t.Errorf("after the delete: %v", params)
	}
	// Back to the seed's rules.
	for _, in := range catalog.DefaultVMParams() {
		if _, err := e.deps.Catalog.PutVMParam(t.Context(), actor.System(""), in); err != nil {
			t.Fatal(err)
		}
	}
}

// catalogTestEnv is the env with the catalog routes registered even while
// native.go does not register them yet, and the catalog seeded.
func catalogTestEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	spec := catalogSpec30()
	e := newEnv(t, d, apitest.NewValidator(t, spec))
	e.h = http.MaxBytesHandler(middleware.Chain(catalogHandler(e.deps), middleware.RequestID), outerLimit)
	// Seeded by newEnv once fixture_test.go calls seedCatalog.
	if ps, err := e.deps.Catalog.ListHostPools(t.Context(), "bus02"); err != nil {
		t.Fatal(err)
	} else if len(ps) == 0 {
		e.seedCatalog(t)
	}
	return e
}

func catalogAPI(s *server, mux *http.ServeMux) huma.API {
	api := newAPI(s, mux)
	if _, ok := api.OpenAPI().Paths["/vm-parameters"]; !ok {
		s.registerCatalogResources(api)
	}
	return api
}

func catalogSpec30() []byte {
	_, spec := mustSpecs(catalogAPI(&server{}, http.NewServeMux()))
	return spec
}

// catalogHandler is Handler with the catalog routes.
func catalogHandler(d Deps) http.Handler {
	s := &server{d: d}
	mux := http.NewServeMux()
	catalogAPI(s, mux)
	return middleware.Chain(problemRoutes(mux, s.writeError),
		authn.Middleware(authn.Config{Auth: d.Access, Limiter: d.Limiter, Credential: authn.Bearer, WriteError: s.writeError}),
		bufferBody(maxBody, s.writeError),
		idempotency.Middleware(d.Idem, d.Clock, s.writeError),
	)
}

// TestCatalogResources runs the catalog's entries of the shared tables on
// their own: authorization, bad input (nothing changes), and the scenario
// covering every catalog operation.
func TestCatalogResources(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := catalogTestEnv(t, d)
		before := e.snapshot(t)
		catalogState := func() any {
			var out []any
			for _, path := range []string{"/locations/bus02/host-pools", "/images", "/vm-parameters"} {
				out = append(out, e.ok(t, 200, "GET", path, provAdmin, "")["items"])
			}
			return out
		}
		beforeCatalog := catalogState()
		t.Run("authorization", func(t *testing.T) {
			for _, c := range e.catalogAuthzCases() {
				for _, key := range []string{noKey, revoked} {
					wantProblem(t, e.do(t, e.req(c.method, c.path, key, c.body)), http.StatusUnauthorized, "")
				}
				for _, key := range c.forbidden {
					wantProblem(t, e.do(t, e.req(c.method, c.path, key, c.body)), http.StatusForbidden, "")
				}
			}
		})
		t.Run("bad input", func(t *testing.T) {
			for _, rt := range e.catalogBadRoutes() {
				for _, c := range rt.cases {
					t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
						key, path := c.key, c.path
						if key == "" {
							key = provAdmin
						}
						if path == "" {
							path = rt.path
						}
						r := e.req(rt.method, path, key, c.body)
						if c.body == "" && rt.method != "DELETE" {
							r.Body = []byte{}
						}
						r.ExpectInvalidRequest = !c.specValid
						wantProblem(t, e.do(t, r), c.status, c.field)
					})
				}
			}
		})
		if after := e.snapshot(t); !reflect.DeepEqual(before, after) {
			t.Errorf("refused requests changed the database:\nbefore %v\nafter  %v", before, after)
		}
		if after := catalogState(); !reflect.DeepEqual(beforeCatalog, after) {
			t.Errorf("refused requests changed the catalog:\nbefore %v\nafter  %v", beforeCatalog, after)
		}
		// Every catalog operation has an authorization case and every
		// mutating one a bad-input route.
		var ops, mutating []string
		for path, item := range catalogPaths() {
			for _, m := range item {
				ops = append(ops, m+" "+path)
				if m != "GET" {
					mutating = append(mutating, m+" "+path)
				}
			}
		}
		if n := len(e.catalogAuthzCases()); n != len(ops) {
			t.Errorf("%d authorization cases for %d operations", n, len(ops))
		}
		if n := len(e.catalogBadRoutes()); n != len(mutating) {
			t.Errorf("%d bad-input routes for %d mutating operations", n, len(mutating))
		}
		t.Run("scenario", e.scenarioCatalog)
		var uncovered []string
		for _, op := range e.v.Uncovered() {
			if slices.Contains(ops, op) {
				uncovered = append(uncovered, op)
			}
		}
		if len(uncovered) != 0 {
			t.Errorf("catalog operations never answered with 2xx: %q", uncovered)
		}
	})
}

// catalogPaths returns the catalog's paths and their methods.
func catalogPaths() map[string][]string {
	out := map[string][]string{}
	for path, item := range catalogAPI(&server{}, http.NewServeMux()).OpenAPI().Paths {
		for _, m := range []struct {
			name string
			op   *huma.Operation
		}{{"GET", item.Get}, {"POST", item.Post}, {"PUT", item.Put}, {"PATCH", item.Patch}, {"DELETE", item.Delete}} {
			if m.op != nil && slices.Contains(m.op.Tags, "catalog") {
				out[path] = append(out[path], m.name)
			}
		}
	}
	return out
}
