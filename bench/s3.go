package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/litedriver"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// keysPerWorker bounds the disk a PUT measurement fills: each worker
// overwrites its own few keys in turn (an overwrite is the accounting's
// full path: the old object is read, the difference settled).
const keysPerWorker = 8

// rounds × -d is how long each side of an S3 figure is measured.
const rounds = 3

// s3Bench measures PUT and GET throughput of 64 KiB and 4 MiB objects
// through Trellis's S3 server (SigV4 against Trellis's keys, quota
// reservation and settling on SQLite, bucket-state checks) against
// versitygw alone on the same posix backend with its root key, in the same
// process and run, in short interleaved slices (s3Compare): the posix
// backend's disk writes, and whatever else runs on the machine, vary a lot
// from one second to the next. A last line shows what
// the key and bucket-state caches are worth: GETs through a second Trellis
// server with both caches off.
func s3Bench(ctx context.Context, dataDir string, dur time.Duration) {
	be, err := s3gw.OpenBackend(s3gw.Dirs(dataDir))
	check(err)

	// Baseline: versitygw, root key, bare posix backend.
	rootKey, rootSecret := "BENCHROOT", "bench-root-secret-0123456789abcdefghijkl"
	plain, err := s3gw.StartPlain(be, "127.0.0.1:0", "", rootKey, rootSecret)
	check(err)
	defer plain.Stop()
	base := s3Client(plain.URL(), rootKey, rootSecret)
	check(createBucket(ctx, base, "bench-plain"))

	// Trellis: its own SQLite database with a capped storage account whose
	// allocation is large enough never to refuse.
	d, err := litedriver.Open(filepath.Join(dataDir, "s3bench.db"))
	check(err)
	defer d.Close()
	check(migrations.Up(ctx, d))
	check(jobs.Migrate(ctx, d))
	st := sqlstore.New(d)
	clk := clock.Real{}
	sys := actor.System("bench")
	ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
	obj := wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{}))
	bk := wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: st}, Principals: obj, Clock: clk, DataPlane: buckets.NoDataPlane{}}))
	root, err := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "S3 bench"})
	check(err)
	dist, err := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "S3 bench distributor"})
	check(err)
	c, err := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: 1 << 60,
		Currency: "EUR", Details: "S3 bench"})
	check(err)
	p, err := ten.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "S3 bench partner", AllocatedCapacity: 1 << 52})
	check(err)
	sa, err := obj.CreateStorageAccount(ctx, sys, p.ID, objstore.CreateStorageAccountInput{Name: "S3 bench",
		AllocatedCapacity: 1 << 50, ContactEmail: "s3bench@example.com", Password: "Str0ng!pass"})
	check(err)
	_, keys, err := obj.AccountKeys(ctx, sys, p.ID, sa.ID)
	check(err)
	reg := nodes.NewRegistry(sqlstore.Nodes{Store: st}, clk)
	lease, err := reg.Register(ctx, nodes.LeaseConfig{})
	check(err)
	srv, err := s3gw.New(s3gw.Config{Addr: "127.0.0.1:0", Backend: be, Keys: obj, Buckets: bk, Node: lease, Nodes: reg,
		Logger: slog.New(slog.DiscardHandler)})
	check(err)
	check(srv.Start(ctx))
	defer srv.Stop(ctx)
	trellis := s3Client(srv.URL(), keys[0].AccessKey, keys[0].Secret)
	check(createBucket(ctx, trellis, "bench-trellis"))

	for _, size := range []int{64 << 10, 4 << 20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		label := fmt.Sprintf("%d KiB", size>>10)
		if size >= 1<<20 {
			label = fmt.Sprintf("%d MiB", size>>20)
		}
		putOne := func(c *s3.Client, bucket string) func(int) bool {
			return func(i int) bool {
				key := fmt.Sprintf("obj-%d", i%(workers*keysPerWorker))
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data),
					ContentLength: aws.Int64(int64(size))})
				return err == nil
			}
		}
		getOne := func(c *s3.Client, bucket string) func(int) bool {
			return func(i int) bool {
				key := fmt.Sprintf("obj-%d", i%(workers*keysPerWorker))
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				if err != nil {
					return false
				}
				n, err := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				return err == nil && n == int64(size)
			}
		}
		for _, op := range []struct {
			name string
			do   func(*s3.Client, string) func(int) bool
		}{{"PUT", putOne}, {"GET", getOne}} {
			baseRate, fullRate := s3Compare(dur, op.do(base, "bench-plain"), op.do(trellis, "bench-trellis"))
			mbps := func(r float64) float64 { return r * float64(size) / (1 << 20) }
			fmt.Printf("%-34s %8.0f obj/s %6.0f MiB/s   versitygw alone %8.0f obj/s %6.0f MiB/s   ratio %.3f\n",
				fmt.Sprintf("S3 %s %s, %d-way (SQLite)", op.name, label, workers), fullRate, mbps(fullRate),
				baseRate, mbps(baseRate), fullRate/baseRate)
		}
	}
	// The caches: the same GETs with every key and bucket state read from
	// the database.
	lease2, err := reg.Register(ctx, nodes.LeaseConfig{})
	check(err)
	nocache, err := s3gw.New(s3gw.Config{Addr: "127.0.0.1:0", Backend: be, Keys: obj, Buckets: bk, Node: lease2, Nodes: reg,
		Logger: slog.New(slog.DiscardHandler), KeyCacheTTL: -1, AccessCacheTTL: -1})
	check(err)
	check(nocache.Start(ctx))
	defer nocache.Stop(ctx)
	uncached := s3Client(nocache.URL(), keys[0].AccessKey, keys[0].Secret)
	get64 := func(c *s3.Client) func(int) bool {
		bucket := "bench-trellis"
		return func(i int) bool {
			key := fmt.Sprintf("obj-%d", i)
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return false
			}
			_, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
			return err == nil
		}
	}
	// The objects are 4 MiB by now; rewrite them at 64 KiB.
	small := make([]byte, 64<<10)
	for i := range workers * keysPerWorker {
		key, bucket := fmt.Sprintf("obj-%d", i), "bench-trellis"
		_, err := trellis.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(small),
			ContentLength: aws.Int64(int64(len(small)))})
		check(err)
	}
	cachedRate, uncachedRate := s3Compare(dur, get64(trellis), get64(uncached))
	fmt.Printf("%-34s %8.0f obj/s                  with the caches  %8.0f obj/s                ratio %.3f\n",
		"S3 GET 64 KiB, caches off", uncachedRate, cachedRate, uncachedRate/cachedRate)

	rep, err := srv.Reconcile(ctx)
	check(err)
	fmt.Printf("%-34s %d buckets compared, %d drifting\n", "S3 reconciliation after the run", rep.Buckets, len(rep.Drifts))
}

// s3Compare measures two sides in short interleaved slices, alternating
// which goes first and syncing the disk before each (dirty pages of one
// slice would otherwise be written back during the next), so both see the
// same background load; it returns each side's operations per second over
// all its slices (rounds × d each).
func s3Compare(d time.Duration, a, b func(int) bool) (rateA, rateB float64) {
	const slices = 4 * rounds
	slice := time.Duration(rounds) * d / slices
	var opsA, opsB float64
	for i := range slices {
		if i%2 == 0 {
			opsA += s3Rate(slice, a)
			opsB += s3Rate(slice, b)
		} else {
			opsB += s3Rate(slice, b)
			opsA += s3Rate(slice, a)
		}
	}
	return opsA / slices, opsB / slices
}

// s3Rate runs workers goroutines for d, each numbering its own keys, and
// returns successful operations per second.
func s3Rate(d time.Duration, do func(int) bool) float64 {
	syscall.Sync()
	var w atomic.Int64
	return rateWith(d, func() func(int) bool {
		worker := int(w.Add(1) - 1)
		n := 0
		return func(int) bool {
			n++
			return do(worker*keysPerWorker + n%keysPerWorker)
		}
	})
}

func s3Client(url, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:       s3gw.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}},
	})
}

func createBucket(ctx context.Context, c *s3.Client, name string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
	return err
}
