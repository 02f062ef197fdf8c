package itglobal_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

// seedAll sends every request sample of the seed verbatim to its route and
// checks each answer: 200, the envelope, the spec's types (the validator)
// and what the request should have done.
func (f *fixture) seedAll(t *testing.T) {
	t.Helper()
	p := "/projects/"

	// Operations: the sample funds project 1288, answered { }.
	resp := f.send(t, keyAFinance, "POST", "/operations/projects/"+id(projVOrg), sample(t, "createOperation"))
	wantStatus(t, resp, http.StatusOK)
	if strings.TrimSpace(string(resp.Body)) != "{}" {
		t.Fatalf("create operation answered %s, want {}", resp.Body)
	}

	// Accounts.
	resp = f.send(t, keyAUser, "POST", "/accounts", sample(t, "createAccount"))
	wantStatus(t, resp, http.StatusOK)
	acc := result[map[string]any](t, resp)
	if acc["Email"] != "email@mail.com" || acc["State"] != "NotActivated" {
		t.Fatalf("createAccount: %v", acc)
	}
	resp = f.send(t, keyAUser, "POST", "/accounts/simpleone", sample(t, "createSimpleOneLegacy"))
	wantStatus(t, resp, http.StatusOK)
	if resp.Header.Get("Deprecation") != "true" {
		t.Errorf("IT-3 without Deprecation: true")
	}
	if so := result[map[string]any](t, resp); so["SimpleOneUserId"] != "16666875367" || so["IsSimpleOne"] != true {
		t.Errorf("createSimpleOneLegacy: %v", so)
	}

	// Projects and companies.
	resp = f.send(t, keyAUser, "PUT", p+id(projVOrg), sample(t, "editProject"))
	wantStatus(t, resp, http.StatusOK)
	if pr := result[map[string]any](t, resp); pr["IsPostPaid"] != true || pr["MaxDebt"] != json.Number("12.34") {
		t.Errorf("editProject: %v", pr)
	}
	resp = f.send(t, keyAUser, "POST", p+id(projReport)+"/companies", sample(t, "createCompany"))
	wantStatus(t, resp, http.StatusOK)
	co := result[map[string]any](t, resp)
	if co["INN"] != "7838413489" || co["State"] != "Active" || !strings.HasPrefix(co["AgreementDate"].(string), "2021-08-12T15:19:27.121124") ||
		co["DocDeliveryPeriod"] != "Monthly" || co["AutoInvoiceAmount"] != json.Number("444") {
		t.Errorf("createCompany: %v", co)
	}
	cid, _ := co["Id"].(json.Number).Int64()
	f.companyEdited = cid
	resp = f.send(t, keyAUser, "PUT", p+id(projReport)+"/companies/"+id(cid), sample(t, "editCompany"))
	wantStatus(t, resp, http.StatusOK)
	if co := result[map[string]any](t, resp); co["CheckingAccount"] != "3219" || co["State"] != "Active" {
		t.Errorf("editCompany: %v", co)
	}

	// Invoices: the sample creates 1517, which the bank payment pays.
	resp = f.send(t, keyAFinance, "POST", p+id(projBank)+"/companies/"+id(companyBank)+"/invoices", sample(t, "createInvoice"))
	wantStatus(t, resp, http.StatusOK)
	inv := result[map[string]any](t, resp)
	if inv["Number"] != id(invoiceBank) || inv["State"] != "New" || inv["Amount"] != json.Number("1234") ||
		inv["VatAmount"] != json.Number("205.67") || inv["AmountWithoutVat"] != json.Number("1028.33") {
		t.Errorf("createInvoice: %v", inv)
	}

	// SimpleOne.
	resp = f.send(t, keyAUser, "POST", "/simpleone/accounts", sample(t, "createSimpleOneAccount"))
	wantStatus(t, resp, http.StatusOK)
	if so := result[map[string]any](t, resp); so["SimpleOneCompanyId"] != "168024140823013231" {
		t.Errorf("createSimpleOneAccount: %v", so)
	}
	resp = f.send(t, keyAUser, "DELETE", "/simpleone/accounts/by-user", sample(t, "deleteSimpleOneByUser"))
	wantStatus(t, resp, http.StatusOK)
	resp = f.send(t, keyAUser, "PUT", "/simpleone/projects/"+id(f.soAccount.PersonalProjectID)+"/company",
		sample(t, "changeSimpleOneCompany"))
	wantStatus(t, resp, http.StatusOK)
	if pr := result[map[string]any](t, resp); pr["SimpleOneCompanyId"] != "1257894528431" {
		t.Errorf("changeSimpleOneCompany: %v", pr)
	}

	// Payments.
	resp = f.send(t, keyAFinance, "POST", "/payments/bank", sample(t, "createBankPayment"))
	wantStatus(t, resp, http.StatusOK)
	pay := result[map[string]any](t, resp)
	if pay["Number"] != "678" || pay["InvoiceNumber"] != "1517" || pay["Amount"] != json.Number("556") || pay["Type"] != "Bank" {
		t.Errorf("createBankPayment: %v", pay)
	}
	resp = f.send(t, keyAFinance, "POST", "/payments/online", sample(t, "createOnlinePayment"))
	wantStatus(t, resp, http.StatusOK)
	if pay := result[map[string]any](t, resp); pay["PaymentId"] != "BF1R3" || pay["Amount"] != json.Number("20.21") {
		t.Errorf("createOnlinePayment: %v", pay)
	}

	// Orders on project 1288; the VOrg is the sample VDC's 88.
	if err := f.st.RaiseNumber(f.ctx, "reseller_order", vorgSample-1); err != nil {
		t.Fatal(err)
	}
	resp = f.send(t, keyAUser, "POST", "/cloud-director/vorgs", sample(t, "createVOrg"))
	wantStatus(t, resp, http.StatusOK)
	vorg := result[map[string]any](t, resp)
	if vorg["Id"] != json.Number(id(vorgSample)) || vorg["AdminPassword"] != nil || vorg["VcloudOrgName"] != "k8s-lab" {
		t.Errorf("createVOrg: %v", vorg)
	}
	resp = f.send(t, keyAUser, "POST", "/cloud-director/vdcs", sample(t, "createVdc"))
	wantStatus(t, resp, http.StatusOK)
	vdc := result[map[string]any](t, resp)
	f.vdc, _ = vdc["Id"].(json.Number).Int64()
	for _, o := range []struct{ path, name string }{
		{p + id(projVOrg) + "/1c", "create1C"},
		{p + id(projVOrg) + "/iaas/locations/ds1/servers", "createVmwareServer"},
		{p + id(projVOrg) + "/vstack/locations/1/servers", "createVstackServer"},
		{p + id(projVOrg) + "/kubernetes", "createKubernetesCluster"},
	} {
		resp = f.send(t, keyAUser, "POST", o.path, sample(t, o.name))
		wantStatus(t, resp, http.StatusOK)
		got := result[map[string]any](t, resp)
		if got["ProjectId"] != json.Number(id(projVOrg)) || got["State"] == nil {
			t.Errorf("%s: %v", o.name, got)
		}
	}
}

// TestSeedRequests: every request sample and every example URL of the
// seed, verbatim, and every other operation once, each validated against
// the spec; afterwards no operation of the spec lacks a 2xx exchange.
func TestSeedRequests(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, v)
		f.seedAll(t)

		// The state the samples left.
		bank := result[map[string]any](t, f.get(t, keyAUser, "/projects/"+id(projBank)))
		if bank["Balance"] != json.Number("556") {
			t.Errorf("project 1317 balance %v, want 556", bank["Balance"])
		}
		inv := result[map[string]any](t, f.get(t, keyAFinance,
			"/projects/"+id(projBank)+"/companies/"+id(companyBank)+"/invoices/"+id(invoiceBank)))
		if inv["PaidAmount"] != json.Number("556") || inv["State"] != "New" {
			t.Errorf("invoice 1517 after a partial payment: %v", inv)
		}
		online := result[map[string]any](t, f.get(t, keyAUser, "/projects/"+id(projOnline)))
		if online["Balance"] != json.Number("20.21") {
			t.Errorf("project 1427 balance %v", online["Balance"])
		}

		// The example URLs, verbatim.
		for _, u := range exampleURLs(t) {
			key := keyAFinance
			if strings.Contains(u, "/accounts") || strings.Contains(u, "/support/") {
				key = keyAUser
			}
			resp := f.get(t, key, strings.TrimPrefix(u, "/v2"))
			wantStatus(t, resp, http.StatusOK)
			result[any](t, resp)
		}
		accs := result[[]map[string]any](t, f.get(t, keyAUser, "/accounts?email=email@mail"))
		if len(accs) != 2 { // createAccount's and createSimpleOneLegacy's
			t.Errorf("accounts matching email@mail: %d", len(accs))
		}
		tickets := result[[]map[string]any](t, f.get(t, keyAUser, "/support/client/tickets?createdFrom=2023-03-19&createdTo=2023-04-20"))
		if len(tickets) != 1 {
			t.Errorf("client tickets in the example's range: %v", tickets)
		}

		// Every other operation once.
		getOK := func(key, path string) any {
			t.Helper()
			resp := f.get(t, key, path)
			wantStatus(t, resp, http.StatusOK)
			if strings.HasSuffix(path, "/vstack/prices") {
				return nil
			}
			return result[any](t, resp)
		}
		getOK(keyAUser, "/accounts/"+f.accountA.ID)
		getOK(keyAUser, "/projects")
		getOK(keyAUser, "/projects/"+id(projVOrg))
		getOK(keyAUser, "/projects/"+id(projReport)+"/companies")
		getOK(keyAUser, "/projects/"+id(projReport)+"/companies/"+id(f.companyEdited))
		getOK(keyAUser, "/projects/"+id(projBank)+"/companies/"+id(companyBank)+"/invoices")
		getOK(keyAUser, "/simpleone/accounts")
		getOK(keyAUser, "/simpleone/accounts/"+f.soAccount.ID)
		for _, path := range []string{"/1c/configurations", "/1c/tariffs", "/iaas/locations", "/iaas/locations/ds1",
			"/vstack/prices", "/managed/tariffs", "/object-storage/tariffs", "/ssl-products", "/ssl-products/1",
			"/kubernetes/tariffs", "/reviews/1", "/cdn/tariffs", "/cloud-director/vorgs/" + id(vorgSample),
			"/cloud-director/vdcs/" + id(f.vdc), "/support/client/tickets/" + id(f.clientTicket),
			"/support/system/tickets/" + id(f.systemTicket)} {
			getOK(keyAUser, path)
		}
		getOK(keyAFinance, "/payments")
		today := "?dateFromUtc=2023-04-01&dateToUtc=2023-04-01"
		periods := getOK(keyAFinance, "/operations/projects"+today).([]any)
		if len(periods) < 3 {
			t.Errorf("operations of 2023-04-01: %v", periods)
		}
		one := getOK(keyAFinance, "/operations/projects/"+id(projVOrg)+today).(map[string]any)
		if ops := one["Operations"].([]any); len(ops) < 2 { // the DengiOnlinePlus and the first day of each order
			t.Errorf("project 1288's operations: %v", one)
		}
		byDay := getOK(keyAFinance, "/operations/projects/"+id(projVOrg)+"/by-day?dateFrom=2023-04-01&dateToUtc=2023-04-01").(map[string]any)
		if days := byDay["Days"].([]any); len(days) != 1 {
			t.Errorf("by day (dateToUtc alias): %v", byDay)
		}

		// Deletes: a fresh account and a SimpleOne account, both deletable.
		resp := f.send(t, keyAUser, "POST", "/accounts", []byte(`{"Email":"gone@example.com","State":"Active"}`))
		wantStatus(t, resp, http.StatusOK)
		gone := result[map[string]any](t, resp)["Id"].(string)
		wantStatus(t, f.send(t, keyAUser, "DELETE", "/accounts/"+gone, nil), http.StatusOK)
		wantStatus(t, f.get(t, keyAUser, "/accounts/"+gone), http.StatusNotFound)
		wantStatus(t, f.send(t, keyAUser, "DELETE", "/simpleone/accounts/"+f.soAccount.ID, nil), http.StatusOK)
		// Deactivate.
		resp = f.send(t, keyAUser, "POST", "/projects/"+id(projReport)+"/companies/"+id(f.companyEdited)+"/deactivate", nil)
		wantStatus(t, resp, http.StatusOK)
		if co := result[map[string]any](t, resp); co["State"] != "InActive" {
			t.Errorf("deactivate: %v", co)
		}
		if n, err := f.ord.ActiveServices(f.ctx, projVOrg); err != nil || n != 6 {
			t.Errorf("project 1288 has %d services (%v), want 6", n, err)
		}
	})
	if un := v.Uncovered(); len(un) > 0 {
		t.Errorf("operations never answered with success: %v", un)
	}
}

// exampleURLs reads testdata/requests/examples.txt.
func exampleURLs(t *testing.T) []string {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "requests", "examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m, u, ok := strings.Cut(line, " ")
		if !ok || m != "GET" || !strings.HasPrefix(u, "/v2/") {
			t.Fatalf("examples.txt: bad line %q", line)
		}
		out = append(out, u)
	}
	if len(out) != 14 {
		t.Fatalf("examples.txt: %d URLs, want 14", len(out))
	}
	return out
}
