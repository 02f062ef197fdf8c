package e2e

import (
	"io"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestDemoObjectStorage starts `trellis serve --demo` and uses the S3
// credentials it writes with the AWS SDK: the demo bucket holds its objects,
// the Impossible Cloud regions list names this server's S3 URL, and after a
// restart (on another S3 port) the objects and their counters are the same.
func TestDemoObjectStorage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, nil, "--demo", "--data-dir", dir)
	creds := s3Creds(t, dir)
	keys := listDemoBucket(t, creds)
	if want := []string{"data/sample.bin", "docs/readme.md", "hello.txt"}; len(keys) != 3 || keys[0] != want[0] || keys[2] != want[2] {
		t.Fatalf("demo bucket holds %v, want %v", keys, want)
	}
	var regions struct {
		Regions []map[string]string `json:"regions"`
	}
	if s := call(t, "GET", n.URL+"/impossiblecloud/v1/integration/regions/list", "", "", &regions); s != 200 ||
		len(regions.Regions) == 0 || regions.Regions[0]["s3_url"] != creds["s3_url"] {
		t.Fatalf("regions %d %v, want s3_url %s", s, regions, creds["s3_url"])
	}
	n.stop()

	n2 := start(t, nil, "--demo", "--data-dir", dir)
	_ = n2
	creds2 := s3Creds(t, dir)
	if creds2["s3_access_key"] != creds["s3_access_key"] || creds2["s3_url"] == "" {
		t.Fatalf("credentials after restart %v", creds2)
	}
	if got := listDemoBucket(t, creds2); len(got) != 3 {
		t.Fatalf("after restart the demo bucket holds %v", got)
	}
}

// s3Creds reads the demo credentials and checks the S3 entries are there.
func s3Creds(t *testing.T, dir string) map[string]string {
	t.Helper()
	creds := readCreds(t, dir)
	for _, k := range []string{"s3_url", "s3_access_key", "s3_secret_key", "s3_bucket", "storage_account_id"} {
		if creds[k] == "" {
			t.Fatalf("demo credentials lack %s: %v", k, creds)
		}
	}
	return creds
}

// listDemoBucket lists the demo bucket and reads hello.txt with the AWS SDK.
func listDemoBucket(t *testing.T, creds map[string]string) []string {
	t.Helper()
	ctx := t.Context()
	c := s3.New(s3.Options{BaseEndpoint: aws.String(creds["s3_url"]), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(creds["s3_access_key"], creds["s3_secret_key"], "")})
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(creds["s3_bucket"])})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	sort.Strings(keys)
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(creds["s3_bucket"]), Key: aws.String("hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	if b, _ := io.ReadAll(got.Body); string(b) != "Hello from Trellis object storage.\n" {
		t.Fatalf("hello.txt = %q", b)
	}
	return keys
}
