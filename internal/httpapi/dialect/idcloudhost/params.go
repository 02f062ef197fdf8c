package idcloudhost

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/money"
)

// maxMultipartMemory bounds the in-memory part of a multipart body (the
// outer body limit bounds the whole).
const maxMultipartMemory = 1 << 20

// params is the one parameter bag of a request (ID-amb-2): the query
// string, the form body (url-encoded or multipart, on every method — Go's
// ParseForm ignores DELETE and GET bodies), the JSON body and the path
// values, merged with precedence path > JSON > form > query. Values are
// strings (query, form, path) or what a JSON object member decodes to with
// UseNumber (json.Number, bool, string, nil, objects, arrays).
type params struct {
	vals map[string]any
}

// readParams builds the bag of r. pathNames are the path parameters of the
// route (they win over everything).
func readParams(r *http.Request, pathNames ...string) (params, error) {
	p := params{vals: map[string]any{}}
	setAll := func(v url.Values) {
		for k, vs := range v {
			if len(vs) > 0 {
				p.vals[k] = vs[len(vs)-1]
			}
		}
	}
	setAll(r.URL.Query())

	body, err := readBody(r)
	if err != nil {
		return p, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		ct := r.Header.Get("Content-Type")
		mt, mparams, _ := mime.ParseMediaType(ct)
		switch {
		// curl -d sends url-encoded forms; a body without a type is
		// taken as one too.
		case mt == "application/x-www-form-urlencoded" || ct == "":
			v, err := url.ParseQuery(string(body))
			if err != nil {
				return p, errs.Invalid("body", "is not valid form data")
			}
			setAll(v)
		case mt == "multipart/form-data":
			form, err := multipart.NewReader(bytes.NewReader(body), mparams["boundary"]).ReadForm(maxMultipartMemory)
			if err != nil {
				return p, errs.Invalid("body", "is not valid multipart form data")
			}
			defer func() { _ = form.RemoveAll() }()
			setAll(form.Value)
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			obj, err := decodeObject(body)
			if err != nil && !json.Valid(body) {
				// The seed writes some JSON bodies with Python literals
				// ("is_multi_node": True); a client pasting them gets
				// what they mean (ID-amb-5).
				if o, err2 := decodeObject(pythonLiteralsToJSON(body)); err2 == nil {
					obj, err = o, nil
				}
			}
			if err != nil {
				return p, err
			}
			for k, v := range obj {
				p.vals[k] = v
			}
		default:
			return p, errs.Invalidf("Content-Type", "must be application/x-www-form-urlencoded, multipart/form-data or application/json, not %q", mt)
		}
	}
	for _, n := range pathNames {
		if v := r.PathValue(n); v != "" {
			p.vals[n] = v
		}
	}
	return p, nil
}

// readBody reads the whole body and puts it back (the idempotency
// middleware may have buffered it already).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if err = problem.FromDecode(err); !errs.Is(err, errs.KindTooLarge) {
			err = &errs.Error{Kind: errs.KindInvalid, Field: "body", Msg: "could not be read", Err: err}
		}
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// has reports whether name was sent at all (with any value, even empty:
// show_shadow takes any value).
func (p params) has(name string) bool {
	_, ok := p.vals[name]
	return ok
}

// str returns a string parameter. JSON numbers are taken as their text
// (a phone number sent as a number); other JSON types are refused.
func (p params) str(name string) (string, bool, error) {
	v, ok := p.vals[name]
	if !ok {
		return "", false, nil
	}
	switch v := v.(type) {
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	case nil:
		return "", true, nil
	}
	return "", true, errs.Invalid(name, "must be a string")
}

// optStr returns a pointer to a string parameter, nil when absent.
func (p params) optStr(name string) (*string, error) {
	s, ok, err := p.str(name)
	if err != nil || !ok {
		return nil, err
	}
	return &s, nil
}

// whole returns a "whole number" parameter: an integer ≥ 0, a decimal
// string in form and query data, a JSON integer in JSON bodies.
func (p params) whole(name string) (int64, bool, error) {
	v, ok := p.vals[name]
	if !ok {
		return 0, false, nil
	}
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	default:
		return 0, true, errs.Invalid(name, "must be a whole number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, true, errs.Invalid(name, "must be a whole number")
	}
	return n, true, nil
}

// requiredWhole returns a whole-number parameter that must be present.
func (p params) requiredWhole(name string) (int64, error) {
	n, ok, err := p.whole(name)
	if err == nil && !ok {
		err = errs.Invalid(name, "is required")
	}
	return n, err
}

// optWhole returns a pointer to a whole-number parameter, nil when absent.
func (p params) optWhole(name string) (*int64, error) {
	n, ok, err := p.whole(name)
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

// boolean returns a boolean parameter (ID-amb-5): a JSON boolean, or
// true/false/yes/no/1/0 in any letter case.
func (p params) boolean(name string) (bool, bool, error) {
	v, ok := p.vals[name]
	if !ok {
		return false, false, nil
	}
	switch v := v.(type) {
	case bool:
		return v, true, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "1":
			return true, true, nil
		case "false", "no", "0":
			return false, true, nil
		}
	case json.Number:
		switch v.String() {
		case "1":
			return true, true, nil
		case "0":
			return false, true, nil
		}
	}
	return false, true, errs.Invalid(name, "must be true or false")
}

// optBool returns a pointer to a boolean parameter, nil when absent.
func (p params) optBool(name string) (*bool, error) {
	b, ok, err := p.boolean(name)
	if err != nil || !ok {
		return nil, err
	}
	return &b, nil
}

// amount returns a money parameter in cur: a decimal string ("100.00",
// "10") or a JSON number, with at most cur's decimals and the sign allowed.
func (p params) amount(name string, cur money.Currency, sign money.Sign) (money.Amount, bool, error) {
	v, ok := p.vals[name]
	if !ok {
		return money.Amount{}, false, nil
	}
	var a money.Amount
	var err error
	switch v := v.(type) {
	case string:
		a, err = money.ParseIDCHFormAmount(name, strings.TrimSpace(v), cur, sign)
	case json.Number:
		a, err = money.ParseIDCHMoney(name, v, cur, sign)
	default:
		err = errs.Invalid(name, "must be a number")
	}
	return a, true, err
}

// decimalString returns a decimal parameter as a plain decimal string for
// services that parse amounts themselves: a form or query value as sent
// (trimmed), a JSON number in plain notation.
func (p params) decimalString(name string) (string, bool, error) {
	v, ok := p.vals[name]
	if !ok {
		return "", false, nil
	}
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v), true, nil
	case json.Number:
		d, err := money.ParseJSONNumber(name, v)
		if err != nil {
			return "", true, err
		}
		return d.String(), true, nil
	}
	return "", true, errs.Invalid(name, "must be a number")
}

// optDecimalString is decimalString as a pointer, nil when absent.
func (p params) optDecimalString(name string) (*string, error) {
	s, ok, err := p.decimalString(name)
	if err != nil || !ok {
		return nil, err
	}
	return &s, nil
}

// decodeObject decodes one JSON object with UseNumber.
func decodeObject(body []byte) (map[string]any, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, errs.Invalid("body", "must be a JSON object")
	}
	if dec.More() {
		return nil, errs.Invalid("body", "must be one JSON object")
	}
	return obj, nil
}

// pythonLiteralsToJSON replaces the bare words True, False and None outside
// of JSON strings with true, false and null.
func pythonLiteralsToJSON(b []byte) []byte {
	repl := map[string]string{"True": "true", "False": "false", "None": "null"}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		replaced := false
		for word, with := range repl {
			if bytes.HasPrefix(b[i:], []byte(word)) {
				out.WriteString(with)
				i += len(word) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}
