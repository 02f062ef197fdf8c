package infiterra_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
)

// The BSS service implements the dialect's interface.
var _ infiterra.Service = (*bss.Service)(nil)

// The reference's example installation (§4): the key travels Base64-encoded.
const (
	refAppID     = "9a0fd2e4-b30c-4cc2-9471-aaebbe4b4971"
	refAPIKey    = "q7Vn2cXe9LtR4pW1sZ8mK0aHjD3uYbF6gN5oTiE2rC0="
	refAPIKeyB64 = "cTdWbjJjWGU5THRSNHBXMXNaOG1LMGFIakQzdVliRjZnTjVvVGlFMnJDMD0="
	refTrackID   = "5d0c1e0e-2f7b-4f7e-9d61-0f5b3b1a9a11"
)

// fakeBSS stands in for *bss.Service in the handler's own tests: it accepts
// the reference installation and records what each operation received.
type fakeBSS struct {
	mu       sync.Mutex
	calls    []fakeCall
	authErr  error // returned by Authenticate when set
	panicOn  string
	internal bool // the operations report a failure of ours
	problems []string
}

type fakeCall struct {
	op        string
	c         bss.Call
	checkOnly bool
	svc       bss.SubscriptionInput
	acc       bss.AccountInput
	settings  []bss.SettingValue
}

func (f *fakeBSS) record(op string, c bss.Call, fc fakeCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicOn == op {
		panic("boom: " + op)
	}
	fc.op, fc.c = op, c
	f.calls = append(f.calls, fc)
}

func (f *fakeBSS) last(t *testing.T) fakeCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("no call reached the service")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeBSS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeBSS) Authenticate(_ context.Context, appID, key string) (bss.Installation, error) {
	if f.authErr != nil {
		return bss.Installation{}, f.authErr
	}
	// The reference's raw key is itself valid Base64: both readings count.
	decoded, _ := base64.StdEncoding.DecodeString(key)
	if !strings.EqualFold(strings.Trim(appID, "{}"), refAppID) || (key != refAPIKey && string(decoded) != refAPIKey) {
		return bss.Installation{}, errs.New(errs.KindUnauthenticated, "unknown installation")
	}
	return bss.Installation{AppID: refAppID, ContractID: "contract"}, nil
}

func (f *fakeBSS) Settings(context.Context, bss.Call) []bss.Setting {
	// Not recorded: the handler also reads it to name setting headers.
	if f.panicOn == "fields" {
		panic("boom: fields")
	}
	return []bss.Setting{{ID: "ICApiKey", Name: "Impossible Cloud API key", Secret: true}, {ID: "ICContractId", Name: "Contract ID"}}
}

func (f *fakeBSS) ValidateSettings(_ context.Context, c bss.Call, in []bss.SettingValue) []string {
	f.record("validate", c, fakeCall{settings: in})
	return f.problems
}

func (f *fakeBSS) Catalog(_ context.Context, c bss.Call) bss.Catalog {
	f.record("servicedefinition", c, fakeCall{})
	return bss.Catalog{ServiceType: "ImpossibleCloudStorage", Name: "Storage"}
}

func (f *fakeBSS) AccountOptions(_ context.Context, c bss.Call) []bss.CustomField {
	f.record("syncoptions", c, fakeCall{})
	return []bss.CustomField{{ID: "username", Name: "Username"}}
}

func (f *fakeBSS) SynchronizeAccount(_ context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error) {
	f.record("synchronize", c, fakeCall{acc: in})
	if f.internal {
		return bss.Outcome{}, errs.New(errs.KindInternal, "database down")
	}
	return bss.Outcome{Message: "Account synchronized", ID: "a-1"}, nil
}

func (f *fakeBSS) AccountExists(_ context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error) {
	f.record("exists", c, fakeCall{acc: in})
	return bss.Outcome{Message: "Account already exists", ID: "a-1", Exists: true, Email: "admin@acme.example"}, nil
}

func (f *fakeBSS) DeleteAccount(_ context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error) {
	f.record("delete", c, fakeCall{acc: in})
	return bss.Outcome{Message: "Account deleted", ID: in.ExternalID}, nil
}

func (f *fakeBSS) Subscription(_ context.Context, c bss.Call, action string, in bss.SubscriptionInput, checkOnly bool) (bss.Outcome, error) {
	f.record("subscriptions/"+action, c, fakeCall{svc: in, checkOnly: checkOnly})
	if f.internal {
		return bss.Outcome{}, errs.New(errs.KindInternal, "database down")
	}
	return bss.Outcome{Message: "ok", ID: "s-1", Fields: map[string]string{"ICStorageAccountId": "sa-1"}}, nil
}

func (f *fakeBSS) Addon(_ context.Context, c bss.Call, action string, in bss.SubscriptionInput, checkOnly bool) (bss.Outcome, error) {
	f.record("addons/"+action, c, fakeCall{svc: in, checkOnly: checkOnly})
	return bss.Outcome{Message: "ok", ID: "ad-1"}, nil
}

type handlerFixture struct {
	svc *fakeBSS
	h   http.Handler
	v   *apitest.Validator
}

func newHandlerFixture(t *testing.T) *handlerFixture {
	t.Helper()
	f := &handlerFixture{svc: &fakeBSS{}, v: apitest.NewValidator(t, infiterra.Spec())}
	f.h = middleware.Chain(infiterra.Handler(infiterra.Deps{BSS: f.svc}), middleware.RequestID)
	return f
}

// bssHeaders are the headers of every reference example (§4).
func bssHeaders() http.Header {
	return http.Header{
		"Content-Type":                  {"application/json; charset=utf-8"},
		"X-Cloudplatform-Applicationid": {refAppID},
		"X-Cloudplatform-Apikey":        {refAPIKeyB64},
		"X-Cloudplatform-Trackid":       {refTrackID},
	}
}

func (f *handlerFixture) do(t *testing.T, method, path string, body []byte, hdr http.Header) apitest.Response {
	t.Helper()
	return f.v.Do(t, f.h, apitest.Request{Method: method, Path: infiterra.Prefix + path, Body: body, Header: hdr})
}

func wantJSON(t *testing.T, resp apitest.Response, status int, want string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, resp.Body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if string(g) != string(e) {
		t.Fatalf("answer %s, want %s", g, e)
	}
}

// TestAuthorization: both headers, a known application id and its key
// (Base64 as the SDK sends it, or raw); anything else is Web API's 401.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	body := sample(t, "accounts_exists")
	const denied = `{"Message":"Authorization has been denied for this request."}`
	for _, c := range []struct {
		name        string
		appID, key  string
		wantAllowed bool
	}{
		{"base64 key", refAppID, refAPIKeyB64, true},
		{"raw key", refAppID, refAPIKey, true},
		{"braced upper-case GUID", "{" + strings.ToUpper(refAppID) + "}", refAPIKeyB64, true},
		{"wrong key", refAppID, base64.StdEncoding.EncodeToString([]byte("not-the-key")), false},
		{"unknown application", "00000000-0000-0000-0000-000000000001", refAPIKeyB64, false},
		{"no key", refAppID, "", false},
		{"no application id", "", refAPIKeyB64, false},
		{"neither", "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := bssHeaders()
			h.Del(infiterra.HeaderApplicationID)
			h.Del(infiterra.HeaderAPIKey)
			if c.appID != "" {
				h.Set(infiterra.HeaderApplicationID, c.appID)
			}
			if c.key != "" {
				h.Set(infiterra.HeaderAPIKey, c.key)
			}
			before := f.svc.count()
			resp := f.do(t, "POST", "/accounts/exists", body, h)
			if c.wantAllowed {
				wantJSON(t, resp, 200, `{"Code":1,"Message":"Account already exists","Result":"a-1","ResultUser":"admin@acme.example"}`)
				return
			}
			wantJSON(t, resp, 401, denied)
			if f.svc.count() != before {
				t.Fatal("a denied call reached the service")
			}
		})
	}
	// The bare endpoints are protected too.
	h := bssHeaders()
	h.Set(infiterra.HeaderAPIKey, "wrong")
	wantJSON(t, f.do(t, "GET", "/fields/get", nil, h), 401, denied)
	// A failure of the check itself (the database) is a 500 in the envelope.
	f.svc.authErr = errs.New(errs.KindInternal, "database down")
	wantJSON(t, f.do(t, "POST", "/accounts/exists", body, bssHeaders()), 500, `{"Code":-1,"Message":"An error has occurred.","Result":null}`)
}

// TestPathsAndVerbs: paths match case-insensitively with or without a
// trailing slash; the three bare endpoints take GET and POST (a body is
// ignored), the others POST only (405 with Allow); unknown paths are 404.
func TestPathsAndVerbs(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	for _, p := range []string{"/Fields/Get", "/FIELDS/GET/", "/fields/get/"} {
		req := apitest.Request{Method: "GET", Path: infiterra.Prefix + p, Header: bssHeaders(), AllowUnknownRoute: true}
		resp := f.v.Do(t, f.h, req)
		wantJSON(t, resp, 200, "")
		var fc infiterra.FieldCollection
		if err := json.Unmarshal(resp.Body, &fc); err != nil || len(fc.Fields) != 2 {
			t.Fatalf("%s: %s", p, resp.Body)
		}
	}
	for _, p := range []string{"/Subscriptions/Create", "/subscriptions/CREATE/"} {
		req := apitest.Request{Method: "POST", Path: infiterra.Prefix + p, Body: sample(t, "subscriptions_create"), Header: bssHeaders(), AllowUnknownRoute: true}
		wantJSON(t, f.v.Do(t, f.h, req), 200, "")
		if got := f.svc.last(t).op; got != "subscriptions/create" {
			t.Fatalf("%s reached %s", p, got)
		}
	}
	// POST on a bare endpoint, with a body that is ignored.
	wantJSON(t, f.do(t, "POST", "/accounts/syncoptions", []byte(`{"anything":1}`), bssHeaders()), 200, "")
	wantJSON(t, f.do(t, "POST", "/fields/servicedefinition", nil, bssHeaders()), 200, "")

	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/subscriptions/create", "POST"},
		{"PUT", "/accounts/synchronize", "POST"},
		{"DELETE", "/fields/get", "GET, POST"},
	} {
		resp := f.v.Do(t, f.h, apitest.Request{Method: c.method, Path: infiterra.Prefix + c.path, Header: bssHeaders(), AllowUnknownRoute: true})
		wantJSON(t, resp, 405, `{"Message":"The requested resource does not support http method '`+c.method+`'."}`)
		if got := resp.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	for _, p := range []string{"/fields/additionalinfo", "/subscriptions/upgradetopaid", "/discover", "", "/"} {
		resp := f.v.Do(t, f.h, apitest.Request{Method: "POST", Path: infiterra.Prefix + p, Header: bssHeaders(), AllowUnknownRoute: true})
		wantJSON(t, resp, 404, "")
	}
}

// TestRouteOf names the endpoint of a request in its canonical casing.
func TestRouteOf(t *testing.T) {
	t.Parallel()
	of := infiterra.RouteOf()
	for _, c := range []struct{ method, path, want string }{
		{"POST", infiterra.Prefix + "/Subscriptions/Create/", "POST " + infiterra.Prefix + "/subscriptions/create"},
		{"GET", infiterra.Prefix + "/fields/get", "GET " + infiterra.Prefix + "/fields/get"},
		{"POST", infiterra.Prefix + "/Fields/Get", "POST " + infiterra.Prefix + "/fields/get"},
		{"GET", infiterra.Prefix + "/accounts/exists", ""},
		{"POST", infiterra.Prefix + "/nope", ""},
		{"POST", "/elsewhere/fields/get", ""},
	} {
		r, _ := http.NewRequest(c.method, c.path, nil)
		if got := of(r); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

// TestCallContext: the service gets the installation, the BSS's track id
// (the request id without one) and the settings headers keyed by field ID.
func TestCallContext(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	h := bssHeaders()
	h.Set("X-CloudPlatform-Setting-ICApiKey", " icmc_live_123 ")
	h.Set("x-cloudplatform-setting-iccontractid", "606f031c-0f85-4444-8c7d-4a8f1ede7cd3")
	h.Add("X-CloudPlatform-Setting-Regions", "eu-central")
	h.Add("X-CloudPlatform-Setting-Regions", "eu-west")
	wantJSON(t, f.do(t, "POST", "/accounts/synchronize", sample(t, "accounts_synchronize"), h), 200,
		`{"Code":0,"Message":"Account synchronized","Result":"a-1","AccountExtraInfo":null,"GeneratedPassword":null}`)
	c := f.svc.last(t)
	if c.c.Inst.AppID != refAppID || c.c.TrackID != refTrackID {
		t.Fatalf("call %+v", c.c)
	}
	want := map[string]string{"ICApiKey": "icmc_live_123", "ICContractId": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3", "Regions": "eu-central|eu-west"}
	if len(c.c.Settings) != len(want) {
		t.Fatalf("settings %v, want %v", c.c.Settings, want)
	}
	for k, v := range want {
		if c.c.Settings[k] != v {
			t.Fatalf("settings %v, want %v", c.c.Settings, want)
		}
	}
	if c.acc.ID != "1187" || c.acc.ResellerID != "1021" || c.acc.ResellerExternalID != "p-7f3a9c" || c.acc.Name != "Acme GmbH" ||
		c.acc.Email != "billing@acme.example" || c.acc.ContactEmail != "jana.berg@acme.example" || c.acc.Username != "admin@acme.example" ||
		c.acc.Invalid != nil {
		t.Fatalf("account decoded as %+v", c.acc)
	}

	// Without a track id (or with one unfit for logs) the request id is used.
	for _, track := range []string{"", strings.Repeat("x", 200), "a\x01b"} {
		h := bssHeaders()
		h.Set(infiterra.HeaderTrackID, track)
		h.Set(middleware.HeaderRequestID, "req-42")
		wantJSON(t, f.do(t, "POST", "/accounts/exists", sample(t, "accounts_exists"), h), 200, "")
		if got := f.svc.last(t).c.TrackID; got != "req-42" {
			t.Fatalf("track id %q, want the request id", got)
		}
	}
}

// TestCheckOnly: pre-check is the body's CheckOnly or ?checkonly=true
// (name and value in any case), on every subscription and add-on endpoint.
func TestCheckOnly(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	body := sample(t, "subscriptions_create") // CheckOnly false
	var def map[string]any
	if err := json.Unmarshal(body, &def); err != nil {
		t.Fatal(err)
	}
	def["CheckOnly"] = true
	checkBody, _ := json.Marshal(def)
	for _, c := range []struct {
		name  string
		query string
		body  []byte
		want  bool
		spec  bool // the query is the spec's spelling
	}{
		{"body false", "", body, false, true},
		{"body true", "", checkBody, true, true},
		{"query", "?checkonly=true", body, true, true},
		{"query False", "?checkonly=False", body, false, true},
		{"query in capitals", "?CheckOnly=TRUE", body, true, false},
	} {
		for _, ep := range []string{"subscriptions/create", "subscriptions/update", "subscriptions/activate", "subscriptions/suspend", "subscriptions/cancel",
			"addons/create", "addons/update", "addons/cancel"} {
			req := apitest.Request{Method: "POST", Path: infiterra.Prefix + "/" + ep + c.query, Body: c.body, Header: bssHeaders(), AllowUnknownRoute: !c.spec}
			resp := f.v.Do(t, f.h, req)
			wantJSON(t, resp, 200, "")
			if got := f.svc.last(t); got.op != ep || got.checkOnly != c.want {
				t.Fatalf("%s %s: %s checkOnly %t, want %t", c.name, ep, got.op, got.checkOnly, c.want)
			}
		}
	}
}

// TestMalformedBody: a body that is not the endpoint's JSON object is the
// envelope's Code -1 "invalid request body" with HTTP 200, and reaches no
// operation; fields/validate says it in its list of problems.
func TestMalformedBody(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	const invalid = `{"Code":-1,"Message":"invalid request body","Result":null}`
	for _, c := range []struct {
		name        string
		body        []byte
		serviceOnly bool // an account ignores the field, so the body is fine there
		specValid   bool // the validator reads only the first JSON value
	}{
		{"empty", nil, false, false},
		{"not JSON", []byte("Quantity=5"), false, false},
		{"truncated", []byte(`{"ID":"s-1","Quantity":`), false, false},
		{"null", []byte(`null`), false, false},
		{"array", []byte(`[{"ID":"1187"}]`), false, false},
		{"string", []byte(`"1187"`), false, false},
		{"trailing data", []byte(`{"ID":"1187"} {"ID":"1188"}`), false, true},
		{"wrong type", []byte(`{"Quantity":"five"}`), true, false},
		{"fractional quantity", []byte(`{"Quantity":1.5}`), true, false},
		{"unknown enum name", []byte(`{"ActionType":"Explode"}`), true, false},
		{"add-on quantity", []byte(`{"Addons":[{"Quantity":"x"}]}`), true, false},
	} {
		for _, ep := range []string{"/accounts/synchronize", "/accounts/exists", "/accounts/delete", "/subscriptions/create",
			"/subscriptions/update", "/subscriptions/cancel", "/addons/create"} {
			if c.serviceOnly && strings.HasPrefix(ep, "/accounts/") {
				continue
			}
			before := f.svc.count()
			resp := f.v.Do(t, f.h, apitest.Request{Method: "POST", Path: infiterra.Prefix + ep, Body: c.body, Header: bssHeaders(),
				ExpectInvalidRequest: !c.specValid})
			wantJSON(t, resp, 200, invalid)
			if f.svc.count() != before {
				t.Fatalf("%s to %s reached the service", c.name, ep)
			}
		}
	}
	resp := f.v.Do(t, f.h, apitest.Request{Method: "POST", Path: infiterra.Prefix + "/fields/validate", Body: []byte("{"), Header: bssHeaders(), ExpectInvalidRequest: true})
	wantJSON(t, resp, 200, `["invalid request body"]`)
}

// TestFieldsValidate: the service's problems are the answer; none is [].
func TestFieldsValidate(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	wantJSON(t, f.do(t, "POST", "/fields/validate", sample(t, "fields_validate"), bssHeaders()), 200, `[]`)
	want := []bss.SettingValue{{ID: "ICApiKey", Value: "icmc_live_123"}, {ID: "ICContractId", Value: "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"}}
	if got := f.svc.last(t).settings; !reflect.DeepEqual(got, want) {
		t.Fatalf("settings values %+v, want %+v", got, want)
	}
	f.svc.problems = []string{"Invalid Impossible Cloud API key"}
	wantJSON(t, f.do(t, "POST", "/fields/validate", sample(t, "fields_validate"), bssHeaders()), 200, `["Invalid Impossible Cloud API key"]`)
}

// TestPanics: an unhandled failure is a 500 in the envelope, on the bare
// endpoints too, and the cause is not sent.
func TestPanics(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ op, method, path string }{
		{"servicedefinition", "GET", "/fields/servicedefinition"},
		{"syncoptions", "POST", "/accounts/syncoptions"},
		{"subscriptions/create", "POST", "/subscriptions/create"},
	} {
		f := newHandlerFixture(t)
		f.svc.panicOn = c.op
		var body []byte
		if c.method == "POST" && c.op == "subscriptions/create" {
			body = sample(t, "subscriptions_create")
		}
		resp := f.do(t, c.method, c.path, body, bssHeaders())
		wantJSON(t, resp, 500, `{"Code":-1,"Message":"An error has occurred.","Result":null}`)
	}
}

// TestInternalFailure: a failure of ours inside an operation is a 500 in
// the envelope (the BSS sees a failed call, not a refusal).
func TestInternalFailure(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.svc.internal = true
	const want = `{"Code":-1,"Message":"An error has occurred.","Result":null}`
	wantJSON(t, f.do(t, "POST", "/subscriptions/create", sample(t, "subscriptions_create"), bssHeaders()), 500, want)
	wantJSON(t, f.do(t, "POST", "/accounts/synchronize", sample(t, "accounts_synchronize"), bssHeaders()), 500, want)
}

// TestWriteError: outside the handler (the server's recovery and unknown
// routes) errors take the dialect's shapes.
func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err    error
		status int
		want   string
	}{
		{errs.New(errs.KindUnauthenticated, "x"), 401, `{"Message":"Authorization has been denied for this request."}`},
		{errs.New(errs.KindNotFound, "x"), 404, `{"Message":"No HTTP resource was found that matches the request URI '/impossiblecloud/v1/integration/infiterra/x'."}`},
		{errs.New(errs.KindInternal, "secret cause"), 500, `{"Code":-1,"Message":"An error has occurred.","Result":null}`},
	} {
		rec := httptest.NewRecorder()
		r, _ := http.NewRequest("POST", infiterra.Prefix+"/x", nil)
		infiterra.WriteError(rec, r, c.err)
		wantJSON(t, apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}, c.status, c.want)
	}
}
