package textguard

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func route(pattern string) func(*http.Request) string {
	return func(*http.Request) string { return pattern }
}

// TestCheck is the choke point: every place text enters a request, each
// bad text, named as the request names it.
func TestCheck(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 131_073)
	for _, tc := range []struct {
		name    string
		method  string
		target  string
		pattern string
		ctype   string
		header  http.Header
		body    string
		field   string // "" = accepted
		msg     string
	}{
		{name: "clean JSON", method: "POST", target: "/a/b", ctype: "application/json",
			body: `{"name":"Zoë\tTab\nLine","n":[1,"two",{"x":null}]}`},
		{name: "NUL in a nested member", method: "POST", target: "/a", ctype: "application/json",
			body: `{"Account":{"ID":"a\u0000b"}}`, field: "Account.ID", msg: "control characters"},
		{name: "invalid UTF-8 in an array element", method: "POST", target: "/a", ctype: "application/json",
			body: "{\"items\":[{\"name\":\"ok\"},{\"name\":\"\xff\"}]}", field: "items[1].name", msg: "valid UTF-8"},
		{name: "JSON without a content type", method: "POST", target: "/a",
			body: `{"ID":"\u0001"}`, field: "ID", msg: "control characters"},
		{name: "over-long JSON string", method: "POST", target: "/a", ctype: "application/json",
			body: `{"d":"` + long + `"}`, field: "d", msg: "at most 131072"},
		{name: "bad member name", method: "POST", target: "/a", ctype: "application/json",
			body: "{\"o\":{\"k\xff\":1}}", field: "o (a member name)", msg: "valid UTF-8"},
		{name: "top-level string", method: "POST", target: "/a", ctype: "application/json",
			body: `"\u0000"`, field: "body"},
		{name: "malformed JSON with invalid UTF-8", method: "POST", target: "/a", ctype: "application/json",
			body: "{\"a\": True, \"b\": \"\xff\"}", field: "body", msg: "valid UTF-8"},
		{name: "malformed JSON with an escaped NUL", method: "POST", target: "/a", ctype: "application/json",
			body: `{"a": True, "b": "\u0000"}`, field: "body", msg: "control characters"},
		{name: "DEL", method: "POST", target: "/a", ctype: "application/json",
			body: `{"a":"\u007f"}`, field: "a"},
		{name: "form field", method: "POST", target: "/a", ctype: "application/x-www-form-urlencoded",
			body: "description=a%00b", field: "description"},
		{name: "form without a content type", method: "DELETE", target: "/a",
			body: "access_key=%FF", field: "access_key", msg: "valid UTF-8"},
		{name: "query parameter", method: "GET", target: "/a?name=x%00", field: "name"},
		{name: "query parameter name", method: "GET", target: "/a?na%FFme=x", field: "query parameter name"},
		{name: "path parameter", method: "GET", target: "/impossiblecloud/v1/storage-account/%00",
			pattern: "GET /impossiblecloud/v1/storage-account/{id}", field: "id"},
		{name: "path parameter under a slug the pattern omits", method: "GET", target: "/idcloudhost/v1/jkt01/storage/bucket/%FF",
			pattern: "GET /idcloudhost/v1/storage/bucket/{name}", field: "name"},
		{name: "wildcard path parameter", method: "GET", target: "/files/a/b/%00",
			pattern: "GET /files/{rest...}", field: "rest"},
		{name: "unrouted path", method: "GET", target: "/nowhere/%00", field: "path"},
		{name: "over-long path segment", method: "GET", target: "/a/" + strings.Repeat("p", 4097), pattern: "GET /a/{id}", field: "id", msg: "at most 4096"},
		{name: "Infiterra header", method: "POST", target: "/a", header: http.Header{"X-Cloudplatform-Applicationid": {"\xff"}},
			field: "X-CloudPlatform-Applicationid"},
		{name: "Idempotency-Key", method: "POST", target: "/a", header: http.Header{"Idempotency-Key": {"k\xfe"}}, field: "Idempotency-Key"},
		{name: "other headers are not values", method: "GET", target: "/a", header: http.Header{"User-Agent": {"\xff"}}},
		{name: "octet-stream bodies are not text", method: "PUT", target: "/a", ctype: "application/octet-stream", body: "\x00\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			for k, v := range tc.header {
				r.Header[k] = v
			}
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			err := Check(r, route(tc.pattern))
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v (field %q), want invalid %q with %q", err, errs.FieldOf(err), tc.field, tc.msg)
				}
			}
			// The handler reads the same body.
			if b, _ := io.ReadAll(r.Body); string(b) != tc.body {
				t.Fatalf("body not put back: %q", b)
			}
		})
	}
}

func TestMultipart(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("name", "ok")
	fw, _ := mw.CreateFormFile("file", "f.bin")
	_, _ = fw.Write([]byte{0, 0xff}) // file contents are bytes
	_ = mw.WriteField("description", "a\x00b")
	_ = mw.Close()
	r := httptest.NewRequest("POST", "/a", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if err := Check(r, nil); errs.FieldOf(err) != "description" {
		t.Fatalf("err = %v, want description refused", err)
	}
}

// TestMiddleware writes the fault with the dialect's writer and never
// reaches the handler.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	reached := false
	h := Middleware(route(""), func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, errs.Public(err), http.StatusBadRequest)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/a?q=%00", nil))
	if rec.Code != 400 || reached || !strings.Contains(rec.Body.String(), "q: must not contain control characters") {
		t.Fatalf("%d %q reached=%t", rec.Code, rec.Body, reached)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/a?q=fine", nil))
	if !reached {
		t.Fatal("a clean request did not reach the handler")
	}
}

// A body over the server's limit is left to the dialect, which reads the
// same bytes and the same error.
func TestBodyLimitLeftToTheDialect(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/a", strings.NewReader(`{"a":"`+strings.Repeat("x", 100)+`"}`))
	r.Body = http.MaxBytesReader(rec, r.Body, 10)
	if err := Check(r, nil); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if len(b) != 10 || err == nil || !errors.As(err, &tooLarge) {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
}
