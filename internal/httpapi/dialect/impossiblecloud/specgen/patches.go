package main

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// mountPrefix is where Trellis serves this dialect.
const mountPrefix = "/impossiblecloud/v1"

// patch is one deliberate deviation from the converted vendor document.
type patch struct {
	name  string
	apply func(doc *openapi3.T) error
}

// patches lists the steps in the order they are applied. Every deviation
// is also summarised in info.description by describeDeviations.
func patches() []patch {
	return []patch{
		{"servers", setServers},
		{"bearer security scheme", checkBearerScheme},
		{"missing path parameters", declareMissingPathParams},
		{"operation ids", setOperationIDs},
		{"JSON request bodies", jsonRequestBodies},
		{"contract costs as strings", contractCostsAsStrings},
		{"int64 integers", integersAsInt64},
		{"required response fields", requireResponseFields},
		{"pendingDeletedAt", pendingDeletedAtDateTime},
		{"error responses", addErrorResponses},
		{"info description", describeDeviations},
	}
}

// setServers replaces the vendor host (https://api.partner.impossiblecloud.com/v1)
// with the relative Trellis mount prefix, so the document describes
// whichever Trellis instance serves it.
func setServers(doc *openapi3.T) error {
	doc.Servers = openapi3.Servers{{URL: mountPrefix}}
	return nil
}

// checkBearerScheme changes nothing: it only guards the assumption that
// clients send "Authorization: Bearer <key>" as an apiKey header, which the
// handlers and the generated code rely on. Per-operation security is kept
// exactly as in the vendor document (the regions list is public).
func checkBearerScheme(doc *openapi3.T) error {
	ref := doc.Components.SecuritySchemes["Bearer"]
	if ref == nil || ref.Value == nil {
		return errors.New("security scheme Bearer is missing")
	}
	s := ref.Value
	if s.Type != "apiKey" || s.In != "header" || s.Name != "Authorization" {
		return fmt.Errorf("security scheme Bearer is %s in %s %q, want apiKey in header Authorization", s.Type, s.In, s.Name)
	}
	return nil
}

// declareMissingPathParams fixes a vendor bug: PATCH
// /partner/{partnerID}/storage-accounts/{accountID} does not declare
// partnerID, which makes the OpenAPI 3 document invalid. A missing path
// parameter is copied from a sibling operation of the same path.
func declareMissingPathParams(doc *openapi3.T) error {
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, name := range pathTemplateParams(path) {
				if op.Parameters.GetByInAndName(openapi3.ParameterInPath, name) != nil {
					continue
				}
				p := siblingPathParam(item, name)
				if p == nil {
					return fmt.Errorf("%s %s: path parameter %s is declared nowhere on the path", method, path, name)
				}
				op.Parameters = append(op.Parameters, p)
			}
		}
	}
	return nil
}

func pathTemplateParams(path string) []string {
	var names []string
	for seg := range strings.SplitSeq(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, seg[1:len(seg)-1])
		}
	}
	return names
}

// siblingPathParam returns the declaration of a path parameter from another
// operation of the item, trying methods in a fixed order for determinism.
func siblingPathParam(item *openapi3.PathItem, name string) *openapi3.ParameterRef {
	for _, method := range openapi3.PathItemMethods() {
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		for _, p := range op.Parameters {
			if p.Value != nil && p.Value.In == openapi3.ParameterInPath && p.Value.Name == name {
				return p
			}
		}
	}
	return nil
}

// operationIDs names every operation (the vendor gives none), so generated
// Go methods and test coverage reports are readable and stable.
func operationIDs() map[string]string {
	return map[string]string{
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
}

// setOperationIDs applies operationIDs and fails if the table and the
// vendor paths disagree, so a vendor spec update cannot silently leave an
// operation unnamed.
func setOperationIDs(doc *openapi3.T) error {
	ids := operationIDs()
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			id, ok := ids[key]
			if !ok {
				return fmt.Errorf("no operationId for %s", key)
			}
			op.OperationID = id
			delete(ids, key)
		}
	}
	if len(ids) > 0 {
		return fmt.Errorf("operationIds for operations not in the vendor spec: %v", slices.Sorted(maps.Keys(ids)))
	}
	return nil
}

// jsonRequestBodies: the vendor document has no "consumes", which the
// converter renders as a */* request body. The API only accepts JSON, and
// declaring application/json lets oapi-codegen generate typed request
// bodies and the test validator check the Content-Type.
func jsonRequestBodies(doc *openapi3.T) error {
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			content := op.RequestBody.Value.Content
			mt, ok := content["*/*"]
			if !ok || len(content) != 1 {
				return fmt.Errorf("%s %s: unexpected request content types %v", method, path, slices.Sorted(maps.Keys(content)))
			}
			op.RequestBody.Value.Content = openapi3.Content{"application/json": mt}
		}
	}
	return nil
}

// contractCostsAsStrings: the vendor declares the contract costs as
// numbers, but the API sends them as decimal strings (e.g. "100").
func contractCostsAsStrings(doc *openapi3.T) error {
	s, err := schema(doc, "api.DistributorContractResponse")
	if err != nil {
		return err
	}
	for _, name := range []string{"costStorageGBCents", "costEgressGBCents"} {
		p, err := property(s, name)
		if err != nil {
			return err
		}
		p.Type = &openapi3.Types{openapi3.TypeString}
		p.Format = ""
		p.Pattern = "^[0-9]+$"
	}
	return nil
}

// integersAsInt64: every integer in this API is a capacity or usage figure,
// which may exceed 32 bits; format int64 makes generated code use int64.
func integersAsInt64(doc *openapi3.T) error {
	for _, ref := range doc.Components.Schemas {
		setInt64(ref, map[*openapi3.Schema]bool{})
	}
	return nil
}

func setInt64(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	// $refs are reached through their component entry instead.
	if ref == nil || ref.Ref != "" || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if s.Type.Is(openapi3.TypeInteger) && s.Format == "" {
		s.Format = "int64"
	}
	setInt64(s.Items, seen)
	for _, p := range s.Properties {
		setInt64(p, seen)
	}
}

// requiredResponseFields lists the fields the API always sends. The vendor
// marks none as required; marking them lets tests prove their presence and
// lets generated code use plain values instead of pointers.
func requiredResponseFields() map[string][]string {
	return map[string][]string{
		"api.DistributorContractResponse": {"allocatedCapacity", "costEgressGBCents", "costStorageGBCents",
			"currency", "details", "distributorId", "id", "reservedCapacity"},
		"api.DistributorPartnerResponse":        {"allocatedCapacity", "allowOverdraft", "distributorContractId", "id", "name"},
		"api.StorageAccountResponse":            {"allocatedCapacity", "allowOverdraft", "clientAccountId", "contactEmail", "name"},
		"api.DistributorPartnerMembersResponse": {"email", "id", "name", "role"},
		"api.Region":                            {"iam_url", "name", "s3_url", "sts_url"},
		"api.ListRegionsResponse":               {"regions"},
		"api.ClientUsage":                       {"allocated_capacity", "client_id", "daily_usage", "name"},
		"api.DailyUsage":                        {"allocated_capacity", "date", "usage"},
	}
}

func requireResponseFields(doc *openapi3.T) error {
	for name, fields := range requiredResponseFields() {
		s, err := schema(doc, name)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if _, err := property(s, f); err != nil {
				return err
			}
		}
		s.Required = fields
	}
	return nil
}

// pendingDeletedAtDateTime: the scheduled deletion time is an RFC 3339
// timestamp, absent or null when no deletion is scheduled; PATCHing it to
// null cancels a scheduled deletion.
func pendingDeletedAtDateTime(doc *openapi3.T) error {
	for _, name := range []string{"api.PatchStorageAccountReqBody", "api.StorageAccountResponse"} {
		s, err := schema(doc, name)
		if err != nil {
			return err
		}
		p, err := property(s, "pendingDeletedAt")
		if err != nil {
			return err
		}
		p.Format = "date-time"
		p.Nullable = true
	}
	return nil
}

// errorResponse describes one error status added to the operations.
type errorResponse struct {
	status      int
	name        string // components/responses key
	description string
	public      bool // also documented on operations without security
}

func errorResponses() []errorResponse {
	return []errorResponse{
		{http.StatusBadRequest, "BadRequest", "Invalid request", false},
		{http.StatusUnauthorized, "Unauthorized", "Missing or invalid API key", false},
		{http.StatusForbidden, "Forbidden", "Not allowed for this API key", false},
		{http.StatusNotFound, "NotFound", "Resource not found", false},
		{http.StatusConflict, "Conflict", "Conflicts with the current state", false},
		{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "Request body too large", false},
		{http.StatusTooManyRequests, "TooManyRequests", "Rate limit exceeded", true},
		{http.StatusInternalServerError, "InternalServerError", "Internal server error", true},
	}
}

// addErrorResponses documents the error statuses Trellis returns, all with
// an ErrorResponse body; the vendor documents only the success status.
// Operations without security (the regions list) cannot fail
// authentication, validation or lookups, so they only get 429 and 500.
func addErrorResponses(doc *openapi3.T) error {
	const schemaName = "ErrorResponse"
	if _, ok := doc.Components.Schemas[schemaName]; ok {
		return errors.New("vendor spec already defines ErrorResponse")
	}
	doc.Components.Schemas[schemaName] = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Type:        &openapi3.Types{openapi3.TypeObject},
		Description: "Error returned by every failing operation.",
		Required:    []string{"message"},
		Properties: openapi3.Schemas{
			"message": {Value: &openapi3.Schema{
				Type:        &openapi3.Types{openapi3.TypeString},
				Description: "Human-readable description of the error",
			}},
		},
	}}
	schemaRef := &openapi3.SchemaRef{Ref: "#/components/schemas/" + schemaName, Value: doc.Components.Schemas[schemaName].Value}

	if doc.Components.Responses == nil {
		doc.Components.Responses = openapi3.ResponseBodies{}
	}
	refs := map[int]*openapi3.ResponseRef{}
	for _, e := range errorResponses() {
		resp := openapi3.NewResponse().WithDescription(e.description).WithJSONSchemaRef(schemaRef)
		if e.status == http.StatusTooManyRequests {
			resp.Headers = openapi3.Headers{"Retry-After": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "Seconds to wait before retrying",
				Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
					Type: &openapi3.Types{openapi3.TypeInteger},
					Min:  new(0.0),
				}},
			}}}}
		}
		if _, ok := doc.Components.Responses[e.name]; ok {
			return fmt.Errorf("vendor spec already defines response %s", e.name)
		}
		doc.Components.Responses[e.name] = &openapi3.ResponseRef{Value: resp}
		refs[e.status] = &openapi3.ResponseRef{Ref: "#/components/responses/" + e.name, Value: resp}
	}

	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			public := op.Security == nil || len(*op.Security) == 0
			for _, e := range errorResponses() {
				if public && !e.public {
					continue
				}
				code := strconv.Itoa(e.status)
				if op.Responses.Value(code) != nil {
					return fmt.Errorf("%s already documents %s", op.OperationID, code)
				}
				op.Responses.Set(code, refs[e.status])
			}
		}
	}
	return nil
}

// describeDeviations tells readers of the served document what differs from
// the vendor's.
func describeDeviations(doc *openapi3.T) error {
	doc.Info.Description += `

This is the Trellis rendering of the vendor's Swagger 2.0 document, converted to OpenAPI 3.0.3. Deviations from the vendor document:
- servers: the Trellis mount prefix ` + mountPrefix + ` instead of the vendor host.
- Every operation has an operationId.
- Request bodies are application/json (the vendor document declares no media type).
- PATCH /partner/{partnerID}/storage-accounts/{accountID} declares its partnerID path parameter.
- costStorageGBCents and costEgressGBCents are decimal strings (as sent on the wire), not numbers.
- Integer capacity and usage fields are int64.
- Response fields that are always sent are required.
- pendingDeletedAt is a nullable date-time.
- Error responses (ErrorResponse body, Retry-After header on 429) are documented.`
	return nil
}

func schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("schema %s not found", name)
	}
	return ref.Value, nil
}

func property(s *openapi3.Schema, name string) (*openapi3.Schema, error) {
	ref := s.Properties[name]
	if ref == nil || ref.Value == nil || ref.Ref != "" {
		return nil, fmt.Errorf("inline property %s not found", name)
	}
	return ref.Value, nil
}
