// Package itglobal serves the ITGLOBAL.COM Partner API v2 dialect (seed
// 002: a reseller's accounts, projects and balances, companies, invoices,
// payments, operations, service orders and support) at /itglobal/v2 on
// the Trellis core.
//
// openapi.json is the hand-written OpenAPI 3.0.3 contract: the request
// schemas exactly as the seed documents them (PascalCase), response DTOs
// the seed does not show (it collapses every sample) defined here, the
// {"Result": …} envelope and its two exceptions, one error body, bearer
// security, and in info.description every inferred path and every
// decision (inventory IT-amb-*). routes.go is the one route table (method,
// path, roles, feature, inferred); a test keeps it and the document equal.
//
// Handlers only translate: decode the JSON body (numbers exact), call one
// service method (internal/reseller, internal/orders, internal/support,
// through interfaces this package owns), encode. Keys are partner keys
// (Authorization: Bearer) with the role User or Finance, checked per
// route; errors are {"Error": {"Code", "Message", "Field"}} with the
// status of httpapi/problem's kind table.
package itglobal

import _ "embed"

// Prefix is where the dialect is mounted: the vendor's /v2/... paths are
// served as /itglobal/v2/....
const Prefix = "/itglobal/v2"

// SpecPath is where the OpenAPI document is served.
const SpecPath = "/itglobal/openapi.json"

//go:embed openapi.json
var openapiJSON []byte

// Spec returns the dialect's OpenAPI 3.0.3 document.
func Spec() []byte { return openapiJSON }
