package apitest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
)

// recorder is a testing.TB that collects Errorf calls instead of failing,
// so the tests can assert that the validator reports a problem.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errors)
}

// fixed answers every request with one status and body.
func fixed(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

const (
	prefix    = "/impossiblecloud/v1"
	partnerID = "5b0f8e4e-1c9a-4f53-9d6c-8a1e7f3c2b10"
	contract  = `{"id":"c1","distributorId":"d1","allocatedCapacity":10,"reservedCapacity":100,
		"costStorageGBCents":"100","costEgressGBCents":"0","currency":"EUR","details":""}`
	partner = `{"id":"` + partnerID + `","distributorContractId":"c1","name":"p","allocatedCapacity":5,"allowOverdraft":false}`
)

var bearer = http.Header{"Authorization": {"Bearer k"}}

func newValidator(t *testing.T) *apitest.Validator {
	return apitest.NewValidator(t, impossiblecloud.Spec())
}

// exchange runs one exchange against a recorder and returns what the
// validator reported.
func exchange(t *testing.T, v *apitest.Validator, h http.Handler, req apitest.Request) []string {
	t.Helper()
	rec := &recorder{TB: t}
	v.Do(rec, h, req)
	return rec.reported()
}

func wantReported(t *testing.T, errs []string, substr string) {
	t.Helper()
	if len(errs) == 0 {
		t.Fatalf("nothing reported, want an error containing %q", substr)
	}
	if !strings.Contains(strings.Join(errs, "\n"), substr) {
		t.Fatalf("reported %q, want an error containing %q", errs, substr)
	}
}

func wantClean(t *testing.T, errs []string) {
	t.Helper()
	if len(errs) != 0 {
		t.Fatalf("unexpected reports: %q", errs)
	}
}

func TestValidExchangesPass(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	cases := []struct {
		name string
		h    http.Handler
		req  apitest.Request
	}{
		{"list", fixed(200, "["+contract+"]"), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer}},
		{"empty list", fixed(200, "[]"), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer}},
		{"create", fixed(201, partner), apitest.Request{Method: "POST", Path: prefix + "/partner", Header: bearer,
			Body: []byte(`{"name":"p","distributorContractId":"c1","allocatedCapacity":5}`)}},
		{"no content", fixed(204, ""), apitest.Request{Method: "DELETE", Path: prefix + "/partner/" + partnerID, Header: bearer}},
		// Security is not checked, so a missing key is a valid request.
		{"missing key", fixed(401, `{"message":"unauthorized"}`), apitest.Request{Method: "GET", Path: prefix + "/contract/list"}},
		{"query", fixed(200, `[]`), apitest.Request{Method: "GET", Path: prefix + "/storage-accounts/usage?from=2024-01-01&to=2024-01-31", Header: bearer}},
		{"literal beats parameter", fixed(200, `[]`), apitest.Request{Method: "GET", Path: prefix + "/storage-account/list", Header: bearer}},
		{"nullable", fixed(200, `{"clientAccountId":"a","name":"n","contactEmail":"e@x.io","allocatedCapacity":1,"allowOverdraft":true,"pendingDeletedAt":null}`),
			apitest.Request{Method: "PATCH", Path: prefix + "/storage-account/a", Header: bearer, Body: []byte(`{"pendingDeletedAt":null}`)}},
		{"charset", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"regions":[]}`))
		}), apitest.Request{Method: "GET", Path: prefix + "/integration/regions/list"}},
		{"rate limited", fixed(429, `{"message":"slow down"}`), apitest.Request{Method: "GET", Path: prefix + "/integration/regions/list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			wantClean(t, exchange(t, v, c.h, c.req))
		})
	}
}

func TestResponseMissingRequiredField(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	body := strings.Replace(contract, `"currency":"EUR",`, "", 1)
	errs := exchange(t, v, fixed(200, "["+body+"]"), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
	wantReported(t, errs, "currency")
	// The report identifies the exchange.
	wantReported(t, errs, "GET "+prefix+"/contract/list -> 200")
}

func TestResponseWrongType(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	getPartner := prefix + "/partner/" + partnerID
	for name, c := range map[string]struct{ path, body string }{
		"string for integer":   {getPartner, strings.Replace(partner, `"allocatedCapacity":5`, `"allocatedCapacity":"5"`, 1)},
		"fraction for integer": {getPartner, strings.Replace(partner, `"allocatedCapacity":5`, `"allocatedCapacity":5.5`, 1)},
		// The vendor swagger says number; the wire (and our spec) says string.
		"number for cost": {prefix + "/contract/list", strings.Replace("["+contract+"]", `"costStorageGBCents":"100"`, `"costStorageGBCents":100`, 1)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			errs := exchange(t, v, fixed(200, c.body), apitest.Request{Method: "GET", Path: c.path, Header: bearer})
			wantReported(t, errs, "response does not match the spec")
		})
	}
}

func TestUndeclaredStatus(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	errs := exchange(t, v, fixed(http.StatusTeapot, `{"message":"x"}`), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
	wantReported(t, errs, "status is not supported")
	// The public regions operation documents no 401.
	errs = exchange(t, v, fixed(401, `{"message":"x"}`), apitest.Request{Method: "GET", Path: prefix + "/integration/regions/list"})
	wantReported(t, errs, "status is not supported")
}

func TestErrorBodyChecked(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	errs := exchange(t, v, fixed(404, `{"error":"x"}`), apitest.Request{Method: "GET", Path: prefix + "/partner/p", Header: bearer})
	wantReported(t, errs, "message")
	errs = exchange(t, v, fixed(404, ""), apitest.Request{Method: "GET", Path: prefix + "/partner/p", Header: bearer})
	wantReported(t, errs, "response does not match the spec")
}

func TestRetryAfterChecked(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	h := func(retryAfter string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"slow down"}`))
		})
	}
	req := apitest.Request{Method: "GET", Path: prefix + "/integration/regions/list"}
	wantClean(t, exchange(t, v, h("3"), req))
	wantReported(t, exchange(t, v, h("soon"), req), "Retry-After")
}

func TestBodyOnNoContent(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	errs := exchange(t, v, fixed(204, `{}`), apitest.Request{Method: "DELETE", Path: prefix + "/storage-account/a", Header: bearer})
	wantReported(t, errs, "declares none")
}

func TestExpectInvalidRequest(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	bad := fixed(400, `{"message":"bad"}`)
	valid := apitest.Request{Method: "POST", Path: prefix + "/partner", Header: bearer,
		Body: []byte(`{"name":"p","distributorContractId":"c1","allocatedCapacity":5}`)}

	// A valid request flagged invalid is reported...
	req := valid
	req.ExpectInvalidRequest = true
	wantReported(t, exchange(t, v, bad, req), "ExpectInvalidRequest is set, but the request is valid")

	invalid := map[string]apitest.Request{
		"missing required field": {Method: "POST", Path: prefix + "/partner", Header: bearer,
			Body: []byte(`{"distributorContractId":"c1","allocatedCapacity":5}`)},
		"negative capacity": {Method: "POST", Path: prefix + "/partner", Header: bearer,
			Body: []byte(`{"name":"p","distributorContractId":"c1","allocatedCapacity":-1}`)},
		"not JSON": {Method: "POST", Path: prefix + "/partner", Header: bearer, Body: []byte(`{`)},
		"wrong content type": {Method: "POST", Path: prefix + "/partner",
			Header: http.Header{"Authorization": {"Bearer k"}, "Content-Type": {"text/plain"}},
			Body:   valid.Body},
		"no content type": {Method: "POST", Path: prefix + "/partner",
			Header: http.Header{"Authorization": {"Bearer k"}, "Content-Type": nil},
			Body:   valid.Body},
		"missing query parameter": {Method: "GET", Path: prefix + "/storage-accounts/usage?from=2024-01-01", Header: bearer},
		"malformed uuid":          {Method: "DELETE", Path: prefix + "/partner/not-a-uuid", Header: bearer},
	}
	for name, req := range invalid {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// ...an invalid request sent as valid is reported...
			wantReported(t, exchange(t, v, bad, req), "request does not match the spec")
			// ...and passes when the test declares it invalid.
			req.ExpectInvalidRequest = true
			wantClean(t, exchange(t, v, bad, req))
		})
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	notFound := fixed(404, `{"message":"no route"}`)
	for _, path := range []string{prefix + "/nope", "/contract/list", "/impossiblecloud/v2/contract/list"} {
		req := apitest.Request{Method: "GET", Path: path, Header: bearer}
		wantReported(t, exchange(t, v, notFound, req), "no operation of the spec matches")
		req.AllowUnknownRoute = true
		wantClean(t, exchange(t, v, notFound, req))
	}
	// A known path with an undeclared method is unknown too.
	req := apitest.Request{Method: "POST", Path: prefix + "/contract/list", Header: bearer}
	wantReported(t, exchange(t, v, notFound, req), "no operation of the spec matches")
}

func TestUncovered(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	all := v.Uncovered()
	if len(all) != 24 || !slices.Contains(all, "GET /contract/list") || !slices.Contains(all, "PATCH /partner/{partnerID}/storage-accounts/{accountID}") {
		t.Fatalf("fresh validator: uncovered = %q, want all 24 operations", all)
	}
	v.Do(t, fixed(200, "[]"), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
	v.Do(t, fixed(204, ""), apitest.Request{Method: "DELETE", Path: prefix + "/partner/" + partnerID, Header: bearer})
	// Only error responses: still uncovered.
	v.Do(t, fixed(404, `{"message":"x"}`), apitest.Request{Method: "GET", Path: prefix + "/partner/p", Header: bearer})

	got := v.Uncovered()
	if len(got) != 22 || slices.Contains(got, "GET /contract/list") || slices.Contains(got, "DELETE /partner/{partnerID}") ||
		!slices.Contains(got, "GET /partner/{partnerID}") {
		t.Fatalf("uncovered = %q", got)
	}
	if !slices.IsSorted(got) {
		t.Errorf("uncovered not sorted: %q", got)
	}
}

func TestDoURL(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	srv := httptest.NewServer(fixed(200, "["+contract+"]"))
	defer srv.Close()
	resp := v.DoURL(t, srv.Client(), srv.URL, apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"currency":"EUR"`) {
		t.Fatalf("DoURL = %d %s", resp.Status, resp.Body)
	}

	bad := httptest.NewServer(fixed(200, `[{"id":"c1"}]`))
	defer bad.Close()
	rec := &recorder{TB: t}
	v.DoURL(rec, bad.Client(), bad.URL, apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
	wantReported(t, rec.reported(), "response does not match the spec")
}

// TestConcurrent is meaningful under -race: Do, Check and Uncovered are
// called from many goroutines at once.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	rec := &recorder{TB: t}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			status, body := 200, "["+contract+"]"
			if i%2 == 1 {
				status, body = 200, `[{"id":1}]`
			}
			v.Do(rec, fixed(status, body), apitest.Request{Method: "GET", Path: prefix + "/contract/list", Header: bearer})
			v.Uncovered()
		})
	}
	wg.Wait()
	if got := len(rec.reported()); got != 16 {
		t.Fatalf("%d reports, want 16 (one per bad response)", got)
	}
}
