package native

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// authzCase is one operation, sent as a request the spec accepts.
type authzCase struct {
	method, path, body string
	// forbidden are keys whose role (or org kind) is not enough: 403.
	forbidden []string
	// foreignPath and foreignBody address distributor B's object instead;
	// A's admin must get 404, as if it did not exist.
	foreignPath, foreignBody string
}

func (e *env) authzCases() []authzCase {
	const day = "/usage/2024-04-01"
	viewers := []string{aViewer, provViewer}
	admins := []string{aViewer, aStaff, provViewer, provStaff} // below admin
	providerAdmin := []string{aAdmin, provStaff, provViewer}   // not a provider admin
	return append([]authzCase{
		{method: "GET", path: "/orgs"},
		{method: "POST", path: "/orgs", body: `{"parentId":"` + e.partnerA + `","name":"c"}`, forbidden: admins,
			foreignBody: `{"parentId":"` + e.partnerB + `","name":"c"}`},
		{method: "GET", path: "/orgs/" + e.partnerA, foreignPath: "/orgs/" + e.partnerB},
		{method: "PATCH", path: "/orgs/" + e.partnerA, body: `{"name":"n"}`, forbidden: admins,
			foreignPath: "/orgs/" + e.partnerB},
		{method: "DELETE", path: "/orgs/" + e.partnerA, forbidden: admins, foreignPath: "/orgs/" + e.partnerB},

		{method: "GET", path: "/contracts"},
		{method: "POST", path: "/contracts", body: `{"orgId":"` + e.distA + `","reservedCapacity":1,"currency":"EUR","details":"d"}`,
			forbidden: admins, foreignBody: `{"orgId":"` + e.distB + `","reservedCapacity":1,"currency":"EUR","details":"d"}`},
		{method: "GET", path: "/contracts/" + e.contractA, foreignPath: "/contracts/" + e.contractB},
		{method: "PATCH", path: "/contracts/" + e.contractA, body: `{"details":"d"}`, forbidden: admins,
			foreignPath: "/contracts/" + e.contractB},
		{method: "DELETE", path: "/contracts/" + e.contractA, forbidden: admins, foreignPath: "/contracts/" + e.contractB},

		{method: "GET", path: "/contracts/" + e.contractA + "/partners", foreignPath: "/contracts/" + e.contractB + "/partners"},
		{method: "POST", path: "/contracts/" + e.contractA + "/partners", body: `{"name":"p"}`, forbidden: viewers,
			foreignPath: "/contracts/" + e.contractB + "/partners"},
		{method: "PATCH", path: "/partners/" + e.partnerA, body: `{"name":"p"}`, forbidden: viewers,
			foreignPath: "/partners/" + e.partnerB},
		{method: "DELETE", path: "/partners/" + e.partnerA, forbidden: viewers, foreignPath: "/partners/" + e.partnerB},

		{method: "GET", path: "/keys", forbidden: admins},
		{method: "POST", path: "/keys", body: `{"orgId":"` + e.distA + `","name":"k","role":"viewer"}`, forbidden: admins,
			foreignBody: `{"orgId":"` + e.distB + `","name":"k","role":"viewer"}`},
		{method: "GET", path: "/keys/" + e.keyIDs[aViewer], forbidden: admins, foreignPath: "/keys/" + e.keyIDs[bAdmin]},
		{method: "DELETE", path: "/keys/" + e.keyIDs[aViewer], forbidden: admins, foreignPath: "/keys/" + e.keyIDs[bAdmin]},

		{method: "GET", path: "/audit"},

		// Usage drives the contract's excess charge: only the provider
		// (or the S3 data plane) writes it, never the distributor billed.
		{method: "PUT", path: "/storage-accounts/" + e.saA + day, body: `{"usage":1}`, forbidden: providerAdmin},

		{method: "GET", path: "/regions"},
		{method: "PUT", path: "/regions/r1", body: `{"s3Url":"https://a.example","iamUrl":"https://b.example","stsUrl":"https://c.example"}`,
			forbidden: providerAdmin},
		{method: "DELETE", path: "/regions/r1", forbidden: providerAdmin},

		{method: "POST", path: "/jobs/purge-storage-accounts", forbidden: providerAdmin},

		{method: "GET", path: "/sandbox/clock"},
		{method: "POST", path: "/sandbox/clock", body: `{"advance":"1h"}`, forbidden: providerAdmin},
	}, slices.Concat(e.billingAuthzCases(), e.catalogAuthzCases(), e.networkPoolAuthzCases(), e.vmAuthzCases(), e.objectStorageAuthzCases(), e.resellerAuthzCases(), e.bssAuthzCases())...)
}

// TestAuthorization sends every operation without a key, with a revoked
// key, with roles that are not enough, and against another distributor's
// objects; none may change anything.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		before := e.snapshot(t)
		cases := append(e.authzCases(), e.identityAuthzCases()...)
		if n := len(specOperations(t)); len(cases) != n {
			t.Errorf("%d cases for %d operations", len(cases), n)
		}
		for _, c := range cases {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				for _, key := range []string{noKey, revoked} {
					r := e.do(t, e.req(c.method, c.path, key, c.body))
					wantProblem(t, r, http.StatusUnauthorized, "")
					if r.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("401 without WWW-Authenticate")
					}
				}
				for _, key := range c.forbidden {
					if r := e.do(t, e.req(c.method, c.path, key, c.body)); r.Status != http.StatusForbidden {
						t.Errorf("as %s: status %d, want 403: %s", key, r.Status, r.Body)
					} else {
						wantProblem(t, r, http.StatusForbidden, "")
					}
				}
				if c.foreignPath != "" || c.foreignBody != "" {
					path, body := c.path, c.body
					if c.foreignPath != "" {
						path = c.foreignPath
					}
					if c.foreignBody != "" {
						body = c.foreignBody
					}
					wantProblem(t, e.do(t, e.req(c.method, path, aAdmin, body)), http.StatusNotFound, "")
				}
			})
		}
		if after := e.snapshot(t); !reflect.DeepEqual(before, after) {
			t.Errorf("refused requests changed the database:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// snapshot reads, as the provider admin, what a refused request could have
// changed: every mutation writes an audit entry, and orgs, contracts,
// regions and BSS installations are compared in full.
func (e *env) snapshot(t *testing.T) map[string]any {
	t.Helper()
	s := map[string]any{}
	for _, path := range []string{"/audit?limit=1000", "/orgs?limit=1000", "/contracts?limit=1000", "/regions", "/bss-installations"} {
		s[path] = e.ok(t, http.StatusOK, "GET", path, provAdmin, "")["items"]
	}
	keys := e.ok(t, http.StatusOK, "GET", "/keys?limit=1000", provAdmin, "")["items"].([]any)
	for _, k := range keys {
		delete(k.(map[string]any), "lastUsedAt") // authentication touches it
	}
	s["keys"] = keys
	return s
}

// specOperations lists the operations of the spec ("GET /orgs/{id}").
func specOperations(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(Spec(), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	return ops
}
