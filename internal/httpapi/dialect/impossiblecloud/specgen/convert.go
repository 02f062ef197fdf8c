package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// convert turns the vendor Swagger 2.0 document into the patched OpenAPI
// 3.0.3 document, rendered as indented JSON. The output is deterministic:
// every object in kin-openapi's model marshals through a Go map, and
// encoding/json writes map keys sorted.
func convert(vendor []byte) ([]byte, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(vendor, &doc2); err != nil {
		return nil, fmt.Errorf("parse vendor swagger: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	for _, p := range patches() {
		if err := p.apply(doc); err != nil {
			return nil, fmt.Errorf("patch %s: %w", p.name, err)
		}
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Keep the vendor's password rules readable instead of \u003c escapes.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}

	// Validate what is written, not the in-memory model, so that a patch
	// which only works before serialisation (e.g. an unresolved $ref) fails
	// here rather than in a consumer.
	loaded, err := openapi3.NewLoader().LoadFromData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("reload generated spec: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("generated spec is invalid: %w", err)
	}
	return buf.Bytes(), nil
}
