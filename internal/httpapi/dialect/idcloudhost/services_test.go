package idcloudhost_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs/jobstest"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/services/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The seed's managed-service numbers: its requests name billing accounts
// 12 and 13 and two packages.
const (
	svcAcct         = 12
	svcAcct2        = 13
	svcAcctFrozen   = 14
	svcPackage      = "40745556-7e2a-4a16-b055-ecececfb6c57" // get, update, secrets, delete
	svcWhitelistPkg = "7d353c9d-ea50-4516-a752-898b81ff0ef7" // the whitelist requests
)

// svcJobs records the step jobs (the tests run them, as River would).
type svcJobs struct{ jobstest.Recorder }

// last is the latest package step (other families' jobs are skipped).
func (j *svcJobs) last() services.PackageStep {
	all := j.All()
	for i := len(all) - 1; i >= 0; i-- {
		if s, ok := all[i].(services.PackageStep); ok {
			return s
		}
	}
	panic("no package step was enqueued")
}

// svcFixture is the dialect fixture with the managed services wired in:
// the sim provider, a network service with an address pool in cyc01 and
// bus02, the seed's accounts 12 and 13 of user 8 (and a frozen 14), and,
// when seeded, the seed's two packages.
type svcFixture struct {
	*fixture
	svc   *services.Service
	prov  *sim.Provider
	jobs  *svcJobs
	meter *metering.SegmentMeter
}

func newServicesFixture(t *testing.T, d *db.DB, v *apitest.Validator, seedPackages bool) *svcFixture {
	t.Helper()
	f := &svcFixture{fixture: newFixture(t, d, v), prov: sim.New(0), jobs: &svcJobs{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	st := f.st.WithJobs(f.jobs)
	prices := f.deps.Pricing.(*pricing.Service)
	net := network.NewService(sqlstore.Network{Store: st}, f.bil, netsim.New(0), f.clk, network.Config{})
	for loc, cidr := range map[string]string{"cyc01": "203.0.113.0/28", "bus02": "203.0.113.16/28"} {
		_, err := net.AddPoolRange(f.ctx, sys, network.AddPoolRange{Location: loc, CIDR: cidr})
		must(err)
	}
	var err error
	f.svc, err = services.NewService(sqlstore.Services{Store: st}, f.bil, net, prices, f.prov, f.clk, services.Config{})
	must(err)
	f.deps.Services = f.svc
	f.h = middleware.Chain(idcloudhost.Handler(f.deps), middleware.RequestID, middleware.BodyLimit(1<<20))
	hourly := metering.NewHourlyService(sqlstore.MeteringHourly{Store: f.st}, prices, f.clk)
	f.meter = metering.NewSegmentMeter(f.st, hourly, nil)

	for _, id := range []int64{svcAcct, svcAcct2, svcAcctFrozen} {
		_, err := f.bil.CreateAccount(f.ctx, sys, billing.CreateAccountInput{ID: id, OrgID: f.customer.ID,
			UserID: access.DemoIDCHUserID, Data: billing.AccountData{Title: "services", Email: "user@example.com"}})
		must(err)
	}
	ok, err := f.st.SetBillingAccountRestriction(f.ctx, svcAcctFrozen, billing.RestrictionNone, billing.RestrictionFrozen,
		"unpaid invoice", f.clk.Now())
	must(err)
	if !ok {
		t.Fatal("seed: account 14 not frozen")
	}
	if seedPackages {
		for _, id := range []string{svcPackage, svcWhitelistPkg} {
			_, err := f.svc.Create(f.ctx, f.user8, services.CreateInput{UUID: id, BillingAccountID: svcAcct, Location: "cyc01",
				Service: "postgresql", Version: "14.0", DisplayName: "My Postgre Service 14.0", VMCPU: 1, VMRAMMB: 1024,
				VMDiskGB: 30, IsMultiNode: true})
			must(err)
		}
	}
	return f
}

// sendSeed sends a seed request file verbatim: form lines as curl -d
// does, or, after a "Content-Type: application/json" line, the JSON body
// (its Python literals True/False/None as JSON, ID-amb-5).
func (f *svcFixture) sendSeed(t *testing.T, key, name string) apitest.Response {
	t.Helper()
	return f.send(t, key, readSeedRequest(t, name))
}

func (f *svcFixture) sendJSON(t *testing.T, key, method, path, body string) apitest.Response {
	t.Helper()
	return f.do(t, key, apitest.Request{Method: method, Path: prefix + path,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
}

// svcSeedBody is the create request's JSON body, decoded.
func svcSeedBody(t *testing.T) map[string]any {
	t.Helper()
	r := readSeedRequest(t, "createServicePackage")
	var m map[string]any
	if err := json.Unmarshal(idcloudhost.PythonLiteralsToJSON([]byte(r.json)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func svcJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var svcDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// checkPackage checks a package object against the seed's sample: the
// same fields (deleted_at added, null until the delete) with the same JSON
// types, the sample's prices exactly, and the resources' shapes.
func checkPackage(t *testing.T, got obj, sampleName string) {
	t.Helper()
	s := sample(t, sampleName)
	if list, ok := s.([]any); ok {
		s = list[len(list)-1] // the list sample's multi-node package
	}
	want := s.(map[string]any)
	keys := slices.Sorted(maps.Keys(want))
	if !slices.Contains(keys, "deleted_at") {
		keys = append(keys, "deleted_at")
		slices.Sort(keys)
	}
	if gotKeys := slices.Sorted(maps.Keys(got)); !slices.Equal(gotKeys, keys) {
		t.Fatalf("package fields %v, want %v", gotKeys, keys)
	}
	for k, v := range want {
		if svcKind(got[k]) != svcKind(v) {
			t.Errorf("%s is %s, the sample's is %s", k, svcKind(got[k]), svcKind(v))
		}
	}
	if svcJSON(t, got["prices"]) != svcJSON(t, want["prices"]) {
		t.Errorf("prices %s, want the sample's %s", svcJSON(t, got["prices"]), svcJSON(t, want["prices"]))
	}
	props := got["properties"].(map[string]any)
	for k, v := range want["properties"].(map[string]any) {
		if svcKind(props[k]) != svcKind(v) {
			t.Errorf("properties.%s is %s, want %s", k, svcKind(props[k]), svcKind(v))
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if !svcDateTime.MatchString(got[k].(string)) {
			t.Errorf("%s = %q", k, got[k])
		}
	}
	if d, ok := got["deleted_at"].(string); got["deleted_at"] != nil && (!ok || !svcDateTime.MatchString(d)) {
		t.Errorf("deleted_at = %v", got["deleted_at"])
	}
	// Resources: the sample's shape per type.
	shapes := map[string]any{}
	for _, r := range want["resources"].([]any) {
		shapes[r.(map[string]any)["resource_type"].(string)] = r
	}
	for _, r := range got["resources"].([]any) {
		rm := r.(map[string]any)
		w := shapes[rm["resource_type"].(string)]
		if svcShape(rm) != svcShape(w) {
			t.Errorf("resource %s, want the shape of %s", svcJSON(t, rm), svcJSON(t, w))
		}
	}
}

// svcKind is a JSON value's kind, integers told from other numbers.
func svcKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// svcShape is a value's structure: keys and kinds, array elements by the
// first one.
func svcShape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		var b strings.Builder
		b.WriteString("{")
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b.WriteString(k + ":" + svcShape(v[k]) + ",")
		}
		return b.String() + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + svcShape(v[0]) + "]"
	}
	return svcKind(v)
}

// TestServicesSeedRequests sends every managed-service curl example of the
// seed verbatim, globally and under a location slug, in an order that
// gives each its documented answer, and checks the documented fields,
// values and JSON types.
func TestServicesSeedRequests(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	for _, variant := range []string{"", "InLocation"} {
		// One subtest per variant, each on fresh databases (subtest names
		// must stay unique: a "#01" suffix would end up in the SQLite
		// file URI as a fragment).
		t.Run("requests"+variant, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newServicesFixture(t, d, v, true)
				f.clk.Advance(time.Minute) // the new package is listed after the seeded ones
				send := func(name string) apitest.Response {
					t.Helper()
					resp := f.sendSeed(t, keyUser, name+variant)
					wantStatus(t, resp, http.StatusOK)
					return resp
				}

				// ID-100: the multi-node postgres of the sample.
				p := decode[obj](t, send("createServicePackage"))
				checkPackage(t, p, "createServicePackage")
				if num(t, p, "billing_account_id") != "12" || p["display_name"] != "My Postgre Service 14.0" ||
					p["is_multi_node"] != true || p["is_deleted"] != false || p["status"] != "active" ||
					p["service"] != "postgresql" || p["version"] != "14.0" || num(t, p, "user_id") != "8" ||
					p["deleted_at"] != nil || !ids.Valid(p["uuid"].(string)) {
					t.Fatalf("created package: %s", svcJSON(t, p))
				}
				props := p["properties"].(map[string]any)
				res := p["resources"].([]any)
				if props["location"] != "cyc01" || num(t, props, "port") != "5432" || props["sql_user"] != "wadmin" ||
					!strings.HasPrefix(props["service_ip"].(string), "203.0.113.") || len(res) != 3 {
					t.Fatalf("properties %v, %d resources", props, len(res))
				}
				vip := res[0].(map[string]any)
				if vip["resource_type"] != "virtual_ip" || vip["resource_location"] != "cyc01" ||
					vip["resource_allocation"].(map[string]any)["address"] != props["service_ip"] {
					t.Fatalf("virtual ip: %v", vip)
				}
				for _, r := range res[1:] {
					rm := r.(map[string]any)
					alloc := rm["resource_allocation"].(map[string]any)
					disk := alloc["storage"].([]any)[0].(map[string]any)
					if rm["resource_type"] != "vm" || num(t, alloc, "memory") != "4096" || num(t, alloc, "vcpu") != "2" ||
						alloc["status"] != "running" || disk["primary"] != true || num(t, disk, "size") != "40" ||
						!ids.Valid(disk["uuid"].(string)) || len(disk["replica"].([]any)) != 0 {
						t.Fatalf("vm resource: %v", rm)
					}
				}
				created := p["uuid"].(string)

				// ID-101: the three packages, oldest first.
				list := decode[[]obj](t, send("listServicePackages"))
				if len(list) != 3 || list[0]["uuid"] != svcPackage || list[1]["uuid"] != svcWhitelistPkg || list[2]["uuid"] != created {
					t.Fatalf("list: %s", svcJSON(t, list))
				}
				for _, p := range list {
					checkPackage(t, p, "listServicePackages")
				}

				// ID-102.
				p = decode[obj](t, send("getServicePackage"))
				checkPackage(t, p, "getServicePackage")
				if p["uuid"] != svcPackage || p["status"] != "active" {
					t.Fatalf("get: %s", svcJSON(t, p))
				}

				// ID-103: the body's uuid is not the package's; the path wins.
				f.clk.Advance(time.Minute)
				p = decode[obj](t, send("updateServicePackage"))
				checkPackage(t, p, "updateServicePackage")
				if p["uuid"] != svcPackage || num(t, p, "billing_account_id") != "13" || p["display_name"] != "New name" ||
					p["updated_at"] == p["created_at"] {
					t.Fatalf("update: %s", svcJSON(t, p))
				}

				// ID-104.
				sec := decode[obj](t, send("getServiceSecrets"))
				if pass, _ := sec["sql_pass"].(string); len(sec) != 1 || len(pass) != services.PasswordLength {
					t.Fatalf("secrets: %v", sec)
				}

				// ID-106..108: empty, add, read, delete.
				if wl := decode[[]string](t, send("getServiceWhitelist")); len(wl) != 0 {
					t.Fatalf("initial whitelist %v", wl)
				}
				if wl := decode[[]string](t, send("addServiceWhitelist")); !slices.Equal(wl, []string{"1.2.3.0/24"}) {
					t.Fatalf("after the add: %v", wl)
				}
				if wl := decode[[]string](t, send("getServiceWhitelist")); !slices.Equal(wl, []string{"1.2.3.0/24"}) {
					t.Fatalf("whitelist: %v", wl)
				}
				if wl := decode[[]string](t, send("deleteServiceWhitelist")); len(wl) != 0 {
					t.Fatalf("after the delete: %v", wl)
				}
				if wl := decode[[]string](t, send("deleteServiceWhitelist")); len(wl) != 0 {
					t.Fatalf("deleting an absent entry: %v", wl)
				}

				// ID-105: a soft delete.
				f.clk.Advance(time.Minute)
				p = decode[obj](t, send("deleteServicePackage"))
				checkPackage(t, p, "deleteServicePackage")
				if p["status"] != "deleted" || p["is_deleted"] != true || p["deleted_at"] != serviceTimeOf(f.clk.Now()) {
					t.Fatalf("delete: %s", svcJSON(t, p))
				}
				for _, r := range p["resources"].([]any) {
					if a := r.(map[string]any)["resource_allocation"].(map[string]any); len(a) != 0 {
						t.Fatalf("allocation after the delete: %v", a)
					}
				}
				// Deleted: still readable, no longer listed.
				if p := decode[obj](t, send("getServicePackage")); p["status"] != "deleted" {
					t.Fatalf("get after the delete: %v", p["status"])
				}
				if list := decode[[]obj](t, send("listServicePackages")); len(list) != 2 {
					t.Fatalf("list after the delete: %d", len(list))
				}
			})
		})
	}
}

func serviceTimeOf(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// TestServicesAccess: no key is 401 on every route; another user's
// packages are not found and stay as they were; a restricted token works
// on its own account only.
func TestServicesAccess(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newServicesFixture(t, d, v, true)
		names := []string{"createServicePackage", "listServicePackages", "getServicePackage", "updateServicePackage",
			"getServiceSecrets", "deleteServicePackage", "getServiceWhitelist", "addServiceWhitelist", "deleteServiceWhitelist"}
		for _, n := range names {
			for _, variant := range []string{"", "InLocation"} {
				wantStatus(t, f.sendSeed(t, "", n+variant), http.StatusUnauthorized)
			}
		}
		before := f.sendSeed(t, keyUser, "getServicePackage").Body
		for _, n := range names[2:] {
			resp := f.sendSeed(t, f.otherKey, n)
			wantStatus(t, resp, http.StatusNotFound)
		}
		if list := decode[[]obj](t, f.sendSeed(t, f.otherKey, "listServicePackages")); len(list) != 0 {
			t.Fatalf("another user lists %d packages", len(list))
		}
		wantStatus(t, f.sendSeed(t, f.otherKey, "createServicePackage"), http.StatusNotFound) // account 12 is not theirs
		if after := f.sendSeed(t, keyUser, "getServicePackage").Body; !bytes.Equal(before, after) {
			t.Fatalf("another user's requests changed the package:\n%s\n%s", before, after)
		}

		// The seed's restricted token (account 6): naming account 12 is
		// 403 in the gateway's shape; without an account it means 6, whose
		// unpaid February invoice puts it below its floor (credit control).
		resp := f.sendSeed(t, keyRestricted, "createServicePackage")
		wantStatus(t, resp, http.StatusForbidden)
		if !strings.Contains(string(resp.Body), "consumer::resource_forbidden") {
			t.Fatalf("403 body: %s", resp.Body)
		}
		body := svcSeedBody(t)
		delete(body, "billing_account_id")
		resp = f.sendJSON(t, keyRestricted, "POST", "/user-resource/service/package", svcJSON(t, body))
		wantStatus(t, resp, http.StatusConflict)
		if !strings.Contains(errorMessage(t, resp), "billing_account_id: billing account 6 is below its floor") {
			t.Fatalf("message %q", errorMessage(t, resp))
		}
		// A token restricted to account 13: its account without naming it.
		tok, err := f.idn.CreateTokenFor(f.ctx, sys, access.DemoIDCHUserID, access.CreateIDCHTokenInput{Restricted: true,
			BillingAccountID: svcAcct2})
		if err != nil {
			t.Fatal(err)
		}
		resp = f.sendJSON(t, tok.Secret, "POST", "/user-resource/service/package", svcJSON(t, body))
		wantStatus(t, resp, http.StatusOK)
		mine := decode[obj](t, resp)
		if num(t, mine, "billing_account_id") != "13" {
			t.Fatalf("restricted create billed to %v", mine["billing_account_id"])
		}
		if list := decode[[]obj](t, f.sendSeed(t, tok.Secret, "listServicePackages")); len(list) != 1 || list[0]["uuid"] != mine["uuid"] {
			t.Fatalf("the restricted token lists %s", svcJSON(t, list))
		}
		wantStatus(t, f.sendSeed(t, tok.Secret, "getServicePackage"), http.StatusNotFound) // account 12's
		resp = f.sendJSON(t, tok.Secret, "PATCH", "/user-resource/service/package/"+mine["uuid"].(string), `{"billing_account_id": 12}`)
		wantStatus(t, resp, http.StatusForbidden)
		// A global token without an account: required.
		resp = f.sendJSON(t, keyUser, "POST", "/user-resource/service/package", svcJSON(t, body))
		wantStatus(t, resp, http.StatusBadRequest)
		if !strings.Contains(errorMessage(t, resp), "billing_account_id") {
			t.Fatalf("message %q", errorMessage(t, resp))
		}

		// Locations: a package of cyc01 is not found under bus02; a
		// package created under bus02 lives there.
		wantStatus(t, f.form(t, keyUser, "GET", "/bus02/user-resource/service/package/"+svcPackage, ""), http.StatusNotFound)
		if list := decode[[]obj](t, f.form(t, keyUser, "GET", "/bus02/user-resource/service/packages", "")); len(list) != 0 {
			t.Fatalf("bus02 lists %d packages", len(list))
		}
		resp = f.sendJSON(t, keyUser, "POST", "/bus02/user-resource/service/package", svcJSON(t, svcSeedBody(t)))
		wantStatus(t, resp, http.StatusOK)
		if p := decode[obj](t, resp); p["properties"].(map[string]any)["location"] != "bus02" ||
			!strings.HasPrefix(p["properties"].(map[string]any)["service_ip"].(string), "203.0.113.") {
			t.Fatalf("bus02 package: %v", p["properties"])
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/zzz99/user-resource/service/packages", ""), http.StatusNotFound)
	})
}

// TestServicesBadInput: every refused create or change answers 400 (404,
// 409) naming the field, and changes nothing.
func TestServicesBadInput(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newServicesFixture(t, d, v, true)
		count := func(table string) int {
			var n int
			if err := f.st.DB().Read().QueryRowContext(f.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		snapshot := func() string {
			list := f.sendSeed(t, keyUser, "listServicePackages").Body
			wl := f.sendSeed(t, keyUser, "getServiceWhitelist").Body
			return string(list) + string(wl) + svcJSON(t, []int{count("service_packages"), count("service_resources"),
				count("service_whitelist"), count("audit_log")})
		}
		before := snapshot()
		unchanged := func(what string) {
			t.Helper()
			if after := snapshot(); after != before {
				t.Fatalf("%s changed something:\n%s\n%s", what, before, after)
			}
		}
		type bodyCase struct {
			name    string
			mod     func(map[string]any)
			status  int
			field   string
			invalid bool // the spec refuses the request too
		}
		for _, c := range []bodyCase{
			{"no service", func(m map[string]any) { delete(m, "service") }, 400, "service", false},
			{"unknown service", func(m map[string]any) { m["service"] = "oracle" }, 400, "service", false},
			{"no version", func(m map[string]any) { delete(m, "version") }, 400, "version", false},
			{"unknown version", func(m map[string]any) { m["version"] = "9.6" }, 400, "version", false},
			{"empty name", func(m map[string]any) { m["display_name"] = " " }, 400, "display_name", false},
			{"no name", func(m map[string]any) { delete(m, "display_name") }, 400, "display_name", false},
			{"name too long", func(m map[string]any) { m["display_name"] = strings.Repeat("n", 256) }, 400, "display_name", false},
			{"no vcpu", func(m map[string]any) { delete(m, "vm_cpu") }, 400, "vm_cpu", false},
			{"zero vcpu", func(m map[string]any) { m["vm_cpu"] = 0 }, 400, "vm_cpu", false},
			{"17 vcpus", func(m map[string]any) { m["vm_cpu"] = 17 }, 400, "vm_cpu", false},
			{"vcpu text", func(m map[string]any) { m["vm_cpu"] = "two" }, 400, "vm_cpu", true},
			{"negative vcpu", func(m map[string]any) { m["vm_cpu"] = -2 }, 400, "vm_cpu", true},
			{"no ram", func(m map[string]any) { delete(m, "vm_ram") }, 400, "vm_ram", false},
			{"too little ram", func(m map[string]any) { m["vm_ram"] = 512 }, 400, "vm_ram", false},
			{"too much ram", func(m map[string]any) { m["vm_ram"] = 131072 }, 400, "vm_ram", false},
			{"no disk", func(m map[string]any) { delete(m, "vm_disk_gb") }, 400, "vm_disk_gb", false},
			{"too large a disk", func(m map[string]any) { m["vm_disk_gb"] = 241 }, 400, "vm_disk_gb", false},
			{"fractional disk", func(m map[string]any) { m["vm_disk_gb"] = 40.5 }, 400, "vm_disk_gb", true},
			{"parameters a number", func(m map[string]any) { m["package_parameters"] = 5 }, 400, "package_parameters", true},
			{"parameters an array string", func(m map[string]any) { m["package_parameters"] = "[1]" }, 400, "package_parameters", false},
			{"parameters bad JSON", func(m map[string]any) { m["package_parameters"] = "{location" }, 400, "package_parameters", false},
			{"multi-node maybe", func(m map[string]any) { m["is_multi_node"] = "maybe" }, 400, "is_multi_node", true},
			{"multi-node mariadb", func(m map[string]any) { m["service"], m["version"] = "mariadb", "10.5" }, 400, "is_multi_node", false},
			{"account text", func(m map[string]any) { m["billing_account_id"] = "twelve" }, 400, "billing_account_id", true},
			{"unknown account", func(m map[string]any) { m["billing_account_id"] = 999999 }, 404, "billing_account_id", false},
			{"another user's account", func(m map[string]any) { m["billing_account_id"] = acctOther }, 404, "billing_account_id", false},
			{"frozen account", func(m map[string]any) { m["billing_account_id"] = svcAcctFrozen }, 409, "billing_account_id", false},
		} {
			body := svcSeedBody(t)
			c.mod(body)
			resp := f.do(t, keyUser, apitest.Request{Method: "POST", Path: prefix + "/user-resource/service/package",
				Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(svcJSON(t, body)), ExpectInvalidRequest: c.invalid})
			if resp.Status != c.status || !strings.Contains(errorMessage(t, resp), c.field) {
				t.Fatalf("create, %s: %d %s, want %d naming %s", c.name, resp.Status, resp.Body, c.status, c.field)
			}
			unchanged("create, " + c.name)
		}
		resp := f.do(t, keyUser, apitest.Request{Method: "POST", Path: prefix + "/user-resource/service/package",
			Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"service": `), ExpectInvalidRequest: true})
		wantStatus(t, resp, http.StatusBadRequest)
		unchanged("create, broken JSON")
		// The seed's form of the same request works too: curl -d pairs.
		resp = f.form(t, keyUser, "POST", "/user-resource/service/package",
			"billing_account_id=12&service=mariadb&version=10.5&display_name=Maria5&vm_cpu=1&vm_ram=1024&vm_disk_gb=30&is_multi_node=False")
		wantStatus(t, resp, http.StatusOK)
		maria := decode[obj](t, resp)
		checkPackage(t, maria, "createServicePackage")
		if maria["is_multi_node"] != false || len(maria["resources"].([]any)) != 1 || num(t, maria["properties"].(map[string]any), "port") != "3306" {
			t.Fatalf("single-node mariadb: %s", svcJSON(t, maria))
		}
		before = snapshot()

		one := "/user-resource/service/package/" + svcPackage
		for _, c := range []struct {
			name, body string
			status     int
			field      string
			invalid    bool
		}{
			{"empty name", `{"display_name": ""}`, 400, "display_name", false},
			{"account text", `{"billing_account_id": "x"}`, 400, "billing_account_id", true},
			{"unknown account", `{"billing_account_id": 999999}`, 404, "billing_account_id", false},
			{"another user's account", `{"billing_account_id": 11, "display_name": "x"}`, 404, "billing_account_id", false},
		} {
			resp := f.do(t, keyUser, apitest.Request{Method: "PATCH", Path: prefix + one,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(c.body), ExpectInvalidRequest: c.invalid})
			if resp.Status != c.status || !strings.Contains(errorMessage(t, resp), c.field) {
				t.Fatalf("update, %s: %d %s, want %d naming %s", c.name, resp.Status, resp.Body, c.status, c.field)
			}
			unchanged("update, " + c.name)
		}
		wl := "/user-resource/service/package/" + svcWhitelistPkg + "/whitelist_addresses"
		for _, method := range []string{"POST", "DELETE"} {
			for _, body := range []string{"", "ip_address=", "ip_address=1.2.3.4/24", "ip_address=nonsense", "ip_address=1.2.3.4/33",
				"ip_address=10.0.0.300"} {
				resp := f.form(t, keyUser, method, wl, body)
				if resp.Status != 400 || !strings.Contains(errorMessage(t, resp), "ip_address") {
					t.Fatalf("%s whitelist %q: %d %s", method, body, resp.Status, resp.Body)
				}
				unchanged(method + " whitelist " + body)
			}
		}
		// Deleting an entry that is not there is a no-op.
		resp = f.form(t, keyUser, "DELETE", wl, "ip_address=9.9.9.9")
		wantStatus(t, resp, http.StatusOK)
		unchanged("deleting an absent entry")
		// A deleted package cannot be changed.
		wantStatus(t, f.sendSeed(t, keyUser, "deleteServicePackage"), http.StatusOK)
		before = snapshot()
		for _, r := range []apitest.Response{
			f.sendSeed(t, keyUser, "updateServicePackage"),
			f.sendSeed(t, keyUser, "getServiceSecrets"),
			f.form(t, keyUser, "POST", "/user-resource/service/package/"+svcPackage+"/whitelist_addresses", "ip_address=1.1.1.1"),
		} {
			wantStatus(t, r, http.StatusConflict)
		}
		unchanged("changes of a deleted package")
	})
}

// TestServicesProviderFailure: a failed provider step answers the package
// in its error state (not a 5xx), the job's retry completes it.
func TestServicesProviderFailure(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newServicesFixture(t, d, v, false)
		f.prov.FailNext(sim.StepCreate, 1)
		p := decode[obj](t, f.sendSeed(t, keyUser, "createServicePackage"))
		if p["status"] != "error" {
			t.Fatalf("status %v after a failed create", p["status"])
		}
		for _, r := range p["resources"].([]any)[1:] {
			if s := r.(map[string]any)["resource_allocation"].(map[string]any)["status"]; s != "error" {
				t.Fatalf("vm status %v", s)
			}
		}
		uuid := p["uuid"].(string)
		get := func() obj {
			return decode[obj](t, f.form(t, keyUser, "GET", "/user-resource/service/package/"+uuid, ""))
		}
		if err := f.svc.RunPackageStep(f.ctx, f.jobs.last()); err != nil {
			t.Fatal(err)
		}
		if p := get(); p["status"] != "active" {
			t.Fatalf("status %v after the retry", p["status"])
		}
		f.prov.FailNext(sim.StepDelete, 1)
		p = decode[obj](t, f.form(t, keyUser, "DELETE", "/user-resource/service/package/"+uuid, ""))
		if p["status"] != "deleting" || p["is_deleted"] != true || p["deleted_at"] == nil {
			t.Fatalf("after a failed delete: %s", svcJSON(t, p))
		}
		if err := f.svc.RunPackageStep(f.ctx, f.jobs.last()); err != nil {
			t.Fatal(err)
		}
		if p := get(); p["status"] != "deleted" {
			t.Fatalf("status %v after the delete retry", p["status"])
		}
	})
}

// TestServicesUsage: a package's VMs are billed as VMs at the service's
// multipliers (×3 for postgresql), hour by hour, until the delete.
func TestServicesUsage(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newServicesFixture(t, d, v, false)
		sweep := func() {
			t.Helper()
			if _, err := f.meter.MeterSegments(f.ctx, f.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		p := decode[obj](t, f.sendSeed(t, keyUser, "createServicePackage"))
		for range 3 {
			f.clk.Advance(time.Hour)
			sweep()
		}
		wantStatus(t, f.form(t, keyUser, "DELETE", "/user-resource/service/package/"+p["uuid"].(string), ""), http.StatusOK)
		for range 2 {
			f.clk.Advance(time.Hour)
			sweep()
		}
		lines := decode[[]obj](t, f.form(t, keyUser, "GET", "/charging/usage?billing_account_id=12", ""))
		// 2 CPUs × 0.00521 + 4 GB × 0.00329 + 40 GB × 0.0001 = 0.02758 an
		// hour, ×3: 0.08274; two VMs for 09:00 to 12:30, four hours each.
		var hours float64
		for _, l := range lines {
			if strings.HasPrefix(l["description"].(string), "postgresql 14.0, 2 CPUs, 4 GB RAM, 40 GB disk") {
				if num(t, l, "price") != "0.08274" {
					t.Errorf("price %s, want 0.08274", num(t, l, "price"))
				}
				h, _ := l["hours"].(json.Number).Float64()
				hours += h
			}
		}
		if hours != 8 {
			t.Fatalf("%v VM hours billed, want 8: %s", hours, svcJSON(t, lines))
		}
	})
}
