package main

import (
	"bytes"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Paths are relative to this directory, where go test runs.
const (
	vendorPath    = "../../../../../api/vendor/impossible-cloud-management-console.swagger.json"
	committedPath = "../openapi.json"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCommittedSpecIsFresh fails when openapi.json was edited by hand or the
// generator changed without regenerating.
func TestCommittedSpecIsFresh(t *testing.T) {
	t.Parallel()
	vendor := readFile(t, vendorPath)
	fresh, err := convert(vendor)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, readFile(t, committedPath)) {
		t.Fatal("openapi.json differs from a fresh conversion; run `go generate ./...` in internal/httpapi/dialect/impossiblecloud")
	}
	// Map iteration order must not leak into the output.
	for range 5 {
		again, err := convert(vendor)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, again) {
			t.Fatal("conversion is not deterministic")
		}
	}
}

func loadCommitted(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(readFile(t, committedPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return doc
}

type operation struct {
	method, path string
	op           *openapi3.Operation
}

func operations(doc *openapi3.T) []operation {
	var ops []operation
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			ops = append(ops, operation{method, path, item.GetOperation(method)})
		}
	}
	return ops
}

func TestOperations(t *testing.T) {
	t.Parallel()
	// Written out again rather than reusing operationIDs(), so that an
	// accidental edit of the table is caught.
	want := map[string]string{
		"GET /contract/list":                                          "listContracts",
		"GET /contract/{contractID}/partners":                         "listContractPartners",
		"GET /integration/regions/list":                               "listRegions",
		"POST /partner":                                               "createPartner",
		"GET /partner/{partnerID}":                                    "getPartner",
		"PUT /partner/{partnerID}":                                    "updatePartner",
		"DELETE /partner/{partnerID}":                                 "deletePartner",
		"POST /partner/{partnerID}/member":                            "createPartnerMember",
		"DELETE /partner/{partnerID}/member/{memberID}":               "deletePartnerMember",
		"GET /partner/{partnerID}/members":                            "listPartnerMembers",
		"GET /partner/{partnerID}/storage-accounts":                   "listPartnerStorageAccounts",
		"POST /partner/{partnerID}/storage-accounts":                  "createPartnerStorageAccount",
		"GET /partner/{partnerID}/storage-accounts/{accountID}":       "getPartnerStorageAccount",
		"PATCH /partner/{partnerID}/storage-accounts/{accountID}":     "patchPartnerStorageAccount",
		"DELETE /partner/{partnerID}/storage-accounts/{accountID}":    "deletePartnerStorageAccount",
		"GET /partner/{partnerID}/storage-accounts/{accountID}/usage": "getPartnerStorageAccountUsage",
		"GET /partner/{partnerID}/usage":                              "getPartnerUsage",
		"POST /storage-account":                                       "createStorageAccount",
		"GET /storage-account/list":                                   "listStorageAccounts",
		"GET /storage-account/{accountID}":                            "getStorageAccount",
		"PATCH /storage-account/{accountID}":                          "patchStorageAccount",
		"DELETE /storage-account/{accountID}":                         "deleteStorageAccount",
		"GET /storage-account/{accountID}/usage":                      "getStorageAccountUsage",
		"GET /storage-accounts/usage":                                 "listStorageAccountsUsage",
	}
	ops := operations(loadCommitted(t))
	if len(ops) != 24 || len(want) != 24 {
		t.Fatalf("got %d operations, want 24", len(ops))
	}
	for _, o := range ops {
		key := o.method + " " + o.path
		if o.op.OperationID == "" || o.op.OperationID != want[key] {
			t.Errorf("%s: operationId %q, want %q", key, o.op.OperationID, want[key])
		}
	}
}

func TestServersAndSecurity(t *testing.T) {
	t.Parallel()
	doc := loadCommitted(t)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/impossiblecloud/v1" {
		t.Errorf("servers = %v, want exactly /impossiblecloud/v1", doc.Servers)
	}
	s := doc.Components.SecuritySchemes["Bearer"].Value
	if s.Type != "apiKey" || s.In != "header" || s.Name != "Authorization" {
		t.Errorf("Bearer scheme = %+v", s)
	}
	if len(doc.Security) != 0 {
		t.Errorf("document-level security %v; the vendor only sets it per operation", doc.Security)
	}
	for _, o := range operations(doc) {
		public := o.op.Security == nil || len(*o.op.Security) == 0
		if wantPublic := o.op.OperationID == "listRegions"; public != wantPublic {
			t.Errorf("%s: public = %v, want %v", o.op.OperationID, public, wantPublic)
			continue
		}
		if !public && (len(*o.op.Security) != 1 || (*o.op.Security)[0]["Bearer"] == nil) {
			t.Errorf("%s: security %v, want Bearer", o.op.OperationID, *o.op.Security)
		}
	}
	if !strings.Contains(doc.Info.Description, "Trellis rendering") {
		t.Error("info.description does not describe the deviations")
	}
}

func schemaOf(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("schema %s missing", name)
	}
	return ref.Value
}

func TestPatchedSchemas(t *testing.T) {
	t.Parallel()
	doc := loadCommitted(t)

	contract := schemaOf(t, doc, "api.DistributorContractResponse")
	for _, name := range []string{"costStorageGBCents", "costEgressGBCents"} {
		p := contract.Properties[name].Value
		if !p.Type.Is("string") || p.Pattern != "^[0-9]+$" {
			t.Errorf("%s: type %v pattern %q, want string ^[0-9]+$", name, p.Type, p.Pattern)
		}
	}

	required := map[string][]string{
		"api.DistributorContractResponse": {"allocatedCapacity", "costEgressGBCents", "costStorageGBCents",
			"currency", "details", "distributorId", "id", "reservedCapacity"},
		"api.DistributorPartnerResponse":        {"allocatedCapacity", "allowOverdraft", "distributorContractId", "id", "name"},
		"api.StorageAccountResponse":            {"allocatedCapacity", "allowOverdraft", "clientAccountId", "contactEmail", "name"},
		"api.DistributorPartnerMembersResponse": {"email", "id", "name", "role"},
		"api.Region":                            {"iam_url", "name", "s3_url", "sts_url"},
		"api.ListRegionsResponse":               {"regions"},
		"api.ClientUsage":                       {"allocated_capacity", "client_id", "daily_usage", "name"},
		"api.DailyUsage":                        {"allocated_capacity", "date", "usage"},
		"ErrorResponse":                         {"message"},
	}
	for name, fields := range required {
		got := slices.Sorted(slices.Values(schemaOf(t, doc, name).Required))
		if !slices.Equal(got, fields) {
			t.Errorf("%s required = %v, want %v", name, got, fields)
		}
	}
	if !schemaOf(t, doc, "ErrorResponse").Properties["message"].Value.Type.Is("string") {
		t.Error("ErrorResponse.message is not a string")
	}

	for _, name := range []string{"api.PatchStorageAccountReqBody", "api.StorageAccountResponse"} {
		p := schemaOf(t, doc, name).Properties["pendingDeletedAt"].Value
		if !p.Type.Is("string") || p.Format != "date-time" || !p.Nullable {
			t.Errorf("%s.pendingDeletedAt = %v %q nullable=%v, want nullable date-time string", name, p.Type, p.Format, p.Nullable)
		}
	}

	integers := 0
	for name, ref := range doc.Components.Schemas {
		for prop, p := range ref.Value.Properties {
			if p.Value.Type.Is("integer") {
				integers++
				if p.Value.Format != "int64" {
					t.Errorf("%s.%s: format %q, want int64", name, prop, p.Value.Format)
				}
			}
		}
	}
	if integers != 10 {
		t.Errorf("found %d integer properties, want the vendor's 10", integers)
	}
}

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	doc := loadCommitted(t)
	for _, o := range operations(doc) {
		codes := slices.Sorted(maps.Keys(o.op.Responses.Map()))
		var success []string
		var errs []string
		for _, c := range codes {
			if strings.HasPrefix(c, "2") {
				success = append(success, c)
			} else {
				errs = append(errs, c)
			}
		}
		want := []string{"400", "401", "403", "404", "409", "413", "429", "500"}
		if o.op.OperationID == "listRegions" {
			want = []string{"429", "500"}
		}
		if len(success) != 1 || !slices.Equal(errs, want) {
			t.Errorf("%s: statuses %v, want one 2xx and %v", o.op.OperationID, codes, want)
			continue
		}
		for _, c := range errs {
			status, _ := strconv.Atoi(c)
			resp := o.op.Responses.Status(status).Value
			mt := resp.Content.Get("application/json")
			if mt == nil || mt.Schema.Ref != "#/components/schemas/ErrorResponse" {
				t.Errorf("%s %s: body is not ErrorResponse", o.op.OperationID, c)
			}
			if status == http.StatusTooManyRequests {
				h := resp.Headers["Retry-After"]
				if h == nil || !h.Value.Schema.Value.Type.Is("integer") {
					t.Errorf("%s 429: no integer Retry-After header", o.op.OperationID)
				}
			}
		}
		if rb := o.op.RequestBody; rb != nil {
			if got := slices.Collect(maps.Keys(rb.Value.Content)); !slices.Equal(got, []string{"application/json"}) {
				t.Errorf("%s: request content types %v, want application/json", o.op.OperationID, got)
			}
		}
		for _, name := range pathTemplateParams(o.path) {
			if o.op.Parameters.GetByInAndName("path", name) == nil {
				t.Errorf("%s: path parameter %s not declared", o.op.OperationID, name)
			}
		}
	}
}
