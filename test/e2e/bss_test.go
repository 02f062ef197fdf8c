package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
)

// TestDemoBSS replays the README's BSS commands against `trellis serve
// --demo`: the demo installation's credentials (the key Base64-encoded, as
// the interworks SDK sends it) read the catalog, synchronize an account and
// create a 5 TB subscription, which is a storage account of 5 TB; a wrong
// key is 401.
func TestDemoBSS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, nil, "--demo", "--data-dir", dir)
	creds := readCreds(t, dir)
	app, key := creds["bss_application_id"], creds["bss_api_key"]
	if app == "" || key == "" {
		t.Fatalf("demo credentials lack the BSS entries: %v", creds)
	}
	u, _ := neturl.Parse(n.URL)
	base := u.Scheme + "://" + u.Host
	v := validatorFor(t, infiterra.Prefix+"/")
	send := func(method, path, body, apiKey string) apitest.Response {
		t.Helper()
		h := http.Header{}
		h.Set(infiterra.HeaderApplicationID, app)
		h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(apiKey)))
		req := apitest.Request{Method: method, Path: infiterra.Prefix + "/" + path, Header: h}
		if body != "" {
			req.Body = []byte(body)
		}
		return v.DoURL(t, nil, base, req)
	}
	if r := send("GET", "fields/servicedefinition", "", key); r.Status != 200 {
		t.Fatalf("servicedefinition: %d %s", r.Status, r.Body)
	}
	var res struct {
		Code              int
		Result            string
		CustomFieldValues map[string]string
	}
	r := send("POST", "accounts/synchronize", `{"ID":"1187","Name":"Acme GmbH","Email":"billing@acme.example"}`, key)
	if err := json.Unmarshal(r.Body, &res); err != nil || r.Status != 200 || res.Code != 0 || res.Result == "" {
		t.Fatalf("synchronize: %d %s", r.Status, r.Body)
	}
	r = send("POST", "subscriptions/create", fmt.Sprintf(`{"SubscriptionID":"8812","Name":"Acme storage",
		"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision","Quantity":5,
		"Account":{"ID":"1187","ExternalID":%q}}`, res.Result), key)
	if err := json.Unmarshal(r.Body, &res); err != nil || r.Status != 200 || res.Code != 0 || res.CustomFieldValues["ICStorageAccountId"] == "" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var keys struct {
		Items []map[string]any
	}
	if s := call(t, "GET", n.URL+"/api/v1/storage-accounts/"+res.CustomFieldValues["ICStorageAccountId"]+"/s3-keys",
		creds["admin_key"], "", &keys); s != 200 || len(keys.Items) != 1 {
		t.Fatalf("the subscription's storage account has no S3 key: %d %v", s, keys)
	}
	if r := send("POST", "accounts/exists", `{"ID":"1187"}`, "not the key"); r.Status != 401 {
		t.Fatalf("wrong key: %d %s", r.Status, r.Body)
	}
}
