package idcloudhost

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/money"
)

// maxMultipartMemory bounds the in-memory part of a multipart body (the
// outer body limit bounds the whole).
const maxMultipartMemory = 1 << 20

// loose decodes the dialect's parameters into request structs: texts
// converted to the field's type, booleans as true/false/yes/no/1/0 in any
// letter case (ID-amb-5), integers as whole numbers, a JSON number taken
// as a string's text (a phone number sent as a number).
var loose = decode.Rules{Loose: true}

// readParams builds the one parameter bag of a request (ID-amb-2): the
// query string, the form body (url-encoded or multipart, on every method —
// Go's ParseForm ignores DELETE and GET bodies), the JSON body and the
// path values, merged with precedence path > JSON > form > query. Query,
// form and path values are texts; JSON members are JSON values (numbers
// exact). pathNames are the path parameters of the route.
func readParams(r *http.Request, pathNames ...string) (decode.Values, error) {
	p := decode.Values{}
	setAll := func(v url.Values) {
		for k, vs := range v {
			if len(vs) > 0 {
				p[k] = decode.Text(vs[len(vs)-1])
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
			obj, err := jsonObject(body)
			if err != nil {
				return p, err
			}
			for k, raw := range obj {
				p[k] = decode.JSON(raw)
			}
		default:
			return p, errs.Invalidf("Content-Type", "must be application/x-www-form-urlencoded, multipart/form-data or application/json, not %q", mt)
		}
	}
	for _, n := range pathNames {
		if v := r.PathValue(n); v != "" {
			p[n] = decode.Text(v)
		}
	}
	return p, nil
}

// jsonObject decodes a JSON body. The seed writes some JSON bodies with
// Python literals ("is_multi_node": True); a client pasting them gets what
// they mean (ID-amb-5).
func jsonObject(body []byte) (decode.Object, error) {
	obj, err := decode.ParseObject(body)
	if err != nil && !json.Valid(body) {
		if o, err2 := decode.ParseObject(pythonLiteralsToJSON(body)); err2 == nil {
			obj, err = o, nil
		}
	}
	return obj, err
}

// decode reads the call's parameters into dst, a request struct.
func (c *call) decode(dst any) error { return loose.Decode(c.p, dst) }

// path returns a path parameter as a string ("" when absent or not a
// string; path values win over every other source).
func (c *call) path(name string) string {
	var s string
	if v, ok := c.p[name]; ok {
		_ = loose.Into(name, v, &s)
	}
	return s
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

// ---- the parameter types the handlers share ----

// accountParam is billing_account_id: absent is 0, which the services
// resolve to the restricted token's account or the user's default.
type accountParam struct {
	BillingAccountID int64 `wire:"billing_account_id"`
}

// vmParam is the VM's uuid.
type vmParam struct {
	UUID string `wire:"uuid,nonblank"`
}

// gbSize is a size in GB that may come as a whole number or its text;
// "" (and null) is 0, absent (disks, block-storage size_gb).
type gbSize int64

// DecodeWire implements decode.Unmarshaler.
func (g *gbSize) DecodeWire(field string, v decode.Value) error {
	if s, ok := v.Str(); (ok && strings.TrimSpace(s) == "") || v.IsNull() {
		*g = 0
		return nil
	}
	var n int64
	if err := loose.Into(field, v, &n); err != nil {
		return errs.Invalid(field, "must be a whole number of GB")
	}
	*g = gbSize(n)
	return nil
}

// portParam is a port: a whole number, a number in a string too.
type portParam int64

// DecodeWire implements decode.Unmarshaler.
func (p *portParam) DecodeWire(field string, v decode.Value) error {
	var n int64
	if err := loose.Into(field, v, &n); err != nil {
		return errs.Invalid(field, "must be a port number between 1 and 65535")
	}
	*p = portParam(n)
	return nil
}

// decimalText is a decimal parameter as a plain decimal string for
// services that parse amounts themselves: a form or query value as sent
// (or a JSON string) trimmed, a JSON number in plain notation.
type decimalText string

// DecodeWire implements decode.Unmarshaler.
func (d *decimalText) DecodeWire(field string, v decode.Value) error {
	if s, ok := v.Str(); ok {
		*d = decimalText(strings.TrimSpace(s))
		return nil
	}
	n, ok := v.Number()
	if !ok {
		return errs.Invalid(field, "must be a number")
	}
	x, err := money.ParseJSONNumber(field, n)
	if err != nil {
		return err
	}
	*d = decimalText(x.String())
	return nil
}

// moneyParam reads a money parameter in cur: a decimal text or JSON string
// ("100.00", "10") or a JSON number, with at most cur's decimals and the sign
// allowed. The currency is the account's, known after decoding.
func moneyParam(field string, v decode.Value, cur money.Currency, sign money.Sign) (money.Amount, error) {
	if s, ok := v.Str(); ok {
		return money.ParseIDCHFormAmount(field, strings.TrimSpace(s), cur, sign)
	}
	n, ok := v.Number()
	if !ok {
		return money.Amount{}, errs.Invalid(field, "must be a number")
	}
	return money.ParseIDCHMoney(field, n, cur, sign)
}

// jsonParam decodes a JSON-typed parameter into dst: a JSON value in a
// JSON body, or a string holding JSON (form and query data, or a JSON
// string). Null and a blank string are absent; shape describes what is
// expected.
func jsonParam(field string, v decode.Value, dst any, shape string) error {
	var b []byte
	if s, ok := v.Str(); ok {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		b = []byte(s)
	} else if v.IsNull() {
		return nil
	} else {
		b = v.Raw()
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return errs.Invalidf(field, "must be %s", shape)
	}
	return nil
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
