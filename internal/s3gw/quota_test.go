package s3gw_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// upload stores data under key: a PutObject, or (multipart) a one-part
// multipart upload, aborted when its part is refused.
func upload(c *s3.Client, bucket, key string, data []byte, multipart bool) error {
	if !multipart {
		return put(c, bucket, key, data)
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	n := int32(1)
	out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: &n,
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId})
		return err
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: &n, ETag: out.ETag}}}})
	return err
}

// race runs n uploads of size bytes at once (every fourth multipart) and
// returns the keys stored and the error codes of the others.
func race(t *testing.T, c *s3.Client, bucket, prefix string, n, size int) (ok []string, refused map[string]int) {
	t.Helper()
	var mu sync.Mutex
	refused = map[string]int{}
	var wg sync.WaitGroup
	data := body(size, 9)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("%s-%02d", prefix, i)
			err := upload(c, bucket, key, data, i%4 == 3)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok = append(ok, key)
			} else {
				refused[code(err)]++
			}
		}()
	}
	wg.Wait()
	return ok, refused
}

// 32 uploads of 1 MB (some multipart) race for a 10 MB allocation: exactly
// 10 are stored, the others refused with QuotaExceeded (403), and the
// stored total never exceeds the allocation. Deleting 3 frees room for
// exactly 3 more at once. An account with overdraft stores all 32.
func TestQuotaRace(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		principal, key := f.account(10*mb, false)
		srv := f.server("node-quota")
		c := client(srv.URL(), key)
		bkt := bucketName("quota")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		ok, refused := race(t, c, bkt, "first", 32, mb)
		if len(ok) != 10 || refused["QuotaExceeded"] != 22 {
			t.Fatalf("stored %d, refused %v", len(ok), refused)
		}
		used, reserved := f.quota(principal)
		if used != 10*mb || reserved != 0 {
			t.Fatalf("used %d reserved %d", used, reserved)
		}
		if b := f.bucket(bkt); b.SizeBytes != 10*mb || b.NumObjects != 10 || b.PartsBytes != 0 {
			t.Fatalf("bucket %+v", b)
		}
		// The refusal is a 403 with the S3 code and a message.
		err := put(c, bkt, "one-more", body(mb, 1))
		if code(err) != "QuotaExceeded" || !strings.Contains(err.Error(), "403") {
			t.Fatalf("over quota: %v", err)
		}

		for _, k := range ok[:3] {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String(k)}); err != nil {
				t.Fatal(err)
			}
		}
		ok2, refused2 := race(t, c, bkt, "second", 8, mb)
		if len(ok2) != 3 || refused2["QuotaExceeded"] != 5 {
			t.Fatalf("after deleting 3: stored %d, refused %v", len(ok2), refused2)
		}
		if used, reserved := f.quota(principal); used != 10*mb || reserved != 0 {
			t.Fatalf("used %d reserved %d", used, reserved)
		}
		rep, err := srv.Reconcile(ctx)
		if err != nil || len(rep.Drifts) != 0 {
			t.Fatalf("reconcile: %+v %v", rep, err)
		}

		// Overdraft: the allocation is not a cap.
		op, okey := f.account(10*mb, true)
		oc := client(srv.URL(), okey)
		obkt := bucketName("overdraft")
		if _, err := oc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &obkt}); err != nil {
			t.Fatal(err)
		}
		var stored atomic.Int64
		okO, refusedO := race(t, oc, obkt, "o", 32, mb)
		stored.Add(int64(len(okO)))
		if stored.Load() != 32 || len(refusedO) != 0 {
			t.Fatalf("overdraft: stored %d, refused %v", stored.Load(), refusedO)
		}
		if used, reserved := f.quota(op); used != 32*mb || reserved != 0 {
			t.Fatalf("overdraft used %d reserved %d", used, reserved)
		}
	})
}
