package itglobal_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// cell is one operation as the matrix sends it: a request on partner A's
// objects and what partner B's key (of an allowed role) gets for it.
type cell struct {
	path  string
	body  []byte
	other int // B's status: 404 for A's objects, 200 for its own lists, catalogs and creates
}

// cells builds the request of every operation on partner A's objects
// (after seedAll).
func (f *fixture) cells(t *testing.T) map[string]cell {
	t.Helper()
	pr, co := "/projects/"+id(projVOrg), "/projects/"+id(projBank)+"/companies/"+id(companyBank)
	ops := "?dateFromUtc=2023-04-01&dateToUtc=2023-04-02"
	day := "?dateFrom=2023-04-01&dateTo=2023-04-02"
	nf, ok := http.StatusNotFound, http.StatusOK
	return map[string]cell{
		"IT-1":  {"/accounts", nil, ok},
		"IT-2":  {"/accounts", []byte(`{"Email":"matrix@example.com","State":"Active"}`), ok},
		"IT-3":  {"/accounts/simpleone", []byte(`{"CompanyId":7,"UserId":77,"Email":"m3@example.com"}`), ok},
		"IT-4":  {"/accounts/" + f.accountA.ID, nil, nf},
		"IT-5":  {"/accounts/" + f.accountA.ID, nil, nf},
		"IT-6":  {"/projects", nil, ok},
		"IT-7":  {pr, nil, nf},
		"IT-8":  {pr, sample(t, "editProject"), nf},
		"IT-9":  {pr + "/companies", nil, nf},
		"IT-10": {"/projects/" + id(projReport) + "/companies", sample(t, "createCompany"), nf},
		"IT-11": {co, nil, nf},
		"IT-12": {"/projects/" + id(projReport) + "/companies/" + id(f.companyEdited), sample(t, "editCompany"), nf},
		"IT-13": {"/projects/" + id(projReport) + "/companies/" + id(f.companyEdited) + "/deactivate", nil, nf},
		"IT-14": {co + "/invoices", nil, nf},
		"IT-15": {co + "/invoices", sample(t, "createInvoice"), nf},
		"IT-16": {co + "/invoices/" + id(invoiceBank), nil, nf},
		"IT-17": {"/simpleone/accounts", nil, ok},
		"IT-18": {"/simpleone/accounts", []byte(`{"SimpleOneCompanyId":"9","SimpleOneUserId":"99","Email":"m18@example.com"}`), ok},
		"IT-19": {"/simpleone/accounts/" + f.soAccount.ID, nil, nf},
		"IT-20": {"/simpleone/accounts/" + f.soAccount.ID, nil, nf},
		"IT-21": {"/simpleone/accounts/by-user", []byte(`{"SimpleOneUserId":"` + f.soAccount.SimpleOneUserID + `"}`), nf},
		"IT-22": {"/simpleone/projects/" + id(f.soAccount.PersonalProjectID) + "/company", sample(t, "changeSimpleOneCompany"), nf},
		"IT-23": {"/1c/configurations", nil, ok},
		"IT-24": {"/1c/tariffs", nil, ok},
		"IT-25": {pr + "/1c", sample(t, "create1C"), nf},
		"IT-26": {"/iaas/locations", nil, ok},
		"IT-27": {"/iaas/locations/ds1", nil, ok},
		"IT-28": {pr + "/iaas/locations/ds1/servers", sample(t, "createVmwareServer"), nf},
		"IT-29": {"/payments", nil, ok},
		"IT-30": {"/payments/bank", sample(t, "createBankPayment"), nf},
		"IT-31": {"/payments/online", sample(t, "createOnlinePayment"), nf},
		"IT-32": {"/operations/projects" + ops, nil, ok},
		"IT-33": {"/operations/projects/" + id(projVOrg) + ops, nil, nf},
		"IT-34": {"/operations/projects/" + id(projVOrg), sample(t, "createOperation"), nf},
		"IT-35": {"/operations/projects/by-day" + day, nil, ok},
		"IT-36": {"/operations/projects/" + id(projVOrg) + "/by-day" + day, nil, nf},
		"IT-37": {"/vstack/prices", nil, ok},
		"IT-38": {pr + "/vstack/locations/1/servers", sample(t, "createVstackServer"), nf},
		"IT-39": {"/managed/tariffs", nil, ok},
		"IT-40": {"/object-storage/tariffs", nil, ok},
		"IT-41": {"/ssl-products", nil, ok},
		"IT-42": {"/ssl-products/1", nil, ok},
		"IT-43": {"/kubernetes/tariffs", nil, ok},
		"IT-44": {pr + "/kubernetes", sample(t, "createKubernetesCluster"), nf},
		"IT-45": {"/reviews/1", nil, ok},
		"IT-46": {"/cdn/tariffs", nil, ok},
		"IT-47": {"/cloud-director/vorgs/" + id(vorgSample), nil, nf},
		"IT-48": {"/cloud-director/vorgs", sample(t, "createVOrg"), nf},
		"IT-49": {"/cloud-director/vdcs/" + id(f.vdc), nil, nf},
		"IT-50": {"/cloud-director/vdcs", sample(t, "createVdc"), nf},
		"IT-51": {"/support/client/tickets", nil, ok},
		"IT-52": {"/support/client/tickets/" + id(f.clientTicket), nil, nf},
		"IT-53": {"/support/system/tickets", nil, ok},
		"IT-54": {"/support/system/tickets/" + id(f.systemTicket), nil, nf},
	}
}

// TestRoleMatrix sends every operation with no key, an unknown key, a key
// of each role, a key of a partner without SimpleOneSupport, and another
// partner's key.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		f.seedAll(t)
		cells := f.cells(t)
		ofA := map[string]bool{}
		accsA, err := f.res.ListAccounts(f.ctx, f.actA, reseller.AccountFilter{})
		if err != nil || len(accsA) < 5 {
			t.Fatalf("partner A's accounts: %d, %v", len(accsA), err)
		}
		for _, a := range accsA {
			ofA[a.ID] = true
		}
		routes := itglobal.Routes()
		if len(cells) != len(routes) {
			t.Fatalf("%d cells for %d routes", len(cells), len(routes))
		}
		send := func(r itglobal.RouteInfo, key string) apitest.Response {
			t.Helper()
			c := cells[r.ID]
			return f.do(t, key, apitest.Request{Method: r.Method, Path: c.path, Body: c.body})
		}
		wantErr := func(r itglobal.RouteInfo, who string, resp apitest.Response, status int, code string) {
			t.Helper()
			if resp.Status != status {
				t.Errorf("%s %s %s with %s: %d, want %d: %s", r.ID, r.Method, r.Path, who, resp.Status, status, resp.Body)
				return
			}
			if e := errorOf(t, resp); e.Code != code {
				t.Errorf("%s with %s: code %q, want %q", r.ID, who, e.Code, code)
			}
		}
		for _, r := range routes {
			// 401 first: nothing else is looked at.
			resp := send(r, "")
			wantErr(r, "no key", resp, http.StatusUnauthorized, "Unauthenticated")
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer", r.ID)
			}
			wantErr(r, "an unknown key", send(r, keyBad), http.StatusUnauthorized, "Unauthenticated")
			// A key of a role the operation does not name.
			if !slices.Contains(r.Roles, "User") {
				wantErr(r, "the User key", send(r, keyAUser), http.StatusForbidden, "Forbidden")
			}
			if !slices.Contains(r.Roles, "Finance") {
				wantErr(r, "the Finance key", send(r, keyAFinance), http.StatusForbidden, "Forbidden")
			}
			// A partner without the feature.
			if r.Feature != "" {
				wantErr(r, "partner C (feature off)", send(r, keyCUser), http.StatusForbidden, "Forbidden")
			}
		}
		// Another partner's key of an allowed role: A's objects are 404;
		// its own lists, the catalogs and its own creates succeed.
		for _, r := range routes {
			key := keyBUser
			if !slices.Contains(r.Roles, "User") {
				key = keyBFinance
			}
			resp := send(r, key)
			want := cells[r.ID].other
			if resp.Status != want {
				t.Errorf("%s %s %s with partner B's key: %d, want %d: %s", r.ID, r.Method, cells[r.ID].path, resp.Status, want, resp.Body)
				continue
			}
			if want == http.StatusOK && r.Method == "GET" && strings.Contains(r.Path, "/accounts") {
				for _, acc := range result[[]map[string]any](t, resp) {
					if ofA[acc["Id"].(string)] {
						t.Errorf("%s: partner B sees A's account %v", r.ID, acc)
					}
				}
			}
			if r.ID == "IT-29" || r.ID == "IT-32" || r.ID == "IT-35" || r.ID == "IT-51" || r.ID == "IT-53" {
				if list := result[[]any](t, resp); len(list) != 0 {
					t.Errorf("%s: partner B sees %v", r.ID, list)
				}
			}
			if r.ID == "IT-6" {
				for _, p := range result[[]map[string]any](t, resp) {
					if n, _ := p["Id"].(json.Number).Int64(); n == projVOrg || n == projBank || n == projReport || n == projOnline {
						t.Errorf("partner B sees A's project %d", n)
					}
				}
			}
		}
		// The roles the operation names: never 401 or 403 (deletes last,
		// so the objects exist for the others).
		for _, del := range []bool{false, true} {
			for _, r := range routes {
				if (r.Method == "DELETE") != del {
					continue
				}
				for _, role := range r.Roles {
					key := keyAUser
					if role == "Finance" {
						key = keyAFinance
					}
					if resp := send(r, key); resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
						t.Errorf("%s with the %s key: %d: %s", r.ID, role, resp.Status, resp.Body)
					}
				}
			}
		}
	})
}
