package fault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
)

// Identifiers of the demo data the workload acts on (internal/app demo).
const (
	demoContract = "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"
	demoAccount  = "6" // the idcloudhost demo billing account
	demoLocation = "cyc01"
	demoPool     = "d2fc6881-9316-46d7-b515-b6cddaeee927"
	demoNetwork  = "50341410-9e88-4af2-a21e-b8c898e33e52"
	s3Quota      = 3 << 20 // each S3 storage account's allocation
)

// s3Account is a strict storage account the S3 writers fill to its quota.
type s3Account struct {
	id, access, secret, bucket string
}

// fixture is what setup prepared for the workload.
type fixture struct {
	creds      map[string]string
	card       string // payment_object_id of the demo card
	bssAccount string // ExternalID of the synchronized BSS account
	s3         []s3Account
}

func setup(t *testing.T, cl *cluster, rng *mrand.Rand, creds map[string]string) *fixture {
	t.Helper()
	fx := &fixture{creds: creds}
	for _, k := range []string{"admin_key", "distributor_key", "idcloudhost_key", "bss_application_id", "bss_api_key",
		"itglobal_finance_key", "itglobal_project_id"} {
		if creds[k] == "" {
			t.Fatalf("demo credentials lack %s: %v", k, creds)
		}
	}
	must := func(r request, want int) []byte {
		t.Helper()
		rep, err := cl.do(rng, r, 3)
		if err != nil || rep.status != want {
			t.Fatalf("setup %s %s: %v %d %s", r.method, r.path, err, rep.status, rep.body)
		}
		return rep.body
	}
	// The demo card pays for credit.
	var cards []map[string]any
	if err := json.Unmarshal(must(idcRequest(creds, "GET", "/payment/card/list", neturl.Values{"billing_account_id": {demoAccount}}), 200), &cards); err != nil || len(cards) == 0 {
		t.Fatalf("demo cards: %v %v", err, cards)
	}
	fx.card = fmt.Sprint(cards[0]["id"])
	// A BSS account for the subscriptions.
	var res struct {
		Code   int
		Result string
	}
	if err := json.Unmarshal(must(bssRequest(creds, "accounts/synchronize", `{"ID":"fault-1","Name":"Fault GmbH","Email":"fault@example.com"}`), 200), &res); err != nil || res.Code != 0 {
		t.Fatalf("BSS account: %v %+v", err, res)
	}
	fx.bssAccount = res.Result
	// A partner with three strict 3 MiB storage accounts, each with a
	// bucket the S3 writers fill.
	var partner struct{ ID string }
	if err := json.Unmarshal(must(request{"POST", "/impossiblecloud/v1/partner", bearer(creds["distributor_key"]),
		[]byte(fmt.Sprintf(`{"allocatedCapacity": %d, "distributorContractId": %q, "name": "S3 partner"}`, int64(1)<<30, demoContract))}, 201), &partner); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var sa struct {
			ClientAccountID string `json:"clientAccountId"`
		}
		body := fmt.Sprintf(`{"allocatedCapacity": %d, "allowOverdraft": false, "name": "s3-%d", "clientAccount": {"contactEmail": "s3-%d@fault.example", "password": "Fault-Passw0rd!"}}`, s3Quota, i, i)
		if err := json.Unmarshal(must(request{"POST", "/impossiblecloud/v1/partner/" + partner.ID + "/storage-accounts", bearer(creds["distributor_key"]), []byte(body)}, 201), &sa); err != nil {
			t.Fatal(err)
		}
		var keys struct {
			Items []struct {
				AccessKey string `json:"access_key"`
				SecretKey string `json:"secret_key"`
			}
		}
		if err := json.Unmarshal(must(request{"GET", "/api/v1/storage-accounts/" + sa.ClientAccountID + "/s3-keys", bearer(creds["admin_key"]), nil}, 200), &keys); err != nil || len(keys.Items) == 0 || keys.Items[0].SecretKey == "" {
			t.Fatalf("S3 keys of %s: %v %+v", sa.ClientAccountID, err, keys)
		}
		acct := s3Account{id: sa.ClientAccountID, access: keys.Items[0].AccessKey, secret: keys.Items[0].SecretKey,
			bucket: fmt.Sprintf("fault-bucket-%d", i)}
		if _, err := s3Client(cl.nodes[0], acct).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(acct.bucket)}); err != nil {
			t.Fatalf("create bucket %s: %v", acct.bucket, err)
		}
		fx.s3 = append(fx.s3, acct)
	}
	return fx
}

func idcRequest(creds map[string]string, method, path string, form neturl.Values) request {
	r := request{method: method, path: "/idcloudhost/v1" + path, header: http.Header{"Apikey": {creds["idcloudhost_key"]}}}
	if method == http.MethodGet {
		if len(form) > 0 {
			r.path += "?" + form.Encode()
		}
		return r
	}
	if form != nil {
		r.body = []byte(form.Encode())
		r.header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func bssRequest(creds map[string]string, op, body string) request {
	h := http.Header{}
	h.Set(infiterra.HeaderApplicationID, creds["bss_application_id"])
	h.Set(infiterra.HeaderAPIKey, base64.StdEncoding.EncodeToString([]byte(creds["bss_api_key"])))
	h.Set("Content-Type", "application/json")
	return request{method: "POST", path: infiterra.Prefix + "/" + op, header: h, body: []byte(body)}
}

func s3Client(n *node, a s3Account) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(n.S3URL), Region: "us-east-1", UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider(a.access, a.secret, ""),
		RetryMaxAttempts: 1, HTTPClient: &http.Client{Timeout: 20 * time.Second}})
}

// keyed is a payment sent with an Idempotency-Key, kept until a node
// answers it (the recovery phase retries those that got no answer).
type keyed struct {
	req    request
	status int // last answer; 0: none yet
}

// workload is the mixed load of several goroutines, each with its own
// seeded generator.
type workload struct {
	cl   *cluster
	fx   *fixture
	seed uint64

	s3Acked atomic.Int64

	mu    sync.Mutex
	keyed []*keyed
	subs  []bssSub // BSS subscriptions created, shared by the BSS workers
	vmIDs []string // uuids of VMs created (acknowledged)
}

func newWorkload(cl *cluster, fx *fixture, seed uint64) *workload {
	return &workload{cl: cl, fx: fx, seed: seed}
}

func (w *workload) run(ctx context.Context, wg *sync.WaitGroup) {
	workers := []func(context.Context, *mrand.Rand){w.partners, w.partners, w.vms, w.vms, w.floatingIPs,
		w.payments, w.payments, w.payments, w.bss, w.bss, w.bss, w.itglobal}
	for i := range w.fx.s3 {
		workers = append(workers, func(ctx context.Context, rng *mrand.Rand) { w.s3Writer(ctx, rng, i) })
		workers = append(workers, func(ctx context.Context, rng *mrand.Rand) { w.s3Writer(ctx, rng, i) })
	}
	for i, f := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx, mrand.New(mrand.NewPCG(w.seed, uint64(i+1))))
		}()
	}
}

// pace keeps each worker to a few requests a second: the machine is shared.
func pace(ctx context.Context, rng *mrand.Rand) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Duration(50+rng.IntN(150)) * time.Millisecond):
		return true
	}
}

// partners creates partners, resizes them, gives them storage accounts and
// deletes some, all with the distributor key of the IC API.
func (w *workload) partners(ctx context.Context, rng *mrand.Rand) {
	key := w.fx.creds["distributor_key"]
	const gb = int64(1_000_000_000)
	var mine []string
	for pace(ctx, rng) {
		switch op := rng.IntN(10); {
		case op < 3 || len(mine) == 0:
			var p struct{ ID string }
			rep, err := w.cl.do(rng, request{"POST", "/impossiblecloud/v1/partner", bearer(key),
				[]byte(fmt.Sprintf(`{"allocatedCapacity": %d, "distributorContractId": %q, "name": "p-%d"}`, (1+rng.Int64N(50))*gb, demoContract, rng.Int64()))}, 2)
			if err == nil && rep.status == 201 && json.Unmarshal(rep.body, &p) == nil {
				mine = append(mine, p.ID)
			}
		case op < 6:
			id := mine[rng.IntN(len(mine))]
			_, _ = w.cl.do(rng, request{"PUT", "/impossiblecloud/v1/partner/" + id, bearer(key),
				[]byte(fmt.Sprintf(`{"allocatedCapacity": %d}`, rng.Int64N(60)*gb))}, 2)
		case op < 9:
			id := mine[rng.IntN(len(mine))]
			n := rng.Int64()
			_, _ = w.cl.do(rng, request{"POST", "/impossiblecloud/v1/partner/" + id + "/storage-accounts", bearer(key),
				[]byte(fmt.Sprintf(`{"allocatedCapacity": %d, "allowOverdraft": %t, "name": "sa-%d", "clientAccount": {"contactEmail": "sa-%d@fault.example", "password": "Fault-Passw0rd!"}}`,
					(1+rng.Int64N(10))*gb, rng.IntN(4) == 0, n, n))}, 2)
		default:
			i := rng.IntN(len(mine))
			rep, err := w.cl.do(rng, request{"DELETE", "/impossiblecloud/v1/partner/" + mine[i], bearer(key), nil}, 2)
			if err == nil && rep.status < 300 {
				mine = append(mine[:i], mine[i+1:]...)
			}
		}
	}
}

// s3Writer puts objects of 64–512 KiB (some overwrites) into its account's
// bucket until the quota refuses them, and deletes some, through any node.
func (w *workload) s3Writer(ctx context.Context, rng *mrand.Rand, i int) {
	acct := w.fx.s3[i]
	clients := make([]*s3.Client, len(w.cl.nodes))
	for j, n := range w.cl.nodes {
		clients[j] = s3Client(n, acct)
	}
	// The requests' own context: one in flight when the workload ends
	// finishes (or times out) like any other.
	rctx := context.Background()
	for pace(ctx, rng) {
		key := fmt.Sprintf("obj-%d", rng.IntN(40))
		first := rng.IntN(len(clients))
		del := rng.IntN(5) == 0
		size := 64<<10 + rng.IntN(448<<10)
		body := bytes.Repeat([]byte{byte('a' + rng.IntN(26))}, size)
		for j := range clients {
			c, n := clients[(first+j)%len(clients)], w.cl.nodes[(first+j)%len(clients)]
			w.cl.st.sent.Add(1)
			n.s3InFlight.Add(1)
			var err error
			if del {
				_, err = c.DeleteObject(rctx, &s3.DeleteObjectInput{Bucket: aws.String(acct.bucket), Key: aws.String(key)})
			} else {
				_, err = c.PutObject(rctx, &s3.PutObjectInput{Bucket: aws.String(acct.bucket), Key: aws.String(key),
					Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(size))})
				if err == nil {
					w.s3Acked.Add(1)
				}
			}
			n.s3InFlight.Add(-1)
			var ae smithy.APIError
			switch {
			case err == nil:
				w.cl.st.acked.Add(1)
			case errors.As(err, &ae):
				w.cl.st.refused.Add(1) // an S3 error answer (quota exceeded, …)
			default:
				w.cl.noAnswer(n, "S3 "+acct.bucket+"/"+key, err)
				continue // the node did not answer: the next one
			}
			break
		}
	}
}

func vmForm(rng *mrand.Rand) neturl.Values {
	return neturl.Values{"name": {fmt.Sprintf("fault-%d", rng.IntN(1_000_000))}, "os_name": {"ubuntu"}, "os_version": {"16.04"},
		"disks": {"20"}, "vcpu": {"1"}, "ram": {"1024"}, "designated_pool_uuid": {demoPool}, "username": {"example"},
		"password": {"Password123"}, "billing_account_id": {demoAccount}, "network_uuid": {demoNetwork}}
}

// vms creates, stops, starts and deletes idcloudhost VMs; with
// --provider-delay their steps run on River workers, which the kills
// interrupt.
func (w *workload) vms(ctx context.Context, rng *mrand.Rand) {
	creds := w.fx.creds
	base := "/" + demoLocation + "/user-resource/vm"
	var mine []string
	for pace(ctx, rng) {
		switch op := rng.IntN(10); {
		case op < 3 || len(mine) == 0:
			if len(mine) >= 4 {
				continue
			}
			rep, err := w.cl.do(rng, idcRequest(creds, "POST", base, vmForm(rng)), 2)
			var vm struct{ UUID string }
			if err == nil && rep.status == 200 && json.Unmarshal(rep.body, &vm) == nil && vm.UUID != "" {
				mine = append(mine, vm.UUID)
				w.mu.Lock()
				w.vmIDs = append(w.vmIDs, vm.UUID)
				w.mu.Unlock()
			}
		case op < 5:
			_, _ = w.cl.do(rng, idcRequest(creds, "POST", base+"/stop", neturl.Values{"uuid": {mine[rng.IntN(len(mine))]}}), 2)
		case op < 7:
			_, _ = w.cl.do(rng, idcRequest(creds, "POST", base+"/start", neturl.Values{"uuid": {mine[rng.IntN(len(mine))]}}), 2)
		case op < 8:
			_, _ = w.cl.do(rng, idcRequest(creds, "GET", base, neturl.Values{"uuid": {mine[rng.IntN(len(mine))]}}), 2)
		default:
			i := rng.IntN(len(mine))
			rep, err := w.cl.do(rng, idcRequest(creds, "DELETE", base, neturl.Values{"uuid": {mine[i]}}), 2)
			if err == nil && rep.status < 300 {
				mine = append(mine[:i], mine[i+1:]...)
			}
		}
	}
}

// floatingIPs takes and frees public addresses of the demo pool.
func (w *workload) floatingIPs(ctx context.Context, rng *mrand.Rand) {
	creds := w.fx.creds
	var mine []string
	for pace(ctx, rng) {
		if rng.IntN(3) > 0 || len(mine) == 0 {
			r := idcRequest(creds, "POST", "/"+demoLocation+"/network/ip_addresses", nil)
			r.header.Set("Content-Type", "application/json")
			r.body = []byte(fmt.Sprintf(`{"name": "fip-%d", "billing_account_id": %s}`, rng.IntN(1_000_000), demoAccount))
			rep, err := w.cl.do(rng, r, 2)
			var ip struct{ Address string }
			if err == nil && rep.status == 200 && json.Unmarshal(rep.body, &ip) == nil && ip.Address != "" {
				mine = append(mine, ip.Address)
			}
			continue
		}
		i := rng.IntN(len(mine))
		rep, err := w.cl.do(rng, idcRequest(creds, "DELETE", "/"+demoLocation+"/network/ip_addresses/"+mine[i], nil), 2)
		if err == nil && rep.status < 300 {
			mine = append(mine[:i], mine[i+1:]...)
		}
	}
}

// payments buys credit with the demo card, every other time with an
// Idempotency-Key; a keyed payment that got no answer is kept for the
// recovery phase, which must be able to complete it.
func (w *workload) payments(ctx context.Context, rng *mrand.Rand) {
	for pace(ctx, rng) {
		r := idcRequest(w.fx.creds, "POST", "/payment/credit/buy", neturl.Values{"billing_account_id": {demoAccount},
			"payment_object_id": {w.fx.card}, "amount": {fmt.Sprintf("%d.%02d", 1+rng.IntN(5), rng.IntN(100))}})
		if rng.IntN(2) == 0 {
			_, _ = w.cl.do(rng, r, 2)
			continue
		}
		r.header.Set("Idempotency-Key", fmt.Sprintf("fault-%d-%d", w.seed, rng.Int64()))
		k := &keyed{req: r}
		w.mu.Lock()
		w.keyed = append(w.keyed, k)
		w.mu.Unlock()
		if rep, err := w.cl.do(rng, r, 2); err == nil {
			k.status = rep.status
		}
	}
}

type bssSub struct{ id, subID string }

// bss creates BSS subscriptions and updates their quantity; the BSS workers
// share the subscriptions, so updates of one subscription race across
// nodes.
func (w *workload) bss(ctx context.Context, rng *mrand.Rand) {
	creds := w.fx.creds
	for pace(ctx, rng) {
		w.mu.Lock()
		subs := w.subs
		w.mu.Unlock()
		if rng.IntN(4) == 0 || len(subs) == 0 {
			subID := fmt.Sprintf("fault-%d", rng.Int64())
			rep, err := w.cl.do(rng, bssRequest(creds, "subscriptions/create", fmt.Sprintf(`{"SubscriptionID":%q,"Name":"Fault storage",
				"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision","Quantity":1,
				"Account":{"ID":"fault-1","ExternalID":%q}}`, subID, w.fx.bssAccount)), 2)
			var res struct {
				Code   int
				Result string
			}
			if err == nil && rep.status == 200 && json.Unmarshal(rep.body, &res) == nil && res.Code == 0 && res.Result != "" {
				w.mu.Lock()
				w.subs = append(w.subs, bssSub{res.Result, subID})
				w.mu.Unlock()
			}
			continue
		}
		s := subs[rng.IntN(len(subs))]
		_, _ = w.cl.do(rng, bssRequest(creds, "subscriptions/update", fmt.Sprintf(`{"ID":%q,"SubscriptionID":%q,
			"ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-tb","ActionType":"Provision","Quantity":%d,
			"Account":{"ID":"fault-1","ExternalID":%q}}`, s.id, s.subID, 1+rng.IntN(3), w.fx.bssAccount)), 2)
	}
}

// itglobal posts payments into the demo project of the Partner API v2.
func (w *workload) itglobal(ctx context.Context, rng *mrand.Rand) {
	creds := w.fx.creds
	for pace(ctx, rng) {
		_, _ = w.cl.do(rng, request{"POST", "/itglobal/v2/operations/projects/" + creds["itglobal_project_id"], bearer(creds["itglobal_finance_key"]),
			[]byte(fmt.Sprintf(`{"TypeOperation":"DengiOnlinePlus","Amount":%d}`, 1+rng.IntN(500)))}, 2)
	}
}
