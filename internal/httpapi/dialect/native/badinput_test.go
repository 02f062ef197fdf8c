package native

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// badCase is a request every mutating route must refuse with a problem
// naming the input at fault.
type badCase struct {
	name, body string
	status     int
	field      string // "" when the problem is about the object, not an input
	// specValid marks input the spec accepts but a business rule refuses.
	specValid bool
	key       string // provAdmin if empty
	path      string // the route's path if empty
}

// badRoute is a mutating operation and its bad inputs.
type badRoute struct {
	method, path string
	cases        []badCase
}

const unknownID = "0190a8c4-0000-7000-8000-000000000000"

// bodyCases are the bad bodies every operation with a JSON body refuses;
// valid is the members of a valid body.
func bodyCases(valid string) []badCase {
	return []badCase{
		{name: "malformed JSON", body: `{"name":`, status: 400, field: "body"},
		{name: "not an object", body: `[1,2]`, status: 422, field: "body"},
		{name: "unknown field", body: `{` + valid + `,"bogus":1}`, status: 422, field: "bogus"},
		{name: "oversize", body: `{"details":"` + strings.Repeat("x", outerLimit) + `"}`, status: 413, field: "body"},
	}
}

// capacityCases are the bad values of an int64 byte count (or price).
func capacityCases(field, rest string) []badCase {
	obj := func(v string) string {
		if rest == "" {
			return fmt.Sprintf(`{%q:%s}`, field, v)
		}
		return fmt.Sprintf(`{%s,%q:%s}`, rest, field, v)
	}
	return []badCase{
		{name: field + " negative", body: obj("-1"), status: 422, field: field},
		{name: field + " non-integer", body: obj("1.5"), status: 422, field: field},
		{name: field + " beyond int64", body: obj("9223372036854775808"), status: 422, field: field},
		{name: field + " far beyond int64", body: obj("1e30"), status: 422, field: field},
		{name: field + " string", body: obj(`"12"`), status: 422, field: field},
		{name: field + " null", body: obj(" null "), status: 422, field: field},
	}
}

// nameCases are the bad values of a name.
func nameCases(field, rest string) []badCase {
	obj := func(v string) string {
		if rest == "" {
			return fmt.Sprintf(`{%q:%s}`, field, v)
		}
		return fmt.Sprintf(`{%s,%q:%s}`, rest, field, v)
	}
	return []badCase{
		{name: field + " empty", body: obj(`""`), status: 422, field: field},
		{name: field + " blank", body: obj(`"   "`), status: 400, field: field, specValid: true},
		{name: field + " too long", body: obj(`"` + strings.Repeat("é", 256) + `"`), status: 422, field: field},
		{name: field + " wrong type", body: obj(`5`), status: 422, field: field},
	}
}

// pathIDCases are the bad {id}s of a path ending in /{id}.
func pathIDCases(prefix, body string) []badCase {
	return []badCase{
		{name: "malformed id", path: prefix + "not-a-uuid", body: body, status: 422, field: "id"},
		{name: "unknown id", path: prefix + unknownID, body: body, status: 404, specValid: true},
	}
}

func (e *env) badRoutes() []badRoute {
	org := `"parentId":"` + e.distA + `"`
	contract := `"orgId":"` + e.distA + `","currency":"EUR","details":"d"`
	urls := `"s3Url":"https://a.example","iamUrl":"https://b.example","stsUrl":"https://c.example"`
	join := func(lists ...[]badCase) []badCase {
		var out []badCase
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	return append([]badRoute{
		{"POST", "/orgs", join(bodyCases(org+`,"name":"n"`), nameCases("name", org), []badCase{
			{name: "empty body", body: "", status: 400, field: "body"},
			{name: "parentId missing", body: `{"name":"n"}`, status: 422, field: "parentId"},
			{name: "parentId malformed", body: `{"parentId":"x","name":"n"}`, status: 422, field: "parentId"},
			{name: "parentId unknown", body: `{"parentId":"` + unknownID + `","name":"n"}`, status: 404, field: "parentId", specValid: true},
			{name: "parentId foreign", key: aAdmin, body: `{"parentId":"` + e.partnerB + `","name":"n"}`, status: 404, field: "parentId", specValid: true},
			{name: "id malformed", body: `{"id":"1",` + org + `,"name":"n"}`, status: 422, field: "id"},
			{name: "details too long", body: `{` + org + `,"name":"n","details":"` + strings.Repeat("x", 1001) + `"}`, status: 422, field: "details"},
			{name: "timeZone unknown", body: `{` + org + `,"name":"n","timeZone":"Mars/Olympus"}`, status: 400, field: "timeZone", specValid: true},
		})},
		{"PATCH", "/orgs/" + e.distA, join(bodyCases(`"name":"n"`), nameCases("name", ""), pathIDCases("/orgs/", `{"name":"n"}`), []badCase{
			{name: "foreign id", key: aAdmin, path: "/orgs/" + e.distB, body: `{"name":"n"}`, status: 404, specValid: true},
			{name: "timeZone unknown", body: `{"timeZone":"Mars/Olympus"}`, status: 400, field: "timeZone", specValid: true},
			{name: "timeZone empty", body: `{"timeZone":""}`, status: 422, field: "timeZone"},
		})},
		{"DELETE", "/orgs/" + e.distA, join(pathIDCases("/orgs/", ""), []badCase{
			{name: "foreign id", key: aAdmin, path: "/orgs/" + e.distB, status: 404, specValid: true},
			{name: "has children", status: 409, specValid: true},
			{name: "oversize", body: strings.Repeat("x", outerLimit+1), status: 413, field: "body", specValid: true},
		})},

		{"POST", "/contracts", join(bodyCases(contract+`,"reservedCapacity":1`), capacityCases("reservedCapacity", contract),
			capacityCases("costStorageGBCents", contract+`,"reservedCapacity":1`), nameCases("details", `"orgId":"`+e.distA+`","currency":"EUR","reservedCapacity":1`), []badCase{
				{name: "reservedCapacity missing", body: `{` + contract + `}`, status: 422, field: "reservedCapacity"},
				{name: "currency lower case", body: `{"orgId":"` + e.distA + `","reservedCapacity":1,"currency":"eur","details":"d"}`, status: 422, field: "currency"},
				{name: "orgId unknown", body: `{"orgId":"` + unknownID + `","reservedCapacity":1,"currency":"EUR","details":"d"}`, status: 404, field: "orgId", specValid: true},
				{name: "orgId foreign", key: aAdmin, body: `{"orgId":"` + e.distB + `","reservedCapacity":1,"currency":"EUR","details":"d"}`, status: 404, field: "orgId", specValid: true},
				{name: "orgId not a distributor", body: `{"orgId":"` + e.partnerA + `","reservedCapacity":1,"currency":"EUR","details":"d"}`, status: 400, field: "orgId", specValid: true},
			})},
		{"PATCH", "/contracts/" + e.contractA, join(bodyCases(`"details":"d"`), capacityCases("reservedCapacity", ""), capacityCases("costEgressGBCents", ""),
			pathIDCases("/contracts/", `{"details":"d"}`), []badCase{
				{name: "details empty", body: `{"details":""}`, status: 422, field: "details"},
				{name: "currency too long", body: `{"currency":"EURO"}`, status: 422, field: "currency"},
				{name: "reservedCapacity below allocated", body: `{"reservedCapacity":999}`, status: 400, field: "reservedCapacity", specValid: true},
				{name: "foreign id", key: aAdmin, path: "/contracts/" + e.contractB, body: `{"details":"d"}`, status: 404, specValid: true},
			})},
		{"DELETE", "/contracts/" + e.contractA, join(pathIDCases("/contracts/", ""), []badCase{
			{name: "has partners", status: 409, specValid: true},
		})},

		{"POST", "/contracts/" + e.contractA + "/partners", join(bodyCases(`"name":"p"`), capacityCases("allocatedCapacity", `"name":"p"`), nameCases("name", ""), []badCase{
			{name: "allocatedCapacity beyond the contract", body: `{"name":"p","allocatedCapacity":999001}`, status: 400, field: "allocatedCapacity", specValid: true},
			{name: "allowOverdraft string", body: `{"name":"p","allowOverdraft":"yes"}`, status: 422, field: "allowOverdraft"},
			{name: "contract malformed", path: "/contracts/x/partners", body: `{"name":"p"}`, status: 422, field: "id"},
			{name: "contract unknown", path: "/contracts/" + unknownID + "/partners", body: `{"name":"p"}`, status: 404, specValid: true},
			{name: "contract foreign", key: aAdmin, path: "/contracts/" + e.contractB + "/partners", body: `{"name":"p"}`, status: 404, specValid: true},
		})},
		{"PATCH", "/partners/" + e.partnerA, join(bodyCases(`"name":"p"`), capacityCases("allocatedCapacity", ""), nameCases("name", ""),
			pathIDCases("/partners/", `{"name":"p"}`), []badCase{
				{name: "nothing to change", body: `{}`, status: 400, field: "body", specValid: true},
				{name: "allocatedCapacity below the accounts", body: `{"allocatedCapacity":99}`, status: 400, field: "allocatedCapacity", specValid: true},
				{name: "not a partner", path: "/partners/" + e.distA, body: `{"name":"p"}`, status: 404, specValid: true},
				{name: "foreign id", key: aAdmin, path: "/partners/" + e.partnerB, body: `{"name":"p"}`, status: 404, specValid: true},
			})},
		{"DELETE", "/partners/" + e.partnerA, join(pathIDCases("/partners/", ""), []badCase{
			{name: "has storage accounts", status: 409, specValid: true},
		})},

		{"POST", "/keys", join(bodyCases(`"orgId":"`+e.distA+`","name":"k","role":"viewer"`), nameCases("name", `"orgId":"`+e.distA+`","role":"viewer"`), []badCase{
			{name: "role unknown", body: `{"orgId":"` + e.distA + `","name":"k","role":"root"}`, status: 422, field: "role"},
			{name: "role missing", body: `{"orgId":"` + e.distA + `","name":"k"}`, status: 422, field: "role"},
			{name: "orgId malformed", body: `{"orgId":"x","name":"k","role":"viewer"}`, status: 422, field: "orgId"},
			{name: "orgId unknown", body: `{"orgId":"` + unknownID + `","name":"k","role":"viewer"}`, status: 404, field: "orgId", specValid: true},
			{name: "orgId foreign", key: aAdmin, body: `{"orgId":"` + e.distB + `","name":"k","role":"viewer"}`, status: 404, field: "orgId", specValid: true},
		})},
		{"DELETE", "/keys/" + e.keyIDs[aViewer], join(pathIDCases("/keys/", ""), []badCase{
			{name: "foreign id", key: aAdmin, path: "/keys/" + e.keyIDs[bAdmin], status: 404, specValid: true},
		})},

		{"PUT", "/storage-accounts/" + e.saA + "/usage/2024-04-01", join(bodyCases(`"usage":1`), capacityCases("usage", ""), []badCase{
			{name: "usage missing", body: `{}`, status: 422, field: "usage"},
			{name: "day invalid", path: "/storage-accounts/" + e.saA + "/usage/2024-13-01", body: `{"usage":1}`, status: 422, field: "day"},
			{name: "day not a date", path: "/storage-accounts/" + e.saA + "/usage/yesterday", body: `{"usage":1}`, status: 422, field: "day"},
			{name: "account malformed", path: "/storage-accounts/x/usage/2024-04-01", body: `{"usage":1}`, status: 422, field: "id"},
			{name: "account unknown", path: "/storage-accounts/" + unknownID + "/usage/2024-04-01", body: `{"usage":1}`, status: 404, specValid: true},
			{name: "distributor admin", key: aAdmin, path: "/storage-accounts/" + e.saA + "/usage/2024-04-01", body: `{"usage":1}`, status: 403, specValid: true},
		})},

		{"PUT", "/regions/r1", join(bodyCases(urls), []badCase{
			{name: "s3Url missing", body: `{"iamUrl":"https://b.example","stsUrl":"https://c.example"}`, status: 422, field: "s3Url"},
			// kin-openapi does not check format uri; huma does.
			{name: "s3Url not a URI", body: `{"s3Url":"nope",` + urls[strings.Index(urls, `"iamUrl"`):] + `}`, status: 422, field: "s3Url", specValid: true},
			{name: "stsUrl not http", body: `{` + strings.Replace(urls, "https://c.example", "ftp://c.example", 1) + `}`, status: 400, field: "stsUrl", specValid: true},
			{name: "iamUrl wrong type", body: `{` + strings.Replace(urls, `"https://b.example"`, "true", 1) + `}`, status: 422, field: "iamUrl"},
			{name: "name too long", path: "/regions/" + strings.Repeat("r", 64), body: `{` + urls + `}`, status: 422, field: "name"},
			// Issue 14: a region named "' OR 1=1 --" was accepted.
			{name: "name not an identifier", path: "/regions/%27%20OR%201=1%20--", body: `{` + urls + `}`, status: 422, field: "name"},
		})},
		{"DELETE", "/regions/r1", []badCase{
			{name: "unknown", status: 404, specValid: true},
			{name: "name too long", path: "/regions/" + strings.Repeat("r", 256), status: 422, field: "name"},
		}},

		{"POST", "/jobs/purge-storage-accounts", []badCase{
			{name: "oversize", body: strings.Repeat("x", outerLimit+1), status: 413, field: "body", specValid: true},
		}},

		{"POST", "/sandbox/clock", join(bodyCases(`"advance":"1h"`), []badCase{
			{name: "nothing to do", body: `{}`, status: 400, field: "advance", specValid: true},
			{name: "advance negative", body: `{"advance":"-1h"}`, status: 400, field: "advance", specValid: true},
			{name: "advance not a duration", body: `{"advance":"soon"}`, status: 400, field: "advance", specValid: true},
			{name: "advance too far", body: `{"advance":"8785h"}`, status: 400, field: "advance", specValid: true},
			{name: "advance too long", body: `{"advance":"` + strings.Repeat("1", 41) + `"}`, status: 422, field: "advance"},
			{name: "advance and to", body: `{"advance":"1h","to":"2030-01-01T00:00:00Z"}`, status: 400, field: "advance", specValid: true},
			{name: "to in the past", body: `{"to":"2000-01-01T00:00:00Z"}`, status: 400, field: "to", specValid: true},
			{name: "to not a time", body: `{"to":"tomorrow"}`, status: 422, field: "to"},
		})},
	}, slices.Concat(e.billingBadRoutes(), e.catalogBadRoutes(), e.networkPoolBadRoutes(), e.objectStorageBadRoutes(), e.resellerBadRoutes(), e.bssBadRoutes())...)
}

// TestBadInput sends every mutating operation bad input: each is refused
// with a problem naming the field, and nothing changes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		before := e.snapshot(t)
		routes := append(e.badRoutes(), e.identityBadRoutes()...)
		mutating := 0
		for _, op := range specOperations(t) {
			if !strings.HasPrefix(op, "GET ") {
				mutating++
			}
		}
		if len(routes) != mutating {
			t.Errorf("%d routes for %d mutating operations", len(routes), mutating)
		}
		for _, rt := range routes {
			for _, c := range rt.cases {
				t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
					key, path := c.key, c.path
					if key == "" {
						key = provAdmin
					}
					if path == "" {
						path = rt.path
					}
					r := e.req(rt.method, path, key, c.body)
					if c.body == "" && rt.method != "DELETE" && !strings.HasPrefix(rt.path, "/jobs/") {
						r.Body = []byte{} // an empty body, sent as JSON
					}
					r.ExpectInvalidRequest = !c.specValid
					wantProblem(t, e.do(t, r), c.status, c.field)
				})
			}
		}
		if after := e.snapshot(t); !reflect.DeepEqual(before, after) {
			t.Errorf("refused requests changed the database:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestOversizeThroughIdempotency checks the body limit when the
// idempotency middleware reads the body too.
func TestOversizeThroughIdempotency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		r := e.req("POST", "/orgs", provAdmin, `{"parentId":"`+e.root+`","name":"n","details":"`+strings.Repeat("x", outerLimit)+`"}`)
		r.Header.Set("Idempotency-Key", "big")
		r.ExpectInvalidRequest = true // details is over its maxLength too
		wantProblem(t, e.do(t, r), http.StatusRequestEntityTooLarge, "body")
	})
}
