package app_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// probeValues gives the bad texts sent into every place: what PostgreSQL
// refuses (NUL, invalid UTF-8), and an over-long value: 1 MB for a
// top-level id of a body (a body stays under the 1 MiB body limit with it:
// the BSS "ID" of issue 14), twice the longest path segment, and elsewhere
// one character over the longest string any request may carry
// (validate.MaxWireText), which keeps the walk to seconds.
func probeValues(where, field string) []apitest.ProbeValue {
	long := apitest.ProbeValue{Name: "over-long", Text: strings.Repeat("p", validate.MaxWireText+1)}
	l := strings.ToLower(field)
	switch {
	case where == "path":
		long = apitest.ProbeValue{Name: "over-long", Text: strings.Repeat("p", 2*validate.MaxWireParam)}
	case where == "body" && !strings.ContainsAny(l, ".[") && (strings.HasSuffix(l, "id") || strings.HasSuffix(l, "uuid")):
		long = apitest.ProbeValue{Name: "1 MB", Text: strings.Repeat("p", 1_000_000)}
	}
	return []apitest.ProbeValue{
		{Name: "NUL", Text: "probe\x00text"},
		{Name: "invalid UTF-8", Text: "probe\xfftext"},
		long,
	}
}

// TestTextProbes walks every operation of every dialect's spec and sends a
// NUL byte, invalid UTF-8 and a 1 MB value into each path parameter, query
// parameter and string field of the request body, the rest of the request
// plausible (the demo's objects and credentials): never a 5xx, always a
// 400 naming the field in the dialect's error shape, and the answer valid
// per the spec. On PostgreSQL (TRELLIS_TEST_POSTGRES_URL) this is where the
// text used to fail ("invalid byte sequence for encoding UTF8": 500).
func TestTextProbes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir()})
		bearer := func(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }
		ids := map[string]string{
			// Impossible Cloud and native
			"contractID": app.DemoContractID, "partnerID": app.DemoPartnerID, "distributorID": app.DemoDistributorID,
			"id": app.DemoContractID,
			// idcloudhost
			"vm_uuid": app.DemoVMUUID, "uuid": app.DemoVMUUID, "network_uuid": app.DemoNetworkUUID,
			"disk_uuid": app.DemoVMDiskUUID, "billing_account_id": "6",
			// ITGLOBAL
			"company_id": "1", "invoice_number": "1", "count": "1",
		}
		if p := creds["itglobal_project_id"]; p != "" {
			ids["projectId"] = p
		}
		dialects := []struct {
			name   string
			spec   []byte
			header func(op *openapi3.Operation) http.Header
			path   func(string) string
		}{
			{"native", nativeSpec(), func(*openapi3.Operation) http.Header { return bearer(creds["admin_key"]) }, nil},
			{"impossiblecloud", impossiblecloud.Spec(), func(*openapi3.Operation) http.Header { return bearer(creds["distributor_key"]) }, nil},
			{"idcloudhost", idchSpec(), func(*openapi3.Operation) http.Header {
				return http.Header{"Apikey": {creds["idcloudhost_key"]}}
			}, nil},
			{"itglobal", itglobal.Spec(), func(op *openapi3.Operation) http.Header {
				if roles, _ := op.Extensions["x-roles"].([]any); len(roles) > 0 && roles[0] == "Finance" {
					return bearer(creds["itglobal_finance_key"])
				}
				return bearer(creds["itglobal_user_key"])
			}, func(name string) string {
				if name == "id" {
					return creds["itglobal_project_id"]
				}
				return ""
			}},
			{"infiterra", infiterra.Spec(), func(*openapi3.Operation) http.Header {
				h := http.Header{}
				h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
				h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
				return h
			}, nil},
		}
		for _, dl := range dialects {
			t.Run(dl.name, func(t *testing.T) {
				v := validator(t, dl.spec)
				path := func(name string) string {
					if dl.path != nil {
						if s := dl.path(name); s != "" {
							return s
						}
					}
					return ids[name]
				}
				probes := apitest.Probes(t, dl.spec, apitest.ProbeConfig{Header: dl.header, Path: path, Values: probeValues})
				start := time.Now()
				var fivexx, unnamed int
				ops := map[string]bool{}
				for _, p := range probes {
					ops[p.Op] = true
					resp := v.Do(t, a.Handler, p.Request)
					switch {
					case resp.Status >= 500:
						fivexx++
						t.Errorf("%s, %s %s %q: %d %.300s", p.Op, p.Value, p.Where, p.Field, resp.Status, resp.Body)
					case resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), p.Field):
						unnamed++
						t.Errorf("%s, %s %s %q: %d, want 400 naming the field: %.300s", p.Op, p.Value, p.Where, p.Field, resp.Status, resp.Body)
					}
				}
				t.Logf("%s: %d operations, %d probes in %v: %d answered 5xx, %d not a 400 naming the field",
					dl.name, len(ops), len(probes), time.Since(start).Round(time.Millisecond), fivexx, unnamed)
			})
		}
	})
}
