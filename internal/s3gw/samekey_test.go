package s3gw_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Issue 14, finding 2 (found by the fault suite): two nodes on one database
// and one store put, copy and delete the SAME few keys at once, with sizes
// that differ, against a quota. Each node's own lock serialised only its
// own writes, so both stat the same old object and settle against the same
// replaced size: the counters drifted from what is stored, and a bucket
// whose counters said "under quota" held more than its quota. Afterwards
// the counters must equal what S3 lists, nothing stays reserved, and what
// is listed is within the quota.
func TestTwoNodesWriteTheSameKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const alloc = 1_500_000
		principal, key := f.account(alloc, false)
		srvs := []*s3gw.Server{f.server(""), f.server("")}
		bkt := bucketName("samekey")
		if _, err := client(srvs[0].URL(), key).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		keys := []string{"a", "b", "c"}
		sizes := []int{1, 90_000, 250_000, 400_000, 700_000}
		const workers, ops = 4, 25
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for n, srv := range srvs {
			for w := range workers {
				c := client(srv.URL(), key)
				rng := rand.New(rand.NewPCG(uint64(n), uint64(w)))
				wg.Go(func() {
					for range ops {
						k := keys[rng.IntN(len(keys))]
						var err error
						op := rng.IntN(10)
						switch {
						case op < 6:
							err = put(c, bkt, k, body(sizes[rng.IntN(len(sizes))], byte(op)))
						case op < 8:
							other := keys[(slices.Index(keys, k)+1+rng.IntN(len(keys)-1))%len(keys)]
							src := bkt + "/" + other
							_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bkt, Key: &k, CopySource: &src})
						default:
							_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String(k)})
						}
						mu.Lock()
						counts[fmt.Sprint(op < 6, op < 8, code(err))]++
						mu.Unlock()
						switch code(err) {
						case "", "QuotaExceeded", "NoSuchKey":
						default:
							t.Errorf("op %d on %s: %v", op, k, err)
						}
					}
				})
			}
		}
		wg.Wait()
		t.Logf("outcomes (put, put|copy, code): %v", counts)

		c := client(srvs[1].URL(), key)
		var bytes, objects int64
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bkt})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			bytes += *o.Size
			objects++
		}
		b := f.bucket(bkt)
		used, reserved := f.quota(principal)
		if b.SizeBytes != bytes || b.NumObjects != objects || used != bytes || reserved != 0 {
			t.Fatalf("counters: bucket %d bytes / %d objects, principal %d used / %d reserved; listed %d bytes / %d objects",
				b.SizeBytes, b.NumObjects, used, reserved, bytes, objects)
		}
		if bytes > alloc {
			t.Fatalf("listed %d bytes on %d allocated (%d over)", bytes, alloc, bytes-alloc)
		}
		if left := f.pending(); len(left) != 0 {
			t.Fatalf("reservations left: %+v", left)
		}
	})
}
