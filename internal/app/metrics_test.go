package app_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/common/expfmt"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Issue 14, finding 10: after S3 activity and a reconciliation that found
// a bucket drifting, no metric of the app's registry (what /metrics
// serves) carries the bucket's name; the drift shows as totals.
func TestMetricsCarryNoBucketNames(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		a := newS3App(t, d, clock.NewSandbox(clock.Real{}), t.TempDir(), "")
		defer a.Close()
		name := "tenant-" + strings.ToLower(d.Dialect().Name()+"-"+ids.New()[:8])
		cl := s3Client(a.S3.URL(), a.creds["s3_access_key"], a.creds["s3_secret_key"])
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
			t.Fatal(err)
		}
		put(t, cl, name, "counted", fill(100, 'a'))
		if _, err := s3gwtest.Backend(t).PutObject(ctx, s3response.PutObjectInput{Bucket: &name, Key: aws.String("sneaked"),
			ContentLength: aws.Int64(50), Body: bytes.NewReader(fill(50, 'b'))}); err != nil {
			t.Fatal(err)
		}
		if rep, err := a.S3.Reconcile(ctx); err != nil || len(rep.Drifts) != 1 {
			t.Fatalf("reconcile: %+v %v", rep, err)
		}
		mfs, err := a.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(text.String(), `trellis_s3_drift_bytes{direction="uncounted"} 50`) {
			t.Fatalf("no drift total in the metrics:\n%s", text.String())
		}
		if strings.Contains(text.String(), name) {
			t.Fatalf("the metrics name bucket %s:\n%s", name, text.String())
		}
	})
}
