package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// bssCall sends one service-manager call as the demo BSS installation does
// (headers as the interworks SDK sends them: the key Base64-encoded) and
// returns the envelope.
func bssCall(t *testing.T, a *app.App, v *apitest.Validator, creds map[string]string, path, body string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(bssDo(t, a, v, creds, "POST", path, body), &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if out["Code"] != 0.0 {
		t.Fatalf("%s: %v", path, out)
	}
	return out
}

// bssDo sends one call and returns the 200 answer's body.
func bssDo(t *testing.T, a *app.App, v *apitest.Validator, creds map[string]string, method, path, body string) []byte {
	t.Helper()
	h := http.Header{}
	h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
	h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
	h.Set(infiterra.HeaderTrackID, "track-"+path)
	h.Set("Content-Type", "application/json; charset=utf-8")
	req := apitest.Request{Method: method, Path: infiterra.Prefix + "/" + path, Header: h}
	if body != "" {
		req.Body = []byte(body)
	}
	resp := v.Do(t, a.Handler, req)
	if resp.Status != 200 {
		t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
	}
	return resp.Body
}

// TestBSSSubscriptionOnS3 is issue 7's BSS walk-through, as a BSS drives
// the demo installation (headers as the interworks SDK sends them), on the
// real S3 server: fields get and validate, account synchronize, pre-check
// (nothing changes), create (a storage account with the capacity and S3
// credentials; the customer writes), quantity update, add-on, suspend
// (writes and reads refused), activate (writes accepted), cancel (the
// capacity back on the contract, deletion scheduled), account delete.
func TestBSSSubscriptionOnS3(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
		a := newS3App(t, d, clk, t.TempDir(), "bss-"+d.Dialect().Name())
		v := validator(t, infiterra.Spec())
		sys := actor.System("test")
		if _, err := a.BSS.Authenticate(ctx, a.creds["bss_application_id"], a.creds["bss_api_key"]); err != nil {
			t.Fatalf("demo installation %q: %v", a.creds["bss_application_id"], err)
		}
		before, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID)
		if err != nil {
			t.Fatal(err)
		}

		var fields struct{ Fields []struct{ ID string } }
		if err := json.Unmarshal(bssDo(t, a.App, v, a.creds, "GET", "fields/get", ""), &fields); err != nil || len(fields.Fields) == 0 {
			t.Fatalf("fields/get: %+v %v", fields, err)
		}
		// fields/validate really checks: the demo distributor's key and
		// contract pass, a contract of nobody's does not.
		valid := fmt.Sprintf(`{"Fields":[{"ID":"ICApiKey","Value":%q},{"ID":"ICContractId","Value":%q}]}`,
			a.creds["distributor_key"], app.DemoContractID)
		if got := string(bssDo(t, a.App, v, a.creds, "POST", "fields/validate", valid)); got != "[]" && got != "[]\n" {
			t.Fatalf("fields/validate with the demo's values: %s", got)
		}
		bad := `{"Fields":[{"ID":"ICApiKey","Value":"trl_not-a-key"},{"ID":"ICContractId","Value":"00000000-0000-4000-8000-000000000099"}]}`
		var problems []string
		if err := json.Unmarshal(bssDo(t, a.App, v, a.creds, "POST", "fields/validate", bad), &problems); err != nil || len(problems) != 2 {
			t.Fatalf("fields/validate with bad values: %v %v", problems, err)
		}

		acct := bssCall(t, a.App, v, a.creds, "accounts/synchronize", `{"ID":"7001","ExternalID":null,"Name":"Nordlicht AG",
			"Email":"it@nordlicht.example","SyncOptions":{"username":"it@nordlicht.example"}}`)["Result"].(string)
		create := func(checkOnly bool) map[string]any {
			return bssCall(t, a.App, v, a.creds, "subscriptions/create", fmt.Sprintf(`{"ID":null,"SubscriptionID":"9001",
			"Name":"Nordlicht storage","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision",
			"Quantity":1,"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":%t}`, acct, checkOnly))
		}
		// The pre-check accepts and changes nothing.
		if pre := create(true); pre["Result"] != nil {
			t.Fatalf("pre-check answered a subscription: %v", pre)
		}
		if c, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID); err != nil || c.AllocatedCapacity != before.AllocatedCapacity {
			t.Fatalf("the pre-check changed the contract: %+v %v", c, err)
		}
		sub := create(false)
		subID := sub["Result"].(string)
		saID := sub["CustomFieldValues"].(map[string]any)["ICStorageAccountId"].(string)
		after, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID)
		if err != nil || after.AllocatedCapacity != before.AllocatedCapacity+1_000_000_000_000 {
			t.Fatalf("contract after create: %+v %v", after, err)
		}
		partner, err := a.Objstore.LocateAccount(ctx, sys, saID)
		if err != nil {
			t.Fatal(err)
		}
		sa, err := a.Objstore.GetStorageAccount(ctx, sys, partner, saID)
		if err != nil {
			t.Fatalf("storage account %s: %v", saID, err)
		}
		if sa.AllocatedCapacity != 1_000_000_000_000 {
			t.Fatalf("storage account capacity %d", sa.AllocatedCapacity)
		}
		_, keys, err := a.Objstore.AccountKeys(ctx, sys, sa.PartnerID, saID)
		if err != nil || len(keys) == 0 {
			t.Fatalf("S3 keys: %v %v", keys, err)
		}
		c := s3Client(a.S3.URL(), keys[0].AccessKey, keys[0].Secret)
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("nordlicht-" + d.Dialect().Name())}); err != nil {
			t.Fatal(err)
		}
		bucket := "nordlicht-" + d.Dialect().Name()
		put(t, c, bucket, "a.txt", fill(100, 'a'))

		// Quantity 2, then an add-on of 1 TB on top: 3 TB.
		bssCall(t, a.App, v, a.creds, "subscriptions/update", fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9001",
			"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision","Quantity":2,
			"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, subID, acct))
		bssCall(t, a.App, v, a.creds, "addons/create", fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9001",
			"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"None","Quantity":2,
			"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[{"ID":null,"ParentID":%q,
			"Name":"Extra TB","ProductID":"ic-storage-extra-tb","ActionType":"Provision","Quantity":1,"AttributeList":{}}],
			"CheckOnly":false}`, subID, acct, subID))
		if sa, err = a.Objstore.GetStorageAccount(ctx, sys, partner, saID); err != nil || sa.AllocatedCapacity != 3_000_000_000_000 {
			t.Fatalf("after update and add-on: %+v %v", sa, err)
		}
		if c, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID); err != nil || c.AllocatedCapacity != before.AllocatedCapacity+3_000_000_000_000 {
			t.Fatalf("contract after update and add-on: %+v %v", c, err)
		}

		service := func(action string) {
			bssCall(t, a.App, v, a.creds, "subscriptions/"+action, fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9001",
				"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":%q,"Quantity":2,
				"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, subID,
				map[string]string{"suspend": "Suspend", "activate": "Activate", "cancel": "Cancel"}[action], acct))
		}
		service("suspend")
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("b.txt"),
			Body: bytes.NewReader(fill(10, 'b')), ContentLength: aws.Int64(10)})
		if s3Code(err) != "AccessDenied" {
			t.Fatalf("put while suspended: %v", err)
		}
		// Reads follow the S3 server's bucket-state cache, on the app's clock.
		clk.Advance(s3gw.DefaultCacheTTL)
		if _, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.txt")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("get while suspended: %v", err)
		}

		service("activate")
		put(t, c, bucket, "b.txt", fill(10, 'b'))

		service("cancel")
		final, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID)
		if err != nil || final.AllocatedCapacity != before.AllocatedCapacity {
			t.Fatalf("contract after cancel: %+v, want %d allocated", final, before.AllocatedCapacity)
		}
		sa, err = a.Objstore.GetStorageAccount(ctx, sys, sa.PartnerID, saID)
		if err != nil || sa.PendingDeletedAt == nil || sa.AllocatedCapacity != 0 {
			t.Fatalf("storage account after cancel: %+v %v", sa, err)
		}
		bssCall(t, a.App, v, a.creds, "accounts/delete", fmt.Sprintf(`{"ID":"7001","ExternalID":%q}`, acct))
		var exists map[string]any
		if err := json.Unmarshal(bssDo(t, a.App, v, a.creds, "POST", "accounts/exists", `{"ID":"7001","Email":"it@nordlicht.example"}`), &exists); err != nil || exists["Code"] != 0.0 {
			t.Fatalf("accounts/exists after delete: %v %v", exists, err)
		}
	})
}
