package idcloudhost_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// withCatalog gives the handler the fixture's catalog service (the one
// behind Locations).
func withCatalog() fixtureOpt {
	return func(d *idcloudhost.Deps) { d.Catalog = d.Locations.(*catalog.Service) }
}

// newCatalogFixture is the fixture with the demo catalog loaded.
func newCatalogFixture(t *testing.T, d *db.DB, v *apitest.Validator) *fixture {
	t.Helper()
	f := newFixture(t, d, v, withCatalog())
	if err := f.cat.LoadDemoResources(f.ctx, sys); err != nil {
		t.Fatal(err)
	}
	return f
}

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// catalogOperationKeys are the operations of this family as the validator
// names them.
var catalogOperationKeys = []string{
	"GET /user-resource/host_pool/list", "GET /{location}/user-resource/host_pool/list", "GET /api/parameters/vm",
	"GET /config/vm_images", "GET /config/vm_images/plain_os", "GET /config/vm_images/app_catalog",
}

// TestCatalogSeedRequests sends the seed's host pool, VM parameter and
// image requests verbatim and compares the answers with the samples.
func TestCatalogSeedRequests(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newCatalogFixture(t, d, v)
		send := func(name string) apitest.Response {
			t.Helper()
			resp := f.send(t, keyUser, readSeedRequest(t, name))
			wantStatus(t, resp, http.StatusOK)
			return resp
		}

		// ID-13: the sample's pools in the default location, with our
		// timestamps.
		pools := decode[[]map[string]any](t, send("listHostPools"))
		want := sample(t, "listHostPools").([]any)
		if len(pools) != len(want) {
			t.Fatalf("pools: %v", pools)
		}
		for i, p := range pools {
			for _, k := range []string{"created_at", "updated_at"} {
				if s, _ := p[k].(string); !dateTimeRE.MatchString(s) {
					t.Errorf("pool %d %s = %v", i, k, p[k])
				}
				p[k] = want[i].(map[string]any)[k]
			}
		}
		if d := cmp.Diff(want, decode[any](t, mustJSON(t, pools))); d != "" {
			t.Errorf("listHostPools (-sample +got):\n%s", d)
		}
		// Location-scoped: bus02's own pools.
		bus := decode[[]map[string]any](t, send("listHostPoolsInLocation"))
		if len(bus) != 2 || bus[0]["name"] != "General" || bus[0]["is_default_designated"] != true ||
			bus[0]["uuid"] == want[0].(map[string]any)["uuid"] || bus[1]["is_default_designated"] != false {
			t.Errorf("bus02 pools: %v", bus)
		}
		resp := f.form(t, keyUser, "GET", "/nope01/user-resource/host_pool/list", "")
		wantStatus(t, resp, http.StatusNotFound)
		if msg := errorMessage(t, resp); msg != "no such location: nope01" {
			t.Errorf("unknown slug: %q", msg)
		}
		// A location without pools lists none.
		if _, err := f.cat.PutLocation(f.ctx, sys, catalog.PutLocationInput{Slug: "tll", DisplayName: "Tallinn", CountryCode: "est"}); err != nil {
			t.Fatal(err)
		}
		resp = f.form(t, keyUser, "GET", "/tll/user-resource/host_pool/list", "")
		wantStatus(t, resp, http.StatusOK)
		if strings.TrimSpace(string(resp.Body)) != "[]" {
			t.Errorf("pools of an empty location: %s", resp.Body)
		}

		// ID-70: the sample, except the os_name and os_version values,
		// which are the image catalogue's published versions (ID-amb-31).
		params := decode[[]map[string]any](t, send("getVMParameters"))
		wantParams := sample(t, "getVMParameters").([]any)
		if len(params) != len(wantParams) {
			t.Fatalf("parameters: %v", params)
		}
		osName, osVersion := params[2], params[3]
		if osName["parameter"] != "os_name" || osVersion["parameter"] != "os_version" {
			t.Fatalf("parameter order: %v", params)
		}
		if d := cmp.Diff([]any{"almalinux", "centos", "ubuntu", "windows", "debian"}, osName["values"]); d != "" {
			t.Errorf("os_name values (-want +got):\n%s", d)
		}
		wantLimits := []any{
			map[string]any{"os_name": "almalinux", "values": []any{"8"}},
			map[string]any{"os_name": "centos", "values": []any{"7.3.1611", "7.6", "8.2"}},
			map[string]any{"os_name": "ubuntu", "values": []any{"16.04", "20.04", "22.04-lts"}},
			map[string]any{"os_name": "windows", "values": []any{"2016"}},
			map[string]any{"os_name": "debian", "values": []any{"9.1"}},
		}
		if d := cmp.Diff(wantLimits, osVersion["limits"]); d != "" {
			t.Errorf("os_version limits (-want +got):\n%s", d)
		}
		osName["values"] = wantParams[2].(map[string]any)["values"]
		osVersion["limits"] = wantParams[3].(map[string]any)["limits"]
		if d := cmp.Diff(wantParams, decode[any](t, mustJSON(t, params))); d != "" {
			t.Errorf("getVMParameters (-sample +got):\n%s", d)
		}

		// ID-71: the sample's two images first, then the rest of the demo
		// catalogue; ID-72 and ID-73 split it.
		images := decode[[]any](t, send("listVMImages"))
		if d := cmp.Diff(sample(t, "listVMImages"), images[:2]); d != "" {
			t.Errorf("listVMImages (-sample +got):\n%s", d)
		}
		if len(images) != 5 {
			t.Errorf("%d images", len(images))
		}
		if d := cmp.Diff(sample(t, "listAppCatalogImages"), decode[any](t, send("listAppCatalogImages"))); d != "" {
			t.Errorf("listAppCatalogImages (-sample +got):\n%s", d)
		}
		plain := decode[[]any](t, send("listPlainOSImages"))
		if d := cmp.Diff(sample(t, "listPlainOSImages"), plain[:1]); d != "" {
			t.Errorf("listPlainOSImages (-sample +got):\n%s", d)
		}
		var plainNames []string
		for _, im := range plain {
			plainNames = append(plainNames, im.(map[string]any)["os_name"].(string))
		}
		if !slices.Equal(plainNames, []string{"almalinux", "ubuntu", "windows", "debian"}) {
			t.Errorf("plain OS images: %v", plainNames)
		}

		// The restricted token reads the same catalogue; no key is a 401.
		for _, name := range []string{"listHostPools", "listHostPoolsInLocation", "getVMParameters", "listVMImages",
			"listPlainOSImages", "listAppCatalogImages"} {
			r := readSeedRequest(t, name)
			a := f.send(t, keyUser, r)
			b := f.send(t, keyRestricted, r)
			wantStatus(t, b, http.StatusOK)
			if string(a.Body) != string(b.Body) {
				t.Errorf("%s: the restricted token sees %s, the user %s", name, b.Body, a.Body)
			}
			wantStatus(t, f.send(t, "", r), http.StatusUnauthorized)
			wantStatus(t, f.send(t, "nope", r), http.StatusUnauthorized)
			// Parameters are not used; unknown ones change nothing.
			extra := f.form(t, keyUser, r.method, r.path+"?x=1", "y=2")
			wantStatus(t, extra, http.StatusOK)
			if string(extra.Body) != string(a.Body) {
				t.Errorf("%s with unknown parameters: %s", name, extra.Body)
			}
		}
	})
	for _, op := range v.Uncovered() {
		if slices.Contains(catalogOperationKeys, op) {
			t.Errorf("catalog operation never answered with success: %s", op)
		}
	}
}

// TestCatalogServesWhatIsEnforced: operator changes to the catalog show in
// GET /api/parameters/vm and the image lists at once, and the rules served
// are the rules the catalog enforces.
func TestCatalogServesWhatIsEnforced(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newCatalogFixture(t, d, v)
		get := func(path string) []map[string]any {
			t.Helper()
			resp := f.form(t, keyUser, "GET", path, "")
			wantStatus(t, resp, http.StatusOK)
			return decode[[]map[string]any](t, resp)
		}
		// Unpublish ubuntu 16.04, publish 24.04; windows gets an extra rule.
		if _, err := f.cat.PutImage(f.ctx, sys, catalog.PutImageInput{OSName: "ubuntu", DisplayName: "Ubuntu", UIPosition: 3,
			Versions: []catalog.ImageVersion{{OSVersion: "16.04", Published: false}, {OSVersion: "24.04", Published: true}}}); err != nil {
			t.Fatal(err)
		}
		disks := catalog.DefaultVMParams()[0]
		win := int64(40)
		disks.Limits = []catalog.Limit{{OSName: "windows", Min: &win}}
		if _, err := f.cat.PutVMParam(f.ctx, sys, disks); err != nil {
			t.Fatal(err)
		}
		params := get("/api/parameters/vm")
		byName := map[string]map[string]any{}
		for _, p := range params {
			byName[p["parameter"].(string)] = p
		}
		ubuntu := byName["os_version"]["limits"].([]any)[2].(map[string]any)
		if d := cmp.Diff(map[string]any{"os_name": "ubuntu", "values": []any{"24.04"}}, ubuntu); d != "" {
			t.Errorf("ubuntu versions (-want +got):\n%s", d)
		}
		if d := cmp.Diff(map[string]any{"constraint": "range", "description": "Size of main storage in gigabytes.",
			"limited_by": "os_name", "limits": []any{map[string]any{"min": json.Number("40"), "os_name": "windows"}},
			"mandatory": true, "max": json.Number("240"), "min": json.Number("20"), "parameter": "disks", "type": "integer"},
			byName["disks"]); d != "" {
			t.Errorf("disks (-want +got):\n%s", d)
		}
		images := get("/config/vm_images")
		if vs := images[2]["versions"].([]any); len(vs) != 2 || vs[0].(map[string]any)["published"] != false {
			t.Errorf("ubuntu image: %v", images[2])
		}
		// What is served is what is enforced.
		rules, err := f.cat.VMRules(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		spec := catalog.VMSpec{Name: "Ubuntu-16-04", OSName: "ubuntu", OSVersion: "16.04", DiskGB: 20, VCPU: 2, RAMMB: 2048,
			Username: "example", HasUsername: true, Password: "Password123"}
		if err := rules.CheckCreate(spec); err == nil || !strings.HasPrefix(err.Error(), "os_version: ") {
			t.Errorf("unpublished version: %v", err)
		}
		spec.OSName, spec.OSVersion, spec.Username = "windows", "2016", ""
		if err := rules.CheckCreate(spec); err == nil || !strings.HasPrefix(err.Error(), "disks: must be between 40 and 240 for windows") {
			t.Errorf("windows disks: %v", err)
		}
		// Removing every image leaves empty enums, still valid answers.
		for _, im := range []string{"centos", "ubuntu", "windows", "debian", "almalinux"} {
			if err := f.cat.DeleteImage(f.ctx, sys, im); err != nil {
				t.Fatal(err)
			}
		}
		params = get("/api/parameters/vm")
		if vs := params[2]["values"].([]any); len(vs) != 0 {
			t.Errorf("os_name values without images: %v", vs)
		}
		if ls := params[3]["limits"].([]any); len(ls) != 0 {
			t.Errorf("os_version limits without images: %v", ls)
		}
		if ims := get("/config/vm_images"); len(ims) != 0 {
			t.Errorf("images: %v", ims)
		}
	})
}

func mustJSON(t *testing.T, v any) apitest.Response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Response{Body: b}
}
