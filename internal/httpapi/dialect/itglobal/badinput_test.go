package itglobal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// edit returns a sample with fields replaced (nil deletes one).
func edit(t *testing.T, name string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(sample(t, name))))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// state is what a bad request must not change: partner A's accounts,
// projects (balances, flags), companies, invoices, payments, operations
// and orders.
func (f *fixture) state(t *testing.T) string {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	accs, err := f.res.ListAccounts(f.ctx, f.actA, reseller.AccountFilter{})
	must(err)
	projs, err := f.res.ListProjects(f.ctx, f.actA)
	must(err)
	var comps []reseller.Company
	for _, p := range []int64{projReport, projBank} {
		c, err := f.res.ListCompanies(f.ctx, f.actA, p)
		must(err)
		comps = append(comps, c...)
	}
	invs, err := f.res.ListInvoices(f.ctx, f.actA, projBank, companyBank)
	must(err)
	pays, err := f.res.ListPayments(f.ctx, f.actA)
	must(err)
	ops, err := f.res.Report(f.ctx, f.actA, 0, t0.AddDate(-10, 0, 0), t0.AddDate(10, 0, 0))
	must(err)
	ords, err := f.ord.ListOrders(f.ctx, f.actA, projVOrg)
	must(err)
	b, err := json.Marshal([]any{accs, projs, comps, invs, pays, ops, ords})
	must(err)
	return string(b)
}

type badCase struct {
	name         string
	key          string
	method, path string
	body         []byte
	field        string // the field the error must name
	specInvalid  bool   // the spec itself rejects the request
}

// TestBadInput: each documented rule gives 400 naming the field, and
// nothing changes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		f.seedAll(t)
		u, fin := keyAUser, keyAFinance
		companies := "/projects/" + id(projReport) + "/companies"
		co := "/projects/" + id(projBank) + "/companies/" + id(companyBank)
		vm := "/projects/" + id(projVOrg) + "/iaas/locations/ds1/servers"
		vs := "/projects/" + id(projVOrg) + "/vstack/locations/1/servers"
		op := "/operations/projects/" + id(projVOrg)
		cases := []badCase{
			// tax ids
			{"INN checksum", u, "POST", companies, edit(t, "createCompany", map[string]any{"INN": "7838413488"}), "INN", false},
			{"INN length", u, "POST", companies, edit(t, "createCompany", map[string]any{"INN": "78384134890"}), "INN", false},
			{"INN missing for RU", u, "POST", companies, edit(t, "createCompany", map[string]any{"INN": nil}), "INN", false},
			{"BIN checksum", u, "POST", companies, edit(t, "createCompany", map[string]any{"CountryTwoLetterCode": "KZ", "INN": nil, "KPP": nil, "Ogrn": nil, "Okpo": nil, "BIN": "123456789012"}), "BIN", false},
			{"BIN missing for KZ", u, "POST", companies, edit(t, "createCompany", map[string]any{"CountryTwoLetterCode": "KZ", "INN": nil, "KPP": nil, "Ogrn": nil, "Okpo": nil}), "BIN", false},
			{"UNP length", u, "POST", companies, edit(t, "createCompany", map[string]any{"CountryTwoLetterCode": "BY", "INN": nil, "KPP": nil, "Ogrn": nil, "Okpo": nil, "UNP": "12345678"}), "UNP", false},
			// enums
			{"country enum", u, "POST", companies, edit(t, "createCompany", map[string]any{"CountryTwoLetterCode": "US"}), "CountryTwoLetterCode", true},
			{"auto invoice enum", u, "POST", companies, edit(t, "createCompany", map[string]any{"TypeAutoInvoiceGeneration": "Weekly"}), "TypeAutoInvoiceGeneration", true},
			{"doc period enum", u, "PUT", companies + "/" + id(f.companyEdited), edit(t, "editCompany", map[string]any{"DocDeliveryPeriod": "Weekly"}), "DocDeliveryPeriod", true},
			{"agreement date format", u, "POST", companies, edit(t, "createCompany", map[string]any{"AgreementDate": "12.08.2021"}), "AgreementDate", true},
			{"account state enum", u, "POST", "/accounts", []byte(`{"Email":"x@example.com","State":"Pending"}`), "State", true},
			{"account email missing", u, "POST", "/accounts", []byte(`{"State":"Active"}`), "Email", true},
			{"account email", u, "POST", "/accounts", []byte(`{"Email":"not-an-email","State":"Active"}`), "Email", false},
			{"operation type enum", fin, "POST", op, []byte(`{"TypeOperation":"Bonus","Amount":1}`), "TypeOperation", true},
			{"VOrg location enum", u, "POST", "/cloud-director/vorgs", edit(t, "createVOrg", map[string]any{"Location": "xx"}), "Location", true},
			{"VDC type enum", u, "POST", "/cloud-director/vdcs", edit(t, "createVdc", map[string]any{"Type": "Hybrid"}), "Type", true},
			{"HDDType enum", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"HDDType": "NVMe"}), "HDDType", true},
			// amounts: positive, two decimals, JSON numbers
			{"operation three decimals", fin, "POST", op, []byte(`{"TypeOperation":"DengiOnlinePlus","Amount":12.345}`), "Amount", false},
			{"operation negative", fin, "POST", op, []byte(`{"TypeOperation":"BonusPlus","Amount":-5}`), "Amount", true},
			{"operation zero", fin, "POST", op, []byte(`{"TypeOperation":"DengiOnlinePlus","Amount":0}`), "Amount", true},
			{"invoice three decimals", fin, "POST", co + "/invoices", []byte(`{"Amount":1.001}`), "Amount", false},
			{"invoice amount as a string", fin, "POST", co + "/invoices", []byte(`{"Amount":"1234"}`), "Amount", true},
			{"bank payment zero", fin, "POST", "/payments/bank", edit(t, "createBankPayment", map[string]any{"Number": "900", "Amount": 0}), "Amount", true},
			{"bank payment invoice number", fin, "POST", "/payments/bank", edit(t, "createBankPayment", map[string]any{"Number": "901", "InvoiceNumber": "15a"}), "InvoiceNumber", true},
			{"bank payment empty number", fin, "POST", "/payments/bank", edit(t, "createBankPayment", map[string]any{"Number": ""}), "Number", false},
			{"online payment zero", fin, "POST", "/payments/online", []byte(`{"PaymentId":"X2","Amount":0,"ProjectId":1427}`), "Amount", true},
			{"bank payment empty TIN", fin, "POST", "/payments/bank", edit(t, "createBankPayment", map[string]any{"Number": "902", "TIN": ""}), "TIN", false},
			{"online payment three decimals", fin, "POST", "/payments/online", []byte(`{"PaymentId":"X1","Amount":20.215,"ProjectId":1427}`), "Amount", false},
			{"max debt negative", u, "PUT", "/projects/" + id(projVOrg), []byte(`{"MaxDebt":-1}`), "MaxDebt", true},
			{"max debt three decimals", u, "PUT", "/projects/" + id(projVOrg), []byte(`{"MaxDebt":1.234}`), "MaxDebt", false},
			{"is post paid type", u, "PUT", "/projects/" + id(projVOrg), []byte(`{"IsPostPaid":"yes"}`), "IsPostPaid", true},
			{"auto invoice amount three decimals", u, "POST", companies, edit(t, "createCompany", map[string]any{"AutoInvoiceAmount": json.Number("4.444")}), "AutoInvoiceAmount", false},
			// dates and query parameters
			{"date not a date", fin, "GET", "/operations/projects?dateFromUtc=2019-13-45&dateToUtc=2019-07-10", nil, "dateFromUtc", false},
			{"date format", fin, "GET", "/operations/projects?dateFromUtc=07/01/2019&dateToUtc=2019-07-10", nil, "dateFromUtc", true},
			{"date to missing", fin, "GET", "/operations/projects?dateFromUtc=2019-07-01", nil, "dateToUtc", true},
			{"case-sensitive name", fin, "GET", "/operations/projects?datefromutc=2019-07-01&dateToUtc=2019-07-10", nil, "dateFromUtc", true},
			{"from after to", fin, "GET", "/operations/projects/" + id(projReport) + "?dateFromUtc=2019-07-10&dateToUtc=2019-07-01", nil, "dateToUtc", false},
			{"by-day to missing", fin, "GET", "/operations/projects/by-day?dateFrom=2021-11-01", nil, "dateTo", true},
			{"by-day case", fin, "GET", "/operations/projects/by-day?datefrom=2021-11-01&dateTo=2021-12-02", nil, "dateFrom", true},
			{"project by-day neither dateTo nor dateToUtc", fin, "GET", op + "/by-day?dateFrom=2021-11-01", nil, "dateTo", false},
			{"project by-day to before from", fin, "GET", op + "/by-day?dateFrom=2021-11-10&dateTo=2021-11-01", nil, "dateTo", false},
			{"project by-day alias before from", fin, "GET", op + "/by-day?dateFrom=2021-11-10&dateToUtc=2021-11-01", nil, "dateToUtc", false},
			{"by-day to before from", fin, "GET", "/operations/projects/by-day?dateFrom=2021-11-10&dateTo=2021-11-01", nil, "dateTo", false},
			{"ticket date", u, "GET", "/support/client/tickets?createdFrom=2023-02-30", nil, "createdFrom", false},
			{"reviews count 0", u, "GET", "/reviews/0", nil, "count", false},
			{"reviews count 101", u, "GET", "/reviews/101", nil, "count", false},
			// orders
			{"VMware name over 50", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"Name": strings.Repeat("n", 51)}), "Name", true},
			{"BackupPeriod enum", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"BackupPeriod": 5}), "BackupPeriod", true},
			{"BackupPeriod enum with backup off", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"BackupPeriod": 30, "IsBackupActive": false}), "BackupPeriod", true},
			{"BackupPeriod missing", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"BackupPeriod": nil}), "BackupPeriod", true},
			{"NetworkBandwidth zero", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"NetworkBandwidth": 0}), "NetworkBandwidth", false},
			{"unknown image", u, "POST", vm, edit(t, "createVmwareServer", map[string]any{"ImageID": 4711}), "ImageID", false},
			{"BandwidthMbps not a multiple of 10", u, "POST", vs, edit(t, "createVstackServer", map[string]any{"BandwidthMbps": 55}), "BandwidthMbps", true},
			{"BandwidthMbps zero", u, "POST", vs, edit(t, "createVstackServer", map[string]any{"BandwidthMbps": 0}), "BandwidthMbps", true},
			{"Volumes missing", u, "POST", vs, edit(t, "createVstackServer", map[string]any{"Volumes": nil}), "Volumes", true},
			{"unknown template", u, "POST", vs, edit(t, "createVstackServer", map[string]any{"TemplateId": "999"}), "TemplateId", false},
			{"Kubernetes version", u, "POST", "/projects/" + id(projVOrg) + "/kubernetes", edit(t, "createKubernetesCluster", map[string]any{"Version": "0.1"}), "Version", false},
			{"1C Users missing", u, "POST", "/projects/" + id(projVOrg) + "/1c", edit(t, "create1C", map[string]any{"Users": nil}), "Users", true},
			// bodies
			{"malformed JSON", u, "POST", "/accounts", []byte(`{"Email":`), "body", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := f.state(t)
				resp := f.do(t, c.key, apitest.Request{Method: c.method, Path: c.path, Body: c.body, ExpectInvalidRequest: c.specInvalid})
				if resp.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", resp.Status, resp.Body)
				}
				if e := errorOf(t, resp); e.Code != "Invalid" || e.Field != c.field || e.Message == "" {
					t.Errorf("error %+v, want Invalid naming %s", e, c.field)
				}
				if d := cmp.Diff(before, f.state(t)); d != "" {
					t.Errorf("state changed (-before +after):\n%s", d)
				}
			})
		}
		// The re-read sees changes: a valid operation changes the state.
		before := f.state(t)
		wantStatus(t, f.send(t, fin, "POST", op, []byte(`{"TypeOperation":"BonusPlus","Amount":0.01}`)), http.StatusOK)
		if before == f.state(t) {
			t.Error("the state re-read does not see a BonusPlus")
		}
	})
}
