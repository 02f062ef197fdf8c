package idcloudhost_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The seed's object-storage numbers, as its requests name them.
const (
	acctBucket = 12345                  // Create Bucket's account
	seedKey    = "I16N8YDF6A6FX8ILP30T" // the key Delete key deletes
)

// storageFixture is the fixture with the bucket and S3-user services over
// the same database, the S3 data plane, account 12345, and user 8's S3 user
// holding the seed's key I16N8YDF6A6FX8ILP30T after a key of its own.
type storageFixture struct {
	*fixture
	obj  *objstore.Service
	bkt  *buckets.Service
	s3   *s3gw.Server     // nil without the data plane
	user objstore.UserRef // user 8
}

func newStorageFixture(t *testing.T, d *db.DB, v *apitest.Validator) *storageFixture {
	t.Helper()
	return newStorageFixtureWith(t, d, v, true)
}

// newStorageFixtureWith builds the fixture, with or without the S3 data
// plane.
func newStorageFixtureWith(t *testing.T, d *db.DB, v *apitest.Validator, plane bool) *storageFixture {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	st := sqlstore.New(d)
	clk := clock.NewFake(t0)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	must(err)
	obj := wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, box, objstore.NoDataPlane{}))
	bil := billing.NewService(sqlstore.Billing{Store: st}, ledger.NewService(sqlstore.Ledger{Store: st}, clk), clk, billing.Config{})
	prices := pricing.NewService(sqlstore.Pricing{Store: st}, clk)
	slot := &s3Slot{} // the S3 server, once dataPlane has built it
	bkt := wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: st}, Billing: bil, Principals: obj,
		Recorder: metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, prices, clk), Clock: clk, DataPlane: slot}))
	var srv *s3gw.Server
	if plane {
		srv = dataPlane(t, st, clk, bkt, obj)
		slot.srv = srv
	}
	f := newFixture(t, d, v, func(d *idcloudhost.Deps) { d.Buckets, d.ObjectStorage = bkt, obj })
	sf := &storageFixture{fixture: f, obj: obj, bkt: bkt, s3: srv}

	_, err = f.bil.CreateAccount(f.ctx, sys, billing.CreateAccountInput{ID: acctBucket, OrgID: f.customer.ID,
		UserID: access.DemoIDCHUserID, Data: billing.AccountData{Title: "buckets", Email: "user@example.com"}})
	must(err)
	u, err := f.idn.Me(f.ctx, f.user8)
	must(err)
	sf.user = objstore.UserRef{ID: u.ID, OrgID: f.customer.ID, OrgPath: f.customer.Path, Email: u.Email, Name: u.Email}
	// The seed's key is written directly (the service makes new ones),
	// sealed like the service seals.
	p, _, err := obj.UserPrincipal(f.ctx, f.user8, sf.user)
	must(err)
	sealedSecret, err := box.Seal(seedKey, "bdwqSeedSecretOfTheDeleteKeyExample0cn")
	must(err)
	must(st.InsertKey(f.ctx, objstore.StoredKey{AccessKey: seedKey, SealedSecret: sealedSecret, PrincipalID: p.ID,
		CreatedAt: db.Micro(t0)}))
	// Account 6 (token 7's) pays its February invoice, so the restricted
	// token may create buckets.
	_, err = f.pay.PayInvoice(f.ctx, f.user8, payment.PayInvoiceInput{InvoiceID: invoiceFeb})
	must(err)
	return sf
}

// keys decodes an S3Key array.
func keysOf(t *testing.T, resp apitest.Response) []map[string]any {
	t.Helper()
	return decode[[]map[string]any](t, resp)
}

func accessKeys(keys []map[string]any) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i], _ = k["accessKey"].(string)
	}
	return out
}

// TestStorageKeys: the first GET of the S3 user creates it with one key and
// later calls return the same; a new key is appended last; delete returns
// the rest, oldest first.
func TestStorageKeys(t *testing.T) {
	// Not parallel: the data plane is the binary's one posix backend
	// (s3gwtest), where bucket names are global and reused between tests.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sf := newStorageFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec()))
		key := sf.otherKey // a user without an S3 user yet
		resp := sf.form(t, key, "GET", "/storage/user", "")
		wantStatus(t, resp, http.StatusOK)
		first := decode[map[string]any](t, resp)
		creds := first["s3Credentials"].([]any)
		if len(creds) != 1 || first["userId"] != "other@example.com" || first["email"] != "other@example.com" ||
			first["displayName"] != "other@example.com" || first["maxBuckets"] != json.Number("1000") ||
			first["suspended"] != json.Number("0") {
			t.Fatalf("first S3 user %s", resp.Body)
		}
		k0 := creds[0].(map[string]any)
		if len(k0["accessKey"].(string)) != 20 || len(k0["secretKey"].(string)) != 40 || k0["userId"] != "other@example.com" {
			t.Fatalf("first key %v", k0)
		}
		for _, f := range []string{"caps", "subusers", "swiftCredentials"} {
			if l, ok := first[f].([]any); !ok || len(l) != 0 {
				t.Errorf("%s = %v, want []", f, first[f])
			}
		}
		resp = sf.form(t, key, "GET", "/storage/user", "")
		wantStatus(t, resp, http.StatusOK)
		if string(resp.Body) != string(sf.form(t, key, "GET", "/storage/user", "").Body) || !strings.Contains(string(resp.Body), k0["secretKey"].(string)) {
			t.Fatalf("second GET differs: %s", resp.Body)
		}
		resp = sf.form(t, key, "GET", "/storage/user/keys", "")
		wantStatus(t, resp, http.StatusOK)
		if got := accessKeys(keysOf(t, resp)); !slices.Equal(got, []string{k0["accessKey"].(string)}) {
			t.Fatalf("keys %v", got)
		}

		// Two new keys: each appended last, secrets shown.
		var want []string
		want = append(want, k0["accessKey"].(string))
		for range 2 {
			resp = sf.form(t, key, "POST", "/storage/user/keys", "")
			wantStatus(t, resp, http.StatusOK)
			got := keysOf(t, resp)
			if len(got) != len(want)+1 || !slices.Equal(accessKeys(got)[:len(want)], want) {
				t.Fatalf("after create: %v, want %v and a new one last", accessKeys(got), want)
			}
			last := got[len(got)-1]
			if slices.Contains(want, last["accessKey"].(string)) || len(last["secretKey"].(string)) != 40 {
				t.Fatalf("new key %v", last)
			}
			want = append(want, last["accessKey"].(string))
		}
		// Every key the API shows signs S3 requests as the same S3 user:
		// a bucket created through the API is listed with each.
		create := sf.form(t, key, "PUT", "/storage/bucket", "name=keys-test&billing_account_id=11")
		wantStatus(t, create, http.StatusOK)
		all := keysOf(t, sf.form(t, key, "GET", "/storage/user/keys", ""))
		for _, k := range all {
			if names, err := sf.s3Buckets(t, k); err != nil || !slices.Equal(names, []string{"keys-test"}) {
				t.Fatalf("S3 ListBuckets with %s: %v %v", k["accessKey"], names, err)
			}
		}
		// Delete the first (JSON body this time): the rest, in order; S3
		// refuses the deleted key from then on.
		resp = sf.sendJSON(t, key, "DELETE", "/storage/user/keys", `{"access_key": "`+want[0]+`"}`, false)
		wantStatus(t, resp, http.StatusOK)
		if got := accessKeys(keysOf(t, resp)); !slices.Equal(got, want[1:]) {
			t.Fatalf("after delete: %v, want %v", got, want[1:])
		}
		if _, err := sf.s3Buckets(t, all[0]); err == nil {
			t.Fatal("S3 accepted a deleted key")
		}
		if _, err := sf.s3Buckets(t, all[1]); err != nil {
			t.Fatalf("S3 refused a remaining key: %v", err)
		}
		// The same key again, a key of user 8, and none at all.
		for _, c := range []struct {
			body   string
			status int
		}{{"access_key=" + want[0], 404}, {"access_key=" + seedKey, 404}, {"", 400}} {
			resp = sf.form(t, key, "DELETE", "/storage/user/keys", c.body)
			wantStatus(t, resp, c.status)
			if c.status == 400 && !strings.HasPrefix(errorMessage(t, resp), "access_key:") {
				t.Errorf("message %q does not name access_key", errorMessage(t, resp))
			}
		}
		resp = sf.form(t, keyUser, "GET", "/storage/user/keys", "")
		if got := accessKeys(keysOf(t, resp)); len(got) != 2 || got[1] != seedKey {
			t.Fatalf("user 8's keys changed: %v", got)
		}
		// The restricted token of user 8 may not see them: a key reaches
		// every bucket of the user (TestRestrictedTokenMatrix).
		resp = sf.form(t, keyRestricted, "GET", "/storage/user/keys", "")
		wantStatus(t, resp, http.StatusForbidden)
		// No key: 401 on every route.
		for _, r := range [][2]string{{"GET", "/storage/api/s3"}, {"GET", "/storage/user"}, {"GET", "/storage/user/keys"},
			{"POST", "/storage/user/keys"}, {"DELETE", "/storage/user/keys"}, {"GET", "/storage/bucket/list"},
			{"GET", "/storage/bucket?name=pang1"}, {"PUT", "/storage/bucket"}, {"POST", "/storage/bucket"},
			{"PATCH", "/storage/bucket"}, {"DELETE", "/storage/bucket"}} {
			wantStatus(t, sf.form(t, "", r[0], r[1], ""), http.StatusUnauthorized)
		}
	})
}

// TestStorageSeedRequests sends every seed request of ID-37 to ID-46
// verbatim: each answers its documented status with the sample's fields and
// types, and the values the request asked for.
func TestStorageSeedRequests(t *testing.T) {
	// Not parallel: the data plane is the binary's one posix backend
	// (s3gwtest), where bucket names are global and reused between tests.
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sf := newStorageFixture(t, d, v)
		send := func(name string, status int) apitest.Response {
			t.Helper()
			resp := sf.send(t, keyUser, readSeedRequest(t, name))
			wantStatus(t, resp, status)
			// Create Bucket with POST answers like PUT; Delete key has no
			// sample: it answers the Get keys shape (ID-amb-30).
			sampleName := map[string]string{"createBucketByPost": "createBucket", "deleteS3Key": "listS3Keys"}[name]
			if sampleName == "" {
				sampleName = name
			}
			if raw := sampleBytes(t, sampleName); len(strings.TrimSpace(string(raw))) > 0 {
				sameShape(t, name, sample(t, sampleName), decode[any](t, resp))
			}
			return resp
		}
		// S3 API Info: this server's S3 endpoint.
		resp := send("getS3Info", http.StatusOK)
		if u := decode[map[string]any](t, resp)["url"]; u != strings.TrimSuffix(sf.s3.URL(), "/")+"/" || !strings.HasPrefix(u.(string), "http://127.0.0.1:") {
			t.Fatalf("url %v, want %q with a trailing slash", u, sf.s3.URL())
		}
		// The S3 user: the fixture's key, then the seed's.
		resp = send("getS3User", http.StatusOK)
		user := decode[map[string]any](t, resp)
		if user["userId"] != "user@example.com" || user["email"] != "user@example.com" || user["displayName"] != "user@example.com" {
			t.Fatalf("S3 user %s", resp.Body)
		}
		before := accessKeys(keysOf(t, send("listS3Keys", http.StatusOK)))
		if len(before) != 2 || before[1] != seedKey {
			t.Fatalf("keys %v", before)
		}
		created := accessKeys(keysOf(t, send("createS3Key", http.StatusOK)))
		if len(created) != 3 || !slices.Equal(created[:2], before) {
			t.Fatalf("after Generate key: %v, want %v and the new key last", created, before)
		}
		left := accessKeys(keysOf(t, send("deleteS3Key", http.StatusOK)))
		if want := []string{created[0], created[2]}; !slices.Equal(left, want) {
			t.Fatalf("after Delete key: %v, want %v", left, want)
		}
		// Buckets: create pang1 on 12345, read, move to 129072, list that
		// account, delete; POST creates it again.
		b := decode[map[string]any](t, send("createBucket", http.StatusOK))
		if b["name"] != "pang1" || b["billing_account_id"] != json.Number("12345") || b["size_bytes"] != json.Number("0") ||
			b["num_objects"] != json.Number("0") || b["is_suspended"] != false || b["created_at"] != b["modified_at"] {
			t.Fatalf("created %v", b)
		}
		if got := decode[map[string]any](t, send("getBucket", http.StatusOK)); got["name"] != "pang1" || got["created_at"] != b["created_at"] {
			t.Fatalf("get %v", got)
		}
		if got := decode[map[string]any](t, send("modifyBucket", http.StatusOK)); got["billing_account_id"] != json.Number("129072") {
			t.Fatalf("modified %v", got)
		}
		list := decode[[]map[string]any](t, send("listBuckets", http.StatusOK))
		if len(list) != 1 || list[0]["name"] != "pang1" || list[0]["billing_account_id"] != json.Number("129072") {
			t.Fatalf("list %v", list)
		}
		if resp := send("deleteBucket", http.StatusNoContent); len(resp.Body) != 0 {
			t.Fatalf("delete body %q", resp.Body)
		}
		wantStatus(t, sf.form(t, keyUser, "GET", "/storage/bucket?name=pang1", ""), http.StatusNotFound)
		if got := decode[map[string]any](t, send("createBucketByPost", http.StatusOK)); got["name"] != "pang1" ||
			got["billing_account_id"] != json.Number("12345") {
			t.Fatalf("created with POST %v", got)
		}
		// The curl example's own URL names a placeholder no bucket has.
		wantStatus(t, sf.form(t, keyUser, "GET", "/storage/bucket?name=bucket_name", ""), http.StatusNotFound)
	})
	var missing []string
	for _, op := range v.Uncovered() {
		if strings.Contains(op, " /storage/bucket") || strings.Contains(op, " /storage/user") || strings.Contains(op, " /storage/api") {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("object-storage operations never answered with success: %v", missing)
	}
}

// TestStorageBuckets: names are platform-wide (409 for anyone), only empty
// buckets are deleted, lists filter by account, restricted tokens default
// to (and are limited to) their account, global tokens must name one.
func TestStorageBuckets(t *testing.T) {
	// Not parallel: the data plane is the binary's one posix backend
	// (s3gwtest), where bucket names are global and reused between tests.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sf := newStorageFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec()))
		create := func(key, body string, status int) map[string]any {
			t.Helper()
			resp := sf.form(t, key, "PUT", "/storage/bucket", body)
			wantStatus(t, resp, status)
			if status != http.StatusOK {
				return map[string]any{"error": errorMessage(t, resp)}
			}
			return decode[map[string]any](t, resp)
		}
		names := func(key, query string) []string {
			t.Helper()
			resp := sf.form(t, key, "GET", "/storage/bucket/list"+query, "")
			wantStatus(t, resp, http.StatusOK)
			var out []string
			for _, b := range decode[[]map[string]any](t, resp) {
				out = append(out, b["name"].(string))
			}
			return out
		}
		create(keyUser, "name=alpha&billing_account_id=12345", http.StatusOK)
		create(keyUser, "name=beta&billing_account_id=129072", http.StatusOK)
		// A restricted token bills its own account without naming it.
		if b := create(keyRestricted, "name=gamma", http.StatusOK); b["billing_account_id"] != json.Number("6") {
			t.Fatalf("restricted create %v", b)
		}

		// Duplicates: the owner, the other user, with POST, and the
		// restricted token: 409 naming name.
		for _, c := range []struct{ key, method, body string }{
			{keyUser, "PUT", "name=alpha&billing_account_id=12345"},
			{keyUser, "POST", "name=beta&billing_account_id=12345"},
			{sf.otherKey, "PUT", "name=alpha&billing_account_id=11"},
			{keyRestricted, "PUT", "name=beta"},
		} {
			resp := sf.form(t, c.key, c.method, "/storage/bucket", c.body)
			wantStatus(t, resp, http.StatusConflict)
			if msg := errorMessage(t, resp); !strings.HasPrefix(msg, "name:") {
				t.Errorf("%s %s: message %q does not name name", c.method, c.body, msg)
			}
		}

		// Lists: all of user 8's, one account's, the restricted token's.
		if got := names(keyUser, ""); !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
			t.Fatalf("list %v", got)
		}
		if got := names(keyUser, "?billing_account_id=129072"); !slices.Equal(got, []string{"beta"}) {
			t.Fatalf("list of 129072 %v", got)
		}
		if got := names(keyUser, "?billing_account_id=9"); len(got) != 0 {
			t.Fatalf("list of 9 %v", got)
		}
		if got := names(keyRestricted, ""); !slices.Equal(got, []string{"gamma"}) {
			t.Fatalf("restricted list %v", got)
		}
		if got := names(sf.otherKey, ""); len(got) != 0 {
			t.Fatalf("the other user sees %v", got)
		}
		// Through S3 too: user 8's key lists its three, the other user's
		// none.
		mine := keysOf(t, sf.form(t, keyUser, "GET", "/storage/user/keys", ""))[0]
		if got, err := sf.s3Buckets(t, mine); err != nil || !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
			t.Fatalf("S3 ListBuckets as user 8: %v %v", got, err)
		}
		theirs := keysOf(t, sf.form(t, sf.otherKey, "GET", "/storage/user/keys", ""))[0]
		if got, err := sf.s3Buckets(t, theirs); err != nil || len(got) != 0 {
			t.Fatalf("S3 ListBuckets as the other user: %v %v", got, err)
		}

		// Another user's bucket, or one outside a restricted token's
		// account, is not found.
		for _, c := range []struct{ key, method, body string }{
			{sf.otherKey, "GET", "name=alpha"},
			{sf.otherKey, "PATCH", "name=alpha&billing_account_id=11"},
			{sf.otherKey, "DELETE", "name=alpha"},
			{keyRestricted, "GET", "name=alpha"},
			{keyRestricted, "DELETE", "name=alpha"},
			{keyUser, "GET", "name=nothere"},
		} {
			resp := sf.form(t, c.key, c.method, "/storage/bucket", c.body)
			wantStatus(t, resp, http.StatusNotFound)
		}

		// Bad input: 400 naming the field; a restricted token naming
		// another account 403; an account the user lacks 404.
		for _, c := range []struct {
			key, method, body string
			field             string
			specInvalid       bool
			status            int
		}{
			{keyUser, "PUT", "name=delta", "billing_account_id", false, 400},
			{keyUser, "POST", "name=delta", "billing_account_id", false, 400},
			{keyUser, "PUT", "billing_account_id=12345", "name", false, 400},
			{keyUser, "PUT", "name=Delta&billing_account_id=12345", "name", true, 400},
			{keyUser, "PUT", "name=de&billing_account_id=12345", "name", true, 400},
			{keyUser, "PUT", "name=de..lta&billing_account_id=12345", "name", false, 400},
			{keyUser, "PUT", "name=192.168.1.1&billing_account_id=12345", "name", false, 400},
			{keyUser, "PUT", "name=delta&billing_account_id=x", "billing_account_id", true, 400},
			{keyUser, "PATCH", "name=alpha", "billing_account_id", false, 400},
			{keyUser, "PATCH", "billing_account_id=9", "name", false, 400},
			{keyUser, "GET", "", "name", false, 400},
			{keyUser, "DELETE", "", "name", false, 400},
			{keyUser, "GET", "", "billing_account_id", true, 400}, // list, below
			{keyRestricted, "PUT", "name=delta&billing_account_id=12345", "", false, 403},
			{keyRestricted, "PATCH", "name=gamma&billing_account_id=12345", "", false, 403},
			{keyUser, "PUT", "name=delta&billing_account_id=11", "", false, 404},
			{keyUser, "PATCH", "name=alpha&billing_account_id=11", "", false, 404},
		} {
			path := "/storage/bucket"
			body := c.body
			if c.field == "billing_account_id" && c.method == "GET" {
				path, body = "/storage/bucket/list?billing_account_id=-1", ""
			}
			req := apitest.Request{Method: c.method, Path: prefix + path, Header: http.Header{}, ExpectInvalidRequest: c.specInvalid}
			if body != "" {
				req.Body = []byte(body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp := sf.do(t, c.key, req)
			if resp.Status != c.status {
				t.Errorf("%s %s %s: status %d, want %d: %s", c.method, path, body, resp.Status, c.status, resp.Body)
				continue
			}
			if c.field != "" && !strings.HasPrefix(errorMessage(t, resp), c.field+":") {
				t.Errorf("%s %s %s: message %q does not name %s", c.method, path, body, errorMessage(t, resp), c.field)
			}
		}
		if got := names(keyUser, ""); !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
			t.Fatalf("refused requests changed the buckets: %v", got)
		}

		// Only empty buckets are deleted: an object makes alpha 409 (and
		// leaves it whole); once the object is gone, 204.
		putObject(t, sf, "alpha", "hello.txt", []byte("hello, world"))
		resp := sf.form(t, keyUser, "GET", "/storage/bucket?name=alpha", "")
		if b := decode[map[string]any](t, resp); b["num_objects"] != json.Number("1") || b["size_bytes"] != json.Number("12") {
			t.Fatalf("alpha after a put: %v", b)
		}
		resp = sf.form(t, keyUser, "DELETE", "/storage/bucket", "name=alpha")
		wantStatus(t, resp, http.StatusConflict)
		if msg := errorMessage(t, resp); !strings.HasPrefix(msg, "name:") {
			t.Errorf("non-empty delete: %q", msg)
		}
		wantStatus(t, sf.form(t, keyUser, "GET", "/storage/bucket?name=alpha", ""), http.StatusOK)
		deleteObject(t, sf, "alpha", "hello.txt")
		wantStatus(t, sf.form(t, keyUser, "DELETE", "/storage/bucket?name=alpha", ""), http.StatusNoContent)
		// The name is free again, for anyone.
		create(sf.otherKey, "name=alpha&billing_account_id=11", http.StatusOK)

		// The paths are global, but a slug is accepted (an unknown one is
		// 404).
		resp = sf.do(t, keyUser, apitest.Request{Method: "GET", Path: prefix + "/cyc01/storage/bucket/list", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusOK)
		resp = sf.do(t, keyUser, apitest.Request{Method: "GET", Path: prefix + "/nowhere1/storage/bucket/list", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusNotFound)
	})
}

// TestStorageWithoutDataPlane: on a server running without the S3 data
// plane, S3 API Info and bucket creation answer 503 and change nothing;
// keys and reads work; a server without the section's services answers
// 503 instead of failing.
func TestStorageWithoutDataPlane(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		v := apitest.NewValidator(t, idcloudhost.Spec())
		sf := newStorageFixtureWith(t, d, v, false)
		wantStatus(t, sf.send(t, keyUser, readSeedRequest(t, "getS3Info")), http.StatusServiceUnavailable)
		wantStatus(t, sf.send(t, keyUser, readSeedRequest(t, "createBucket")), http.StatusServiceUnavailable)
		wantStatus(t, sf.send(t, keyUser, readSeedRequest(t, "createBucketByPost")), http.StatusServiceUnavailable)
		resp := sf.send(t, keyUser, readSeedRequest(t, "listBuckets"))
		wantStatus(t, resp, http.StatusOK)
		if list := decode[[]any](t, resp); len(list) != 0 {
			t.Fatalf("buckets %v", list)
		}
		wantStatus(t, sf.send(t, keyUser, readSeedRequest(t, "deleteBucket")), http.StatusNotFound)
		wantStatus(t, sf.send(t, keyUser, readSeedRequest(t, "getS3User")), http.StatusOK)
	})
	bare := newFixture(t, dbtest.Open(t, "sqlite"), apitest.NewValidator(t, idcloudhost.Spec()))
	wantStatus(t, bare.send(t, keyUser, readSeedRequest(t, "getS3Info")), http.StatusServiceUnavailable)
}

// TestMain removes the object store the S3 tests share (s3gwtest).
func TestMain(m *testing.M) { s3gwtest.Main(m) }

// dataPlane starts the embedded S3 server on the test binary's one posix
// backend (every test of the binary shares it), on a free loopback port.
// Caches are off, so a deleted key or bucket takes effect at once. When the
// test ends, the buckets it left are emptied and deleted from the shared
// backend, so the next test may use the same names.
func dataPlane(t *testing.T, st *sqlstore.Store, clk clock.Clock, bkt *buckets.Service, obj *objstore.Service) *s3gw.Server {
	t.Helper()
	ctx := context.Background() // the cleanups below use it, after t.Context() is cancelled
	reg := nodes.NewRegistry(sqlstore.Nodes{Store: st}, clk)
	lease, err := reg.Register(ctx, nodes.LeaseConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s3gw.New(s3gw.Config{Addr: "127.0.0.1:0", Backend: s3gwtest.Backend(t), Keys: obj, Buckets: bkt,
		Node: lease, Nodes: reg, KeyCacheTTL: -1, AccessCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(ctx) })
	t.Cleanup(func() {
		live, err := bkt.LiveBuckets(ctx)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, b := range live {
			if err := srv.EmptyBucket(ctx, b.Name); err != nil {
				t.Errorf("cleanup: empty %s: %v", b.Name, err)
			}
			if err := srv.DeleteBucket(ctx, b.Name); err != nil {
				t.Errorf("cleanup: delete %s: %v", b.Name, err)
			}
		}
	})
	return srv
}

// s3Client is an S3 client of the data plane with one of user 8's keys.
func (sf *storageFixture) s3Client(t *testing.T) *s3.Client {
	t.Helper()
	keys, err := sf.obj.UserKeys(sf.ctx, sf.user8, sf.user)
	if err != nil || len(keys) == 0 {
		t.Fatalf("user 8's keys: %v", err)
	}
	return sf.s3ClientWith(keys[0].AccessKey, keys[0].Secret)
}

// s3ClientWith is an S3 client of the data plane with a key pair as the API
// shows it (path style, the URL S3 API Info answers).
func (sf *storageFixture) s3ClientWith(accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(sf.s3.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		Retryer:     aws.NopRetryer{}})
}

// s3Buckets lists the buckets an S3 key sees through the data plane.
func (sf *storageFixture) s3Buckets(t *testing.T, key map[string]any) ([]string, error) {
	t.Helper()
	out, err := sf.s3ClientWith(key["accessKey"].(string), key["secretKey"].(string)).ListBuckets(sf.ctx, &s3.ListBucketsInput{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names, nil
}

// putObject and deleteObject write through the S3 endpoint as user 8.
func putObject(t *testing.T, sf *storageFixture, bucket, key string, body []byte) {
	t.Helper()
	_, err := sf.s3Client(t).PutObject(sf.ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key,
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func deleteObject(t *testing.T, sf *storageFixture, bucket, key string) {
	t.Helper()
	if _, err := sf.s3Client(t).DeleteObject(sf.ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		t.Fatalf("delete %s/%s: %v", bucket, key, err)
	}
}

// s3Slot is the node's S3 slot in these tests: the server is built on the
// bucket service, then put in the slot before any request is served.
type s3Slot struct{ srv *s3gw.Server }

func (s *s3Slot) Provider() (buckets.Provider, bool) { return s.srv, s.srv != nil }
