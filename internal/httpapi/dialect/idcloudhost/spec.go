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

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
)

// specFiles are the document's parts: openapi.json (info, servers, the
// core sections and the shared components) and one openapi-<family>.json
// per resource family (paths, components, and an info.description
// paragraph of that family's decisions), merged by Spec.
//
//go:embed openapi.json openapi-*.json
var specFiles embed.FS

// Spec returns the OpenAPI 3.0.3 document of this dialect: openapi.json
// with every openapi-<family>.json merged in (paths, components; the
// families' info.description paragraphs appended). A path or component
// defined twice is a build error caught by the tests (Spec panics).
func Spec() []byte {
	b, err := mergeSpec(specFiles)
	if err != nil {
		panic(err)
	}
	return b
}

func mergeSpec(fsys fs.FS) ([]byte, error) {
	base, err := readSpecPart(fsys, "openapi.json")
	if err != nil {
		return nil, err
	}
	parts, err := fs.Glob(fsys, "openapi-*.json")
	if err != nil {
		return nil, err
	}
	info, _ := base["info"].(map[string]any)
	for _, name := range slices.Sorted(slices.Values(parts)) {
		part, err := readSpecPart(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := mergeMembers(base, part, name, "paths"); err != nil {
			return nil, err
		}
		comps, _ := part["components"].(map[string]any)
		baseComps, _ := base["components"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(comps)) {
			if baseComps[k] == nil {
				baseComps[k] = map[string]any{}
			}
			if err := mergeMembers(baseComps, comps, name, k); err != nil {
				return nil, err
			}
		}
		if pi, _ := part["info"].(map[string]any); pi != nil && info != nil {
			if d, _ := pi["description"].(string); d != "" {
				info["description"] = info["description"].(string) + "\n\n" + d
			}
		}
		if tags, _ := part["tags"].([]any); len(tags) > 0 {
			bt, _ := base["tags"].([]any)
			base["tags"] = append(bt, tags...)
		}
	}
	return json.MarshalIndent(base, "", "  ")
}

func readSpecPart(fsys fs.FS, name string) (map[string]any, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// mergeMembers copies the members of src[key] into dst[key], refusing
// duplicates.
func mergeMembers(dst, src map[string]any, file, key string) error {
	from, _ := src[key].(map[string]any)
	if len(from) == 0 {
		return nil
	}
	to, _ := dst[key].(map[string]any)
	if to == nil {
		to = map[string]any{}
		dst[key] = to
	}
	for k, v := range from {
		if _, dup := to[k]; dup {
			return fmt.Errorf("%s: %s %q is already defined", file, key, k)
		}
		to[k] = v
	}
	return nil
}
