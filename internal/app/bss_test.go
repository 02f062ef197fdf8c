package app_test

import (
	"bytes"
	"context"
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
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// bssCall sends one service-manager call as the demo BSS installation does
// (headers as the interworks SDK sends them: the key Base64-encoded) and
// returns the envelope.
func bssCall(t *testing.T, a *app.App, v *apitest.Validator, creds map[string]string, path, body string) map[string]any {
	t.Helper()
	h := http.Header{}
	h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
	h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
	h.Set(infiterra.HeaderTrackID, "track-"+path)
	h.Set("Content-Type", "application/json; charset=utf-8")
	resp := v.Do(t, a.Handler, apitest.Request{Method: "POST", Path: infiterra.Prefix + "/" + path, Header: h, Body: []byte(body)})
	if resp.Status != 200 {
		t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if out["Code"] != 0.0 {
		t.Fatalf("%s: %s", path, resp.Body)
	}
	return out
}

// TestBSSSubscriptionOnS3 walks a BSS subscription of the demo installation
// through the real S3 server: created with 1 TB and S3 credentials, the
// customer writes; suspended, writes and reads are refused; activated, they
// work again; cancelled, the capacity is back on the contract and the
// account's deletion is scheduled.
func TestBSSSubscriptionOnS3(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newS3App(t, d, clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)), t.TempDir(), "bss-"+d.Dialect().Name())
		v := apitest.NewValidator(t, infiterra.Spec())
		sys := actor.System("test")
		if _, err := a.BSS.Authenticate(ctx, a.creds["bss_application_id"], a.creds["bss_api_key"]); err != nil {
			t.Fatalf("demo installation %q: %v", a.creds["bss_application_id"], err)
		}
		before, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID)
		if err != nil {
			t.Fatal(err)
		}

		acct := bssCall(t, a.App, v, a.creds, "accounts/synchronize", `{"ID":"7001","ExternalID":null,"Name":"Nordlicht AG",
			"Email":"it@nordlicht.example","SyncOptions":{"username":"it@nordlicht.example"}}`)["Result"].(string)
		sub := bssCall(t, a.App, v, a.creds, "subscriptions/create", fmt.Sprintf(`{"ID":null,"SubscriptionID":"9001",
			"Name":"Nordlicht storage","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision",
			"Quantity":1,"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, acct))
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

		service := func(action string) {
			bssCall(t, a.App, v, a.creds, "subscriptions/"+action, fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9001",
				"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":%q,"Quantity":1,
				"Account":{"ID":"7001","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, subID,
				map[string]string{"suspend": "Suspend", "activate": "Activate", "cancel": "Cancel"}[action], acct))
		}
		service("suspend")
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("b.txt"),
			Body: bytes.NewReader(fill(10, 'b')), ContentLength: aws.Int64(10)})
		if s3Code(err) != "AccessDenied" {
			t.Fatalf("put while suspended: %v", err)
		}
		// Reads follow the S3 server's bucket-state cache (≤ 2 s).
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.txt")})
			if s3Code(err) == "AccessDenied" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("get while suspended: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
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
	})
}
