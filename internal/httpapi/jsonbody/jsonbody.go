// Package jsonbody decodes JSON request bodies field by field, so every
// mistake is reported with the name of the field at fault and the type that
// was expected, and numbers never pass through float64.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
)

// Object is a decoded JSON object whose fields are read on demand.
type Object struct {
	prefix string
	fields map[string]json.RawMessage
}

// Read decodes the request body as one JSON object.
func Read(r *http.Request) (Object, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return Object{}, problem.FromDecode(err)
	}
	return Parse(data)
}

// Parse decodes data as one JSON object.
func Parse(data []byte) (Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Object{}, errs.Invalid("body", "must be a JSON object, got an empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return Object{}, errs.Invalid("body", "must be a JSON object: "+describe(err))
	}
	if fields == nil {
		return Object{}, errs.Invalid("body", "must be a JSON object, got null")
	}
	if dec.More() {
		return Object{}, errs.Invalid("body", "must hold exactly one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Object{}, errs.Invalid("body", "must hold exactly one JSON value")
	}
	return Object{fields: fields}, nil
}

func describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10) + ": " + syn.Error()
	case errors.As(err, &typ):
		return "got a JSON " + typ.Value
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	return err.Error()
}

func (o Object) name(field string) string { return o.prefix + field }

// Has reports whether the field is present (even as null).
func (o Object) Has(field string) bool { _, ok := o.fields[field]; return ok }

// Fields returns the names present.
func (o Object) Fields() []string {
	out := make([]string, 0, len(o.fields))
	for k := range o.fields {
		out = append(out, k)
	}
	return out
}

// Only rejects fields other than the allowed ones.
func (o Object) Only(allowed ...string) error {
	for k := range o.fields {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return errs.Invalidf(o.name(k), "is not a known field (known: %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

// KindOf names the JSON type of raw ("string", "object", "array",
// "boolean", "null", "number", or "nothing"), for error messages.
func KindOf(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (o Object) raw(field string, required bool) (json.RawMessage, bool, error) {
	raw, ok := o.fields[field]
	if !ok {
		if required {
			return nil, false, errs.Invalid(o.name(field), "is required")
		}
		return nil, false, nil
	}
	return raw, true, nil
}

// Int64 reads an integer field. It returns (value, present, error).
func (o Object) Int64(field string, required bool) (int64, bool, error) {
	raw, ok, err := o.raw(field, required)
	if !ok || err != nil {
		return 0, false, err
	}
	if k := KindOf(raw); k != "number" {
		return 0, true, errs.Invalidf(o.name(field), "must be an integer, got a %s", k)
	}
	s := string(bytes.TrimSpace(raw))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, true, errs.Invalidf(o.name(field), "is out of range (at most %d)", int64(1<<63-1))
		}
		return 0, true, errs.Invalidf(o.name(field), "must be an integer, got %s", truncate(s))
	}
	return n, true, nil
}

// String reads a string field.
func (o Object) String(field string, required bool) (string, bool, error) {
	raw, ok, err := o.raw(field, required)
	if !ok || err != nil {
		return "", false, err
	}
	if k := KindOf(raw); k != "string" {
		return "", true, errs.Invalidf(o.name(field), "must be a string, got a %s", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, errs.Invalid(o.name(field), "must be a valid JSON string")
	}
	return s, true, nil
}

// Bool reads a boolean field.
func (o Object) Bool(field string, required bool) (bool, bool, error) {
	raw, ok, err := o.raw(field, required)
	if !ok || err != nil {
		return false, false, err
	}
	if k := KindOf(raw); k != "boolean" {
		return false, true, errs.Invalidf(o.name(field), "must be true or false, got a %s", k)
	}
	return bytes.Equal(bytes.TrimSpace(raw), []byte("true")), true, nil
}

// Object reads a nested object field; its errors name "field.sub".
func (o Object) Object(field string, required bool) (Object, bool, error) {
	raw, ok, err := o.raw(field, required)
	if !ok || err != nil {
		return Object{}, false, err
	}
	if k := KindOf(raw); k != "object" {
		return Object{}, true, errs.Invalidf(o.name(field), "must be an object, got a %s", k)
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return Object{}, true, errs.Invalid(o.name(field), "must be an object")
	}
	return Object{prefix: o.name(field) + ".", fields: fields}, true, nil
}

// NullableTime reads an RFC 3339 time that may be null. It returns (time or
// nil for null, present, error).
func (o Object) NullableTime(field string, required bool) (*time.Time, bool, error) {
	raw, ok, err := o.raw(field, required)
	if !ok || err != nil {
		return nil, false, err
	}
	switch KindOf(raw) {
	case "null":
		return nil, true, nil
	case "string":
	default:
		return nil, true, errs.Invalidf(o.name(field), "must be an RFC 3339 time string or null, got a %s", KindOf(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, true, errs.Invalid(o.name(field), "must be a valid JSON string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, true, errs.Invalid(o.name(field), "must be an RFC 3339 time such as 2026-01-31T12:00:00Z, or null")
	}
	return &t, true, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
