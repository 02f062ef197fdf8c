package idcloudhost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
)

// prefix is the mount of the dialect, servers[0].url of the document.
const prefix = "/idcloudhost/v1"

// testdataDir is testdata as an absolute path, resolved before any test
// runs: the object-storage tests open the S3 data plane, whose posix backend
// changes the process's working directory.
var testdataDir = func() string {
	d, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	return d
}()

// operation is one operation the document must declare.
type operation struct {
	id     string
	method string
	path   string
	seedID string // inventory id (x-seed-id)
	// sample is the file under testdata/samples holding the seed's sample
	// response for the operation (the location-scoped variants reuse the
	// sample of their global twin), and status the status it is validated
	// as: the seed shows only an error for some operations (ID-amb-19/20).
	sample string
	status int
}

// operations is the expected set, one table per seed section family
// (spec_*_test.go), so each family's routes are declared next to its
// tests.
var operations = slices.Concat(coreOperations, catalogOperations, computeOperations, networkOperations, servicesOperations,
	storageOperations)

// coreOperations are ID-1 to ID-7 and ID-74 to ID-99 of the seed inventory
// (33 vendor operations), plus the location-scoped variants of the two
// operations the seed documents under v1/{slug}/ (ID-74, ID-75).
var coreOperations = []operation{
	{"getUser", "GET", "/user-resource/user", "ID-1", "getUser.json", 200},
	{"updateUserProfile", "PATCH", "/user-resource/user/profile", "ID-2", "updateUserProfile.json", 200},
	{"deleteToken", "DELETE", "/user-resource/token", "ID-3", "deleteToken.json", 400},
	{"updateToken", "PATCH", "/user-resource/token", "ID-4", "updateToken.json", 400},
	{"createToken", "POST", "/user-resource/token", "ID-5", "createToken.json", 200},
	{"listTokens", "GET", "/user-resource/token/list", "ID-6", "listTokens.json", 200},
	{"listLocations", "GET", "/config/locations", "ID-7", "listLocations.json", 200},
	{"listBillingResources", "GET", "/user-resource/billing_resources", "ID-74", "listBillingResources.json", 200},
	{"listBillingResourcesInLocation", "GET", "/{location}/user-resource/billing_resources", "ID-74", "listBillingResources.json", 200},
	{"setResourceBilling", "POST", "/user-resource/resource_billing", "ID-75", "setResourceBilling.json", 404},
	{"setResourceBillingInLocation", "POST", "/{location}/user-resource/resource_billing", "ID-75", "setResourceBilling.json", 404},
	{"deleteBillingAccount", "DELETE", "/payment/billing_account", "ID-76", "deleteBillingAccount.json", 400},
	{"getBillingAccount", "GET", "/payment/billing_account", "ID-77", "getBillingAccount.json", 200},
	{"updateBillingAccount", "PUT", "/payment/billing_account", "ID-78", "updateBillingAccount.json", 200},
	{"configureRecurringPayment", "PUT", "/payment/billing_account/{billing_account_id}/recurring_payment", "ID-79", "configureRecurringPayment.json", 200},
	{"listBillingAccounts", "GET", "/payment/billing_account/list", "ID-80", "listBillingAccounts.json", 200},
	{"setDefaultBillingAccount", "POST", "/payment/billing_account/set_default", "ID-81", "setDefaultBillingAccount.json", 200},
	{"getUnpaidAmount", "GET", "/payment/billing_account/unpaid_amount", "ID-82", "getUnpaidAmount.json", 200},
	{"applyForInvoicePayment", "POST", "/payment/apply_for_invoice_payment", "ID-83", "applyForInvoicePayment.json", 200},
	{"deleteCard", "DELETE", "/payment/card", "ID-84", "deleteCard.json", 200},
	{"getCard", "GET", "/payment/card", "ID-85", "getCard.json", 200},
	{"addCard", "POST", "/payment/card", "ID-86", "addCard.json", 403},
	{"listCards", "GET", "/payment/card/list", "ID-87", "listCards.json", 200},
	{"setPrimaryCard", "PUT", "/payment/card/set_primary", "ID-88", "setPrimaryCard.json", 200},
	{"listCredit", "GET", "/payment/credit/list", "ID-89", "listCredit.json", 200},
	{"buyCredit", "POST", "/payment/credit/buy", "ID-90", "buyCredit.json", 200},
	{"requestCreditInvoice", "POST", "/payment/credit/request_invoice", "ID-91", "requestCreditInvoice.json", 200},
	{"getInvoice", "GET", "/payment/invoice", "ID-92", "getInvoice.json", 200},
	{"listInvoices", "GET", "/payment/invoice/list", "ID-93", "listInvoices.json", 200},
	{"payAll", "POST", "/payment/pay_all", "ID-94", "payAll.json", 403},
	{"payAmount", "POST", "/payment/pay_amount", "ID-95", "payAmount.json", 200},
	{"payInvoice", "POST", "/payment/pay_invoice", "ID-96", "payInvoice.json", 403},
	{"hasActiveCampaigns", "GET", "/payment/has_active_campaigns", "ID-97", "hasActiveCampaigns.json", 200},
	{"getPricingPolicy", "GET", "/pricing/policy", "ID-98", "getPricingPolicy.json", 200},
	{"getUsage", "GET", "/charging/usage", "ID-99", "getUsage.json", 200},
}

// errorStatuses are declared, with the Error body, by every operation.
var errorStatuses = []int{400, 401, 403, 404, 409, 429, 500}

// chargingOperations charge a card and also declare 402 (a decline).
var chargingOperations = map[string]bool{"addCard": true, "buyCredit": true, "payAll": true, "payAmount": true,
	"payInvoice": true, "configureRecurringPayment": true}

// pythonLiteralSamples are samples the seed writes with Python literals
// (True, False), which is not JSON (ID-amb-5). The test converts them.
var pythonLiteralSamples = map[string]bool{"applyForInvoicePayment.json": true}

// optionalInSample lists the fields a sample shows that the document does
// not require, with the reason; a path ending in ".*" covers a subtree.
// Every other field of every sample must be required: TestSampleFieldsRequired.
var optionalInSample = mergeSampleMaps(coreOptionalInSample, catalogOptionalInSample, computeOptionalInSample,
	networkOptionalInSample, servicesOptionalInSample, storageOptionalInSample)

var coreOptionalInSample = map[string]map[string]string{
	"listInvoices.json":           {"[].name": "only some invoices have a name"},
	"applyForInvoicePayment.json": {"is_deleted": "only this PaymentObject sample shows is_deleted"},
	"getPricingPolicy.json": {
		"policy[].numCpus":             "CPU items only",
		"policy[].megsRam":             "RAM items only",
		"policy[].serviceNameInUptime": "not on CPU and RAM items",
	},
}

// freeFormInSample lists the objects of samples that admit any field (the
// objects below them too). Every other object must reject unknown fields:
// TestSampleFieldsRequired.
var freeFormInSample = mergeSampleMaps(coreFreeFormInSample, catalogFreeFormInSample, computeFreeFormInSample,
	networkFreeFormInSample, servicesFreeFormInSample, storageFreeFormInSample)

var coreFreeFormInSample = map[string][]string{
	"getUser.json":                   {"state"},
	"getBillingAccount.json":         {"primary_card.processor_data"},
	"updateBillingAccount.json":      {"primary_card.processor_data"},
	"listBillingAccounts.json":       {"[].primary_card.processor_data"},
	"configureRecurringPayment.json": {"account.primary_card.processor_data"},
}

// mergeSampleMaps joins the per-family tables of sample exceptions; a
// sample named twice is a test bug.
func mergeSampleMaps[V any](ms ...map[string]V) map[string]V {
	out := map[string]V{}
	for _, m := range ms {
		for k, v := range m {
			if _, dup := out[k]; dup {
				panic("sample exceptions for " + k + " declared twice")
			}
			out[k] = v
		}
	}
	return out
}

const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// options mirror those of apitest.Validator.
func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}
}

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(Spec())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestSpecLoadsAndValidates(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != prefix {
		t.Errorf("servers = %v, want [%s]", doc.Servers, prefix)
	}
	s := doc.Components.SecuritySchemes["apikey"]
	if s == nil || s.Value.Type != "apiKey" || s.Value.In != "header" || s.Value.Name != "apikey" {
		t.Errorf("security scheme apikey = %+v, want apiKey in header apikey", s)
	}
	if len(doc.Security) != 1 || doc.Security[0]["apikey"] == nil {
		t.Errorf("security = %v, want apikey on every operation", doc.Security)
	}
	for _, want := range []string{"ID-amb-1", "ID-amb-2", "ID-amb-3", "ID-amb-5", "ID-amb-19", "ID-amb-20"} {
		if !strings.Contains(doc.Info.Description, want+"]") && !strings.Contains(doc.Info.Description, want+",") {
			t.Errorf("info.description does not reference %s", want)
		}
	}

	// Spec returns a copy.
	b := Spec()
	b[0] = 'x'
	if Spec()[0] == 'x' {
		t.Error("Spec() shares its buffer with the embedded document")
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	got := map[string]string{}
	seedIDs := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			if prev, dup := got[op.OperationID]; dup {
				t.Errorf("operationId %s used by %s and %s", op.OperationID, prev, key)
			}
			got[op.OperationID] = key
			if len(op.Tags) != 1 {
				t.Errorf("%s: tags = %v, want one (the seed section)", op.OperationID, op.Tags)
			}
			id, _ := op.Extensions["x-seed-id"].(string)
			seedIDs[id] = true
			// One success status: 200 for most, 204 where the seed
			// answers No Content (disk and bucket deletes).
			success := 200
			if op.Responses.Status(204) != nil {
				success = 204
			}
			statuses := append([]int{success}, errorStatuses...)
			if chargingOperations[op.OperationID] {
				statuses = append(statuses, 402)
			}
			if dataPlaneOperations[op.OperationID] {
				statuses = append(statuses, 503)
			}
			for _, status := range statuses {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s: no %d response", op.OperationID, status)
				}
			}
			if len(op.Responses.Map()) != len(statuses) {
				t.Errorf("%s: responses %v, want %v", op.OperationID, slices.Sorted(maps.Keys(op.Responses.Map())), statuses)
			}
		}
	}
	want := map[string]string{}
	for _, o := range operations {
		want[o.id] = o.method + " " + o.path
		item := doc.Paths.Value(o.path)
		if item == nil || item.GetOperation(o.method) == nil {
			continue // reported below
		}
		if id, _ := item.GetOperation(o.method).Extensions["x-seed-id"].(string); id != o.seedID {
			t.Errorf("%s: x-seed-id %q, want %q", o.id, id, o.seedID)
		}
	}
	for id, key := range want {
		if got[id] != key {
			t.Errorf("operation %s: got %q, want %q", id, got[id], key)
		}
	}
	for id, key := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected operation %s (%s)", id, key)
		}
	}

	// Exactly the vendor operations of the inventory: all 108.
	var wantSeed []string
	for n := 1; n <= 108; n++ {
		wantSeed = append(wantSeed, fmt.Sprintf("ID-%d", n))
	}
	gotSeed := slices.Sorted(maps.Keys(seedIDs))
	slices.Sort(wantSeed)
	if !slices.Equal(gotSeed, wantSeed) {
		t.Errorf("x-seed-id set = %v, want %v", gotSeed, wantSeed)
	}
}

// readSample returns the sample verbatim as JSON, converting the Python
// literals of the samples known to use them.
func readSample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdataDir, "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil // the seed shows an empty body (204, or 200 with none)
	}
	if pythonLiteralSamples[name] {
		if json.Valid(raw) {
			t.Fatalf("%s is valid JSON; remove it from pythonLiteralSamples", name)
		}
		raw = pythonLiteralsToJSON(raw)
	}
	if !json.Valid(raw) {
		t.Fatalf("%s is not valid JSON", name)
	}
	return raw
}

// route returns the route of an operation, for response validation.
func route(t *testing.T, doc *openapi3.T, o operation) *routers.Route {
	t.Helper()
	item := doc.Paths.Value(o.path)
	if item == nil || item.GetOperation(o.method) == nil {
		t.Fatalf("%s: no operation %s %s", o.id, o.method, o.path)
	}
	return &routers.Route{Spec: doc, Server: doc.Servers[0], Path: o.path, PathItem: item,
		Method: o.method, Operation: item.GetOperation(o.method)}
}

func validateResponse(doc *openapi3.T, rt *routers.Route, status int, body []byte) error {
	req, _ := http.NewRequest(rt.Method, prefix+"/", nil)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: rt, Options: options()},
		Status:                 status,
		Header:                 http.Header{"Content-Type": {"application/json"}},
		Options:                options(),
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func TestSamplesValidate(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	validated := map[string]bool{}
	for _, o := range operations {
		t.Run(o.id, func(t *testing.T) {
			body := readSample(t, o.sample)
			if err := validateResponse(doc, route(t, doc, o), o.status, body); err != nil {
				t.Errorf("sample %s as %d: %v", o.sample, o.status, err)
				return
			}
			validated[o.sample] = true
		})
	}
	files, err := filepath.Glob(filepath.Join(testdataDir, "samples", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !validated[filepath.Base(f)] {
			t.Errorf("sample %s is not validated by any operation", f)
		}
	}
	distinct := map[string]bool{}
	for _, o := range operations {
		distinct[o.sample] = true
	}
	if len(files) != len(distinct) {
		t.Errorf("%d sample files, want %d (one per seed operation)", len(files), len(distinct))
	}
	t.Logf("validated %d of %d seed samples (%d operations)", len(validated), len(files), len(operations))
}

// TestSampleFieldsRequired mutates every sample: removing any field the
// sample shows must make it invalid (the field is required) unless listed in
// optionalInSample, and adding an unknown field to any object must make it
// invalid unless the object is listed in freeFormInSample.
func TestSampleFieldsRequired(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	var removals, additions atomic.Int64
	t.Cleanup(func() {
		t.Logf("checked %d field removals and %d unknown-field additions", removals.Load(), additions.Load())
	})
	seen := map[string]bool{}
	for _, o := range operations {
		if seen[o.sample] {
			continue
		}
		seen[o.sample] = true
		t.Run(o.sample, func(t *testing.T) {
			t.Parallel()
			rt := route(t, doc, o)
			raw := readSample(t, o.sample)
			if len(bytes.TrimSpace(raw)) == 0 {
				return // an empty body (204, or 200 with no body) has no fields
			}
			var root any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&root); err != nil {
				t.Fatal(err)
			}
			check := func(what, path string, wantInvalid bool) {
				t.Helper()
				b, err := json.Marshal(root)
				if err != nil {
					t.Fatal(err)
				}
				err = validateResponse(doc, rt, o.status, b)
				if wantInvalid && err == nil {
					t.Errorf("%s %s: still valid", what, path)
				}
				if !wantInvalid && err != nil {
					t.Errorf("%s %s: invalid: %v", what, path, err)
				}
			}
			optional := optionalInSample[o.sample]
			used := map[string]bool{}
			walkObjects(root, "", func(obj map[string]any, path string) {
				if within(freeFormInSample[o.sample], path, used) {
					return
				}
				additions.Add(1)
				obj["x_unknown_field"] = json.Number("1")
				check("adding x_unknown_field to", orRoot(path), true)
				delete(obj, "x_unknown_field")
				for _, k := range slices.Sorted(maps.Keys(obj)) {
					removals.Add(1)
					p := join(path, k)
					v := obj[k]
					delete(obj, k)
					check("removing", p, !matches(slices.Collect(maps.Keys(optional)), p, used))
					obj[k] = v
				}
			})
			for _, p := range slices.Concat(slices.Collect(maps.Keys(optional)), freeFormInSample[o.sample]) {
				if !used[p] {
					t.Errorf("exception %q matches nothing in %s", p, o.sample)
				}
			}
		})
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// matches reports whether path is one of patterns (a pattern ending in
// ".*" matches the paths below it), recording the patterns used.
func matches(patterns []string, path string, used map[string]bool) bool {
	for _, p := range patterns {
		if p == path || (strings.HasSuffix(p, ".*") && strings.HasPrefix(path, strings.TrimSuffix(p, "*"))) {
			used[p] = true
			return true
		}
	}
	return false
}

// within reports whether path is one of the objects of patterns or below
// one, recording the patterns used.
func within(patterns []string, path string, used map[string]bool) bool {
	for _, p := range patterns {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[]") {
			used[p] = true
			return true
		}
	}
	return false
}

// walkObjects calls fn for every object of v with its path: keys joined by
// ".", array elements as "[]" ("[].records_list[].name").
func walkObjects(v any, path string, fn func(map[string]any, string)) {
	switch v := v.(type) {
	case map[string]any:
		fn(v, path)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walkObjects(v[k], join(path, k), fn)
		}
	case []any:
		for _, e := range v {
			walkObjects(e, path+"[]", fn)
		}
	}
}

// seedRequest is a request file of testdata/requests.
type seedRequest struct {
	method string
	path   string   // after /v1, with the query string
	form   []string // -d values verbatim
	// json is the body of a request the seed sends with
	// "Content-Type: application/json" (the line after the request line
	// says so; every later line is the body, verbatim).
	json string
}

func readRequest(t *testing.T, name string) seedRequest {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "requests", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r seedRequest
	sc := bufio.NewScanner(f)
	isJSON := false
	var body []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case isJSON:
			body = append(body, line)
		case strings.HasPrefix(line, "#") || line == "":
		case r.method == "":
			method, path, ok := strings.Cut(line, " ")
			if !ok || !strings.HasPrefix(path, "/v1/") {
				t.Fatalf("%s: bad request line %q", name, line)
			}
			r.method, r.path = method, strings.TrimPrefix(path, "/v1")
		case line == "Content-Type: application/json" && len(r.form) == 0:
			isJSON = true
		default:
			r.form = append(r.form, line)
		}
	}
	if isJSON {
		r.json = strings.Join(body, "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if r.method == "" {
		t.Fatalf("%s: no request line", name)
	}
	return r
}

// httpRequest builds the request curl sends: -d values joined with "&"
// as they are (curl -d does not encode), as a form.
func (r seedRequest) httpRequest() *http.Request {
	var body io.Reader
	if len(r.form) > 0 {
		body = strings.NewReader(strings.Join(r.form, "&"))
	}
	if r.json != "" {
		// The validator reads JSON; the seed's Python literals (True)
		// are converted as the server's parameter bag does (ID-amb-5).
		body = strings.NewReader(string(pythonLiteralsToJSON([]byte(r.json))))
	}
	req, _ := http.NewRequest(r.method, prefix+r.path, body)
	req.Header.Set("apikey", "meowmeowmeow")
	switch {
	case r.json != "":
		req.Header.Set("Content-Type", "application/json")
	case body != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

func newRouter(t *testing.T) routers.Router {
	t.Helper()
	r, err := legacy.NewRouter(loadDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// validateRequest routes req and validates it, returning the operationId.
func validateRequest(router routers.Router, req *http.Request) (string, error) {
	rt, pathParams, err := router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("route: %w", err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: rt, Options: options()}
	return rt.Operation.OperationID, openapi3filter.ValidateRequest(req.Context(), in)
}

func TestRequestsValidate(t *testing.T) {
	t.Parallel()
	router := newRouter(t)
	files, err := filepath.Glob(filepath.Join(testdataDir, "requests", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		have[strings.TrimSuffix(filepath.Base(f), ".txt")] = true
	}
	for _, o := range operations {
		if !have[o.id] {
			t.Errorf("no testdata/requests/%s.txt", o.id)
		}
	}
	passed := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			r := readRequest(t, name)
			id, err := validateRequest(router, r.httpRequest())
			if err != nil {
				t.Fatalf("%s %s: %v", r.method, r.path, err)
			}
			if want := strings.TrimSuffix(name, ".txt"); id != want {
				t.Fatalf("%s %s routed to %s, want %s", r.method, r.path, id, want)
			}
			passed++
		})
	}
	if len(files) != len(operations) {
		t.Errorf("%d request files, want %d", len(files), len(operations))
	}
	t.Logf("validated %d of %d requests (33 seed curl examples, %d location-scoped variants)", passed, len(files), len(files)-33)
}

// TestRequestEncodings checks requests the seed does not show: the JSON
// media type, query duplicates, and input the document must refuse.
func TestRequestEncodings(t *testing.T) {
	t.Parallel()
	router := newRouter(t)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		method, path, contentType, body string
		valid                           bool
	}{
		// JSON bodies with JSON types.
		{"PATCH", "/user-resource/token", "application/json", `{"token_id": 3, "restricted": false, "description": "d"}`, true},
		{"PATCH", "/user-resource/token", "application/json", `{"token_id": 3, "restricted": "True"}`, true},
		{"PUT", "/payment/billing_account/6/recurring_payment", "application/json", `{"is_recurring_payment_enabled": true, "recurring_payment_amount": 52.5, "recurring_payment_threshold": "55.00"}`, true},
		{"POST", "/payment/pay_amount", "application/json", `{"billing_account_id": 6, "amount": "10"}`, true},
		{"POST", "/payment/pay_amount", "application/json", `{"billing_account_id": 6, "amount": 10}`, true},
		{"GET", "/payment/billing_account", "application/json", `{"billing_account_id": 6}`, true},
		{"DELETE", "/payment/card?payment_object_id=6", "", "", true},
		{"POST", "/payment/credit/buy?billing_account_id=1&payment_object_id=5&amount=100.00", "", "", true},
		{"GET", "/payment/billing_account/list?show_shadow", "", "", true},
		{"GET", "/payment/billing_account/list?show_shadow=1", "", "", true},
		{"GET", "/bus02/user-resource/billing_resources?id=6&resource_type=vm", "", "", true},
		{"PUT", "/payment/billing_account/6/recurring_payment", form, "is_recurring_payment_enabled=yes&recurring_payment_amount=52", true},
		{"PUT", "/payment/billing_account", form, "billing_account_id=6&title=konto&email=user%40example.com&country=EE&send_invoice_email=true", true},
		// Refused: wrong types.
		{"DELETE", "/user-resource/token", form, "token_id=abc", false},
		{"DELETE", "/user-resource/token", "application/json", `{"token_id": "3"}`, false},
		{"DELETE", "/user-resource/token", form, "token_id=-1", false},
		{"GET", "/payment/invoice?invoice_id=1.5", "", "", false},
		{"POST", "/payment/pay_amount", form, "billing_account_id=6&amount=-5", false},
		{"POST", "/payment/pay_amount", form, "billing_account_id=6&amount=ten", false},
		{"POST", "/payment/pay_amount", "application/json", `{"billing_account_id": 6, "amount": "1e3"}`, false},
		{"POST", "/user-resource/token", form, "restricted=maybe", false},
		{"POST", "/user-resource/resource_billing", form, "billing_account_id=6&uuid=not-a-uuid", false},
		{"PUT", "/payment/billing_account/six/recurring_payment", form, "recurring_payment_amount=52", false},
		{"GET", "/CYC01/user-resource/billing_resources?id=6", "", "", false},
		{"POST", "/payment/pay_all", "text/plain", "billing_account_id=6", false},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, _ := http.NewRequest(c.method, prefix+c.path, body)
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		_, err := validateRequest(router, req)
		if c.valid && err != nil {
			t.Errorf("%s %s %s: %v", c.method, c.path, c.body, err)
		}
		if !c.valid && err == nil {
			t.Errorf("%s %s %s: valid, want invalid", c.method, c.path, c.body)
		}
	}
}

// TestSampleMismatches checks that the response schemas refuse what the
// seed's samples do not allow.
func TestSampleMismatches(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	byID := map[string]operation{}
	for _, o := range operations {
		byID[o.id] = o
	}
	cases := []struct {
		op     string
		status int
		body   string
	}{
		{"getUnpaidAmount", 200, `{"message": "59.96"}`},                    // money is a number
		{"getUnpaidAmount", 200, `{"unpaid_amount": 59.96}`},                // key is "message"
		{"hasActiveCampaigns", 200, `{"success": "true"}`},                  // boolean
		{"listTokens", 200, `{"billing_account_id": 0}`},                    // an array
		{"deleteToken", 400, `{"errors": {"error": "lower-case key"}}`},     // "Error"
		{"deleteToken", 400, `{"error": "Failed to delete kong token."}`},   // envelope
		{"payAll", 403, `{"errors": {"consumer::resource_forbidden": {}}}`}, // msg, subtype, type
		{"getCard", 200, `{"additional_data": "{}", "billing_account_id": 6, "billing_account_processor_identifier_id": 6, "created": "2018-02-21 14:00:07", "id": 6, "identifier": "pay_x", "is_primary": true, "is_verified": true, "valid_thru": 1893369600}`}, // epoch seconds
		{"getUser", 201, `{}`}, // undeclared status
	}
	for _, c := range cases {
		if err := validateResponse(doc, route(t, doc, byID[c.op]), c.status, []byte(c.body)); err == nil {
			t.Errorf("%s %d %s: valid, want invalid", c.op, c.status, c.body)
		}
	}
}

// TestApitest runs every seed request with its seed sample response through
// the validator the dialect's HTTP tests use.
func TestApitest(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, Spec())
	for _, o := range operations {
		r := readRequest(t, o.id+".txt")
		req := apitest.Request{Method: r.method, Path: prefix + r.path, Header: http.Header{"apikey": {"meowmeowmeow"}}}
		switch {
		case r.json != "":
			req.Body = pythonLiteralsToJSON([]byte(r.json))
			req.Header.Set("Content-Type", "application/json")
		case len(r.form) > 0:
			req.Body = []byte(strings.Join(r.form, "&"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		v.Check(t, req, apitest.Response{
			Status: o.status,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   readSample(t, o.sample),
		})
	}
	// The operations whose seed sample is an error are the ones left
	// without a 2xx exchange.
	var want []string
	for _, o := range operations {
		if o.status >= 300 {
			want = append(want, o.method+" "+o.path)
		}
	}
	sort.Strings(want)
	if got := v.Uncovered(); !slices.Equal(got, want) {
		t.Errorf("uncovered = %v, want %v", got, want)
	}
}
