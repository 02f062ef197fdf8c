package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Rules are a dialect's decoding conventions. The zero Rules are strict
// JSON: each field takes its JSON type only, and a JSON null is a value of
// its own (refused by every type but Nullable, any, Value and
// json.RawMessage).
type Rules struct {
	// NullAbsent makes a JSON null count as absent (ITGLOBAL): an optional
	// field keeps its zero value, a required one "is required". Nullable
	// fields still see the null.
	NullAbsent bool
	// Loose reads idcloudhost's parameters: texts (query, form, path) and
	// JSON strings are converted to the field's type; a string takes a JSON number as its
	// text and a null as ""; a boolean takes true/false/yes/no/1/0 in any
	// letter case (and the JSON numbers 1 and 0); integers are whole
	// numbers (≥ 0, a decimal text or a JSON integer). Messages say what is
	// expected without naming the JSON type received.
	Loose bool
}

// Unmarshaler is a field type that decodes itself (money amounts, a
// dialect's special forms). field is the name to give its errors.
type Unmarshaler interface {
	DecodeWire(field string, v Value) error
}

// Nullable is a field that tells absent, null and a value apart (a PATCH
// that clears a time with null).
type Nullable[T any] struct {
	Set   bool // the field was sent
	Null  bool // it was sent as null
	Value T    // the value when sent and not null
}

func (n *Nullable[T]) present(null bool) any {
	n.Set, n.Null = true, null
	return &n.Value
}

// presence is implemented by *Nullable[T].
type presence interface{ present(null bool) any }

// RawObject is a JSON object kept as sent.
type RawObject json.RawMessage

// DecodeWire accepts a JSON object only.
func (o *RawObject) DecodeWire(field string, v Value) error {
	if k := v.Kind(); k != "object" {
		return errs.Invalidf(field, "must be an object, got a %s", k)
	}
	*o = RawObject(v.Raw())
	return nil
}

// Body reads the request body as one JSON object into dst.
func (ru Rules) Body(r *http.Request, dst any) error {
	o, err := ReadObject(r)
	if err != nil {
		return err
	}
	return ru.Decode(o, dst)
}

// Decode reads src into dst, a pointer to a struct, field by field in the
// struct's order; it returns the first mistake, naming its field. Fields
// without a `wire` tag are left alone; an embedded struct without one is
// read from the same source.
//
// The tag is `wire:"name,option,…"` with the options
//
//	required   the field must be sent (and, with NullAbsent, not null)
//	nonempty   a string must be sent and not ""
//	nonblank   a string must be sent and not blank; it is trimmed
//	trim       a string is trimmed
//	min=N      an integer is at least N
//	max=N      an integer is at most N
//	enum=A|B   a string is one of the values
//
// Field types: string, bool, the integer types (their range checked),
// time.Time (RFC 3339), nested structs (errors name "outer.inner"), slices
// (errors name "field[i]"), pointers (nil when absent), Nullable, Value and
// json.RawMessage (kept as sent), any (JSON decoded with exact numbers),
// and every Unmarshaler. Floats are refused: use a custom type.
func (ru Rules) Decode(src Source, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("decode: destination must be a pointer to a struct, not %T", dst))
	}
	return ru.object(src, "", rv.Elem())
}

// Into decodes one value into dst, a pointer to any field type Decode
// supports, naming field in its errors: a custom type built on another
// type decodes through it.
func (ru Rules) Into(field string, v Value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("decode: Into needs a non-nil pointer, not %T", dst))
	}
	return ru.value(field, v, rv.Elem(), &noOptions)
}

var noOptions field

func (ru Rules) object(src Source, prefix string, rv reflect.Value) error {
	for _, f := range fieldsOf(rv.Type()) {
		fv := rv.FieldByIndex(f.index)
		name := prefix + f.name
		v, ok := src.Lookup(f.name)
		if ok && ru.NullAbsent && v.IsNull() && !isNullable(fv) {
			ok = false
		}
		if !ok {
			if f.required {
				return errs.Invalid(name, "is required")
			}
			continue
		}
		if err := ru.value(name, v, fv, f); err != nil {
			return err
		}
	}
	return nil
}

func isNullable(fv reflect.Value) bool {
	_, ok := fv.Addr().Interface().(presence)
	return ok
}

var (
	typeValue = reflect.TypeFor[Value]()
	typeRaw   = reflect.TypeFor[json.RawMessage]()
	typeTime  = reflect.TypeFor[time.Time]()
)

// value decodes v into rv, the field name.
func (ru Rules) value(name string, v Value, rv reflect.Value, f *field) error {
	nullable := false
	if p, ok := rv.Addr().Interface().(presence); ok {
		inner := p.present(v.IsNull())
		if v.IsNull() {
			return nil
		}
		rv, nullable = reflect.ValueOf(inner).Elem(), true
	}
	if u, ok := rv.Addr().Interface().(Unmarshaler); ok {
		return u.DecodeWire(name, v)
	}
	switch rv.Type() {
	case typeValue:
		rv.Set(reflect.ValueOf(v))
		return nil
	case typeRaw:
		raw := v.Raw()
		if v.IsText() {
			raw, _ = json.Marshal(v.text)
		}
		rv.SetBytes(raw)
		return nil
	case typeTime:
		t, err := ru.time(name, v, nullable)
		if err == nil {
			rv.Set(reflect.ValueOf(t))
		}
		return err
	}
	switch rv.Kind() {
	case reflect.Pointer:
		elem := reflect.New(rv.Type().Elem())
		if err := ru.value(name, v, elem.Elem(), f); err != nil {
			return err
		}
		rv.Set(elem)
		return nil
	case reflect.String:
		s, err := ru.str(name, v, f)
		rv.SetString(s)
		return err
	case reflect.Bool:
		b, err := ru.boolean(name, v)
		rv.SetBool(b)
		return err
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := ru.integer(name, v, rv.Type().Bits(), f)
		rv.SetInt(n)
		return err
	case reflect.Struct:
		return ru.nested(name, v, rv)
	case reflect.Slice:
		return ru.slice(name, v, rv, f)
	case reflect.Interface:
		if rv.NumMethod() == 0 {
			return ru.anyValue(name, v, rv)
		}
	}
	panic(fmt.Sprintf("decode: field %s has the unsupported type %s (floats are refused: use a custom type)", name, rv.Type()))
}

func (ru Rules) str(name string, v Value, f *field) (string, error) {
	s, ok := v.Str()
	if !ok && ru.Loose {
		if n, isNum := v.Number(); isNum {
			s, ok = n.String(), true
		} else if v.IsNull() {
			s, ok = "", true
		}
	}
	if !ok {
		if ru.Loose {
			return "", errs.Invalid(name, "must be a string")
		}
		return "", errs.Invalidf(name, "must be a string, got a %s", v.Kind())
	}
	if f.trim || f.nonblank {
		s = strings.TrimSpace(s)
	}
	if (f.nonblank || f.nonempty) && s == "" {
		return "", errs.Invalid(name, "is required")
	}
	if f.enum != nil && !contains(f.enum, s) {
		return "", errs.Invalidf(name, "must be one of %s", quoteAll(f.enum))
	}
	return s, nil
}

func (ru Rules) boolean(name string, v Value) (bool, error) {
	switch {
	case ru.Loose:
		if b, ok := looseBool(v); ok {
			return b, nil
		}
		return false, errs.Invalid(name, "must be true or false")
	case v.IsText():
		b, err := strconv.ParseBool(v.text)
		if err != nil {
			return false, errs.Invalid(name, "must be true or false")
		}
		return b, nil
	case v.Kind() != "boolean":
		return false, errs.Invalidf(name, "must be true or false, got a %s", v.Kind())
	}
	return bytes.Equal(bytes.TrimSpace(v.raw), []byte("true")), nil
}

// looseBool reads a boolean parameter the idcloudhost way (ID-amb-5): a
// text or a JSON string is a word.
func looseBool(v Value) (bool, bool) {
	if s, ok := v.Str(); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "1":
			return true, true
		case "false", "no", "0":
			return false, true
		}
		return false, false
	}
	switch string(bytes.TrimSpace(v.raw)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func (ru Rules) integer(name string, v Value, bits int, f *field) (int64, error) {
	var n int64
	var err error
	if ru.Loose {
		n, err = wholeNumber(name, v)
	} else {
		n, err = strictInteger(name, v)
	}
	if err != nil {
		return 0, err
	}
	lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
	if f.min != nil && *f.min > lo {
		lo = *f.min
	}
	if f.max != nil && *f.max < hi {
		hi = *f.max
	}
	if n < lo || n > hi {
		return 0, errs.Invalidf(name, "must be between %d and %d", lo, hi)
	}
	return n, nil
}

// strictInteger reads a JSON integer, or a text of one.
func strictInteger(name string, v Value) (int64, error) {
	var s string
	if v.IsText() {
		s = v.text
	} else if num, ok := v.Number(); ok {
		s = num.String()
	} else {
		return 0, errs.Invalidf(name, "must be an integer, got a %s", v.Kind())
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		if strings.HasPrefix(s, "-") {
			return 0, errs.Invalidf(name, "is out of range (at least %d)", int64(math.MinInt64))
		}
		return 0, errs.Invalidf(name, "is out of range (at most %d)", int64(math.MaxInt64))
	}
	if v.IsText() {
		return 0, errs.Invalidf(name, "must be an integer, got %q", clip(s))
	}
	return 0, errs.Invalidf(name, "must be an integer, got %s", clip(s))
}

// wholeNumber reads an integer ≥ 0: a decimal text or JSON string
// (trimmed), or a JSON integer.
func wholeNumber(name string, v Value) (int64, error) {
	s, ok := v.Str()
	if ok {
		s = strings.TrimSpace(s)
	} else if num, isNum := v.Number(); isNum {
		s = num.String()
	} else {
		return 0, errs.Invalid(name, "must be a whole number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, errs.Invalid(name, "must be a whole number")
	}
	return n, nil
}

func (ru Rules) time(name string, v Value, nullable bool) (time.Time, error) {
	orNull := ""
	if nullable {
		orNull = ", or null"
	}
	s, ok := v.Str()
	if !ok {
		return time.Time{}, errs.Invalidf(name, "must be an RFC 3339 date-time string%s, got a %s", orNull, v.Kind())
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errs.Invalidf(name, "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z%s", orNull)
	}
	return t, nil
}

func (ru Rules) nested(name string, v Value, rv reflect.Value) error {
	if k := v.Kind(); k != "object" {
		return errs.Invalidf(name, "must be an object, got a %s", k)
	}
	var o Object
	dec := json.NewDecoder(bytes.NewReader(v.raw))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return errs.Invalid(name, "must be an object")
	}
	return ru.object(o, name+".", rv)
}

func (ru Rules) slice(name string, v Value, rv reflect.Value, f *field) error {
	if k := v.Kind(); k != "array" {
		return errs.Invalidf(name, "must be an array, got a %s", k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v.raw, &items); err != nil {
		return errs.Invalid(name, "must be an array")
	}
	out := reflect.MakeSlice(rv.Type(), len(items), len(items))
	for i, it := range items {
		if err := ru.value(name+"["+strconv.Itoa(i)+"]", JSON(it), out.Index(i), f); err != nil {
			return err
		}
	}
	rv.Set(out)
	return nil
}

func (ru Rules) anyValue(name string, v Value, rv reflect.Value) error {
	if v.IsText() {
		rv.Set(reflect.ValueOf(v.text))
		return nil
	}
	var x any
	dec := json.NewDecoder(bytes.NewReader(v.raw))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return errs.Invalid(name, "must be a JSON value")
	}
	if x != nil {
		rv.Set(reflect.ValueOf(x))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, a := range list {
		if a == s {
			return true
		}
	}
	return false
}

func quoteAll(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// ---- struct tags ----

// field is one tagged struct field.
type field struct {
	index              []int
	name               string
	required           bool
	nonempty, nonblank bool
	trim               bool
	min, max           *int64
	enum               []string
}

var fieldCache sync.Map // reflect.Type → []*field

func fieldsOf(t reflect.Type) []*field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]*field)
	}
	fs := collectFields(t, nil)
	fieldCache.Store(t, fs)
	return fs
}

func collectFields(t reflect.Type, index []int) []*field {
	var out []*field
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag, ok := sf.Tag.Lookup("wire")
		if !ok {
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				out = append(out, collectFields(sf.Type, idx)...)
			}
			continue
		}
		if !sf.IsExported() {
			panic(fmt.Sprintf("decode: field %s.%s is tagged but not exported", t, sf.Name))
		}
		out = append(out, parseTag(t, sf, idx, tag))
	}
	return out
}

func parseTag(t reflect.Type, sf reflect.StructField, idx []int, tag string) *field {
	parts := strings.Split(tag, ",")
	f := &field{index: idx, name: parts[0]}
	for _, opt := range parts[1:] {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "required":
			f.required = true
		case "nonempty":
			f.required, f.nonempty = true, true
		case "nonblank":
			f.required, f.nonblank = true, true
		case "trim":
			f.trim = true
		case "min", "max":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				panic(fmt.Sprintf("decode: field %s.%s: bad %s", t, sf.Name, opt))
			}
			if key == "min" {
				f.min = &n
			} else {
				f.max = &n
			}
		case "enum":
			f.enum = strings.Split(val, "|")
		default:
			panic(fmt.Sprintf("decode: field %s.%s: unknown option %q", t, sf.Name, opt))
		}
	}
	return f
}
