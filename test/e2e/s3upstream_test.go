package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// upstreamS3 is the upstream S3 store of the test: versitygw's posix store in
// a process of its own (internal/s3gw/s3gwtest/upstream), built and started
// here.
type upstreamS3 struct {
	URL, Access, Secret string
	cmd                 *exec.Cmd
}

func startUpstream(t *testing.T, delay time.Duration) *upstreamS3 {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "upstream")
	build := exec.Command("go", "build", "-o", bin, "../../internal/s3gw/s3gwtest/upstream")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the upstream S3 server: %v\n%s", err, out)
	}
	u := &upstreamS3{Access: "UPSTREAM" + randHex(t, 6), Secret: randHex(t, 20)}
	u.cmd = exec.Command(bin, "-dir", filepath.Join(dir, "data"), "-access", u.Access, "-secret", u.Secret,
		"-delay", delay.String())
	out, err := u.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	u.cmd.Stderr = os.Stderr
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = u.cmd.Process.Signal(syscall.SIGTERM)
		_ = u.cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if url, ok := strings.CutPrefix(s.Text(), "upstream-url "); ok {
				found <- url
			}
		}
	}()
	select {
	case u.URL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the upstream S3 server did not start")
	}
	return u
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// s3At is an S3 client of endpoint that does not retry (a failure is the
// answer the test counts).
func s3At(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true,
		Retryer:     aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})
}

func s3ErrCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// upstreamUsage lists a bucket on the upstream itself: its objects (key →
// size) and the bytes of the parts of its unfinished multipart uploads.
func upstreamUsage(t *testing.T, c *s3.Client, bucket string) (objects map[string]int64, partBytes int64) {
	t.Helper()
	ctx := t.Context()
	objects = map[string]int64{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			objects[*o.Key] = *o.Size
		}
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, up := range ups.Uploads {
		parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: up.Key, UploadId: up.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts.Parts {
			partBytes += *p.Size
		}
	}
	return objects, partBytes
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// upload is an acknowledged write: what a client was told is stored.
type upload struct {
	key  string
	node int
	size int64
	hash [32]byte
}

// Three `trellis serve --s3-backend s3` nodes on one PostgreSQL keep their
// objects in one upstream S3 server (a separate process): parallel uploads
// through all three against one storage account's quota store 0 bytes over
// it, an object written through one node is read through the others, and a
// node killed (SIGKILL) in the middle of uploads and restarted loses nothing:
// every acknowledged upload is readable, the counters equal the bytes the
// upstream lists, and no reservation is left.
func TestThreeNodesOnUpstreamS3(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewPostgresDatabase(t) // skips without TRELLIS_TEST_POSTGRES_URL
	ctx := t.Context()
	// Each write waits 100 ms before and after storing on the upstream, so
	// the kill below finds writes in flight on both sides of the store.
	up := startUpstream(t, 100*time.Millisecond)
	root := s3At(up.URL, up.Access, up.Secret)

	const adminKey = "upstream-s3-admin-key-0123456789"
	secretKey := strings.ToLower(randHex(t, 32))
	nodeArgs := make([][]string, 3)
	s3URLs := make([]string, 3)
	for i := range nodeArgs {
		s3Addr := freeAddr(t)
		s3URLs[i] = "http://" + s3Addr
		nodeArgs[i] = []string{"--db", dbURL, "--admin-key", adminKey, "--secret-key", secretKey, "--data-dir", t.TempDir(),
			"--rate-limit", "0", "--s3", s3Addr, "--s3-backend", "s3"}
	}
	env := []string{"TRELLIS_S3_UPSTREAM=" + up.URL, "TRELLIS_S3_UPSTREAM_KEY=" + up.Access, "TRELLIS_S3_UPSTREAM_SECRET=" + up.Secret}
	nodes := make([]*node, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); nodes[i] = start(t, env, nodeArgs[i]...) }()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Nodes that fail to start: the upstream unreachable, the credentials wrong.
	for _, bad := range []struct{ args []string }{
		{[]string{"--s3-upstream", "http://" + freeAddr(t), "--s3-upstream-key", up.Access, "--s3-upstream-secret", up.Secret}},
		{[]string{"--s3-upstream", up.URL, "--s3-upstream-key", up.Access, "--s3-upstream-secret", "wrong" + up.Secret}},
		{[]string{"--s3-upstream", up.URL, "--s3-upstream-key", "NOSUCHKEY", "--s3-upstream-secret", up.Secret}},
	} {
		args := append([]string{"serve", "--db", dbURL, "--data-dir", t.TempDir(), "--http", freeAddr(t), "--s3", freeAddr(t),
			"--s3-backend", "s3", "--admin-key", adminKey, "--secret-key", secretKey}, bad.args...)
		cmd := exec.Command(binary, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(out.String(), "s3 upstream") ||
				!strings.Contains(out.String(), "unreachable") && !strings.Contains(out.String(), "refused the credentials") {
				t.Fatalf("serve %v: %v, want a clear start failure; output:\n%s", bad.args, err, out.String())
			}
			t.Logf("start refused as it should: %s", lastLine(out.String()))
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("serve %v did not fail within 60 s", bad.args)
		}
	}

	// A distributor, a partner, and a storage account of 40 MB with
	// no overdraft, set up through different nodes.
	const alloc = int64(40_000_000)
	partnerKey := setupPartner(t, nodes[0], nodes[1], adminKey)
	saID, access, secret := storageAccountKeys(t, nodes[1], partnerKey, "Upstream quota", alloc)
	_, otherAccess, otherSecret := storageAccountKeys(t, nodes[2], partnerKey, "Upstream neighbour", 10_000_000)
	clients := make([]*s3.Client, 3)
	for i := range clients {
		clients[i] = s3At(s3URLs[i], access, secret)
	}
	bucket := "upstream-" + strings.ToLower(randHex(t, 4))
	if _, err := clients[2].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("the bucket is not on the upstream: %v", err)
	}

	// Ownership is Trellis's: another principal neither lists nor reads
	// the bucket, and a bucket Trellis did not create does not exist for
	// clients.
	foreign := "foreign-" + strings.ToLower(randHex(t, 4))
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &foreign}); err != nil {
		t.Fatal(err)
	}
	other := s3At(s3URLs[0], otherAccess, otherSecret)
	if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}); s3ErrCode(err) != "AccessDenied" {
		t.Fatalf("another principal lists the bucket: %v", err)
	}
	for _, c := range []*s3.Client{other, clients[0]} {
		lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range lb.Buckets {
			if *b.Name == foreign || c == other && *b.Name == bucket {
				t.Fatalf("ListBuckets shows %s to a principal that does not own it", *b.Name)
			}
		}
		if c == clients[0] && (len(lb.Buckets) != 1 || *lb.Buckets[0].Name != bucket) {
			t.Fatalf("the owner lists %v, want [%s]", lb.Buckets, bucket)
		}
	}
	if _, err := clients[0].ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &foreign}); s3ErrCode(err) != "NoSuchBucket" {
		t.Fatalf("a bucket Trellis did not create: %v, want NoSuchBucket", err)
	}
	// A name the upstream holds already is taken over while it is empty
	// (and deleted through Trellis from the upstream), refused while it
	// holds objects Trellis never counted.
	if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: &foreign, Key: aws.String("not-trellis"),
		Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &foreign}); s3ErrCode(err) != "BucketAlreadyExists" {
		t.Fatalf("creating a bucket the upstream holds with objects: %v, want BucketAlreadyExists", err)
	}
	adopted := "adopted-" + strings.ToLower(randHex(t, 4))
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &adopted}); err != nil {
		t.Fatal(err)
	}
	if _, err := clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &adopted}); err != nil {
		t.Fatalf("creating a bucket the upstream holds empty: %v", err)
	}
	if _, err := clients[1].DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &adopted}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &adopted}); err == nil {
		t.Fatal("a bucket deleted through Trellis is still on the upstream")
	}

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var (
		mu       sync.Mutex
		acked    []upload
		total    atomic.Int64 // uploads tried
		refused  atomic.Int64 // QuotaExceeded
		failed   atomic.Int64 // other failures (the killed node)
		killed   atomic.Bool
		inflight [3]atomic.Int64       // uploads in progress per node
		back     = make(chan struct{}) // closed when the killed node is back
	)
	putOne := func(nodeIdx int, key string, size int64, multipart bool) {
		body := make([]byte, size)
		_, _ = rand.Read(body)
		total.Add(1)
		inflight[nodeIdx].Add(1)
		defer inflight[nodeIdx].Add(-1)
		c := clients[nodeIdx]
		var err error
		if multipart {
			err = multipartPut(ctx, c, bucket, key, body)
		} else {
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body),
				ContentLength: aws.Int64(size)})
		}
		switch {
		case err == nil:
			mu.Lock()
			acked = append(acked, upload{key: key, node: nodeIdx, size: size, hash: sha256.Sum256(body)})
			mu.Unlock()
		case s3ErrCode(err) == "QuotaExceeded":
			refused.Add(1)
		default:
			failed.Add(1)
			if nodeIdx == 2 && killed.Load() {
				<-back // its next upload waits for the restart
			}
		}
	}
	// round runs workers per node, each putting n objects of 0.6–1.4 MB
	// (every fifth as a one-part multipart upload), all nodes at once.
	round := func(name string, workers, n int, during func(nodeIdx int, done int64)) {
		var wg sync.WaitGroup
		var perNode [3]atomic.Int64
		for ni := range 3 {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := mrand.New(mrand.NewPCG(uint64(ni*100+w), 14))
					for j := range n {
						key := fmt.Sprintf("%s/n%d-w%d-%02d", name, ni, w, j)
						putOne(ni, key, 600_000+rng.Int64N(800_000), j%5 == 4)
						if during != nil {
							during(ni, perNode[ni].Add(1))
						}
					}
				}()
			}
		}
		wg.Wait()
	}
	check := func(phase string) (listed int64) {
		t.Helper()
		objs, parts := upstreamUsage(t, root, bucket)
		listed = sum(objs) + parts
		var used, reserved, pending int64
		if err := conn.QueryRow(ctx, `SELECT used_bytes, reserved_bytes FROM s3_principals WHERE storage_account_id = $1`,
			saID).Scan(&used, &reserved); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM s3_reservations`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		over := max(listed-alloc, 0)
		t.Logf("%s: %d uploads tried, %d acknowledged, %d refused (quota), %d failed; upstream lists %d objects, %d bytes (+%d in parts); counter %d used, %d reserved; %d reservations; %d bytes over the %d-byte quota",
			phase, total.Load(), len(acked), refused.Load(), failed.Load(), len(objs), sum(objs), parts, used, reserved, pending, over, alloc)
		if over != 0 {
			t.Errorf("%s: %d bytes over the quota", phase, over)
		}
		if used != listed || reserved != 0 || pending != 0 {
			t.Errorf("%s: counter %d used / %d reserved, %d reservations; the upstream lists %d bytes", phase, used, reserved, pending, listed)
		}
		// Every acknowledged upload is there, read through another node
		// than the one that wrote it.
		for _, u := range acked {
			if objs[u.key] != u.size {
				t.Errorf("%s: acknowledged %s (%d bytes via node %d) is on the upstream with %d bytes", phase, u.key, u.size, u.node, objs[u.key])
				continue
			}
			got, err := clients[(u.node+1)%3].GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &u.key})
			if err != nil {
				t.Errorf("%s: read %s through node %d: %v", phase, u.key, (u.node+1)%3, err)
				continue
			}
			b, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || sha256.Sum256(b) != u.hash {
				t.Errorf("%s: %s read through node %d differs from what node %d stored (%v)", phase, u.key, (u.node+1)%3, u.node, err)
			}
		}
		return listed
	}

	// Round 1: 3 nodes × 4 workers × 8 uploads (≈ 96 MB) against 40 MB.
	began := time.Now()
	round("r1", 4, 8, nil)
	if refused.Load() == 0 || failed.Load() != 0 {
		t.Fatalf("round 1: %d refused, %d failed; want refusals only", refused.Load(), failed.Load())
	}
	check("round 1 (" + time.Since(began).Round(time.Millisecond).String() + ")")

	// A copy through one node of an object written through another, and
	// deletes through all three, free three quarters of the quota.
	var kept []upload
	for i, u := range acked {
		if i%4 != 1 {
			if _, err := clients[i%3].DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &u.key}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		kept = append(kept, u)
	}
	acked = kept
	src := kept[0]
	copyKey := "copied/" + src.key
	if _, err := clients[(src.node+2)%3].CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: &copyKey,
		CopySource: aws.String(bucket + "/" + src.key)}); err == nil {
		acked = append(acked, upload{key: copyKey, node: (src.node + 2) % 3, size: src.size, hash: src.hash})
	} else {
		t.Fatalf("copy: %v", err)
	}
	check("after deletes and a copy")

	// Round 2: the same load again; node 2 is killed (SIGKILL) once two of
	// its uploads are answered, while its other workers' uploads are in
	// flight, and restarted on the same data dir and S3 address.
	kill := make(chan struct{})
	var once sync.Once
	restarts := 0
	roundDone := make(chan struct{})
	go func() {
		round("r2", 4, 8, func(ni int, done int64) {
			if ni == 2 && done == 2 {
				once.Do(func() { close(kill) })
			}
		})
		close(roundDone)
	}()
	select {
	case <-kill:
	case <-roundDone:
		t.Fatal("round 2 ended before node 2 was killed")
	}
	killed.Store(true)
	inflightAtKill := inflight[2].Load()
	_ = nodes[2].cmd.Process.Kill()
	<-nodes[2].done
	var leftN, leftBytes int64
	if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(bytes), 0) FROM s3_reservations`).Scan(&leftN, &leftBytes); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 2 killed with %d of its uploads in flight; %d reservations (%d bytes) in the database right after the kill (all nodes)",
		inflightAtKill, leftN, leftBytes)
	nodes[2] = start(t, env, nodeArgs[2]...)
	restarts++
	close(back)
	<-roundDone
	for _, line := range strings.Split(nodes[2].Stderr(), "\n") {
		if strings.Contains(line, "recovered unfinished writes") {
			t.Logf("node 2 restarted: %s", line)
		}
	}
	// Recovery of the killed node's writes happens at its start; allow a
	// bounded wait in case it is left to a lease expiring instead.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM s3_reservations`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	check(fmt.Sprintf("round 2 with node 2 killed and restarted (%d restart)", restarts))
	t.Logf("three nodes on one upstream S3: %d uploads tried, %d acknowledged and readable, %d refused at the quota, %d failed by the kill, %d restart, %s in all",
		total.Load(), len(acked), refused.Load(), failed.Load(), restarts, time.Since(began).Round(time.Millisecond))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// multipartPut stores body as a one-part multipart upload.
func multipartPut(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: mp.UploadId})
		return err
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	return err
}

// setupPartner creates a distributor with a contract (through a) and a
// partner under it (through b) and returns an admin key of the partner.
func setupPartner(t *testing.T, a, b *node, adminKey string) string {
	t.Helper()
	const tb = int64(1_000_000_000_000)
	var orgs struct {
		Items []struct{ ID string } `json:"items"`
	}
	call(t, "GET", a.URL+"/api/v1/orgs?kind=provider", adminKey, "", &orgs)
	if len(orgs.Items) != 1 {
		t.Fatalf("provider orgs: %+v", orgs)
	}
	var dist, contract, partner struct{ ID string }
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/orgs", adminKey,
		fmt.Sprintf(`{"parentId": %q, "name": "Upstream distributor"}`, orgs.Items[0].ID), &dist))
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/contracts", adminKey,
		fmt.Sprintf(`{"orgId": %q, "reservedCapacity": %d, "costStorageGBCents": 100, "costEgressGBCents": 0, "currency": "EUR", "details": "Upstream"}`, dist.ID, 10*tb), &contract))
	var distKey, partnerKey struct{ Secret string }
	mustStatus(t, 201, call(t, "POST", a.URL+"/api/v1/keys", adminKey,
		fmt.Sprintf(`{"orgId": %q, "name": "dist", "role": "admin"}`, dist.ID), &distKey))
	mustStatus(t, 201, call(t, "POST", b.URL+"/impossiblecloud/v1/partner", distKey.Secret,
		fmt.Sprintf(`{"allocatedCapacity": %d, "distributorContractId": %q, "name": "Upstream partner"}`, tb, contract.ID), &partner))
	mustStatus(t, 201, call(t, "POST", b.URL+"/api/v1/keys", adminKey,
		fmt.Sprintf(`{"orgId": %q, "name": "partner", "role": "admin"}`, partner.ID), &partnerKey))
	return partnerKey.Secret
}

// storageAccountKeys creates a storage account of alloc bytes (no
// overdraft) through the Impossible Cloud API and returns its id and first
// S3 key.
func storageAccountKeys(t *testing.T, n *node, partnerKey, name string, alloc int64) (id, access, secret string) {
	t.Helper()
	var sa struct {
		ClientAccountID string `json:"clientAccountId"`
	}
	mustStatus(t, 201, call(t, "POST", n.URL+"/impossiblecloud/v1/storage-account", partnerKey,
		fmt.Sprintf(`{"name": %q, "allocatedCapacity": %d, "allowOverdraft": false, "clientAccount": {"contactEmail": "%s@example.com", "password": "Str0ng!pass"}}`,
			name, alloc, strings.ToLower(randHex(t, 6))), &sa))
	var keys struct {
		Items []struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		} `json:"items"`
	}
	mustStatus(t, 200, call(t, "GET", n.URL+"/api/v1/storage-accounts/"+sa.ClientAccountID+"/s3-keys", partnerKey, "", &keys))
	if len(keys.Items) == 0 {
		t.Fatal("the storage account has no S3 key")
	}
	return sa.ClientAccountID, keys.Items[0].AccessKey, keys.Items[0].SecretKey
}
