package impossiblecloud_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// badCase is one rejected request: the status, and a field name its
// message must contain.
type badCase struct {
	name    string
	key     string
	method  string
	path    string
	body    any
	invalid bool // the spec itself rejects the request (apitest ExpectInvalidRequest)
	status  int
	field   string
}

// absent removes a field in with.
type absent struct{}

// with returns a copy of base with fields set (or removed with absent{}).
func with(base map[string]any, kv ...any) map[string]any {
	out := maps.Clone(base)
	for i := 0; i < len(kv); i += 2 {
		if _, ok := kv[i+1].(absent); ok {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// Raw JSON numbers that Go values cannot express. The validator decodes
// numbers as float64, where 2^63 equals float64(MaxInt64): it cannot see
// that beyondInt64 is out of the int64 format's range, so that case is a
// business-rule rejection (ExpectInvalidRequest false).
var (
	fractional  = json.Number("1.5")
	beyondInt64 = json.Number("9223372036854775808")
	maxInt64    = json.Number("9223372036854775807")
)

// oversize makes a body over the 1 MiB limit.
var oversize = strings.Repeat("x", 1<<20)

// nonCanonicalUUIDs are other spellings of id that google/uuid parses but
// the spec's uuid format (the canonical 8-4-4-4-12 form) does not allow.
func nonCanonicalUUIDs(id string) [][2]string {
	return [][2]string{
		{"no hyphens", strings.ReplaceAll(id, "-", "")},
		{"urn form", "urn:uuid:" + id},
	}
}

// badInputCases covers every mutating route. ids: the fixture's plus
// memberP (partner P's) and memberQ (partner Q's).
func badInputCases(f *fixture, memberP, memberQ, accountPEmail string) []badCase {
	var cs []badCase
	add := func(route string, c badCase) {
		c.name = route + ": " + c.name
		cs = append(cs, c)
	}
	random := ids.New()
	long := strings.Repeat("n", 256)
	longEmail := strings.Repeat("e", 250) + "@example.com"
	const control = "bad\x00name"

	// bodyCases are the malformed bodies every route with a JSON body
	// must refuse; valid is an acceptable body of the route.
	bodyCases := func(route, key, method, path string, valid any) {
		for _, c := range []struct{ name, body string }{
			{"malformed JSON", `{"name": "x",`},
			{"not an object", `["x"]`},
			{"null", `null`},
			{"empty body", ``},
		} {
			add(route, badCase{name: c.name, key: key, method: method, path: path, body: c.body, invalid: true, status: 400, field: "body"})
		}
		// The validator decodes only the first JSON value of a body, so
		// to it this one is valid; the handler must still refuse it.
		b, _ := json.Marshal(valid)
		add(route, badCase{name: "two JSON values", key: key, method: method, path: path, body: string(b) + " " + string(b), status: 400, field: "body"})
	}

	// ---- POST /partner ----
	{
		route, key := "POST /partner", f.key.distStaff
		base := map[string]any{"allocatedCapacity": 1 * TB, "distributorContractId": contractA1, "name": "Bad input partner"}
		bodyCases(route, key, "POST", "/partner", base)
		for _, c := range []badCase{
			{name: "string capacity", body: with(base, "allocatedCapacity", "1000"), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "number name", body: with(base, "name", 42), invalid: true, status: 400, field: "name"},
			{name: "string bool", body: with(base, "allowOverdraft", "true"), invalid: true, status: 400, field: "allowOverdraft"},
			{name: "number contract id", body: with(base, "distributorContractId", 606), invalid: true, status: 400, field: "distributorContractId"},
			{name: "negative capacity", body: with(base, "allocatedCapacity", -1), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "fractional capacity", body: with(base, "allocatedCapacity", fractional), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond int64", body: with(base, "allocatedCapacity", beyondInt64), status: 400, field: "allocatedCapacity"},
			{name: "capacity of max int64", body: with(base, "allocatedCapacity", maxInt64), status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond the contract", body: with(base, "allocatedCapacity", 48*TB), status: 400, field: "allocatedCapacity"},
			{name: "missing capacity", body: with(base, "allocatedCapacity", absent{}), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "missing contract", body: with(base, "distributorContractId", absent{}), invalid: true, status: 400, field: "distributorContractId"},
			{name: "missing name", body: with(base, "name", absent{}), invalid: true, status: 400, field: "name"},
			{name: "unknown contract", body: with(base, "distributorContractId", random), status: 404, field: "distributorContractId"},
			{name: "other distributor's contract", body: with(base, "distributorContractId", f.contractB), status: 404, field: "distributorContractId"},
			{name: "malformed contract id", body: with(base, "distributorContractId", "not-a-uuid"), status: 404, field: "distributorContractId"},
			{name: "empty name", body: with(base, "name", ""), status: 400, field: "name"},
			{name: "blank name", body: with(base, "name", "   "), status: 400, field: "name"},
			{name: "name of 256 characters", body: with(base, "name", long), status: 400, field: "name"},
			{name: "name with a control character", body: with(base, "name", control), status: 400, field: "name"},
			{name: "oversize body", body: with(base, "name", oversize), status: 413, field: "body"},
		} {
			c.key, c.method, c.path = key, "POST", "/partner"
			add(route, c)
		}
	}

	// ---- PUT /partner/{partnerID} ----
	{
		route, key, path := "PUT /partner/{partnerID}", f.key.distStaff, "/partner/"+partnerP
		bodyCases(route, key, "PUT", path, map[string]any{"name": "Renamed"})
		for _, c := range []badCase{
			{name: "no field", body: `{}`, status: 400, field: "body"},
			{name: "string capacity", body: map[string]any{"allocatedCapacity": "1000"}, invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "number name", body: map[string]any{"name": 42}, invalid: true, status: 400, field: "name"},
			{name: "negative capacity", body: map[string]any{"allocatedCapacity": -1}, invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "fractional capacity", body: map[string]any{"allocatedCapacity": fractional}, invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond int64", body: map[string]any{"allocatedCapacity": beyondInt64}, status: 400, field: "allocatedCapacity"},
			{name: "capacity of max int64", body: map[string]any{"allocatedCapacity": maxInt64}, status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond the contract", body: map[string]any{"allocatedCapacity": 100 * TB}, status: 400, field: "allocatedCapacity"},
			{name: "below the strict storage accounts", body: map[string]any{"allocatedCapacity": TB / 2}, status: 400, field: "allocatedCapacity"},
			{name: "contract change", body: map[string]any{"distributorContractId": contractA2}, status: 400, field: "distributorContractId"},
			{name: "empty name", body: map[string]any{"name": ""}, status: 400, field: "name"},
			{name: "name of 256 characters", body: map[string]any{"name": long}, status: 400, field: "name"},
			{name: "name with a control character", body: map[string]any{"name": control}, status: 400, field: "name"},
			{name: "valid name, bad capacity", body: map[string]any{"name": "Renamed", "allocatedCapacity": 100 * TB}, status: 400, field: "allocatedCapacity"},
			{name: "oversize body", body: map[string]any{"name": oversize}, status: 413, field: "body"},
		} {
			c.key, c.method, c.path = key, "PUT", path
			add(route, c)
		}
		rename := map[string]any{"name": "Renamed"}
		for _, c := range []badCase{
			{name: "unknown partner", path: "/partner/" + random, status: 404, field: "partner"},
			{name: "other distributor's partner", path: "/partner/" + f.partnerB, status: 404, field: "partner"},
			{name: "malformed partner id", path: "/partner/not-a-uuid", invalid: true, status: 400, field: "partnerID"},
		} {
			c.key, c.method, c.body = key, "PUT", rename
			add(route, c)
		}
		for _, alt := range nonCanonicalUUIDs(partnerP) {
			add(route, badCase{name: "partner id, " + alt[0], key: key, method: "PUT", path: "/partner/" + alt[1], body: rename, invalid: true, status: 400, field: "partnerID"})
		}
	}

	// ---- DELETE /partner/{partnerID} ----
	{
		route, key := "DELETE /partner/{partnerID}", f.key.distStaff
		for _, c := range []badCase{
			{name: "unknown partner", path: "/partner/" + random, status: 404, field: "partner"},
			{name: "other distributor's partner", path: "/partner/" + f.partnerB, status: 404, field: "partner"},
			{name: "malformed partner id", path: "/partner/not-a-uuid", invalid: true, status: 400, field: "partnerID"},
			{name: "partner with storage accounts", path: "/partner/" + partnerP, status: 409, field: "storage account"},
		} {
			c.key, c.method = key, "DELETE"
			add(route, c)
		}
		// Partner Q has nothing that would stop its deletion.
		for _, alt := range nonCanonicalUUIDs(partnerQ) {
			add(route, badCase{name: "partner id, " + alt[0], key: key, method: "DELETE", path: "/partner/" + alt[1], invalid: true, status: 400, field: "partnerID"})
		}
	}

	// ---- POST /partner/{partnerID}/member ----
	{
		route, key, path := "POST /partner/{partnerID}/member", f.key.distAdmin, "/partner/"+partnerP+"/member"
		base := map[string]any{"email": "bad.member@example.com", "name": "Bad Member", "password": strongPassword, "role": "staff"}
		bodyCases(route, key, "POST", path, base)
		for _, c := range []badCase{
			{name: "missing email", body: with(base, "email", absent{}), invalid: true, status: 400, field: "email"},
			{name: "missing password", body: with(base, "password", absent{}), invalid: true, status: 400, field: "password"},
			{name: "missing role", body: with(base, "role", absent{}), invalid: true, status: 400, field: "role"},
			{name: "number email", body: with(base, "email", 42), invalid: true, status: 400, field: "email"},
			{name: "number name", body: with(base, "name", 42), invalid: true, status: 400, field: "name"},
			{name: "boolean password", body: with(base, "password", true), invalid: true, status: 400, field: "password"},
			{name: "not an e-mail", body: with(base, "email", "bad.member"), status: 400, field: "email"},
			{name: "e-mail of 262 characters", body: with(base, "email", longEmail), status: 400, field: "email"},
			{name: "unknown role", body: with(base, "role", "owner"), status: 400, field: "role"},
			{name: "password too short", body: with(base, "password", "Aa1!aaa"), status: 400, field: "password"},
			{name: "password too long", body: with(base, "password", "Aa1!"+strings.Repeat("b", 125)), status: 400, field: "password"},
			{name: "password without special character", body: with(base, "password", "Aa1aaaaa"), status: 400, field: "password"},
			{name: "name of 256 characters", body: with(base, "name", long), status: 400, field: "name"},
			{name: "name with a control character", body: with(base, "name", control), status: 400, field: "name"},
			{name: "oversize body", body: with(base, "name", oversize), status: 413, field: "body"},
		} {
			c.key, c.method, c.path = key, "POST", path
			add(route, c)
		}
		for _, c := range []badCase{
			{name: "unknown partner", path: "/partner/" + random + "/member", status: 404, field: "partner"},
			{name: "other distributor's partner", path: "/partner/" + f.partnerB + "/member", status: 404, field: "partner"},
			{name: "malformed partner id", path: "/partner/not-a-uuid/member", invalid: true, status: 400, field: "partnerID"},
		} {
			c.key, c.method, c.body = key, "POST", base
			add(route, c)
		}
	}

	// ---- DELETE /partner/{partnerID}/member/{memberID} ----
	{
		route, key := "DELETE /partner/{partnerID}/member/{memberID}", f.key.distAdmin
		for _, c := range []badCase{
			{name: "unknown member", path: "/partner/" + partnerP + "/member/" + random, status: 404, field: "member"},
			{name: "another partner's member", path: "/partner/" + partnerP + "/member/" + memberQ, status: 404, field: "member"},
			{name: "other distributor's partner", path: "/partner/" + f.partnerB + "/member/" + memberP, status: 404, field: "partner"},
			{name: "malformed member id", path: "/partner/" + partnerP + "/member/not-a-uuid", invalid: true, status: 400, field: "memberID"},
			{name: "malformed partner id", path: "/partner/not-a-uuid/member/" + memberP, invalid: true, status: 400, field: "partnerID"},
		} {
			c.key, c.method = key, "DELETE"
			add(route, c)
		}
	}

	// ---- storage accounts, on both route families ----
	for _, fam := range []struct {
		name, key, create string
		item              func(account string) string
		distributor       bool
	}{
		{"/partner/{partnerID}/storage-accounts", f.key.distStaff, "/partner/" + partnerP + "/storage-accounts",
			func(a string) string { return "/partner/" + partnerP + "/storage-accounts/" + a }, true},
		{"/storage-account", f.key.partnerStaff, "/storage-account",
			func(a string) string { return "/storage-account/" + a }, false},
	} {
		route := "POST " + fam.name
		base := accountBody("Bad input account", "bad.account@example.com", 1*TB, false)
		client := base["clientAccount"].(map[string]any)
		bodyCases(route, fam.key, "POST", fam.create, base)
		for _, c := range []badCase{
			{name: "missing allowOverdraft", body: with(base, "allowOverdraft", absent{}), invalid: true, status: 400, field: "allowOverdraft"},
			{name: "missing clientAccount", body: with(base, "clientAccount", absent{}), invalid: true, status: 400, field: "clientAccount"},
			{name: "missing password", body: with(base, "clientAccount", with(client, "password", absent{})), invalid: true, status: 400, field: "clientAccount.password"},
			{name: "missing name", body: with(base, "name", absent{}), invalid: true, status: 400, field: "name"},
			{name: "missing capacity", body: with(base, "allocatedCapacity", absent{}), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "string capacity", body: with(base, "allocatedCapacity", "1000"), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "number name", body: with(base, "name", 42), invalid: true, status: 400, field: "name"},
			{name: "string bool", body: with(base, "allowOverdraft", "false"), invalid: true, status: 400, field: "allowOverdraft"},
			{name: "clientAccount a string", body: with(base, "clientAccount", "x"), invalid: true, status: 400, field: "clientAccount"},
			{name: "number e-mail", body: with(base, "clientAccount", with(client, "contactEmail", 42)), invalid: true, status: 400, field: "clientAccount.contactEmail"},
			{name: "negative capacity", body: with(base, "allocatedCapacity", -1), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "fractional capacity", body: with(base, "allocatedCapacity", fractional), invalid: true, status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond int64", body: with(base, "allocatedCapacity", beyondInt64), status: 400, field: "allocatedCapacity"},
			{name: "capacity of max int64", body: with(base, "allocatedCapacity", maxInt64), status: 400, field: "allocatedCapacity"},
			{name: "capacity beyond the partner's", body: with(base, "allocatedCapacity", 4*TB+1), status: 400, field: "allocatedCapacity"},
			{name: "empty name", body: with(base, "name", ""), status: 400, field: "name"},
			{name: "name of 256 characters", body: with(base, "name", long), status: 400, field: "name"},
			{name: "name with a control character", body: with(base, "name", control), status: 400, field: "name"},
			{name: "not an e-mail", body: with(base, "clientAccount", with(client, "contactEmail", "bad.account")), status: 400, field: "clientAccount.contactEmail"},
			{name: "e-mail of 262 characters", body: with(base, "clientAccount", with(client, "contactEmail", longEmail)), status: 400, field: "clientAccount.contactEmail"},
			{name: "e-mail in use", body: with(base, "clientAccount", with(client, "contactEmail", accountPEmail)), status: 409, field: "clientAccount.contactEmail"},
			{name: "password too short", body: with(base, "clientAccount", with(client, "password", "Aa1!aaa")), status: 400, field: "clientAccount.password"},
			{name: "password without digit", body: with(base, "clientAccount", with(client, "password", "Aaa!aaaa")), status: 400, field: "clientAccount.password"},
			{name: "oversize body", body: with(base, "name", oversize), status: 413, field: "body"},
		} {
			c.key, c.method, c.path = fam.key, "POST", fam.create
			add(route, c)
		}
		if fam.distributor {
			for _, c := range []badCase{
				{name: "unknown partner", path: "/partner/" + random + "/storage-accounts", status: 404, field: "partner"},
				{name: "other distributor's partner", path: "/partner/" + f.partnerB + "/storage-accounts", status: 404, field: "partner"},
				{name: "malformed partner id", path: "/partner/not-a-uuid/storage-accounts", status: 404, field: "partner"},
			} {
				c.key, c.method, c.body = fam.key, "POST", base
				add(route, c)
			}
		}

		// PATCH
		route = "PATCH " + fam.name + "/{accountID}"
		path := fam.item(f.accountP)
		bodyCases(route, fam.key, "PATCH", path, map[string]any{"pendingDeletedAt": nil})
		now := f.clk.Now()
		for _, c := range []badCase{
			{name: "no field", body: `{}`, status: 400, field: "pendingDeletedAt"},
			{name: "number time", body: map[string]any{"pendingDeletedAt": 1767225600}, invalid: true, status: 400, field: "pendingDeletedAt"},
			{name: "not a time", body: map[string]any{"pendingDeletedAt": "tomorrow"}, invalid: true, status: 400, field: "pendingDeletedAt"},
			{name: "date without time", body: map[string]any{"pendingDeletedAt": "2026-04-01"}, invalid: true, status: 400, field: "pendingDeletedAt"},
			{name: "past time", body: map[string]any{"pendingDeletedAt": now.AddDate(0, 0, -1).Format("2006-01-02T15:04:05Z07:00")}, status: 400, field: "pendingDeletedAt"},
			{name: "now", body: map[string]any{"pendingDeletedAt": now.Format("2006-01-02T15:04:05Z07:00")}, status: 400, field: "pendingDeletedAt"},
			{name: "oversize body", body: map[string]any{"pendingDeletedAt": nil, "padding": oversize}, status: 413, field: "body"},
		} {
			c.key, c.method, c.path = fam.key, "PATCH", path
			add(route, c)
		}

		// PATCH and DELETE on accounts that are not there or not ours.
		future := map[string]any{"pendingDeletedAt": now.AddDate(0, 0, 7).Format("2006-01-02T15:04:05Z07:00")}
		targets := []badCase{
			{name: "unknown account", path: fam.item(random), status: 404, field: "storage account"},
			{name: "other distributor's account", path: fam.item(f.accountB), status: 404, field: "storage account"},
			{name: "malformed account id", path: fam.item("not-a-uuid"), status: 404, field: "storage account"},
		}
		if fam.distributor {
			targets = append(targets,
				badCase{name: "other distributor's partner", path: "/partner/" + f.partnerB + "/storage-accounts/" + f.accountB, status: 404, field: "partner"},
				badCase{name: "unknown partner", path: "/partner/" + random + "/storage-accounts/" + f.accountP, status: 404, field: "partner"},
			)
		}
		for _, method := range []string{"PATCH", "DELETE"} {
			for _, c := range targets {
				c.key, c.method = fam.key, method
				if method == "PATCH" {
					c.body = future
				}
				add(method+" "+fam.name+"/{accountID}", c)
			}
		}
	}
	return cs
}

// TestBadInput sends every mutating route malformed, mistyped, out-of-range,
// unknown, foreign and oversized input. Each must be refused with a 4xx
// whose message names the field at fault, and leave the database exactly as
// it was (no row, no allocation, no audit entry).
func TestBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		f.seedAccounts(t)
		memberP := f.createMember(t, partnerP, actor.Staff)
		memberQ := f.createMember(t, partnerQ, actor.Staff)
		accountP, err := f.obj.GetStorageAccount(f.ctx, sys, partnerP, f.accountP)
		if err != nil {
			t.Fatal(err)
		}
		// Each case is compared with the state just before it, so a case
		// that does change something is reported alone.
		before := f.snapshot(t)
		for _, c := range badInputCases(f, memberP, memberQ, accountP.ContactEmail) {
			t.Run(c.name, func(t *testing.T) {
				resp := f.send(t, req{key: c.key, method: c.method, path: c.path, body: c.body, invalid: c.invalid})
				wantError(t, resp, c.status, c.field)
				after := f.snapshot(t)
				if diff := diffSnapshots(before, after); diff != "" {
					t.Errorf("the refused request changed the database (-before +after):\n%s", diff)
				}
				before = after
			})
		}
	})
}
