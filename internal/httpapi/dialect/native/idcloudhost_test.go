package native

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// idchEnv is the idcloudhost part of the fixture: under partner B (so A's
// listings stay as the other tests expect) a customer with a user and a
// customer without one, and two locations.
type idchEnv struct {
	custUser, custFree string // customer orgs
	user               string // the user number of custUser
	token              string // a token of user
}

func (e *env) seedIdentity(t *testing.T) {
	t.Helper()
	e.idch.custUser = e.create(t, "/orgs", `{"parentId":%q,"name":"Cloudia Iaas"}`, e.partnerB)
	e.idch.custFree = e.create(t, "/orgs", `{"parentId":%q,"name":"No user yet"}`, e.partnerB)
	u := e.ok(t, http.StatusCreated, "POST", "/users", provAdmin, fmt.Sprintf(`{"orgId":%q,"email":"user@example.com","firstName":"Cloudia"}`, e.idch.custUser))
	e.idch.user = fmt.Sprint(u["id"])
	tok := e.ok(t, http.StatusCreated, "POST", "/users/"+e.idch.user+"/tokens", provAdmin, `{"description":"fixture"}`)
	e.idch.token = fmt.Sprint(tok["id"])
	e.ok(t, http.StatusOK, "PUT", "/locations/cyc01", provAdmin, `{"displayName":"Cycletown","countryCode":"est","orderNr":1}`)
	e.ok(t, http.StatusOK, "PUT", "/locations/bus02", provAdmin, `{"displayName":"Busburg","countryCode":"est","orderNr":2}`)
}

func (e *env) identityAuthzCases() []authzCase {
	admins := []string{aViewer, aStaff, provViewer, provStaff}
	providerAdmin := []string{aAdmin, provStaff, provViewer}
	user := "/users/" + e.idch.user
	newUser := `{"orgId":"` + e.idch.custFree + `","email":"new@example.com"}`
	return []authzCase{
		{method: "GET", path: "/users"},
		{method: "POST", path: "/users", body: newUser, forbidden: admins, foreignBody: newUser},
		{method: "GET", path: user, foreignPath: user},
		{method: "POST", path: user + "/tokens", body: `{"description":"d"}`, forbidden: admins, foreignPath: user + "/tokens"},
		{method: "GET", path: user + "/tokens", foreignPath: user + "/tokens"},
		{method: "DELETE", path: user + "/tokens/" + e.idch.token, forbidden: admins, foreignPath: user + "/tokens/" + e.idch.token},
		{method: "GET", path: "/locations"},
		{method: "PUT", path: "/locations/x1", body: `{"displayName":"X","countryCode":"est"}`, forbidden: providerAdmin},
		{method: "DELETE", path: "/locations/bus02", forbidden: providerAdmin},
	}
}

func (e *env) identityBadRoutes() []badRoute {
	join := func(lists ...[]badCase) []badCase {
		var out []badCase
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	user := "/users/" + e.idch.user
	free := `"orgId":"` + e.idch.custFree + `"`
	loc := `"displayName":"X","countryCode":"est"`
	return []badRoute{
		{"POST", "/users", join(bodyCases(free+`,"email":"n@example.com"`), []badCase{
			{name: "email missing", body: `{` + free + `}`, status: 422, field: "email"},
			{name: "email malformed", body: `{` + free + `,"email":"nope"}`, status: 422, field: "email"},
			{name: "orgId unknown", body: `{"orgId":"` + unknownID + `","email":"n@example.com"}`, status: 404, field: "orgId", specValid: true},
			{name: "orgId foreign", key: aAdmin, body: `{` + free + `,"email":"n@example.com"}`, status: 404, field: "orgId", specValid: true},
			{name: "orgId not a customer", body: `{"orgId":"` + e.partnerB + `","email":"n@example.com"}`, status: 400, field: "orgId", specValid: true},
			{name: "org has a user", body: `{"orgId":"` + e.idch.custUser + `","email":"n@example.com"}`, status: 409, field: "email", specValid: true},
			{name: "email in use", body: `{` + free + `,"email":"user@example.com"}`, status: 409, field: "email", specValid: true},
			{name: "firstName control character", body: `{` + free + `,"email":"n@example.com","firstName":"a\u0001"}`, status: 400, field: "firstName", specValid: true},
		})},
		{"POST", user + "/tokens", join(bodyCases(`"description":"d"`), []badCase{
			{name: "restricted without account", body: `{"restricted":true}`, status: 400, field: "billingAccountId", specValid: true},
			{name: "account unknown", body: `{"restricted":true,"billingAccountId":999}`, status: 404, field: "billingAccountId", specValid: true},
			{name: "account negative", body: `{"billingAccountId":-1}`, status: 422, field: "billingAccountId"},
			{name: "user zero", path: "/users/0/tokens", body: `{}`, status: 422, field: "id"},
			{name: "user unknown", path: "/users/999/tokens", body: `{}`, status: 404, specValid: true},
			{name: "user foreign", key: aAdmin, body: `{}`, status: 404, specValid: true},
		})},
		{"DELETE", user + "/tokens/" + e.idch.token, []badCase{
			{name: "token zero", path: user + "/tokens/0", status: 422, field: "tokenId"},
			{name: "token unknown", path: user + "/tokens/999", status: 404, specValid: true},
			{name: "user unknown", path: "/users/999/tokens/" + e.idch.token, status: 404, specValid: true},
			{name: "user foreign", key: aAdmin, status: 404, specValid: true},
			{name: "not an admin", key: provStaff, status: 403, specValid: true},
		}},
		{"PUT", "/locations/x1", join(bodyCases(loc), []badCase{
			{name: "slug upper case", path: "/locations/X1", body: `{` + loc + `}`, status: 422, field: "slug"},
			{name: "displayName missing", body: `{"countryCode":"est"}`, status: 422, field: "displayName"},
			{name: "countryCode two letters", body: `{"displayName":"X","countryCode":"ee"}`, status: 422, field: "countryCode"},
			{name: "unset the default", path: "/locations/cyc01", body: `{` + loc + `}`, status: 400, field: "isDefault", specValid: true},
			{name: "not a provider admin", key: aAdmin, body: `{` + loc + `}`, status: 403, specValid: true},
		})},
		{"DELETE", "/locations/bus02", []badCase{
			{name: "unknown slug", path: "/locations/nope", status: 404, specValid: true},
			{name: "the default", path: "/locations/cyc01", status: 409, specValid: true},
		}},
	}
}

// scenarioIdentity: users, tokens and locations through the API.
func (e *env) scenarioIdentity(t *testing.T) {
	cust := e.create(t, "/orgs", `{"parentId":%q,"name":"Customer"}`, e.partnerA)
	u := e.ok(t, http.StatusCreated, "POST", "/users", aAdmin, fmt.Sprintf(`{"orgId":%q,"email":"Ann@Example.com","firstName":" Ann ","lastName":"A","phoneNumber":"+1","personalIdNumber":"7"}`, cust))
	if u["email"] != "ann@example.com" || u["firstName"] != "Ann" || u["orgId"] != cust || u["id"] == nil || u["profileId"] == nil {
		t.Errorf("user = %v", u)
	}
	id := fmt.Sprint(u["id"])
	if got := e.ok(t, http.StatusOK, "GET", "/users/"+id, aViewer, ""); got["email"] != "ann@example.com" {
		t.Errorf("get user = %v", got)
	}
	// A sees its own user only; the provider sees both.
	if l := e.ok(t, http.StatusOK, "GET", "/users", aViewer, "")["items"].([]any); len(l) != 1 {
		t.Errorf("A's users = %v", l)
	}
	page := e.ok(t, http.StatusOK, "GET", "/users?limit=1", provAdmin, "")
	next := e.ok(t, http.StatusOK, "GET", "/users?limit=1&cursor="+str(page["nextCursor"]), provAdmin, "")
	if len(page["items"].([]any)) != 1 || len(next["items"].([]any)) != 1 ||
		page["items"].([]any)[0].(map[string]any)["id"] == next["items"].([]any)[0].(map[string]any)["id"] {
		t.Errorf("pages %v %v", page, next)
	}
	tok := e.ok(t, http.StatusCreated, "POST", "/users/"+id+"/tokens", aAdmin, `{"description":"first"}`)
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(str(tok["secret"])) || str(tok["prefix"]) != str(tok["secret"])[:4] || tok["restricted"] != false {
		t.Errorf("token = %v", tok)
	}
	toks := e.ok(t, http.StatusOK, "GET", "/users/"+id+"/tokens", aViewer, "")["items"].([]any)
	if len(toks) != 1 || toks[0].(map[string]any)["secret"] != nil || toks[0].(map[string]any)["description"] != "first" {
		t.Errorf("tokens = %v", toks)
	}
	e.ok(t, http.StatusNoContent, "DELETE", "/users/"+id+"/tokens/"+fmt.Sprint(tok["id"]), aAdmin, "")
	if toks := e.ok(t, http.StatusOK, "GET", "/users/"+id+"/tokens", aViewer, "")["items"].([]any); len(toks) != 0 {
		t.Errorf("tokens after delete = %v", toks)
	}
	if _, err := e.deps.Identity.Authenticate(t.Context(), str(tok["secret"]), ""); !errs.Is(err, errs.KindUnauthenticated) {
		t.Errorf("deleted token authenticates: %v", err)
	}

	locs := e.ok(t, http.StatusOK, "GET", "/locations", aViewer, "")["items"].([]any)
	if len(locs) != 2 || locs[0].(map[string]any)["slug"] != "cyc01" || locs[0].(map[string]any)["isDefault"] != true {
		t.Errorf("locations = %v", locs)
	}
	l := e.ok(t, http.StatusOK, "PUT", "/locations/bus02", provAdmin, `{"displayName":"Busburg","countryCode":"est","orderNr":0,"isPreferred":true,"isDefault":true}`)
	if l["isDefault"] != true || l["isPreferred"] != true || l["countryCode"] != "est" {
		t.Errorf("location = %v", l)
	}
	locs = e.ok(t, http.StatusOK, "GET", "/locations", aViewer, "")["items"].([]any)
	if locs[0].(map[string]any)["slug"] != "bus02" || locs[1].(map[string]any)["isDefault"] != false {
		t.Errorf("after moving the default: %v", locs)
	}
	e.ok(t, http.StatusNoContent, "DELETE", "/locations/cyc01", provAdmin, "")
}
