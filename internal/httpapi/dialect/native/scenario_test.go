package native

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestScenario walks every route's happy path, reading every change back,
// and then requires that every operation of the spec was exercised.
func TestScenario(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		v := apitest.NewValidator(t, Spec30())
		e := newEnv(t, d, v)
		t.Run("orgs", e.scenarioOrgs)
		t.Run("contracts", e.scenarioContracts)
		t.Run("partners", e.scenarioPartners)
		t.Run("keys", e.scenarioKeys)
		t.Run("audit", e.scenarioAudit)
		t.Run("usage", e.scenarioUsage)
		t.Run("regions", e.scenarioRegions)
		t.Run("object storage", e.scenarioObjectStorage) // before jobs, which purges the storage accounts
		t.Run("jobs", e.scenarioJobs)
		t.Run("sandbox", e.scenarioSandbox)
		t.Run("billing", e.scenarioBilling)
		t.Run("idcloudhost users and locations", e.scenarioIdentity)
		t.Run("catalog", e.scenarioCatalog)
		t.Run("network pools and VMs", e.scenarioResources)
		t.Run("reseller", e.scenarioReseller)
		t.Run("bss installations", e.scenarioBSS)
		if got := v.Uncovered(); len(got) != 0 {
			t.Errorf("operations never answered with 2xx: %q", got)
		}
	})
}

func (e *env) scenarioOrgs(t *testing.T) {
	all := items(e.ok(t, 200, "GET", "/orgs", provAdmin, ""))
	for _, id := range []string{e.root, e.distA, e.distB, e.partnerA, e.partnerB} {
		if !slices.Contains(all, id) {
			t.Errorf("GET /orgs lacks %s: %v", id, all)
		}
	}
	dists := items(e.ok(t, 200, "GET", "/orgs?kind=distributor", provAdmin, ""))
	if want := sorted(e.distA, e.distB); !slices.Equal(dists, want) {
		t.Errorf("distributors = %v, want %v", dists, want)
	}
	if got, want := items(e.ok(t, 200, "GET", "/orgs", aViewer, "")), sorted(e.distA, e.partnerA, e.billing.custA); !slices.Equal(got, want) {
		t.Errorf("A's orgs = %v, want %v", got, want)
	}

	dist := e.ok(t, 200, "GET", "/orgs/"+e.distA, aViewer, "")
	if dist["kind"] != "distributor" || dist["parentId"] != e.root || dist["timeZone"] != "Europe/Berlin" || dist["name"] != "Distributor A" {
		t.Errorf("distributor A = %v", dist)
	}
	if _, ok := dist["allocatedCapacity"]; ok {
		t.Errorf("a distributor has partner fields: %v", dist)
	}
	p := e.ok(t, 200, "GET", "/orgs/"+e.partnerA, aViewer, "")
	if p["kind"] != "partner" || p["contractId"] != e.contractA || p["allocatedCapacity"] != 1000.0 ||
		p["allowOverdraft"] != false || p["accountsAllocated"] != 100.0 {
		t.Errorf("partner A = %v", p)
	}
	root := e.ok(t, 200, "GET", "/orgs/"+e.root, provViewer, "")
	if _, ok := root["parentId"]; ok || root["kind"] != "provider" {
		t.Errorf("root = %v", root)
	}

	// A customer under partner A, with a caller-chosen id, by A's admin.
	const custID = "0190a8c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"
	c := e.ok(t, 201, "POST", "/orgs", aAdmin, `{"id":"`+custID+`","parentId":"`+e.partnerA+`","name":"  Customer 1 ","details":"d"}`)
	if c["id"] != custID || c["kind"] != "customer" || c["parentId"] != e.partnerA || c["name"] != "Customer 1" ||
		c["timeZone"] != "UTC" || c["details"] != "d" {
		t.Errorf("created customer = %v", c)
	}
	if got := e.ok(t, 200, "GET", "/orgs/"+custID, aViewer, ""); !reflect.DeepEqual(got, c) {
		t.Errorf("read back %v, created %v", got, c)
	}
	e.clock.Advance(time.Second)
	u := e.ok(t, 200, "PATCH", "/orgs/"+custID, aAdmin, `{"name":"Customer One","timeZone":"Asia/Tokyo"}`)
	if u["name"] != "Customer One" || u["timeZone"] != "Asia/Tokyo" || u["details"] != "d" || u["updatedAt"] == c["updatedAt"] {
		t.Errorf("updated customer = %v", u)
	}
	if got := e.ok(t, 200, "GET", "/orgs/"+custID, aViewer, ""); !reflect.DeepEqual(got, u) {
		t.Errorf("read back %v, updated %v", got, u)
	}
	if r := e.do(t, e.req("DELETE", "/orgs/"+custID, aAdmin, "")); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(t, e.req("GET", "/orgs/"+custID, aViewer, "")), 404, "")
}

func (e *env) scenarioContracts(t *testing.T) {
	if got := items(e.ok(t, 200, "GET", "/contracts", provViewer, "")); !slices.Equal(got, sorted(e.contractA, e.contractB)) {
		t.Errorf("contracts = %v", got)
	}
	if got := items(e.ok(t, 200, "GET", "/contracts", aViewer, "")); !slices.Equal(got, []string{e.contractA}) {
		t.Errorf("A's contracts = %v", got)
	}
	a := e.ok(t, 200, "GET", "/contracts/"+e.contractA, aViewer, "")
	if a["orgId"] != e.distA || a["parentOrgId"] != e.root || a["reservedCapacity"] != 1e6 || a["allocatedCapacity"] != 1000.0 ||
		a["costStorageGBCents"] != 100.0 || a["costEgressGBCents"] != 0.0 || a["currency"] != "EUR" || a["details"] != "A 1 MB" {
		t.Errorf("contract A = %v", a)
	}

	const id = "0190a8c4-5d6e-7f80-9a1b-2c3d4e5f6a70"
	c := e.ok(t, 201, "POST", "/contracts", provAdmin, `{"id":"`+id+`","orgId":"`+e.distB+`","reservedCapacity":9223372036854774784,
		"costStorageGBCents":1,"costEgressGBCents":2,"currency":"CHF","details":"B big"}`)
	if c["id"] != id || c["reservedCapacity"] != 9223372036854774784.0 || c["currency"] != "CHF" || c["allocatedCapacity"] != 0.0 {
		t.Errorf("created contract = %v", c)
	}
	if got := e.ok(t, 200, "GET", "/contracts/"+id, bAdmin, ""); !reflect.DeepEqual(got, c) {
		t.Errorf("read back %v, created %v", got, c)
	}
	u := e.ok(t, 200, "PATCH", "/contracts/"+id, provAdmin, `{"reservedCapacity":5000,"costEgressGBCents":7,"currency":"USD","details":"B small"}`)
	if u["reservedCapacity"] != 5000.0 || u["costEgressGBCents"] != 7.0 || u["costStorageGBCents"] != 1.0 || u["currency"] != "USD" || u["details"] != "B small" {
		t.Errorf("updated contract = %v", u)
	}
	if got := e.ok(t, 200, "GET", "/contracts/"+id, bAdmin, ""); !reflect.DeepEqual(got, u) {
		t.Errorf("read back %v, updated %v", got, u)
	}
	if r := e.do(t, e.req("DELETE", "/contracts/"+id, provAdmin, "")); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(t, e.req("GET", "/contracts/"+id, provAdmin, "")), 404, "")
}

func (e *env) scenarioPartners(t *testing.T) {
	if got := items(e.ok(t, 200, "GET", "/contracts/"+e.contractA+"/partners", aViewer, "")); !slices.Equal(got, []string{e.partnerA}) {
		t.Errorf("partners of A = %v", got)
	}
	p := e.ok(t, 201, "POST", "/contracts/"+e.contractA+"/partners", aStaff, `{"name":"Partner A2","details":"x","allocatedCapacity":5000,"allowOverdraft":true}`)
	id := str(p["id"])
	if p["kind"] != "partner" || p["parentId"] != e.distA || p["contractId"] != e.contractA || p["allocatedCapacity"] != 5000.0 ||
		p["allowOverdraft"] != true || p["timeZone"] != "Europe/Berlin" || p["accountsAllocated"] != 0.0 {
		t.Errorf("created partner = %v", p)
	}
	e.wantAllocated(t, e.contractA, 6000)
	if got := items(e.ok(t, 200, "GET", "/contracts/"+e.contractA+"/partners", aViewer, "")); !slices.Equal(got, []string{e.partnerA, id}) {
		t.Errorf("partners of A = %v", got)
	}

	u := e.ok(t, 200, "PATCH", "/partners/"+id, aStaff, `{"name":"Partner A2b","allocatedCapacity":2000,"allowOverdraft":false}`)
	if u["name"] != "Partner A2b" || u["allocatedCapacity"] != 2000.0 || u["allowOverdraft"] != false || u["details"] != "x" {
		t.Errorf("updated partner = %v", u)
	}
	if got := e.ok(t, 200, "GET", "/orgs/"+id, aViewer, ""); !reflect.DeepEqual(got, u) {
		t.Errorf("read back %v, updated %v", got, u)
	}
	e.wantAllocated(t, e.contractA, 3000)

	// Growing past the contract is the service's refusal, naming the field.
	r := e.do(t, e.req("PATCH", "/partners/"+id, aStaff, `{"allocatedCapacity":1000000}`))
	if p := wantProblem(t, r, 400, "allocatedCapacity"); p != nil && p["type"] != "urn:trellis:problem:capacity_exceeded" {
		t.Errorf("problem = %v", p)
	}

	if r := e.do(t, e.req("DELETE", "/partners/"+id, aStaff, "")); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	e.wantAllocated(t, e.contractA, 1000)
	wantProblem(t, e.do(t, e.req("GET", "/orgs/"+id, aViewer, "")), 404, "")
}

func (e *env) wantAllocated(t *testing.T, contractID string, want float64) {
	t.Helper()
	if got := e.ok(t, 200, "GET", "/contracts/"+contractID, provViewer, "")["allocatedCapacity"]; got != want {
		t.Errorf("contract allocatedCapacity = %v, want %v", got, want)
	}
}

func (e *env) scenarioKeys(t *testing.T) {
	list := e.ok(t, 200, "GET", "/keys", provAdmin, "")
	if got := items(list); len(got) != len(e.keyIDs) {
		t.Errorf("keys = %v, want %d", got, len(e.keyIDs))
	}
	for _, k := range list["items"].([]any) {
		if _, ok := k.(map[string]any)["secret"]; ok {
			t.Errorf("listed key shows its secret: %v", k)
		}
	}
	if got := items(e.ok(t, 200, "GET", "/keys", bAdmin, "")); !slices.Equal(got, []string{e.keyIDs[bAdmin]}) {
		t.Errorf("B's keys = %v", got)
	}

	k := e.ok(t, 201, "POST", "/keys", aAdmin, `{"orgId":"`+e.partnerA+`","name":"partner viewer","role":"viewer"}`)
	secret, id := str(k["secret"]), str(k["id"])
	if !strings.HasPrefix(secret, "trl_") || k["prefix"] != secret[:12] || k["orgId"] != e.partnerA || k["role"] != "viewer" ||
		k["createdBy"] != e.keyIDs[aAdmin] {
		t.Errorf("created key = %v", k)
	}
	e.secrets["partner-viewer"] = secret
	if got, want := items(e.ok(t, 200, "GET", "/orgs", "partner-viewer", "")), sorted(e.partnerA, e.billing.custA); !slices.Equal(got, want) {
		t.Errorf("the new key sees %v", got)
	}
	g := e.ok(t, 200, "GET", "/keys/"+id, aAdmin, "")
	if _, ok := g["secret"]; ok || g["prefix"] != secret[:12] || g["lastUsedAt"] == nil || g["revokedAt"] != nil {
		t.Errorf("read back key = %v", g)
	}
	r := e.ok(t, 200, "DELETE", "/keys/"+id, aAdmin, "")
	if r["id"] != id || r["revokedAt"] == nil {
		t.Errorf("revoked key = %v", r)
	}
	wantProblem(t, e.do(t, e.req("GET", "/orgs", "partner-viewer", "")), 401, "")
	if again := e.ok(t, 200, "DELETE", "/keys/"+id, aAdmin, ""); again["revokedAt"] != r["revokedAt"] {
		t.Errorf("revoking twice changed the key: %v, then %v", r, again)
	}
	if got := e.ok(t, 200, "GET", "/keys/"+id, aAdmin, ""); got["revokedAt"] != r["revokedAt"] {
		t.Errorf("read back revoked key = %v", got)
	}
}

func (e *env) scenarioAudit(t *testing.T) {
	all := e.ok(t, 200, "GET", "/audit?limit=1000", provViewer, "")["items"].([]any)
	var actions []string
	for _, it := range all {
		en := it.(map[string]any)
		actions = append(actions, str(en["action"]))
		if en["principalType"] == actor.TypeAPIKey && str(en["requestId"]) == "" {
			t.Errorf("entry without request id: %v", en)
		}
	}
	for _, want := range []string{"org.create", "contract.create", "partner.create", "api_key.create", "api_key.revoke", "org.delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
	// A sees its own subtree's entries only.
	for _, it := range e.ok(t, 200, "GET", "/audit?limit=1000", aViewer, "")["items"].([]any) {
		if en := it.(map[string]any); en["objectId"] == e.distB || en["objectId"] == e.contractB || en["objectId"] == e.partnerB {
			t.Errorf("A sees B's entry %v", en)
		}
	}
}

func (e *env) scenarioUsage(t *testing.T) {
	// The distributor billed for the usage may not write it.
	e.ok(t, 403, "PUT", "/storage-accounts/"+e.saA+"/usage/2024-04-30", aAdmin, `{"usage":1}`)
	u := e.ok(t, 200, "PUT", "/storage-accounts/"+e.saA+"/usage/2024-04-30", provAdmin, `{"usage":12345}`)
	if u["storageAccountId"] != e.saA || u["day"] != "2024-04-30" || u["usage"] != 12345.0 || u["allocatedCapacity"] != 100.0 {
		t.Errorf("usage = %v", u)
	}
	// A correction of the same day.
	if u := e.ok(t, 200, "PUT", "/storage-accounts/"+e.saA+"/usage/2024-04-30", provAdmin, `{"usage":0}`); u["usage"] != 0.0 {
		t.Errorf("corrected usage = %v", u)
	}
	last := e.ok(t, 200, "GET", "/audit?limit=1000", aViewer, "")["items"].([]any)
	if en := last[len(last)-1].(map[string]any); en["action"] != "usage.record" || en["objectId"] != e.saA {
		t.Errorf("last audit entry = %v", en)
	}
}

func (e *env) scenarioRegions(t *testing.T) {
	if got := e.ok(t, 200, "GET", "/regions", aViewer, "")["items"]; len(got.([]any)) != 0 {
		t.Errorf("regions = %v", got)
	}
	body := `{"s3Url":"https://s3.eu-1.example.com","iamUrl":"https://iam.eu-1.example.com","stsUrl":"https://sts.eu-1.example.com"}`
	r := e.ok(t, 200, "PUT", "/regions/eu-1", provAdmin, body)
	if r["name"] != "eu-1" || r["s3Url"] != "https://s3.eu-1.example.com" || r["stsUrl"] != "https://sts.eu-1.example.com" {
		t.Errorf("region = %v", r)
	}
	e.ok(t, 200, "PUT", "/regions/eu-1", provAdmin, strings.Replace(body, "s3.eu-1", "s3-new.eu-1", 1))
	list := e.ok(t, 200, "GET", "/regions", aViewer, "")["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["s3Url"] != "https://s3-new.eu-1.example.com" {
		t.Errorf("regions = %v", list)
	}
	if r := e.do(t, e.req("DELETE", "/regions/eu-1", provAdmin, "")); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	if got := e.ok(t, 200, "GET", "/regions", aViewer, "")["items"]; len(got.([]any)) != 0 {
		t.Errorf("regions after delete = %v", got)
	}
}

func (e *env) scenarioJobs(t *testing.T) {
	if err := e.deps.Objstore.ScheduleDeletion(t.Context(), actor.System(""), e.partnerA, e.saA); err != nil {
		t.Fatal(err)
	}
	if got := e.ok(t, 200, "POST", "/jobs/purge-storage-accounts", provAdmin, "")["deleted"]; got != 0.0 {
		t.Errorf("deleted before the grace period = %v", got)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	if got := e.ok(t, 200, "POST", "/jobs/purge-storage-accounts", provAdmin, "")["deleted"]; got != 1.0 {
		t.Errorf("deleted after the grace period = %v", got)
	}
	if p := e.ok(t, 200, "GET", "/orgs/"+e.partnerA, aViewer, ""); p["accountsAllocated"] != 0.0 {
		t.Errorf("partner A after the purge = %v", p)
	}
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
