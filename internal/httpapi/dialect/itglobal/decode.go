package itglobal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/money"
)

// wire decodes the dialect's request bodies into typed structs: names
// matched exactly as the seed writes them (PascalCase; "email" is not
// "Email"), unknown fields ignored (the vendor's clients may send more
// than the seed documents), a JSON null taken as absent, numbers exact.
var wire = decode.Rules{NullAbsent: true}

// amount is an ITGLOBAL amount > 0 (a JSON number in currency units, at
// most two decimals) as minor units. The three currencies of the API
// (RUB, KZT, BYN) have two decimals, so minor units do not depend on the
// project's currency.
type amount int64

// DecodeWire implements decode.Unmarshaler.
func (a *amount) DecodeWire(field string, v decode.Value) error {
	n, err := parseAmount(field, v, money.Positive)
	*a = amount(n)
	return err
}

func parseAmount(field string, v decode.Value, sign money.Sign) (int64, error) {
	n, ok := v.Number()
	if !ok {
		return 0, errs.Invalidf(field, "must be a number, got a %s", v.Kind())
	}
	a, err := money.ParseITGlobal(field, n, money.RUB, sign)
	if err != nil {
		return 0, err
	}
	return a.Minor(), nil
}

// invoiceNumber is the bank payment's InvoiceNumber when not null: a JSON
// integer or a string of digits (IT-amb-7), kept as its decimal text.
type invoiceNumber string

// DecodeWire implements decode.Unmarshaler.
func (in *invoiceNumber) DecodeWire(field string, v decode.Value) error {
	s, isString := v.Str()
	if n, ok := v.Number(); ok {
		s = n.String()
	} else if !isString {
		return errs.Invalidf(field, "must be an integer, a string of digits or null, got a %s", v.Kind())
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || (isString && strings.TrimLeft(s, "0123456789") != "") {
		return errs.Invalid(field, "must be a positive integer, a string of digits or null")
	}
	*in = invoiceNumber(strconv.FormatInt(n, 10))
	return nil
}

// ---- the field readers projects.go and orders.go still use ----

// body is a decoded JSON request object read field by field.
type body map[string]json.RawMessage

// readBody decodes the request body as one JSON object, numbers kept
// exact (UseNumber).
func readBody(r *http.Request) (body, error) {
	o, err := decode.ReadObject(r)
	return body(o), err
}

// get returns the raw field; a required field that is absent is an error.
// A JSON null counts as absent for optional fields and as missing for
// required ones.
func (b body) get(field string, required bool) (json.RawMessage, bool, error) {
	raw, ok := b[field]
	if ok && decode.KindOf(raw) == "null" {
		ok = false
	}
	if !ok {
		if required {
			return nil, false, errs.Invalid(field, "is required")
		}
		return nil, false, nil
	}
	return raw, true, nil
}

func (b body) str(field string, required bool) (string, bool, error) {
	raw, ok, err := b.get(field, required)
	if !ok || err != nil {
		return "", false, err
	}
	if k := decode.KindOf(raw); k != "string" {
		return "", true, errs.Invalidf(field, "must be a string, got a %s", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, errs.Invalid(field, "must be a valid JSON string")
	}
	return s, true, nil
}

func (b body) boolean(field string, required bool) (bool, bool, error) {
	raw, ok, err := b.get(field, required)
	if !ok || err != nil {
		return false, false, err
	}
	if k := decode.KindOf(raw); k != "boolean" {
		return false, true, errs.Invalidf(field, "must be true or false, got a %s", k)
	}
	return bytes.Equal(bytes.TrimSpace(raw), []byte("true")), true, nil
}

// integer reads an integer within [min, max] (the seed's int32 fields
// take int32 bounds, IT-3's ids int64).
func (b body) integer(field string, required bool, lo, hi int64) (int64, bool, error) {
	raw, ok, err := b.get(field, required)
	if !ok || err != nil {
		return 0, false, err
	}
	if k := decode.KindOf(raw); k != "number" {
		return 0, true, errs.Invalidf(field, "must be an integer, got a %s", k)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		return 0, true, errs.Invalidf(field, "must be an integer, got %s", clip(string(raw)))
	}
	if n < lo || n > hi {
		return 0, true, errs.Invalidf(field, "must be between %d and %d", lo, hi)
	}
	return n, true, nil
}

const (
	minInt32 = -1 << 31
	maxInt32 = 1<<31 - 1
	maxInt64 = 1<<63 - 1
)

// int32Field reads an int32 field (the seed's integer <int32>).
func (b body) int32Field(field string, required bool) (int64, bool, error) {
	return b.integer(field, required, minInt32, maxInt32)
}

// amount reads an ITGLOBAL amount (see the amount type) as minor units.
func (b body) amount(field string, required bool, sign money.Sign) (int64, bool, error) {
	raw, ok, err := b.get(field, required)
	if !ok || err != nil {
		return 0, false, err
	}
	n, err := parseAmount(field, decode.JSON(raw), sign)
	return n, true, err
}

// objects reads a required array of JSON objects, kept as sent
// (IT-amb-20). It returns a non-nil slice when present.
func (b body) objects(field string, required bool) ([]json.RawMessage, bool, error) {
	raw, ok, err := b.get(field, required)
	if !ok || err != nil {
		return nil, false, err
	}
	if k := decode.KindOf(raw); k != "array" {
		return nil, true, errs.Invalidf(field, "must be an array, got a %s", k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, true, errs.Invalid(field, "must be an array")
	}
	out := make([]json.RawMessage, 0, len(items))
	for i, it := range items {
		if k := decode.KindOf(it); k != "object" {
			return nil, true, errs.Invalidf(field+"["+strconv.Itoa(i)+"]", "must be an object, got a %s", k)
		}
		out = append(out, it)
	}
	return out, true, nil
}

// int32s reads an array of int32.
func (b body) int32s(field string) ([]int64, error) {
	raw, ok, err := b.get(field, false)
	if !ok || err != nil {
		return nil, err
	}
	if k := decode.KindOf(raw); k != "array" {
		return nil, errs.Invalidf(field, "must be an array of integers, got a %s", k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errs.Invalid(field, "must be an array of integers")
	}
	out := make([]int64, 0, len(items))
	for i, it := range items {
		n, _, err := body{"x": it}.int32Field("x", true)
		if err != nil {
			return nil, errs.Invalidf(field+"["+strconv.Itoa(i)+"]", "must be an integer (int32)")
		}
		out = append(out, n)
	}
	return out, nil
}

// dateTime reads an RFC 3339 date-time (the seed's sample has seven
// fraction digits).
func (b body) dateTime(field string, required bool) (time.Time, bool, error) {
	s, ok, err := b.str(field, required)
	if !ok || err != nil {
		return time.Time{}, ok, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, true, errs.Invalid(field, "must be an RFC 3339 date-time such as 2021-08-12T15:19:27.1211245Z")
	}
	return t.UTC(), true, nil
}

// docDeliveryPeriod reads DocDeliveryPeriod: null, absent and "null" all
// mean none (IT-amb-9); "" is returned for none.
func (b body) docDeliveryPeriod(field string) (string, error) {
	s, _, err := b.str(field, false)
	if err != nil {
		return "", err
	}
	switch s {
	case "", "null":
		return "", nil
	case "Monthly", "Quarterly", "Semiannually", "Annually":
		return s, nil
	}
	return "", errs.Invalid(field, `must be one of "null", "Monthly", "Quarterly", "Semiannually", "Annually"`)
}

// enum checks s against the allowed values.
func enum(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return errs.Invalidf(field, "must be one of %s", quoteAll(allowed))
}

func quoteAll(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// collect runs the readers in order and returns the first error, so a
// handler reads a whole body in one expression list.
func collect(errList ...error) error {
	for _, e := range errList {
		if e != nil {
			return e
		}
	}
	return nil
}

// ---- path and query ----

// pathID reads an int32 path parameter (the seed's integer <int32> ids).
func pathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, errs.Invalidf(name, "must be an integer, got %q", clip(s))
	}
	return n, nil
}

// positiveID reads an int32 path id that must be ≥ 1.
func positiveID(r *http.Request, name string) (int64, error) {
	n, err := pathID(r, name)
	if err == nil && n < 1 {
		err = errs.Invalid(name, "must be a positive integer")
	}
	return n, err
}

// query returns a query parameter by its exact (case-sensitive) name
// (IT-amb-5: datefromutc is not dateFromUtc).
func query(r *http.Request, name string) (string, bool) {
	v, ok := r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func requiredQuery(r *http.Request, name string) (string, error) {
	v, ok := query(r, name)
	if !ok || v == "" {
		return "", errs.Invalidf(name, "is required (query parameter names are case-sensitive)")
	}
	return v, nil
}
