package infiterra_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
)

// TestSpecValid: the document is valid OpenAPI 3.0.3 (its examples, the
// reference's, included) with the fifteen endpoints, three of them on GET
// and POST.
func TestSpecValid(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, infiterra.Spec())
	if n := len(v.Uncovered()); n != 18 {
		t.Fatalf("%d operations in the spec, want 18", n)
	}
}

// TestRoutesMatchSpec: the route table and the document list the same
// paths with the same methods.
func TestRoutesMatchSpec(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(infiterra.Spec(), &doc); err != nil {
		t.Fatal(err)
	}
	routes := infiterra.Routes()
	if len(routes) != 15 || len(doc.Paths) != 15 {
		t.Fatalf("%d routes and %d spec paths, want 15", len(routes), len(doc.Paths))
	}
	for _, r := range routes {
		ops, ok := doc.Paths[r.Path]
		if !ok {
			t.Errorf("%s: not in the spec", r.Path)
			continue
		}
		var methods []string
		for m := range ops {
			if m != "parameters" {
				methods = append(methods, strings.ToUpper(m))
			}
		}
		slices.Sort(methods)
		if !slices.Equal(methods, r.Methods) {
			t.Errorf("%s: spec methods %v, table %v", r.Path, methods, r.Methods)
		}
	}
}

// TestReferenceExamplesMatchSpec: every request and response example of
// the contract reference (testdata, verbatim) is valid per the document,
// so the spec accepts what a BSS sends and describes what it expects.
func TestReferenceExamplesMatchSpec(t *testing.T) {
	t.Parallel()
	// Its own validator: these exchanges are not the server's and must not
	// count as coverage.
	v := apitest.NewValidator(t, infiterra.Spec())
	exch := []struct{ method, path, request, response string }{
		{"GET", "/fields/get", "", "fields_get"},
		{"POST", "/fields/validate", "fields_validate", "fields_validate_ok"},
		{"POST", "/fields/validate", "fields_validate", "fields_validate_error"},
		{"GET", "/fields/servicedefinition", "", "fields_servicedefinition"},
		{"GET", "/accounts/syncoptions", "", "accounts_syncoptions"},
		{"POST", "/accounts/synchronize", "accounts_synchronize", "accounts_synchronize"},
		{"POST", "/accounts/exists", "accounts_exists", "accounts_exists_no"},
		{"POST", "/accounts/exists", "accounts_exists", "accounts_exists_yes"},
		{"POST", "/accounts/delete", "accounts_delete", "accounts_delete"},
		{"POST", "/subscriptions/create", "subscriptions_create", "subscriptions_create"},
		{"POST", "/subscriptions/create", "subscriptions_create", "subscriptions_create_error"},
		{"POST", "/subscriptions/create", "subscriptions_create", "precheck_ok"},
		{"POST", "/subscriptions/update", "subscriptions_update", "subscriptions_update"},
		{"POST", "/subscriptions/suspend", "subscriptions_suspend", "subscriptions_suspend"},
		{"POST", "/subscriptions/activate", "subscriptions_suspend", "subscriptions_activate_error"},
		{"POST", "/addons/create", "addons_create", "addons_create"},
		{"POST", "/addons/cancel", "addons_cancel", "addons_cancel"},
	}
	for _, e := range exch {
		req := apitest.Request{Method: e.method, Path: infiterra.Prefix + e.path, Header: http.Header{}}
		if e.request != "" {
			req.Body = sample(t, e.request)
		}
		v.Check(t, req, apitest.Response{Status: 200, Header: jsonHeader(), Body: reference(t, e.response)})
	}
	// The 401 and the 500 bodies of the reference.
	req := apitest.Request{Method: "POST", Path: infiterra.Prefix + "/subscriptions/create", Body: sample(t, "subscriptions_create")}
	v.Check(t, req, apitest.Response{Status: 401, Header: jsonHeader(), Body: reference(t, "unauthorized")})
	v.Check(t, req, apitest.Response{Status: 500, Header: jsonHeader(), Body: reference(t, "internal_error")})
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

// reference returns a response example of the contract reference verbatim.
func reference(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
