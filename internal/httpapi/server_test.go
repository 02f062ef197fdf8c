package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func newApp(t *testing.T, cfg app.Config) (*app.App, string) {
	t.Helper()
	ctx := t.Context()
	cfg.DataDir = t.TempDir()
	a, err := app.New(ctx, dbtest.Open(t, "sqlite"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := a.LoadDemo(ctx, boot.Root, boot.NewAdminKey)
	if err != nil {
		t.Fatal(err)
	}
	return a, creds["distributor_key"]
}

func get(t *testing.T, h http.Handler, path, key string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPlumbing(t *testing.T) {
	t.Parallel()
	a, key := newApp(t, app.Config{})
	h := a.Handler
	for _, tc := range []struct {
		path   string
		status int
		has    string
	}{
		{"/healthz", 200, `"ok"`},
		{"/readyz", 200, `"ready"`},
		{"/impossiblecloud/openapi.json", 200, `"openapi": "3.0.3"`},
		{"/api/openapi.json", 200, `"openapi"`},
		{"/docs/", 200, "swagger"},
		{"/nowhere", 404, `"status":404`},
		{"/impossiblecloud/v1/nowhere", 401, `"message"`}, // authentication comes first
	} {
		rec := get(t, h, tc.path, "")
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.has) {
			t.Errorf("GET %s: %d %.200s", tc.path, rec.Code, rec.Body)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s: no X-Request-Id", tc.path)
		}
	}
	icv := apitest.NewValidator(t, impossiblecloud.Spec())
	auth := http.Header{"Authorization": {"Bearer " + key}}
	resp := icv.Do(t, h, apitest.Request{Method: "GET", Path: "/impossiblecloud/v1/nowhere", Header: auth, AllowUnknownRoute: true})
	if resp.Status != 404 || !strings.Contains(string(resp.Body), `"message"`) {
		t.Errorf("unknown IC route with a key: %d %s", resp.Status, resp.Body)
	}

	// Metrics name routes by pattern, never by raw path.
	icv.Do(t, h, apitest.Request{Method: "GET", Path: "/impossiblecloud/v1/partner/e37e6c0f-688e-4da4-8717-a52b48bcee3d", Header: auth})
	mreq := httptest.NewRequest("GET", "/metrics", nil)
	mreq.RemoteAddr = "127.0.0.1:41000" // /metrics answers loopback clients only
	mrec := httptest.NewRecorder()
	h.ServeHTTP(mrec, mreq)
	m := mrec.Body.String()
	for _, want := range []string{
		`trellis_http_requests_total{method="GET",route="GET /impossiblecloud/v1/partner/{partnerID}",status="200"} 1`,
		`trellis_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"`,
		`go_sql_max_open_connections{db_name="trellis_write"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "e37e6c0f") {
		t.Error("a raw path leaked into a metric label")
	}

	// Readiness follows the database.
	_ = a.DB.Close()
	if rec := get(t, h, "/readyz", ""); rec.Code != 503 {
		t.Errorf("readyz with the database closed: %d", rec.Code)
	}
}

// The per-key rate limit answers 429 with Retry-After, in the vendor's
// error shape and as the spec documents.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	a, key := newApp(t, app.Config{RateLimit: 1, RateBurst: 3})
	v := apitest.NewValidator(t, impossiblecloud.Spec())
	h := http.Header{"Authorization": {"Bearer " + key}}
	statuses := []int{}
	var last apitest.Response
	for range 5 {
		last = v.Do(t, a.Handler, apitest.Request{Method: "GET", Path: "/impossiblecloud/v1/contract/list", Header: h})
		statuses = append(statuses, last.Status)
	}
	if statuses[0] != 200 || statuses[2] != 200 || statuses[4] != 429 {
		t.Fatalf("statuses %v: want 3 × 200 then 429", statuses)
	}
	secs, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	var body map[string]string
	_ = json.Unmarshal(last.Body, &body)
	if !strings.Contains(body["message"], "too many requests") {
		t.Fatalf("429 body %s", last.Body)
	}
}

// Bodies over the limit are refused with 413 naming the body, through the
// whole stack.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	a, key := newApp(t, app.Config{BodyLimit: 1024})
	body := `{"name": "` + strings.Repeat("x", 2000) + `", "allocatedCapacity": 1, "distributorContractId": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"}`
	v := apitest.NewValidator(t, impossiblecloud.Spec())
	resp := v.Do(t, a.Handler, apitest.Request{Method: "POST", Path: "/impossiblecloud/v1/partner", Body: []byte(body),
		Header: http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}})
	if resp.Status != 413 || !strings.Contains(string(resp.Body), "body") {
		t.Fatalf("oversize body: %d %s", resp.Status, resp.Body)
	}
}

// A mutation leaves an audit row naming the principal, the action, the
// object and the request id the client saw.
func TestAuditRowPerMutation(t *testing.T) {
	t.Parallel()
	a, key := newApp(t, app.Config{})
	v := apitest.NewValidator(t, impossiblecloud.Spec())
	resp := v.Do(t, a.Handler, apitest.Request{Method: "POST", Path: "/impossiblecloud/v1/partner",
		Body:   []byte(`{"allocatedCapacity": 1000, "distributorContractId": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3", "name": "Audited"}`),
		Header: http.Header{"Authorization": {"Bearer " + key}, "X-Request-Id": {"audit-test-1"}}})
	if resp.Status != 201 || resp.Header.Get("X-Request-Id") != "audit-test-1" {
		t.Fatalf("create: %d %s (request id %q)", resp.Status, resp.Body, resp.Header.Get("X-Request-Id"))
	}
	var p struct{ ID string }
	_ = json.Unmarshal(resp.Body, &p)
	who, err := a.Access.Authenticate(t.Context(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := a.Store.ListAudit(t.Context(), "/", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if e.RequestID == "audit-test-1" {
			found++
			if e.Action != "partner.create" || e.ObjectType != "partner" || e.ObjectID != p.ID ||
				e.PrincipalType != "api_key" || e.PrincipalID != who.ID || e.At.IsZero() {
				t.Errorf("audit row %+v", e)
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d audit rows for the request, want 1", found)
	}
}
