package native

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, "sqlite"), apitest.NewValidator(t, Spec30()))
	r := e.req("PUT", "/orgs", provAdmin, `{}`)
	r.AllowUnknownRoute = true
	resp := e.do(t, r)
	wantProblem(t, resp, http.StatusMethodNotAllowed, "")
	if got := resp.Header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q", got)
	}
	r = e.req("GET", "/nothing/here", provAdmin, "")
	r.AllowUnknownRoute = true
	wantProblem(t, e.do(t, r), http.StatusNotFound, "")
	// Unknown routes need a key like any other.
	r = e.req("GET", "/nothing/here", noKey, "")
	r.AllowUnknownRoute = true
	wantProblem(t, e.do(t, r), http.StatusUnauthorized, "")
}

// TestServerErrorsHideInternals breaks the database under a running API:
// the 500 says only "internal error" with the request id, and the cause is
// logged.
func TestServerErrorsHideInternals(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		var logs bytes.Buffer
		e.deps.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		e.h = middleware.Chain(Handler(e.deps), middleware.RequestID)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		r := e.req("GET", "/orgs", provAdmin, "")
		r.Header.Set(middleware.HeaderRequestID, "req-42")
		p := wantProblem(t, e.do(t, r), http.StatusInternalServerError, "")
		if p["detail"] != "internal error (request id req-42)" || p["field"] != nil {
			t.Errorf("problem = %v", p)
		}
		if !strings.Contains(logs.String(), "req-42") || !strings.Contains(logs.String(), "closed") {
			t.Errorf("the cause is not logged: %s", logs.String())
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, "sqlite"), apitest.NewValidator(t, Spec30()))
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	e.deps.Limiter = ratelimit.New(1, 1, func() time.Time { return now })
	e.h = middleware.Chain(Handler(e.deps), middleware.RequestID)
	e.ok(t, http.StatusOK, "GET", "/regions", aViewer, "")
	resp := e.do(t, e.req("GET", "/regions", aViewer, ""))
	wantProblem(t, resp, http.StatusTooManyRequests, "")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestRouteOf(t *testing.T) {
	t.Parallel()
	route := RouteOf()
	for path, want := range map[string]string{
		"GET " + Prefix + "/orgs/0190a8c4-5d6e-7f80-9a1b-2c3d4e5f6a7b": "GET " + Prefix + "/orgs/{id}",
		"PUT " + Prefix + "/storage-accounts/x/usage/2024-01-01":       "PUT " + Prefix + "/storage-accounts/{id}/usage/{day}",
		"DELETE " + Prefix + "/nothing":                                "",
	} {
		method, target, _ := strings.Cut(path, " ")
		if got := route(httptest.NewRequest(method, target, nil)); got != want {
			t.Errorf("RouteOf(%s) = %q, want %q", path, got, want)
		}
	}
}

// TestSpec checks the documents: both parse, the 3.1 one is what huma
// serves, and each mutating operation documents Idempotency-Key.
func TestSpec(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Paths      map[string]map[string]struct{ Parameters []struct{ Name string } }
		Components struct{ SecuritySchemes map[string]any } `json:"components"`
	}
	if err := json.Unmarshal(Spec(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Components.SecuritySchemes["bearer"] == nil {
		t.Errorf("openapi %q, security schemes %v", doc.OpenAPI, doc.Components.SecuritySchemes)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			has := false
			for _, p := range op.Parameters {
				has = has || p.Name == "Idempotency-Key"
			}
			if has != (method != "get") {
				t.Errorf("%s %s: Idempotency-Key documented: %t", method, path, has)
			}
		}
	}
	if !bytes.Contains(Spec30(), []byte(`"openapi":"3.0.3"`)) {
		t.Error("Spec30 is not OpenAPI 3.0.3")
	}
}

// TestHumaServerErrorsHideInternals checks the errors huma makes itself
// with a 5xx status (an unreadable body, an unexpected handler error).
func TestHumaServerErrorsHideInternals(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &server{d: Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	var ctx huma.Context
	middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = humago.NewContext(&huma.Operation{}, r, w)
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	out, err := s.transformError(ctx, "500", &huma.ErrorModel{Status: 500, Detail: "cannot read request body",
		Errors: []*huma.ErrorDetail{{Message: "dial tcp 10.0.0.7:5432: secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := out.(*problemDetails)
	rid := middleware.RequestIDFrom(ctx.Context())
	if p.Status != 500 || p.Detail != "internal error (request id "+rid+")" || len(p.Errors) != 0 || p.Field != "" {
		t.Errorf("problem = %+v", p)
	}
	if !strings.Contains(logs.String(), "secret") || !strings.Contains(logs.String(), rid) {
		t.Errorf("the cause is not logged: %s", logs.String())
	}
	// Other values pass through.
	if v, _ := s.transformError(ctx, "200", "ok"); v != "ok" {
		t.Errorf("transformed a success body: %v", v)
	}
}
