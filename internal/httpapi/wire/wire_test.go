package wire_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

type body struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func shape(f wire.Failure) any {
	return body{Code: f.Kind.String(), Message: f.Message, Field: f.Field}
}

func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		f        wire.Format
		ct, want string
	}{
		{wire.Format{}, "application/json", `{"u":"a&b<c>"}` + "\n"},
		{wire.Format{EscapeHTML: true}, "application/json", `{"u":"a\u0026b\u003cc\u003e"}` + "\n"},
		{wire.Format{ContentType: "application/json; charset=utf-8"}, "application/json; charset=utf-8", `{"u":"a&b<c>"}` + "\n"},
	} {
		w := httptest.NewRecorder()
		tc.f.JSON(w, http.StatusCreated, map[string]string{"u": "a&b<c>"})
		if w.Code != http.StatusCreated || w.Header().Get("Content-Type") != tc.ct || w.Body.String() != tc.want {
			t.Errorf("%+v: %d %q %q", tc.f, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}

	// A value that cannot be encoded is a 500 in the dialect's shape.
	w := httptest.NewRecorder()
	wire.Format{Shape: shape}.JSON(w, http.StatusOK, math.NaN())
	if w.Code != http.StatusInternalServerError || w.Body.String() != `{"code":"internal","message":"internal error"}`+"\n" {
		t.Errorf("unencodable: %d %q", w.Code, w.Body.String())
	}
}

func TestError(t *testing.T) {
	var logs bytes.Buffer
	f := wire.Format{Shape: shape, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	serve := func(err error) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.Error(w, r, err) }))
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.Header.Set("X-Request-Id", "rid-1")
		h.ServeHTTP(w, r)
		return w
	}

	w := serve(errs.Invalid("name", "must not be empty"))
	if w.Code != http.StatusBadRequest || w.Body.String() != `{"code":"invalid","message":"name: must not be empty","field":"name"}`+"\n" {
		t.Errorf("invalid: %d %q", w.Code, w.Body.String())
	}
	if logs.Len() != 0 {
		t.Errorf("a 4xx was logged: %s", logs.String())
	}

	w = serve(errors.New("disk on fire"))
	rid := w.Header().Get("X-Request-Id")
	if rid == "" {
		t.Fatal("no request id")
	}
	want := `{"code":"internal","message":"internal error (request id ` + rid + `)"}` + "\n"
	if w.Code != http.StatusInternalServerError || w.Body.String() != want {
		t.Errorf("internal: %d %q, want %q", w.Code, w.Body.String(), want)
	}
	line := logs.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, "disk on fire") || !strings.Contains(line, "request_id="+rid) ||
		!strings.Contains(line, "path=/x") {
		t.Errorf("5xx log: %q", line)
	}

	// No shape: {"message"}; no log: nothing logged.
	w = httptest.NewRecorder()
	wire.Format{}.Error(w, httptest.NewRequest(http.MethodGet, "/", nil), errs.NotFound("bucket"))
	if w.Code != http.StatusNotFound || w.Body.String() != `{"message":"bucket not found"}`+"\n" {
		t.Errorf("default shape: %d %q", w.Code, w.Body.String())
	}
}

func TestMap(t *testing.T) {
	if got := wire.Map([]int(nil), func(i int) string { return "" }); got == nil || len(got) != 0 {
		t.Errorf("nil: %#v", got)
	}
	if got := wire.Map([]int{1, 2}, func(i int) int { return i * 10 }); len(got) != 2 || got[0] != 10 || got[1] != 20 {
		t.Errorf("map: %v", got)
	}
}
