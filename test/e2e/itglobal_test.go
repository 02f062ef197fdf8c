package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestDemoReseller replays the README's Partner API v2 commands against
// `trellis serve --demo`: the demo account is found by e-mail substring,
// the seed's vStack order is charged its first day, DengiOnlinePlus
// answers { }, and the by-day report holds the day's operations.
func TestDemoReseller(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, nil, "--demo", "--data-dir", dir)
	creds := readCreds(t, dir)
	user, fin, project := creds["itglobal_user_key"], creds["itglobal_finance_key"], creds["itglobal_project_id"]
	if user == "" || fin == "" || project == "" || creds["itglobal_partner_id"] == "" || creds["itglobal_account_id"] == "" {
		t.Fatalf("demo credentials lack the reseller entries: %v", creds)
	}
	base := n.URL + "/itglobal/v2"

	var accounts struct {
		Result []map[string]any
	}
	if s := call(t, "GET", base+"/accounts?email=jack.brown", user, "", &accounts); s != 200 || len(accounts.Result) != 1 ||
		accounts.Result[0]["Email"] != "jack.brown@example.com" || fmt.Sprint(accounts.Result[0]["PersonalProjectId"]) != project {
		t.Fatalf("accounts %d %v", s, accounts)
	}
	var proj struct{ Result map[string]any }
	balance := func() float64 {
		t.Helper()
		if s := call(t, "GET", base+"/projects/"+project, user, "", &proj); s != 200 {
			t.Fatalf("project: %d", s)
		}
		return proj.Result["Balance"].(float64)
	}
	if b := balance(); b != 1234 {
		t.Fatalf("demo balance %v, want 1234 (its invoice, paid)", b)
	}
	var order struct{ Result map[string]any }
	if s := call(t, "POST", base+"/projects/"+project+"/vstack/locations/1/servers", user,
		`{"Name":"Example","Cpu":4,"RamMb":8192,"TemplateId":"1","Volumes":[],"BandwidthMbps":50}`, &order); s != 200 ||
		order.Result["State"] != "Active" {
		t.Fatalf("vStack order %d %v", s, order)
	}
	daily := order.Result["DailyPrice"].(float64)
	if b := balance(); b != 1234-daily {
		t.Fatalf("balance after the order %v, want 1234 − %v", b, daily)
	}
	var empty map[string]any
	if s := call(t, "POST", base+"/operations/projects/"+project, fin, `{"TypeOperation":"DengiOnlinePlus","Amount":1234}`, &empty); s != 200 || len(empty) != 0 {
		t.Fatalf("create operation %d %v, want 200 { }", s, empty)
	}
	var byDay struct{ Result map[string]any }
	if s := call(t, "GET", base+"/operations/projects/"+project+"/by-day?dateFrom=2026-01-01&dateTo=2030-12-31", fin, "", &byDay); s != 200 {
		t.Fatalf("by-day %d", s)
	}
	var types []string
	for _, d := range byDay.Result["Days"].([]any) {
		for _, op := range d.(map[string]any)["Operations"].([]any) {
			types = append(types, op.(map[string]any)["TypeOperation"].(string))
		}
	}
	if got := strings.Join(types, ","); got != "BankPayment,Charge,DengiOnlinePlus" {
		b, _ := json.Marshal(byDay)
		t.Fatalf("operations %s: %s", got, b)
	}
}
