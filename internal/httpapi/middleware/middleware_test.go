package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestChainOrder(t *testing.T) {
	t.Parallel()
	var got []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = append(got, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = append(got, "h") }), mw("a"), mw("b"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if strings.Join(got, ",") != "a,b,h" {
		t.Errorf("order = %v, want a,b,h", got)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name     string
		incoming string
		honoured bool
	}{
		{"absent", "", false},
		{"valid", "abc-DEF_1.2", true},
		{"max length", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "abc def", false},
		{"newline injection", "abc\nX-Evil: 1", false},
		{"unicode", "abcé", false},
		{"slash", "a/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var inCtx string
			h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = RequestIDFrom(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				req.Header.Set(HeaderRequestID, tt.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			hdr := rec.Header().Get(HeaderRequestID)
			if hdr != inCtx {
				t.Errorf("header %q != context %q", hdr, inCtx)
			}
			if tt.honoured {
				if inCtx != tt.incoming {
					t.Errorf("id = %q, want incoming %q", inCtx, tt.incoming)
				}
			} else if !generated.MatchString(inCtx) {
				t.Errorf("id = %q, want 32 hex chars", inCtx)
			}
		})
	}
}

func TestRequestIDUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	h := RequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		id := rec.Header().Get(HeaderRequestID)
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDFromEmptyContext(t *testing.T) {
	t.Parallel()
	if id := RequestIDFrom(t.Context()); id != "" {
		t.Errorf("got %q, want empty", id)
	}
}

// newMux returns a mux with one wildcard route, and its route resolver.
func newMux(h http.HandlerFunc) (*http.ServeMux, func(*http.Request) string) {
	mux := http.NewServeMux()
	mux.Handle("GET /things/{id}", h)
	mux.Handle("/sub/", h)
	mux.Handle("/files/{name}/", h)
	return mux, MuxRoute(mux)
}

func TestMuxRoute(t *testing.T) {
	t.Parallel()
	_, routeOf := newMux(func(http.ResponseWriter, *http.Request) {})
	tests := []struct{ method, target, want string }{
		{"GET", "/things/42", "GET /things/{id}"},
		{"HEAD", "/things/42", "GET /things/{id}"},
		{"GET", "/sub/a/b", "/sub/"},
		{"GET", "/sub", "/sub/"}, // trailing-slash redirect is served under the pattern
		{"GET", "/nope", Unmatched},
		{"POST", "/things/42", Unmatched}, // 405
		{"GET", "/files/abc", "/files/{name}/"},
		// For CONNECT the mux reports the redirect path, which here would
		// carry the client's {name}.
		{"CONNECT", "/files/abc", Unmatched},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		if got := routeOf(req); got != tt.want {
			t.Errorf("%s %s: route = %q, want %q", tt.method, tt.target, got, tt.want)
		}
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	mux, routeOf := newMux(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "hello")
	})
	h := Chain(mux, RequestID, AccessLog(logger, routeOf))

	req := httptest.NewRequest("GET", "/things/42", nil)
	req.Header.Set(HeaderRequestID, "rid-1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v\n%s", err, buf.String())
	}
	want := map[string]any{
		"method":     "GET",
		"route":      "GET /things/{id}",
		"path":       "/things/42",
		"status":     float64(418),
		"bytes":      float64(5),
		"request_id": "rid-1",
		"remote":     req.RemoteAddr,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("no duration")
	}
}

func TestAccessLogDefaultStatusAndFlusher(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	var flushable, controllable bool
	h := AccessLog(logger, func(*http.Request) string { return "r" })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		flushable = ok
		if ok {
			f.Flush()
		}
		// ResponseController must reach the recorder through Unwrap.
		controllable = http.NewResponseController(w).Flush() == nil
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !flushable || !controllable {
		t.Errorf("flusher lost: type assertion %v, ResponseController %v", flushable, controllable)
	}
	if !rec.Flushed {
		t.Error("flush did not reach the underlying writer")
	}
	if !strings.Contains(buf.String(), `"status":200`) {
		t.Errorf("want status 200 logged, got %s", buf.String())
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	var gotErr error
	write := func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"message":"internal error"}`)
	}
	h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom: secret detail")
	}), RequestID, Recover(logger, write))

	// Through a real server, to show the process and the server survive.
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 2 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 500 || string(body) != `{"message":"internal error"}` {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
	}
	if !errs.Is(gotErr, errs.KindInternal) {
		t.Errorf("write got kind %v, want internal", errs.KindOf(gotErr))
	}
	if !strings.Contains(gotErr.Error(), "boom") {
		t.Errorf("cause lost: %v", gotErr)
	}
	if errs.Public(gotErr) != "internal error" {
		t.Errorf("public message leaks: %q", errs.Public(gotErr))
	}
	logs := logBuf.String()
	if !strings.Contains(logs, "boom: secret detail") || !strings.Contains(logs, "goroutine") {
		t.Errorf("log lacks panic value or stack: %s", logs)
	}
}

func TestRecoverPanicWithError(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("sentinel")
	var gotErr error
	h := Recover(slog.New(slog.DiscardHandler), func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(500)
	})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(sentinel) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !errors.Is(gotErr, sentinel) {
		t.Errorf("code %d, err %v", rec.Code, gotErr)
	}
}

func TestRecoverRepanicsAbortHandler(t *testing.T) {
	t.Parallel()
	called := false
	h := Recover(slog.New(slog.DiscardHandler), func(http.ResponseWriter, *http.Request, error) { called = true })(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
		if called {
			t.Error("write called for ErrAbortHandler")
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	t.Error("did not re-panic")
}

func TestRecoverAfterHeaderAborts(t *testing.T) {
	t.Parallel()
	called := false
	h := Recover(slog.New(slog.DiscardHandler), func(http.ResponseWriter, *http.Request, error) { called = true })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			panic("late")
		}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
		if called {
			t.Error("write called after the header was sent")
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	var readErr error
	var n int
	h := BodyLimit(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		n, readErr = len(b), err
	}))

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	var mbe *http.MaxBytesError
	if !errors.As(readErr, &mbe) || mbe.Limit != 10 {
		t.Errorf("err = %v, want *http.MaxBytesError with limit 10", readErr)
	}

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 10))))
	if readErr != nil || n != 10 {
		t.Errorf("at the limit: n=%d err=%v", n, readErr)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	mux, routeOf := newMux(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	// RequestID in front hands the mux a copy of the request, which is the
	// case MuxRoute exists for.
	h := Chain(mux, RequestID, m.Middleware(routeOf))

	for _, target := range []string{"/things/1", "/things/2", "/things/3", "/nope/1", "/nope/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/things/1", nil))

	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET", "GET /things/{id}", "201")); got != 3 {
		t.Errorf("pattern counter = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET", Unmatched, "404")); got != 2 {
		t.Errorf("unmatched counter = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("other", Unmatched, "405")); got != 1 {
		t.Errorf("odd-method counter = %v, want 1", got)
	}
	// No series may carry a raw path.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), "/things/1") {
					t.Errorf("%s has raw path label %q", mf.GetName(), l.GetValue())
				}
			}
		}
	}
	if n := testutil.CollectAndCount(m.duration, "trellis_http_request_duration_seconds"); n != 3 {
		t.Errorf("duration series = %d, want 3", n)
	}
}

func TestNewMetricsTwicePanics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	defer func() {
		if recover() == nil {
			t.Error("second registration on the same registry did not panic")
		}
	}()
	NewMetrics(reg)
}
