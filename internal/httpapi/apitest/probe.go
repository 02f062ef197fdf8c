package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Probe is one request of a bad-input walk: a plausible request of one
// operation with one bad value in one place (Where: "path", "query" or
// "body"; Field: the name the error must carry, as the request spells it).
type Probe struct {
	Request
	Op    string // "METHOD /template"
	Where string
	Field string
	Value string // the name of the bad value ("NUL", "invalid UTF-8", "1 MB")
}

// ProbeValue is one bad value a walk sends.
type ProbeValue struct {
	Name string
	Text string
}

// ProbeConfig says how to build the plausible part of each request.
type ProbeConfig struct {
	// Header gives the headers of an operation (credentials); nil sends
	// none.
	Header func(op *openapi3.Operation) http.Header
	// Path gives a plausible value of a path parameter by name (an
	// existing object's id); "" falls back to one made from the schema.
	Path func(name string) string
	// Values gives the bad values sent into a place ("path", "query" or
	// "body") named field.
	Values func(where, field string) []ProbeValue
}

// maxProbeDepth bounds how deep body schemas are walked (and stops
// recursive schemas).
const maxProbeDepth = 5

// Probes walks every operation of spec and returns, for every path
// parameter, query parameter and string field of the request body (JSON or
// url-encoded, at any depth up to maxProbeDepth, arrays through their first
// element), one request per bad value, the rest of the request plausible.
// Probes are built so only the response is validated (OnlyResponse).
func Probes(tb testing.TB, spec []byte, cfg ProbeConfig) []Probe {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		tb.Fatalf("apitest: load spec: %v", err)
	}
	base := ""
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil {
			base = strings.TrimSuffix(u.Path, "/")
		}
	}
	var out []Probe
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, tmpl := range keys {
		item := paths[tmpl]
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			out = append(out, probeOp(base, tmpl, method, op, params, cfg)...)
		}
	}
	return out
}

func probeOp(base, tmpl, method string, op *openapi3.Operation, params openapi3.Parameters, cfg ProbeConfig) []Probe {
	var pathParams, queryParams []*openapi3.Parameter
	for _, ref := range params {
		p := ref.Value
		if p == nil {
			continue
		}
		switch p.In {
		case "path":
			pathParams = append(pathParams, p)
		case "query":
			queryParams = append(queryParams, p)
		}
	}
	pathValue := func(p *openapi3.Parameter) string {
		if cfg.Path != nil {
			if v := cfg.Path(p.Name); v != "" {
				return v
			}
		}
		return plainString(sample(schemaOf(p.Schema), 0))
	}
	build := func(pathOverride map[string]string, query url.Values) string {
		path := tmpl
		for _, p := range pathParams {
			v, ok := pathOverride[p.Name]
			if !ok {
				v = pathValue(p)
			}
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		}
		for _, p := range queryParams {
			if _, ok := query[p.Name]; !ok && p.Required {
				query.Set(p.Name, plainString(sample(schemaOf(p.Schema), 0)))
			}
		}
		if len(query) > 0 {
			path += "?" + query.Encode()
		}
		return base + path
	}
	var header http.Header
	if cfg.Header != nil {
		header = cfg.Header(op)
	}
	// The body: JSON when the operation takes it, else url-encoded.
	var bodySchema *openapi3.Schema
	form := false
	var example any
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		content := op.RequestBody.Value.Content
		if mt := content.Get("application/json"); mt != nil && mt.Schema != nil {
			bodySchema, example = mt.Schema.Value, mt.Example
		} else if mt := content.Get("application/x-www-form-urlencoded"); mt != nil && mt.Schema != nil {
			bodySchema, form = mt.Schema.Value, true
		}
	}
	baseBody := func() any {
		if example != nil {
			return clone(example)
		}
		return sample(bodySchema, 0)
	}
	encode := func(v any) ([]byte, http.Header) {
		h := header.Clone()
		if h == nil {
			h = http.Header{}
		}
		if form {
			vals := url.Values{}
			if m, ok := v.(map[string]any); ok {
				for k, x := range m {
					vals.Set(k, plainString(x))
				}
			}
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			return []byte(vals.Encode()), h
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		h.Set("Content-Type", "application/json")
		return buf.Bytes(), h
	}
	var out []Probe
	opName := method + " " + tmpl
	plainBody := func() ([]byte, http.Header) {
		if bodySchema == nil {
			return nil, header.Clone()
		}
		return encode(baseBody())
	}
	for _, p := range pathParams {
		for _, bad := range cfg.Values("path", p.Name) {
			b, h := plainBody()
			out = append(out, Probe{Op: opName, Where: "path", Field: p.Name, Value: bad.Name,
				Request: Request{Method: method, Path: build(map[string]string{p.Name: bad.Text}, url.Values{}), Body: b, Header: h}})
		}
	}
	for _, p := range queryParams {
		for _, bad := range cfg.Values("query", p.Name) {
			b, h := plainBody()
			out = append(out, Probe{Op: opName, Where: "query", Field: p.Name, Value: bad.Name,
				Request: Request{Method: method, Path: build(nil, url.Values{p.Name: {bad.Text}}), Body: b, Header: h}})
		}
	}
	if bodySchema != nil {
		for _, field := range stringFields(bodySchema, nil, 0) {
			if form && len(field) != 1 {
				continue
			}
			for _, bad := range cfg.Values("body", fieldName(field)) {
				v := baseBody()
				var b []byte
				var h http.Header
				if form {
					b, h = encode(setAt(v, field, bad.Text))
				} else {
					// encoding/json would replace invalid UTF-8: put the
					// bad text in by hand, its bytes as they are.
					b, h = encode(setAt(v, field, probeMarker))
					b = bytes.Replace(b, []byte(strconv.Quote(probeMarker)), rawJSONString(bad.Text), 1)
				}
				out = append(out, Probe{Op: opName, Where: "body", Field: fieldName(field), Value: bad.Name,
					Request: Request{Method: method, Path: build(nil, url.Values{}), Body: b, Header: h}})
			}
		}
	}
	for i := range out {
		out[i].OnlyResponse = true
	}
	return out
}

func schemaOf(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil {
		return nil
	}
	return ref.Value
}

// step is one step of a body path: a member name, or an array element
// (index -1 stands for "[0]").
type step struct {
	key   string
	array bool
}

func fieldName(p []step) string {
	var b strings.Builder
	for _, s := range p {
		if s.array {
			b.WriteString("[0]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// stringFields lists the paths of the string-typed leaves of s.
func stringFields(s *openapi3.Schema, prefix []step, depth int) [][]step {
	if s == nil || depth > maxProbeDepth {
		return nil
	}
	var out [][]step
	for _, sub := range append(append(append([]*openapi3.SchemaRef{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
		out = append(out, stringFields(schemaOf(sub), prefix, depth+1)...)
	}
	switch {
	case s.Type.Is("string"):
		out = append(out, append([]step{}, prefix...))
	case s.Type.Is("array"):
		out = append(out, stringFields(schemaOf(s.Items), append(append([]step{}, prefix...), step{array: true}), depth+1)...)
	default:
		names := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			out = append(out, stringFields(schemaOf(s.Properties[k]), append(append([]step{}, prefix...), step{key: k}), depth+1)...)
		}
	}
	return dedupe(out)
}

func dedupe(in [][]step) [][]step {
	seen := map[string]bool{}
	var out [][]step
	for _, p := range in {
		k := fieldName(p)
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// setAt sets the value at path in v (objects and arrays created as
// needed) and returns v.
func setAt(v any, path []step, val any) any {
	if len(path) == 0 {
		return val
	}
	s := path[0]
	if s.array {
		arr, _ := v.([]any)
		if len(arr) == 0 {
			arr = []any{nil}
		}
		arr[0] = setAt(arr[0], path[1:], val)
		return arr
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m[s.key] = setAt(m[s.key], path[1:], val)
	return m
}

// sample makes a plausible value of s: its example, default or first enum
// value, else one made from its type and format; objects carry their
// required members.
func sample(s *openapi3.Schema, depth int) any {
	if s == nil || depth > maxProbeDepth {
		return nil
	}
	if s.Example != nil {
		return clone(s.Example)
	}
	if s.Default != nil {
		return clone(s.Default)
	}
	if len(s.Enum) > 0 {
		return clone(s.Enum[0])
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf} {
		if len(alt) > 0 {
			return sample(schemaOf(alt[0]), depth+1)
		}
	}
	if len(s.AllOf) > 0 {
		out := map[string]any{}
		for _, sub := range s.AllOf {
			if m, ok := sample(schemaOf(sub), depth+1).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	}
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "uuid":
			return "00000000-0000-4000-8000-000000000001"
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "date":
			return "2026-01-01"
		case "email":
			return "probe@example.com"
		}
		if s.MinLength > 5 {
			return strings.Repeat("p", int(s.MinLength))
		}
		return "probe"
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil && *s.Min > 1 {
			return json.Number(strconv.FormatFloat(*s.Min, 'f', -1, 64))
		}
		return json.Number("1")
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("array"):
		return []any{}
	}
	out := map[string]any{}
	for _, k := range s.Required {
		out[k] = sample(schemaOf(s.Properties[k]), depth+1)
	}
	return out
}

func clone(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	_ = dec.Decode(&out)
	return out
}

// plainString renders a sample as a query, path or form value.
func plainString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// probeMarker stands for the bad value in a body until it is encoded.
const probeMarker = "@@apitest-probe-marker@@"

// rawJSONString quotes s as a JSON string, escaping quotes, backslashes
// and control characters but leaving every other byte as it is (invalid
// UTF-8 included).
func rawJSONString(s string) []byte {
	var b bytes.Buffer
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '"' && c != '\\' && c >= 0x20 {
			continue
		}
		b.WriteString(s[start:i])
		start = i + 1
		if c < 0x20 {
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		} else {
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
	return b.Bytes()
}
