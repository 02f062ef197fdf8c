package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
)

// dedicatedSpec is the idcloudhost spec with its server at /v1, as the
// dedicated listener serves it (the vendor's own URL layout).
func dedicatedSpec(t *testing.T) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(idcloudhost.Spec(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["servers"] = []any{map[string]any{"url": "/v1"}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// idc sends a request as the seed's curl lines do (apikey header, -d form
// data; GETs with a query string) and validates the exchange.
func idc(t *testing.T, v *apitest.Validator, base, key, method, path string, form neturl.Values) (int, []byte) {
	t.Helper()
	var body io.Reader
	target := base + path
	if method == http.MethodGet && len(form) > 0 {
		target += "?" + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("apikey", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	ar := apitest.Request{Method: method, Path: strings.TrimPrefix(target, base), Header: req.Header.Clone()}
	if body != nil {
		ar.Body = []byte(form.Encode())
	}
	v.Check(t, ar, apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: out})
	return resp.StatusCode, out
}

// TestIDCloudHostDedicatedListener starts `trellis serve --demo
// --idcloudhost-http …`: the seed's requests work against /v1/… on the
// dedicated address with the demo key, and a month moved forward with the
// sandbox clock produces an invoice that the demo card pays at once.
func TestIDCloudHostDedicatedListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	idchAddr := freeAddr(t)
	n := start(t, nil, "--demo", "--data-dir", dir, "--idcloudhost-http", idchAddr)
	creds := readCreds(t, dir)
	key := creds["idcloudhost_key"]
	if key == "" {
		t.Fatalf("demo-credentials.json lacks idcloudhost_key: %v", creds)
	}
	if !strings.Contains(n.Stdout(), "idcloudhost API: http://"+idchAddr+"/v1/") {
		t.Errorf("the dedicated listener is not announced:\n%s", n.Stdout())
	}
	v := apitest.NewValidator(t, dedicatedSpec(t))
	base := "http://" + idchAddr

	// The seed's requests, with the host replaced.
	var user map[string]any
	status, b := idc(t, v, base, key, "GET", "/v1/user-resource/user", nil)
	if status != 200 || json.Unmarshal(b, &user) != nil || user["id"] != 8.0 || user["name"] != "user@example.com" {
		t.Fatalf("GET user = %d %s", status, b)
	}
	if status, b := idc(t, v, base, key, "GET", "/v1/config/locations", nil); status != 200 || !strings.Contains(string(b), `"slug":"cyc01"`) {
		t.Errorf("locations = %d %s", status, b)
	}
	var acct map[string]any
	status, b = idc(t, v, base, key, "GET", "/v1/payment/billing_account", neturl.Values{"billing_account_id": {"6"}})
	if status != 200 || json.Unmarshal(b, &acct) != nil || acct["title"] != "konto" || acct["vat_percentage"] != 20.0 ||
		acct["credit_amount"] != 2.0 || acct["primary_card"] == nil {
		t.Fatalf("billing account 6 = %d %s", status, b)
	}
	if status, b := idc(t, v, base, key, "GET", "/v1/pricing/policy", nil); status != 200 || !strings.Contains(string(b), `3.42e-05`) {
		t.Errorf("pricing policy = %d %s", status, b)
	}
	// Unknown paths and missing keys answer in the seed's error shape.
	if status, b := idc(t, v, base, "", "GET", "/v1/user-resource/user", nil); status != 401 || !strings.Contains(string(b), `{"errors":{"Error":`) {
		t.Errorf("no key = %d %s", status, b)
	}

	// One hour of usage now, then the sandbox clock jumps past the month's end.
	var clk struct {
		Now time.Time `json:"now"`
	}
	if s := call(t, "GET", n.URL+"/api/v1/sandbox/clock", creds["admin_key"], "", &clk); s != 200 {
		t.Fatalf("GET clock = %d", s)
	}
	hour := clk.Now.Truncate(time.Hour)
	rec := fmt.Sprintf(`{"records":[{"resourceId":"5aea1842-0000-4000-8000-000000000001","meter":"vm","periodStart":%q,`+
		`"billingAccountId":6,"locationSlug":"cyc01","config":{"vm_name":"Ubuntu-16-04","cpus":2,"ram_MB":2048,"disk_size_GB":20,"os_name":"ubuntu"}}]}`,
		hour.Format(time.RFC3339))
	if s := call(t, "POST", n.URL+"/api/v1/usage/hourly", creds["admin_key"], rec, nil); s != 200 {
		t.Fatalf("record usage = %d", s)
	}
	next := time.Date(hour.Year(), hour.Month()+1, 1, 2, 0, 0, 0, time.UTC)
	if s := call(t, "POST", n.URL+"/api/v1/sandbox/clock", creds["admin_key"], `{"to":"`+next.Format(time.RFC3339)+`"}`, nil); s != 200 {
		t.Fatalf("advance = %d", s)
	}
	var invoices []map[string]any
	status, b = idc(t, v, base, key, "GET", "/v1/payment/invoice/list", neturl.Values{"billing_account_id": {"6"}})
	if status != 200 || json.Unmarshal(b, &invoices) != nil || len(invoices) != 1 {
		t.Fatalf("invoices after the month = %d %s", status, b)
	}
	// The recorded hour and every hour of the demo VM (running since the
	// demo loaded, 0.019 an hour like the record) until the month's end:
	// subtotal up to the cent, the 2.00 of demo credit applied first, VAT
	// 20 % on the rest, which the demo card pays at once.
	monthEnd := time.Date(hour.Year(), hour.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	hours := int64(monthEnd.Sub(hour)/time.Hour) + 1
	sub := (19*hours + 9) / 10 // cents
	credit := min(sub, 200)
	vat := ((sub-credit)*20 + 50) / 100
	cents := func(v any) int64 { f, _ := v.(float64); return int64(f*100 + 0.5*sign(f)) }
	inv := invoices[0]
	if inv["status"] != 10.0 || inv["padded_id"] != "001" {
		t.Errorf("invoice = %v, want invoice 001 paid", inv)
	}
	totals := inv["totals"].(map[string]any)
	if cents(totals["subtotal"]) != sub || cents(totals["credit"]) != -credit || cents(totals["vat_tax"]) != vat ||
		cents(totals["total"]) != sub-credit+vat {
		t.Errorf("totals = %v, want subtotal %d, credit -%d, VAT %d cents (%d hours at 0.019)", totals, sub, credit, vat, hours)
	}

	// The seed's VM-create request with the host replaced, on the built
	// binary; the VM is listed in its location at once.
	var vm map[string]any
	status, b = idc(t, v, base, key, "POST", "/v1/user-resource/vm", neturl.Values{"name": {"Ubuntu-16-04"},
		"os_name": {"ubuntu"}, "os_version": {"16.04"}, "disks": {"20"}, "vcpu": {"2"}, "ram": {"2048"},
		"designated_pool_uuid": {"d2fc6881-9316-46d7-b515-b6cddaeee927"}, "username": {"example"},
		"password": {"Password123"}, "billing_account_id": {"6"}, "network_uuid": {"50341410-9e88-4af2-a21e-b8c898e33e52"}})
	if status != 200 || json.Unmarshal(b, &vm) != nil || vm["status"] != "running" || len(vm["storage"].([]any)) != 1 {
		t.Fatalf("create VM = %d %s", status, b)
	}
	status, b = idc(t, v, base, key, "GET", "/v1/cyc01/user-resource/vm/list", nil)
	if status != 200 || !strings.Contains(string(b), vm["uuid"].(string)) {
		t.Errorf("VM list in cyc01 = %d %s", status, b)
	}
	if status, _ := idc(t, v, base, key, "GET", "/v1/bus02/user-resource/vm", neturl.Values{"uuid": {vm["uuid"].(string)}}); status != 404 {
		t.Errorf("the VM from another location = %d, want 404", status)
	}
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
