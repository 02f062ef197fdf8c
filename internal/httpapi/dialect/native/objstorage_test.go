package native

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// testBox seals S3 secrets with a fresh key, as the server does.
func testBox(t *testing.T) objstore.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// addObjectStorageDeps adds the bucket service (on an S3 server that holds
// no objects: the routes under test only read and flag buckets, and the
// purge job empties and deletes them) and the excess report.
func addObjectStorageDeps(d *Deps, st *sqlstore.Store, clk clock.Clock) {
	d.Buckets = wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: st}, Billing: d.Billing,
		Principals: d.Objstore, Recorder: d.Hourly, Clock: clk, DataPlane: emptyS3{}}))
	d.Excess = buckets.NewExcess(d.Tenancy, st, clk)
}

func (e *env) objectStorageBadRoutes() []badRoute {
	keys := "/storage-accounts/" + e.saA + "/s3-keys"
	return []badRoute{
		{"POST", keys, []badCase{
			{name: "oversize", body: strings.Repeat("x", outerLimit+1), status: 413, field: "body", specValid: true},
			{name: "account malformed", path: "/storage-accounts/x/s3-keys", status: 422, field: "id"},
			{name: "account unknown", path: "/storage-accounts/" + unknownID + "/s3-keys", status: 404, specValid: true},
			{name: "account foreign", key: aAdmin, path: "/storage-accounts/" + e.saB + "/s3-keys", status: 404, specValid: true},
			{name: "a viewer", key: aViewer, status: 403, specValid: true},
		}},
		{"DELETE", keys + "/TRNOSUCHKEY", []badCase{
			{name: "key unknown", status: 404, specValid: true},
			{name: "key too long", path: keys + "/" + strings.Repeat("K", 129), status: 422, field: "access_key"},
			{name: "account malformed", path: "/storage-accounts/x/s3-keys/TRNOSUCHKEY", status: 422, field: "id"},
			{name: "account unknown", path: "/storage-accounts/" + unknownID + "/s3-keys/TRNOSUCHKEY", status: 404, specValid: true},
			{name: "a staff key", key: aStaff, status: 403, specValid: true},
		}},
		{"PATCH", "/buckets/no-such-bucket", append(bodyCases(`"is_suspended":true`), []badCase{
			{name: "is_suspended missing", body: `{}`, status: 422, field: "is_suspended"},
			{name: "is_suspended wrong type", body: `{"is_suspended":"yes"}`, status: 422, field: "is_suspended"},
			{name: "is_suspended null", body: `{"is_suspended":null}`, status: 422, field: "is_suspended"},
			{name: "name too long", path: "/buckets/" + strings.Repeat("b", 64), body: `{"is_suspended":true}`, status: 422, field: "name"},
			{name: "bucket unknown", body: `{"is_suspended":true}`, status: 404, specValid: true},
			{name: "not a provider admin", key: aAdmin, body: `{"is_suspended":true}`, status: 403, specValid: true},
		}...)},
	}
}

// scenarioObjectStorage answers every object-storage operation with 2xx.
func (e *env) scenarioObjectStorage(t *testing.T) {
	keys := "/storage-accounts/" + e.saA + "/s3-keys"
	k := e.ok(t, http.StatusCreated, "POST", keys, aAdmin, "")
	if got := e.s3Keys(t, e.saA, aAdmin); len(got) != 2 || got[1]["access_key"] != k["access_key"] {
		t.Fatalf("keys: %v", got)
	}
	e.ok(t, http.StatusNoContent, "DELETE", keys+"/"+str(k["access_key"]), aAdmin, "")
	if _, err := e.deps.Buckets.RegisterBucket(t.Context(), "scenario-bucket", e.saA); err != nil {
		t.Fatal(err)
	}
	if got := e.ok(t, http.StatusOK, "GET", "/storage-accounts/"+e.saA+"/buckets", aViewer, "")["items"].([]any); len(got) != 1 {
		t.Fatalf("buckets: %v", got)
	}
	if b := e.ok(t, http.StatusOK, "PATCH", "/buckets/scenario-bucket", provAdmin, `{"is_suspended":true}`); b["is_suspended"] != true {
		t.Fatalf("suspended: %v", b)
	}
	if x := e.ok(t, http.StatusOK, "GET", "/contracts/"+e.contractA+"/excess?month=2024-04", aViewer, ""); x["cost_cents"] != float64(0) {
		t.Fatalf("excess: %v", x)
	}
}

func (e *env) objectStorageAuthzCases() []authzCase {
	admins := []string{aViewer, aStaff, provViewer, provStaff}
	keys := "/storage-accounts/" + e.saA + "/s3-keys"
	return []authzCase{
		{method: "GET", path: keys, foreignPath: "/storage-accounts/" + e.saB + "/s3-keys"},
		{method: "POST", path: keys, forbidden: admins, foreignPath: "/storage-accounts/" + e.saB + "/s3-keys"},
		{method: "DELETE", path: keys + "/TRNOSUCHKEY", forbidden: admins,
			foreignPath: "/storage-accounts/" + e.saB + "/s3-keys/TRNOSUCHKEY"},
		{method: "GET", path: "/storage-accounts/" + e.saA + "/buckets", foreignPath: "/storage-accounts/" + e.saB + "/buckets"},
		{method: "PATCH", path: "/buckets/no-such-bucket", body: `{"is_suspended":true}`,
			forbidden: []string{aAdmin, provStaff, provViewer}},
		{method: "GET", path: "/contracts/" + e.contractA + "/excess?month=2024-04",
			foreignPath: "/contracts/" + e.contractB + "/excess?month=2024-04"},
	}
}

// partnerKey creates an API key of a partner org and returns its name in
// e.secrets.
func (e *env) partnerKey(t *testing.T, partnerID string, role actor.Role) string {
	t.Helper()
	k, err := e.deps.Access.CreateKey(t.Context(), actor.System(""),
		access.CreateKeyInput{OrgID: partnerID, Name: "partner " + string(role), Role: role})
	if err != nil {
		t.Fatal(err)
	}
	name := "partner-" + partnerID + "-" + string(role)
	e.secrets[name] = k.Secret
	return name
}

func (e *env) s3Keys(t *testing.T, account, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, it := range e.ok(t, http.StatusOK, "GET", "/storage-accounts/"+account+"/s3-keys", key, "")["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// A storage account comes with one S3 key. Admins see secrets, create and
// delete keys; staff and viewers see the keys without secrets and cannot
// change them; another tenant's account is not found, for partners as for
// distributors.
func TestS3Keys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		ctx := t.Context()
		opens := func(k map[string]any) {
			t.Helper()
			got, err := e.deps.Objstore.ResolveKey(ctx, str(k["access_key"]))
			if err != nil || got.Secret != str(k["secret_key"]) || got.PrincipalID != e.saA || len(got.Secret) != 40 {
				t.Fatalf("key %v resolves to %+v, %v", k, got, err)
			}
		}

		first := e.s3Keys(t, e.saA, aAdmin)
		if len(first) != 1 || str(first[0]["secret_key"]) == "" {
			t.Fatalf("a new account's keys: %v", first)
		}
		opens(first[0])
		for _, key := range []string{aViewer, aStaff, provViewer} {
			ks := e.s3Keys(t, e.saA, key)
			if len(ks) != 1 || ks[0]["access_key"] != first[0]["access_key"] || ks[0]["secret_key"] != nil {
				t.Fatalf("keys as %s: %v", key, ks)
			}
		}

		created := e.ok(t, http.StatusCreated, "POST", "/storage-accounts/"+e.saA+"/s3-keys", aAdmin, "")
		opens(created)
		ks := e.s3Keys(t, e.saA, provAdmin)
		if len(ks) != 2 || ks[0]["access_key"] != first[0]["access_key"] || ks[1]["access_key"] != created["access_key"] ||
			ks[1]["secret_key"] != created["secret_key"] {
			t.Fatalf("keys after a create: %v", ks)
		}

		e.ok(t, http.StatusNoContent, "DELETE", "/storage-accounts/"+e.saA+"/s3-keys/"+str(first[0]["access_key"]), aAdmin, "")
		if _, err := e.deps.Objstore.ResolveKey(ctx, str(first[0]["access_key"])); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a deleted key resolves: %v", err)
		}
		wantProblem(t, e.do(t, e.req("DELETE", "/storage-accounts/"+e.saA+"/s3-keys/"+str(first[0]["access_key"]), aAdmin, "")),
			http.StatusNotFound, "")
		// Another account's key is not this account's.
		other := e.s3Keys(t, e.saB, bAdmin)
		wantProblem(t, e.do(t, e.req("DELETE", "/storage-accounts/"+e.saA+"/s3-keys/"+str(other[0]["access_key"]), aAdmin, "")),
			http.StatusNotFound, "")
		if ks := e.s3Keys(t, e.saA, aAdmin); len(ks) != 1 || ks[0]["access_key"] != created["access_key"] {
			t.Fatalf("keys after a delete: %v", ks)
		}

		// Partner keys act on their own accounts; a sibling partner's
		// account under the same distributor is not found.
		sibling, err := e.deps.Tenancy.CreatePartner(ctx, actor.System(""), tenancy.CreatePartnerInput{ContractID: e.contractA, Name: "Sibling"})
		if err != nil {
			t.Fatal(err)
		}
		sa, err := e.deps.Objstore.CreateStorageAccount(ctx, actor.System(""), sibling.ID, objstore.CreateStorageAccountInput{
			Name: "sibling", AllowOverdraft: true, ContactEmail: "sibling@example.com", Password: "Passw0rd!x"})
		if err != nil {
			t.Fatal(err)
		}
		pAdmin, pViewer := e.partnerKey(t, e.partnerA, actor.Admin), e.partnerKey(t, e.partnerA, actor.Viewer)
		k := e.ok(t, http.StatusCreated, "POST", "/storage-accounts/"+e.saA+"/s3-keys", pAdmin, "")
		opens(k)
		if ks := e.s3Keys(t, e.saA, pViewer); len(ks) != 2 || ks[1]["secret_key"] != nil {
			t.Fatalf("keys as the partner's viewer: %v", ks)
		}
		wantProblem(t, e.do(t, e.req("POST", "/storage-accounts/"+e.saA+"/s3-keys", pViewer, "")), http.StatusForbidden, "")
		for _, acct := range []string{sa.ID, e.saB} {
			for _, r := range []apitest.Request{
				e.req("GET", "/storage-accounts/"+acct+"/s3-keys", pAdmin, ""),
				e.req("POST", "/storage-accounts/"+acct+"/s3-keys", pAdmin, ""),
				e.req("GET", "/storage-accounts/"+acct+"/buckets", pAdmin, ""),
			} {
				wantProblem(t, e.do(t, r), http.StatusNotFound, "")
			}
		}
		// At most MaxKeys keys.
		for range objstore.MaxKeys - 2 {
			e.ok(t, http.StatusCreated, "POST", "/storage-accounts/"+e.saA+"/s3-keys", aAdmin, "")
		}
		wantProblem(t, e.do(t, e.req("POST", "/storage-accounts/"+e.saA+"/s3-keys", aAdmin, "")), http.StatusConflict, "")
	})
}

// A storage account's buckets are listed to whoever sees the account; only
// a provider admin suspends or resumes a bucket.
func TestAccountBuckets(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		ctx := t.Context()
		if got := e.ok(t, http.StatusOK, "GET", "/storage-accounts/"+e.saA+"/buckets", aViewer, "")["items"].([]any); len(got) != 0 {
			t.Fatalf("buckets before any: %v", got)
		}
		// The S3 server registers a bucket a principal creates.
		for _, b := range []struct{ name, principal string }{{"bucket-a2", e.saA}, {"bucket-a1", e.saA}, {"bucket-b", e.saB}} {
			if _, err := e.deps.Buckets.RegisterBucket(ctx, b.name, b.principal); err != nil {
				t.Fatal(err)
			}
		}
		got := e.ok(t, http.StatusOK, "GET", "/storage-accounts/"+e.saA+"/buckets", aViewer, "")["items"].([]any)
		var names []string
		for _, b := range got {
			m := b.(map[string]any)
			names = append(names, str(m["name"]))
			if m["owner"] != e.saA || m["size_bytes"] != float64(0) || m["num_objects"] != float64(0) || m["is_suspended"] != false ||
				m["billing_account_id"] != nil {
				t.Fatalf("bucket: %v", m)
			}
		}
		if len(names) != 2 || !(names[0] == "bucket-a1" && names[1] == "bucket-a2" || names[0] == "bucket-a2" && names[1] == "bucket-a1") {
			t.Fatalf("account A's buckets: %v", names)
		}

		b := e.ok(t, http.StatusOK, "PATCH", "/buckets/bucket-a1", provAdmin, `{"is_suspended":true}`)
		if b["is_suspended"] != true || b["name"] != "bucket-a1" {
			t.Fatalf("suspended: %v", b)
		}
		if acc, err := e.deps.Buckets.BucketAccess(ctx, "bucket-a1"); err != nil || acc.ReadDenied == "" || acc.WriteDenied == "" {
			t.Fatalf("a suspended bucket's access: %+v %v", acc, err)
		}
		if b := e.ok(t, http.StatusOK, "PATCH", "/buckets/bucket-a1", provAdmin, `{"is_suspended":false}`); b["is_suspended"] != false {
			t.Fatalf("resumed: %v", b)
		}
		if acc, err := e.deps.Buckets.BucketAccess(ctx, "bucket-a1"); err != nil || acc.ReadDenied != "" || acc.WriteDenied != "" {
			t.Fatalf("a resumed bucket's access: %+v %v", acc, err)
		}
		wantProblem(t, e.do(t, e.req("PATCH", "/buckets/no-such-bucket", provAdmin, `{"is_suspended":true}`)), http.StatusNotFound, "")
		wantProblem(t, e.do(t, e.req("PATCH", "/buckets/bucket-a1", aAdmin, `{"is_suspended":true}`)), http.StatusForbidden, "")
		r := e.req("PATCH", "/buckets/bucket-a1", provAdmin, `{}`)
		r.ExpectInvalidRequest = true
		wantProblem(t, e.do(t, r), http.StatusUnprocessableEntity, "is_suspended")
	})
}

// excessContract creates, under distributor A, a contract reserving 6 GB at
// 15 cents per GB-month, with partner X1 (6 GB) holding a strict 4 GB
// account and a 1 GB overdraft account, and pay-per-use partner X2 holding
// a 2 GB account. It returns the contract and the three accounts.
func (e *env) excessContract(t *testing.T) (contract string, a1, a2, a3 string) {
	t.Helper()
	ctx := t.Context()
	const gb = 1_000_000_000
	contract = e.create(t, "/contracts", `{"orgId":%q,"reservedCapacity":%d,"costStorageGBCents":15,"currency":"EUR","details":"X"}`, e.distA, 6*gb)
	x1 := e.create(t, "/contracts/"+contract+"/partners", `{"name":"X1","allocatedCapacity":%d}`, 6*gb)
	x2 := e.create(t, "/contracts/"+contract+"/partners", `{"name":"X2"}`)
	var ids []string
	for i, a := range []struct {
		partner   string
		alloc     int64
		overdraft bool
	}{{x1, 4 * gb, false}, {x1, 1 * gb, true}, {x2, 2 * gb, false}} {
		sa, err := e.deps.Objstore.CreateStorageAccount(ctx, actor.System(""), a.partner, objstore.CreateStorageAccountInput{
			Name: "X", AllocatedCapacity: a.alloc, AllowOverdraft: a.overdraft,
			ContactEmail: fmt.Sprintf("x%d@example.com", i), Password: "Passw0rd!x"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sa.ID)
	}
	return contract, ids[0], ids[1], ids[2]
}

// The excess of a contract, computed by hand: per day, the larger of the
// accounts' overage and the usage beyond the reservation; GB-month over the
// days of the month; the cost rounded half-up once.
func TestContractExcess(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		ctx := t.Context()
		contract, a1, a2, a3 := e.excessContract(t)
		record := func(account, day string, usage int64) {
			t.Helper()
			if _, err := e.deps.Metering.RecordDaily(ctx, actor.System(""),
				metering.RecordDailyInput{StorageAccountID: account, Day: day, UsageBytes: usage}); err != nil {
				t.Fatal(err)
			}
		}
		// April (30 days; the clock is at 2024-05-01 12:00, so all ended).
		record(a1, "2024-04-01", 5_000_000_000)  // 1 GB over its 4 GB
		record(a1, "2024-04-02", 4_000_000_000)  // at its allocation
		record(a2, "2024-04-02", 1_000_000_000)  // at its allocation
		record(a3, "2024-04-02", 2_000_000_000)  // at its allocation; 7 GB in all, 1 GB beyond the 6 GB reserved
		record(a1, "2024-04-03", 4_000_000_000)  //
		record(a2, "2024-04-03", 2_500_000_000)  // 1.5 GB over
		record(a3, "2024-04-03", 2_500_000_000)  // 0.5 GB over; 9 GB in all: 3 GB beyond the reservation
		record(a3, "2024-04-10", 123_456_789)    // within everything
		record(e.saA, "2024-04-02", 999_999_999) // another contract's account: not counted
		record(a1, "2024-03-31", 99_000_000_000) // another month
		want := map[string]any{
			"contract_id": contract, "month": "2024-04", "currency": "EUR", "cost_storage_gb_cents": float64(15),
			"days_in_month": float64(30),
			// Σ excess = 1e9 + 1e9 + 3e9 byte-days; / (1e9 × 30) = 1/6 GB-month;
			// × 15 cents = 2.5 cents, rounded half-up: 3.
			"excess_byte_days": "5000000000", "excess_gb_month": "0.166666666666667", "cost_cents": float64(3),
			"days": []any{
				day("2024-04-01", 5_000_000_000, 6_000_000_000, 1_000_000_000, 1_000_000_000),
				day("2024-04-02", 7_000_000_000, 6_000_000_000, 0, 1_000_000_000),
				day("2024-04-03", 9_000_000_000, 6_000_000_000, 2_000_000_000, 3_000_000_000),
				day("2024-04-10", 123_456_789, 6_000_000_000, 0, 0),
			},
		}
		if diff := cmp.Diff(want, e.ok(t, http.StatusOK, "GET", "/contracts/"+contract+"/excess?month=2024-04", aViewer, "")); diff != "" {
			t.Fatalf("April (-want +got):\n%s", diff)
		}

		// May (31 days): today, 2024-05-01, has not ended and is not counted.
		record(a1, "2024-05-01", 7_099_999_999) // 3_099_999_999 over its allocation
		may := e.ok(t, http.StatusOK, "GET", "/contracts/"+contract+"/excess?month=2024-05", provViewer, "")
		if may["excess_gb_month"] != "0" || may["cost_cents"] != float64(0) || len(may["days"].([]any)) != 0 || may["days_in_month"] != float64(31) {
			t.Fatalf("May before its first day ended: %v", may)
		}
		e.clock.Advance(12 * time.Hour) // 2024-05-02 00:00: the 1st has ended
		may = e.ok(t, http.StatusOK, "GET", "/contracts/"+contract+"/excess?month=2024-05", provViewer, "")
		// 3_099_999_999 × 15 / 31e9 = 1.4999999995: 1 cent.
		if may["excess_byte_days"] != "3099999999" || may["excess_gb_month"] != "0.099999999967742" || may["cost_cents"] != float64(1) {
			t.Fatalf("May 1st: %v", may)
		}
		record(a2, "2024-05-02", 1_000_000_001) // one byte over
		e.clock.Advance(24 * time.Hour)
		may = e.ok(t, http.StatusOK, "GET", "/contracts/"+contract+"/excess?month=2024-05", provViewer, "")
		// 3_100_000_000 × 15 / 31e9 = 1.5 exactly: 2 cents.
		if may["excess_byte_days"] != "3100000000" || may["excess_gb_month"] != "0.1" || may["cost_cents"] != float64(2) ||
			len(may["days"].([]any)) != 2 {
			t.Fatalf("May 1st and 2nd: %v", may)
		}

		// Who may read it: the provider and the contract's distributor.
		wantProblem(t, e.do(t, e.req("GET", "/contracts/"+contract+"/excess?month=2024-04", bAdmin, "")), http.StatusNotFound, "")
		pk := e.partnerKey(t, e.partnerA, actor.Admin)
		wantProblem(t, e.do(t, e.req("GET", "/contracts/"+contract+"/excess?month=2024-04", pk, "")), http.StatusForbidden, "")
		for _, m := range []string{"", "?month=", "?month=2024-13", "?month=2024-4", "?month=2024-04-01", "?month=april"} {
			wantProblem(t, e.do(t, e.req("GET", "/contracts/"+contract+"/excess"+m, aAdmin, "")), http.StatusBadRequest, "month")
		}
	})
}

func day(date string, usage, reserved, overage, excess int64) map[string]any {
	return map[string]any{"date": date, "usage_bytes": float64(usage), "reserved_bytes": float64(reserved),
		"overage_bytes": float64(overage), "excess_bytes": float64(excess)}
}

// emptyS3 is an S3 server with no objects: creating, emptying and deleting
// a bucket succeed at once.
type emptyS3 struct{}

func (emptyS3) Provider() (buckets.Provider, bool)                 { return emptyS3{}, true }
func (emptyS3) CreateBucket(context.Context, string, string) error { return nil }
func (emptyS3) DeleteBucket(context.Context, string) error         { return nil }
func (emptyS3) EmptyBucket(context.Context, string) error          { return nil }
func (emptyS3) URL() string                                        { return "" }
