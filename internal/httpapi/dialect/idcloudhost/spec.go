// Package idcloudhost serves the idcloudhost cloud API dialect (the
// idcloudhost.com API: header "apikey" authentication, form, query or JSON
// parameters, location-scoped paths under /v1/{slug}/) at /idcloudhost/v1 on
// the Trellis core.
//
// openapi.json is the hand-written OpenAPI 3.0.3 contract, written from the
// vendor's Slate documentation (seed 003) and the seed inventory. It covers
// the User, Token, Locations, Billing, Payment, Pricing and Charging sections
// (inventory IDs ID-1 to ID-7 and ID-74 to ID-99). Its info.description lists
// every decision taken where the seed is silent or contradicts itself.
// testdata/samples holds the seed's sample responses verbatim, and
// testdata/requests the seed's curl examples; the tests validate both
// against the document, and the handler tests send every request file
// verbatim and validate every exchange.
//
// The handlers (handler.go) authenticate the "apikey" header as an
// idcloudhost token (access.Identity), read one parameter bag per request
// (params.go: path > JSON > form > query, form bodies on every method),
// answer errors as {"errors": {"Error": "…"}} with the status of
// httpapi/problem's kind table (403 in the gateway's
// consumer::resource_forbidden shape), honour Idempotency-Key, and reach
// billing, payment, pricing and the catalog through interfaces this
// package owns. Dedicated serves the dialect at /v1 on a listener of its
// own, as the vendor's clients expect.
package idcloudhost

import _ "embed"

//go:embed openapi.json
var openapiJSON []byte

// Spec returns the OpenAPI 3.0.3 document of this dialect. Callers get a
// copy, so the embedded document cannot be modified.
func Spec() []byte {
	return append([]byte(nil), openapiJSON...)
}
