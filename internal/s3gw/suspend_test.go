package s3gw_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// suspend suspends or resumes a storage account as the BSS does: inside a
// transaction of the caller's.
func (f *fixture) suspend(id string, on bool) {
	f.t.Helper()
	err := sqlstore.Objstore{Store: f.st}.Tx(f.t.Context(), func(tx objstore.Store) error {
		_, err := f.obj.SetSuspendedTx(f.t.Context(), tx, sys, f.partner.ID, id, on)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// A suspended storage account keeps its data but serves none of it: gets
// and puts are refused with AccessDenied saying why, and so is a new
// bucket; resumed, both work again. With the default cache the refusal
// starts once its 2 s passed on the server's clock.
func TestSuspendedAccount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		id, key := f.account(10*mb, false)
		srv := f.server("node-acct-susp", func(c *s3gw.Config) { c.AccessCacheTTL = -1 })
		c := client(srv.URL(), key)
		bkt := bucketName("acct-susp")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if err := put(c, bkt, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		get := func() error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String("k")})
			if err == nil {
				_, _ = io.Copy(io.Discard, out.Body)
				_ = out.Body.Close()
			}
			return err
		}
		f.suspend(id, true)
		if err := put(c, bkt, "k2", []byte("v")); code(err) != "AccessDenied" || !strings.Contains(err.Error(), "the storage account is suspended") {
			t.Fatalf("put while suspended: %v", err)
		}
		if err := get(); code(err) != "AccessDenied" || !strings.Contains(err.Error(), "the storage account is suspended") {
			t.Fatalf("get while suspended: %v", err)
		}
		other := bucketName("acct-susp-new")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &other}); code(err) != "AccessDenied" {
			t.Fatalf("new bucket while suspended: %v", err)
		}
		if used, _ := f.quota(id); used != 1 {
			t.Fatalf("suspension changed the stored bytes: %d", used)
		}
		f.suspend(id, false)
		if err := put(c, bkt, "k2", []byte("v")); err != nil {
			t.Fatalf("put after resume: %v", err)
		}
		if err := get(); err != nil {
			t.Fatalf("get after resume: %v", err)
		}

		// The default cache, on the server's clock: a read keeps the state it
		// found for DefaultCacheTTL, then sees the change.
		cached := client(f.server("node-acct-susp-cached", func(c *s3gw.Config) { c.Clock = f.clk }).URL(), key)
		getCached := func() error {
			out, err := cached.GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String("k")})
			if err == nil {
				_, _ = io.Copy(io.Discard, out.Body)
				_ = out.Body.Close()
			}
			return err
		}
		if err := getCached(); err != nil {
			t.Fatal(err)
		}
		for _, on := range []bool{true, false} {
			f.suspend(id, on)
			f.clk.Advance(s3gw.DefaultCacheTTL - time.Millisecond)
			if err := getCached(); (code(err) == "AccessDenied") == on {
				t.Fatalf("suspended=%t in effect before the cached state expired: %v", on, err)
			}
			f.clk.Advance(time.Millisecond)
			if err := getCached(); (code(err) == "AccessDenied") != on || !on && err != nil {
				t.Fatalf("suspended=%t not in effect once the cached state expired: %v", on, err)
			}
		}
	})
}

// A strict account cannot shrink below the bytes its buckets really hold
// (read in the resize's transaction).
func TestResizeBelowStoredBytes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		id, key := f.account(10*mb, false)
		c := client(f.server("node-resize", func(c *s3gw.Config) { c.AccessCacheTTL = -1 }).URL(), key)
		bkt := bucketName("resize")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if err := put(c, bkt, "k", body(1000, 1)); err != nil {
			t.Fatal(err)
		}
		resize := func(capacity int64) (objstore.StorageAccount, error) {
			var sa objstore.StorageAccount
			err := sqlstore.Objstore{Store: f.st}.Tx(ctx, func(tx objstore.Store) error {
				var err error
				sa, err = f.obj.ResizeStorageAccountTx(ctx, tx, sys, f.partner.ID, id, capacity)
				return err
			})
			return sa, err
		}
		if _, err := resize(999); err == nil || !strings.Contains(err.Error(), "1000 bytes the storage account stores or is writing") {
			t.Fatalf("shrink below the stored bytes: %v", err)
		}
		if sa, err := resize(1000); err != nil || sa.AllocatedCapacity != 1000 {
			t.Fatalf("shrink to the stored bytes: %+v %v", sa, err)
		}
		// The quota follows the new capacity at once.
		if err := put(c, bkt, "k2", []byte("x")); code(err) != "QuotaExceeded" {
			t.Fatalf("write beyond the shrunk capacity: %v", err)
		}
	})
}
