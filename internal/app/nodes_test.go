package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Issue 14, finding 1: 32 parallel subscriptions/update calls for one
// subscription, grows and shrinks, split across two nodes on one database,
// once froze both nodes: a shrink read the stored bytes on a second pool
// connection while its transaction held the subscription's row, and the
// pools ran dry. Every call must answer, in bounded time, and the
// capacities must add up afterwards.
func TestBSSParallelUpdatesOnTwoNodes(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := t.Context()
			clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
			key := bytes.Repeat([]byte{7}, 32) // nodes sharing a database share the sealing key
			var nodes [2]*app.App
			var urls [2]string
			for i, d := range dbtest.Nodes(t, kind, 2) {
				a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir(), Clock: clk, SecretKey: key})
				if err != nil {
					t.Fatal(err)
				}
				nodes[i] = a
				srv := httptest.NewServer(a.Handler)
				t.Cleanup(srv.Close)
				urls[i] = srv.URL
			}
			boot, err := nodes[0].Bootstrap(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			creds, err := nodes[0].LoadDemo(ctx, boot.Root, boot.NewAdminKey)
			if err != nil {
				t.Fatal(err)
			}
			v := validator(t, infiterra.Spec())
			// Each call is bounded: a hung node fails the test, it does
			// not hang it.
			const bound = 20 * time.Second
			client := &http.Client{Timeout: bound}
			call := func(node int, path, body string) (map[string]any, int, error) {
				h := http.Header{}
				h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
				h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
				h.Set("Content-Type", "application/json; charset=utf-8")
				r, err := http.NewRequest("POST", urls[node]+infiterra.Prefix+"/"+path, bytes.NewReader([]byte(body)))
				if err != nil {
					return nil, 0, err
				}
				r.Header = h
				resp, err := client.Do(r)
				if err != nil {
					return nil, 0, err
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				if _, err := b.ReadFrom(resp.Body); err != nil {
					return nil, resp.StatusCode, err
				}
				v.Check(t, apitest.Request{Method: "POST", Path: infiterra.Prefix + "/" + path, Header: h, Body: []byte(body)},
					apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()})
				var out map[string]any
				if err := json.Unmarshal(b.Bytes(), &out); err != nil {
					return nil, resp.StatusCode, fmt.Errorf("%s: %w", b.Bytes(), err)
				}
				return out, resp.StatusCode, nil
			}
			ok := func(node int, path, body string) map[string]any {
				out, status, err := call(node, path, body)
				if err != nil || status != 200 || out["Code"] != 0.0 {
					t.Fatalf("%s: %d %v %v", path, status, out, err)
				}
				return out
			}
			acct := ok(0, "accounts/synchronize", `{"ID":"7101","ExternalID":null,"Name":"Parallel AG",
				"Email":"it@parallel.example","SyncOptions":{"username":"it@parallel.example"}}`)["Result"].(string)
			sub := ok(1, "subscriptions/create", fmt.Sprintf(`{"ID":null,"SubscriptionID":"9101",
				"Name":"Parallel storage","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision",
				"Quantity":2,"Account":{"ID":"7101","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, acct))
			subID := sub["Result"].(string)
			saID := sub["CustomFieldValues"].(map[string]any)["ICStorageAccountId"].(string)

			const n = 32
			type outcome struct {
				took   time.Duration
				status int
				code   any
				msg    string
				err    error
			}
			res := make([]outcome, n)
			start := time.Now()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					qty := 1 + i%4 // 1, 2, 3, 4 TB: grows and shrinks in every order
					t0 := time.Now()
					out, status, err := call(i%2, "subscriptions/update", fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9101",
						"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision","Quantity":%d,
						"Account":{"ID":"7101","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, subID, qty, acct))
					res[i] = outcome{took: time.Since(t0), status: status, code: out["Code"], msg: fmt.Sprint(out["Message"]), err: err}
				})
			}
			wg.Wait()
			total := time.Since(start)
			var hung, failed int
			var slowest time.Duration
			for i, r := range res {
				slowest = max(slowest, r.took)
				switch {
				case r.err != nil:
					hung++
					t.Errorf("update %d (node %d): %v after %v", i, i%2+1, r.err, r.took)
				case r.status != 200 || r.code != 0.0:
					failed++
					t.Errorf("update %d (node %d): %d, Code %v (%s) after %v", i, i%2+1, r.status, r.code, r.msg, r.took)
				}
			}
			t.Logf("%s: %d updates on 2 nodes in %v (slowest %v): %d without an answer, %d refused",
				kind, n, total.Round(time.Millisecond), slowest.Round(time.Millisecond), hung, failed)
			if t.Failed() {
				return
			}
			// The capacities add up: the storage account holds one of the
			// quantities asked for, and the contract exactly the partner's.
			sys := actor.System("test")
			partner, err := nodes[0].Objstore.LocateAccount(ctx, sys, saID)
			if err != nil {
				t.Fatal(err)
			}
			sa, err := nodes[1].Objstore.GetStorageAccount(ctx, sys, partner, saID)
			if err != nil {
				t.Fatal(err)
			}
			if tb := sa.AllocatedCapacity / 1_000_000_000_000; sa.AllocatedCapacity%1_000_000_000_000 != 0 || tb < 1 || tb > 4 {
				t.Fatalf("storage account capacity %d after the race", sa.AllocatedCapacity)
			}
			p, err := nodes[0].Tenancy.GetOrg(ctx, sys, partner)
			if err != nil {
				t.Fatal(err)
			}
			if p.AccountsAllocated != sa.AllocatedCapacity {
				t.Fatalf("partner's accounts allocated %d, the storage account's %d", p.AccountsAllocated, sa.AllocatedCapacity)
			}
		})
	}
}

// Issue 14, finding 1: a call that waits on a row another session holds
// fails within lock_timeout with the dialect's 503 (Retry-After), instead
// of hanging its node; nothing changes.
func TestBSSUpdateOnLockedRowIs503(t *testing.T) {
	t.Parallel()
	url := dbtest.NewPostgresDatabase(t) // skips without PostgreSQL
	ctx := t.Context()
	d := dbtest.OpenAt(t, "postgres", url+"&lock_timeout=300ms")
	holder := dbtest.OpenAt(t, "postgres", url)
	a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))})
	v := validator(t, infiterra.Spec())
	acct := bssCall(t, a, v, creds, "accounts/synchronize", `{"ID":"7201","ExternalID":null,"Name":"Locked AG",
		"Email":"it@locked.example","SyncOptions":{"username":"it@locked.example"}}`)["Result"].(string)
	sub := bssCall(t, a, v, creds, "subscriptions/create", fmt.Sprintf(`{"ID":null,"SubscriptionID":"9201",
		"Name":"Locked storage","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision",
		"Quantity":1,"Account":{"ID":"7201","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, acct))["Result"].(string)

	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- holder.Tx(ctx, func(q db.Querier) error {
			if _, err := q.ExecContext(ctx, `SELECT 1 FROM bss_subscriptions FOR UPDATE`); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	h := http.Header{}
	h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
	h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
	h.Set("Content-Type", "application/json; charset=utf-8")
	start := time.Now()
	resp := v.Do(t, a.Handler, apitest.Request{Method: "POST", Path: infiterra.Prefix + "/subscriptions/update", Header: h,
		Body: []byte(fmt.Sprintf(`{"ID":%q,"SubscriptionID":"9201","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb",
		"ActionType":"Provision","Quantity":3,"Account":{"ID":"7201","ExternalID":%q},"AttributeList":{},"Addons":[],"CheckOnly":false}`, sub, acct))})
	took := time.Since(start)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("update on a locked row: %d %s after %v", resp.Status, bytes.TrimSpace(resp.Body), took)
	if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || took > 10*time.Second {
		t.Fatalf("update on a locked row: %d %s (Retry-After %q) after %v, want 503 within the lock timeout",
			resp.Status, resp.Body, resp.Header.Get("Retry-After"), took)
	}
}
