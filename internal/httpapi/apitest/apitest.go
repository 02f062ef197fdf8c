// Package apitest validates HTTP exchanges in tests against a dialect's
// OpenAPI 3.0 document, so that every HTTP test also proves wire
// compatibility: requests are checked unless a test declares them invalid,
// responses are always checked, and the operations never exercised
// successfully can be listed.
//
// Dialects with an OpenAPI 3.0 document (impossiblecloud.Spec()) pass it to
// NewValidator directly. The native huma API (OpenAPI 3.1) passes huma's
// downgraded document instead:
//
//	spec, err := api.OpenAPI().Downgrade()
//	v := apitest.NewValidator(t, spec)
//
// Share one Validator across the tests of a dialect and, once they are done,
// fail on v.Uncovered() so that every operation is exercised successfully.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// maxBodyInReport bounds each body quoted in a failure message.
const maxBodyInReport = 2 << 10

// uuidPattern is the canonical textual UUID form of any version, which is
// what the generated handlers (google/uuid) accept in practice.
const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// Request is one request of a test exchange.
type Request struct {
	Method string
	// Path includes the mount prefix and the query string, e.g.
	// "/impossiblecloud/v1/storage-accounts/usage?from=2024-01-01&to=2024-01-31".
	Path string
	Body []byte
	// Header is sent as is. If Body is non-nil and Header has no
	// Content-Type key, Content-Type is application/json; to send no
	// Content-Type at all, set the key to a nil slice.
	Header http.Header
	// ExpectInvalidRequest asserts the request violates the spec (bad body,
	// parameter or content type); the test fails if it does not, so a
	// bad-input test cannot silently send valid input. Leave it false for
	// input the spec allows but business rules reject (an over-long name, a
	// capacity beyond the contract). Missing or wrong API keys are never
	// spec violations: security is not checked.
	ExpectInvalidRequest bool
	// AllowUnknownRoute permits a request that matches no operation of the
	// spec (tests of 404/405 on unknown routes); such an exchange is not
	// validated. Otherwise an unmatched request fails the test.
	AllowUnknownRoute bool
	// OnlyResponse skips the request's validation: a probe deliberately
	// sends text the spec may or may not refuse (a NUL byte in a string),
	// and only the answer is checked. A probe whose path matches no
	// operation of the spec (a bad value in a path parameter can) is not
	// validated.
	OnlyResponse bool
}

// Response is what the server answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Validator checks exchanges against one OpenAPI 3.0 document. Its methods
// are safe for concurrent use; they report failures with tb.Errorf only, so
// they may be called from goroutines other than the test's.
type Validator struct {
	router routers.Router
	// formats are extra string format checks, built once.
	formats []openapi3.SchemaValidationOption

	mu sync.Mutex
	// statuses records, per operation ("METHOD /path/template"), the
	// response statuses seen. Every operation has an entry from the start.
	statuses map[string]map[int]bool
}

// NewValidator loads and validates spec and prepares routing. Server URLs
// are reduced to their path, so the document matches requests whatever
// host and port the server under test listens on.
func NewValidator(tb testing.TB, spec []byte) *Validator {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		tb.Fatalf("apitest: load OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		tb.Fatalf("apitest: invalid OpenAPI document: %v", err)
	}
	for _, s := range doc.Servers {
		u, err := url.Parse(s.URL)
		if err != nil {
			tb.Fatalf("apitest: server URL %q: %v", s.URL, err)
		}
		s.URL = u.Path
	}
	// The legacy router, unlike routers/gorillamux, needs no extra module
	// and matches relative server URLs (see Check for how).
	router, err := legacy.NewRouter(doc)
	if err != nil {
		tb.Fatalf("apitest: build router: %v", err)
	}
	v := &Validator{
		router: router,
		// kin-openapi checks only date, date-time and byte strings by
		// default; uuid and email matter to our APIs too. Scoped to this
		// validator rather than registered globally.
		formats: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
		statuses: map[string]map[int]bool{},
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			v.statuses[method+" "+path] = map[int]bool{}
		}
	}
	return v
}

// Do serves req with h and checks the exchange.
func (v *Validator) Do(tb testing.TB, h http.Handler, req Request) Response {
	tb.Helper()
	// httptest.NewRequest panics on a malformed request line, which would
	// kill the test binary from a non-test goroutine: check first.
	if _, err := http.NewRequest(req.Method, req.Path, nil); err != nil {
		tb.Errorf("apitest: %s %s: %v", req.Method, req.Path, err)
		return Response{}
	}
	r := httptest.NewRequest(req.Method, req.Path, bytes.NewReader(req.Body))
	r.Header = req.header()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	resp := Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
	v.Check(tb, req, resp)
	return resp
}

// DoURL sends req to a live server at baseURL (e.g. "http://127.0.0.1:1234",
// without the mount prefix, which is part of req.Path) and checks the
// exchange. A nil client means http.DefaultClient. On a transport error it
// reports the failure and returns a zero Response.
func (v *Validator) DoURL(tb testing.TB, client *http.Client, baseURL string, req Request) Response {
	tb.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	r, err := http.NewRequest(req.Method, strings.TrimSuffix(baseURL, "/")+req.Path, bytes.NewReader(req.Body))
	if err != nil {
		tb.Errorf("apitest: %s %s: %v", req.Method, req.Path, err)
		return Response{}
	}
	r.Header = req.header()
	httpResp, err := client.Do(r)
	if err != nil {
		tb.Errorf("apitest: %s %s: %v", req.Method, req.Path, err)
		return Response{}
	}
	defer httpResp.Body.Close()
	body, err := io.ReadAll(httpResp.Body)
	if err != nil {
		tb.Errorf("apitest: %s %s: read response body: %v", req.Method, req.Path, err)
		return Response{}
	}
	resp := Response{Status: httpResp.StatusCode, Header: httpResp.Header, Body: body}
	v.Check(tb, req, resp)
	return resp
}

// Check validates an exchange made by other means, and records coverage.
func (v *Validator) Check(tb testing.TB, req Request, resp Response) {
	tb.Helper()
	fail := func(format string, args ...any) {
		tb.Helper()
		tb.Errorf("apitest: %s %s -> %d: %s\nrequest body: %s\nresponse body: %s",
			req.Method, req.Path, resp.Status, fmt.Sprintf(format, args...), truncate(req.Body), truncate(resp.Body))
	}

	// The validated request has a path-only URL: the legacy router matches
	// server URLs against the URL's string form, which for a request built
	// from an absolute URL includes scheme and host.
	r, err := http.NewRequest(req.Method, req.Path, bytes.NewReader(req.Body))
	if err != nil {
		fail("bad request path: %v", err)
		return
	}
	r.Header = req.header()

	route, pathParams, err := v.router.FindRoute(r)
	if err != nil {
		if !req.AllowUnknownRoute && !req.OnlyResponse {
			fail("no operation of the spec matches the request: %v", err)
		}
		return
	}
	v.record(route, resp.Status)

	opts := &openapi3filter.Options{
		// Authentication is the handlers' business; tests of missing or
		// wrong keys send requests that are otherwise valid.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// Undeclared statuses are errors, not silently accepted.
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: v.formats,
	}
	reqInput := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options:    opts,
	}
	if !req.OnlyResponse {
		err = openapi3filter.ValidateRequest(r.Context(), reqInput)
	}
	switch {
	case req.OnlyResponse:
	case req.ExpectInvalidRequest && err == nil:
		fail("ExpectInvalidRequest is set, but the request is valid per the spec")
	case !req.ExpectInvalidRequest && err != nil:
		fail("request does not match the spec: %v", err)
	}

	respInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Options:                opts,
	}
	respInput.SetBodyBytes(resp.Body)
	if err := openapi3filter.ValidateResponse(r.Context(), respInput); err != nil {
		fail("response does not match the spec: %v", err)
		return
	}
	// ValidateResponse skips the body of a response declared without
	// content (e.g. 204), so check there is none.
	if declared := declaredResponse(route, resp.Status); declared != nil && len(declared.Content) == 0 && len(resp.Body) > 0 {
		fail("response has a body, but the spec declares none for this status")
	}
}

// Uncovered lists, sorted, the operations ("METHOD /path/template") never
// answered with a 2xx status.
func (v *Validator) Uncovered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, op := range slices.Sorted(maps.Keys(v.statuses)) {
		covered := false
		for status := range v.statuses[op] {
			covered = covered || (status >= 200 && status < 300)
		}
		if !covered {
			out = append(out, op)
		}
	}
	return out
}

func (v *Validator) record(route *routers.Route, status int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := route.Method + " " + route.Path
	if v.statuses[key] == nil {
		v.statuses[key] = map[int]bool{}
	}
	v.statuses[key][status] = true
}

func declaredResponse(route *routers.Route, status int) *openapi3.Response {
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil {
		return nil
	}
	return ref.Value
}

// header returns the headers to send, defaulting the JSON content type.
func (req Request) header() http.Header {
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if _, ok := req.Header["Content-Type"]; !ok && req.Body != nil {
		h.Set("Content-Type", "application/json")
	}
	return h
}

func truncate(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > maxBodyInReport {
		return string(b[:maxBodyInReport]) + "...(truncated)"
	}
	return string(b)
}
