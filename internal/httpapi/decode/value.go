// Package decode is the one request decoder of every dialect: it reads a
// request's values (a JSON object, or a bag of query, form, path and JSON
// values) into a typed struct by its `wire` tags, and every mistake is an
// errs.Invalid naming the field in the dialect's words. Numbers never pass
// through float64: JSON numbers are read as their text (UseNumber) and
// integers are parsed with their range checked.
//
// A dialect's conventions are its Rules: Impossible Cloud's strict JSON
// (the zero Rules), ITGLOBAL's null-is-absent, idcloudhost's loose form
// values (texts converted to the field's type, booleans as words, integers
// as whole numbers). Field names are matched exactly as the tag writes
// them, so a dialect's case (camelCase, PascalCase, snake_case) is the
// tag's.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
)

// Value is one input value as sent: a JSON value (a member of a JSON
// body) or a text (a query, form or path value).
type Value struct {
	raw    json.RawMessage
	text   string
	isText bool
}

// JSON is the Value of a JSON member.
func JSON(raw json.RawMessage) Value { return Value{raw: raw} }

// Text is the Value of a query, form or path value.
func Text(s string) Value { return Value{text: s, isText: true} }

// IsText reports whether v came from a query, form or path value.
func (v Value) IsText() bool { return v.isText }

// Raw returns the JSON text of a JSON value (nil for a text).
func (v Value) Raw() json.RawMessage { return v.raw }

// Kind names what v is, for error messages: "text" for a query, form or
// path value, else the JSON type ("string", "number", "boolean", "null",
// "object", "array", or "nothing" for an empty value).
func (v Value) Kind() string {
	if v.isText {
		return "text"
	}
	return KindOf(v.raw)
}

// IsNull reports whether v is a JSON null.
func (v Value) IsNull() bool { return !v.isText && KindOf(v.raw) == "null" }

// Str returns the string v holds: a text as sent, or a JSON string
// decoded. It reports false for any other JSON type.
func (v Value) Str() (string, bool) {
	if v.isText {
		return v.text, true
	}
	if KindOf(v.raw) != "string" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v.raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Number returns the JSON number v holds, exactly as sent.
func (v Value) Number() (json.Number, bool) {
	if v.isText || KindOf(v.raw) != "number" {
		return "", false
	}
	return json.Number(bytes.TrimSpace(v.raw)), true
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

// Source gives a request's values by name.
type Source interface {
	Lookup(name string) (Value, bool)
}

// Object is a JSON object as a Source; its members are JSON values.
type Object map[string]json.RawMessage

// Lookup returns the member name.
func (o Object) Lookup(name string) (Value, bool) {
	raw, ok := o[name]
	if !ok {
		return Value{}, false
	}
	return JSON(raw), true
}

// Values is a bag of values of mixed origin (texts and JSON values) as a
// Source.
type Values map[string]Value

// Lookup returns the value name.
func (vs Values) Lookup(name string) (Value, bool) {
	v, ok := vs[name]
	return v, ok
}

// ReadObject reads the request body as one JSON object. A body over the
// limit is KindTooLarge; every other mistake is Invalid naming "body".
func ReadObject(r *http.Request) (Object, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, problem.FromDecode(err)
	}
	return ParseObject(data)
}

// ParseObject decodes data as exactly one JSON object.
func ParseObject(data []byte) (Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.Invalid("body", "must be a JSON object, got an empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var o Object
	if err := dec.Decode(&o); err != nil {
		return nil, errs.Invalid("body", "must be a JSON object: "+describe(err))
	}
	if o == nil {
		return nil, errs.Invalid("body", "must be a JSON object, got null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errs.Invalid("body", "must hold exactly one JSON value")
	}
	return o, nil
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

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
