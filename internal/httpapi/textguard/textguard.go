// Package textguard refuses, once and before any dialect decodes a request,
// text that no field of Trellis may hold: invalid UTF-8, NUL and the other
// control characters (tab, line feed and carriage return excepted), and
// strings longer than any field. It reads every string that enters from a
// request — path parameters, query parameters, the headers used as values,
// and the body (JSON at any depth, url-encoded or multipart forms) — so the
// five dialects' decoders (huma, oapi-codegen, the idcloudhost parameter
// bag, ITGLOBAL's and Infiterra's readers) and the databases never see such
// text: PostgreSQL refuses it with an error that would otherwise be a 500,
// and SQLite would store it. The fault is an errs.KindInvalid naming the
// field as the request spelled it ("Account.ID", "items[2].name",
// "storageAccountID", "X-CloudPlatform-ApplicationId"), which the dialect
// writes in its own error shape.
package textguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// Middleware checks every request before next. route names the request's
// route pattern ("GET /impossiblecloud/v1/storage-account/{id}"; "" when
// none matches), so a path parameter is named as the route names it;
// writeError writes a fault in the dialect's shape.
func Middleware(route func(*http.Request) string, writeError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := Check(r, route); err != nil {
				writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Check returns the first fault of r, or nil. It reads the body and puts it
// back, so the handler reads it again.
func Check(r *http.Request, route func(*http.Request) string) error {
	if err := checkPath(r, route); err != nil {
		return err
	}
	if err := checkQuery(r.URL.RawQuery); err != nil {
		return err
	}
	if err := checkHeaders(r.Header); err != nil {
		return err
	}
	return checkBody(r)
}

// ---- path ----

func checkPath(r *http.Request, route func(*http.Request) string) error {
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	bad := -1
	var fault error
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil {
			// net/http refuses a malformed escape before we see it; keep
			// the rule total anyway.
			return errs.Invalid("path", "has a malformed %-escape")
		}
		if err := validate.Wire("path", v, nil, validate.MaxWireParam); err != nil {
			bad, fault = i, err
			break
		}
	}
	if bad < 0 {
		return nil
	}
	name := "path"
	if route != nil {
		if n := paramName(route(r), segs, bad); n != "" {
			name = n
		}
	}
	return rename(fault, name)
}

// paramName names segment i of segs from the route pattern: the wildcard
// ("{id}", "{rest...}") at the same place. Patterns are aligned at their
// end, because a mount may add leading segments the pattern does not show
// (idcloudhost's /{location}/ slug).
func paramName(pattern string, segs []string, i int) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	if j := strings.IndexByte(pattern, '/'); j > 0 {
		pattern = pattern[j:] // a host in the pattern
	}
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	for k, p := range ps {
		if strings.HasSuffix(p, "...}") && strings.HasPrefix(p, "{") && i >= k {
			return p[1 : len(p)-4]
		}
	}
	k := i - (len(segs) - len(ps))
	if k < 0 || k >= len(ps) {
		return ""
	}
	if p := ps[k]; strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
		return strings.TrimSuffix(p[1:len(p)-1], "$")
	}
	return ""
}

// ---- query ----

func checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	// url.ParseQuery keeps what it could parse when a pair is malformed;
	// the dialects read r.URL.Query(), which does the same.
	v, _ := url.ParseQuery(raw)
	return checkValues(v, "query parameter")
}

// checkValues checks form or query values, named by their keys.
func checkValues(v url.Values, what string) error {
	for k, vals := range v {
		if err := validate.Wire(what+" name", k, nil, validate.MaxWireParam); err != nil {
			return err
		}
		for _, s := range vals {
			if err := validate.Wire(clip(k), s, nil, validate.MaxWireText); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- headers ----

// valueHeaders are the headers whose values Trellis looks up or stores:
// credentials (looked up by prefix), the Idempotency-Key, and Infiterra's
// X-CloudPlatform-* (installation id, key, track id, settings).
var valueHeaders = []string{"Authorization", "Apikey", "Idempotency-Key"}

const cloudPlatform = "X-Cloudplatform-"

func checkHeaders(h http.Header) error {
	for name, vals := range h {
		field := ""
		switch {
		case len(name) > len(cloudPlatform) && strings.EqualFold(name[:len(cloudPlatform)], cloudPlatform):
			field = "X-CloudPlatform-" + name[len(cloudPlatform):]
		default:
			for _, v := range valueHeaders {
				if strings.EqualFold(name, v) {
					field = name
				}
			}
		}
		if field == "" {
			continue
		}
		for _, v := range vals {
			if err := validate.Wire(clip(field), v, nil, validate.MaxWireParam); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- body ----

func checkBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// Over the body limit or unreadable: the dialect answers that in
		// its own way (Infiterra's "invalid request body"), so it reads
		// the same bytes and then the same error.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	switch {
	// Some dialects read JSON whatever the Content-Type says (Infiterra),
	// so anything that looks like JSON is read as JSON.
	case trimmed[0] == '{' || trimmed[0] == '[' || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return JSON(body)
	case mt == "application/x-www-form-urlencoded" || ct == "":
		v, _ := url.ParseQuery(string(body))
		return checkValues(v, "form field")
	case mt == "multipart/form-data":
		return checkMultipart(body, params["boundary"])
	}
	// Other types are refused by the dialects; text of them reaches no
	// field.
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func checkMultipart(body []byte, boundary string) error {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			// io.EOF, or a malformed body the dialect refuses itself.
			return nil
		}
		name := part.FormName()
		if err := validate.Wire("form field name", name, nil, validate.MaxWireParam); err != nil {
			return err
		}
		if part.FileName() != "" {
			continue // file contents are bytes, not text
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return nil
		}
		if err := validate.Wire(clip(name), string(v), nil, validate.MaxWireText); err != nil {
			return err
		}
	}
}

// escapedControl finds a JSON escape of a control character (\u0000 …
// \u001f but \t, \n, \r, and \u007f).
var escapedControl = regexp.MustCompile(`\\u00(?:[01][0-9a-fA-F]|7[fF])`)

// JSON checks every string of a JSON document, member names included, and
// names the first bad one by its path ("Account.ID", "Items[0].Name"). A
// document that is not well-formed JSON is left to the dialect's decoder,
// which refuses it, but its bytes are still checked as a whole ("body"),
// since a lenient decoder may repair it (idcloudhost reads Python literals).
func JSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return whole(body)
		}
		raw := body[start:dec.InputOffset()]
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = done(stack[:n-1])
				continue
			}
			key, _ := tok.(string)
			if err := validate.Wire("member name", key, raw, validate.MaxWireParam); err != nil {
				obj := path(stack[:n-1])
				if obj == "" {
					obj = "body"
				}
				return rename(err, clip(obj+" (a member name)"))
			}
			stack[n-1].key, stack[n-1].wantKey = key, false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{wantKey: true})
			case '[':
				stack = append(stack, frame{array: true})
			default: // ']' (a '}' is seen where a key is wanted)
				stack = done(stack[:len(stack)-1])
			}
			continue
		case string:
			if err := validate.Wire("body", t, raw, validate.MaxWireText); err != nil {
				name := path(stack)
				if name == "" {
					name = "body"
				}
				return rename(err, clip(name))
			}
		}
		stack = done(stack)
	}
}

// frame is one open JSON container.
type frame struct {
	array   bool
	wantKey bool   // an object expecting a member name
	key     string // the member being read
	index   int    // the array element being read
}

// done moves the innermost container past the value just read.
func done(stack []frame) []frame {
	if n := len(stack); n > 0 {
		if stack[n-1].array {
			stack[n-1].index++
		} else {
			stack[n-1].wantKey = true
		}
	}
	return stack
}

// path names the value being read: members joined by ".", elements as
// "[i]".
func path(stack []frame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(printable(f.key))
	}
	return b.String()
}

// whole checks a body that is not well-formed JSON as one text.
func whole(body []byte) error {
	if !utf8.Valid(body) {
		return errs.Invalid("body", "must be valid UTF-8")
	}
	if loc := escapedControl.FindIndex(body); loc != nil {
		return errs.Invalidf("body", "must not contain control characters (found %s at byte %d)", body[loc[0]:loc[1]], loc[0])
	}
	if i := bytes.IndexFunc(body, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }); i >= 0 {
		return errs.Invalidf("body", "must not contain control characters (found byte %d)", i)
	}
	return nil
}

// rename gives a validate error the field it was found in.
func rename(err error, field string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// printable makes a member name safe to echo in an error.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}

// clip bounds a field name echoed in an error.
func clip(s string) string {
	s = printable(s)
	if utf8.RuneCountInString(s) > 128 {
		return string([]rune(s)[:128]) + "…"
	}
	return s
}
