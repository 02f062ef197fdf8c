// Package infiterra serves the Infiterra (interworks.cloud) BSS "service
// manager" contract (seed 004): the fifteen endpoints a billing platform
// calls on the vendor to read setting fields, synchronise accounts and
// create, change, suspend, reactivate and cancel subscriptions and add-ons,
// mounted at Prefix.
//
// openapi.json is the hand-written OpenAPI 3.0.3 contract: the SDK's
// PascalCase wire model (the types live in internal/bss, so this package only
// decodes and encodes them), the two authorization headers as security
// schemes, the other X-CloudPlatform-* headers as parameters, the envelope,
// the 401 body and, in info.description, every decision the contract
// reference leaves to the vendor.
//
// The handler only translates: route (case-insensitively, as the SDK's Web
// API does), authenticate the installation, decode, call one method of the
// BSS service (through the Service interface this package owns), encode.
// Business refusals travel in the envelope's Code with HTTP 200, as the SDK
// does; only authorization (401) and crashes (500) use HTTP statuses.
package infiterra

import _ "embed"

// Prefix is where the dialect is mounted: the seed's
// /v1/integration/infiterra/... paths are served as Prefix/....
const Prefix = "/impossiblecloud/v1/integration/infiterra"

// SpecPath is where the OpenAPI document is served.
const SpecPath = "/impossiblecloud/infiterra/openapi.json"

//go:embed openapi.json
var openapiJSON []byte

// Spec returns the dialect's OpenAPI 3.0.3 document.
func Spec() []byte { return openapiJSON }
