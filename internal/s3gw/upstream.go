package s3gw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/versity/versitygw/backend/s3proxy"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// UpstreamConfig locates an S3-compatible store that keeps the objects
// instead of the posix store (serve --s3-backend s3): several nodes then
// share nothing but the database and the upstream.
type UpstreamConfig struct {
	URL    string // http(s)://host[:port], path-style addressing
	Key    string // access key of the upstream account Trellis uses
	Secret string
	Region string // the region requests to the upstream are signed for (default us-east-1)
}

// ErrUpstream marks a failure to reach or use the upstream S3 at start.
var ErrUpstream = errors.New("s3 upstream")

// upstreamCheckTimeout bounds the start-up check of the upstream.
const upstreamCheckTimeout = 15 * time.Second

// Upstream is versitygw's S3 proxy backend on an upstream S3 store. Bucket
// names map 1:1: Trellis's bucket "photos" is the upstream's bucket "photos",
// so the upstream account must be Trellis's alone. Who owns a bucket is
// Trellis's record (the wrapper answers bucket ACLs and bucket lists from the
// accounting), so the proxy runs without versitygw's meta bucket.
type Upstream struct {
	*s3proxy.S3Proxy
	client *s3.Client
	url    string
	region string
}

// OpenUpstream connects to the upstream and checks that it answers and
// takes the credentials (one ListBuckets), so a wrong URL or key fails the
// start instead of the first upload.
func OpenUpstream(ctx context.Context, cfg UpstreamConfig) (*Upstream, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: --s3-upstream %q is not an http(s) URL", ErrUpstream, cfg.URL)
	}
	if cfg.Key == "" || cfg.Secret == "" {
		return nil, fmt.Errorf("%w: --s3-upstream-key and --s3-upstream-secret are required", ErrUpstream)
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	endpoint := strings.TrimSuffix(cfg.URL, "/")
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256, // versitygw's default keeps 2: every parallel upload would dial anew
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	// An aws.Config built here, not LoadDefaultConfig: the AWS_* variables
	// and ~/.aws of the host must not change where objects go.
	client := s3.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(cfg.Key, cfg.Secret, ""),
		HTTPClient:  &http.Client{Transport: detached{tr}},
	}, func(o *s3.Options) {
		o.BaseEndpoint = &endpoint
		o.UsePathStyle = true
		// Bodies are streams the client is still sending: no retry
		// (the client retries), and checksums only where S3 requires them
		// (computing one would need a seekable body).
		o.Retryer = aws.NopRetryer{}
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	cctx, cancel := context.WithTimeout(ctx, upstreamCheckTimeout)
	defer cancel()
	one := int32(1)
	if _, err := client.ListBuckets(cctx, &s3.ListBucketsInput{MaxBuckets: &one}); err != nil {
		return nil, upstreamStartError(endpoint, err)
	}
	p, err := s3proxy.NewWithClient(ctx, client, "")
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrUpstream, endpoint, err)
	}
	return &Upstream{S3Proxy: p, client: client, url: endpoint, region: region}, nil
}

func upstreamStartError(endpoint string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		var re *awshttp.ResponseError
		status := 0
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		// 401/403, or a code some stores answer with another status
		// (versitygw: XAdminUserNotFound for an unknown key).
		switch ae.ErrorCode() {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken",
			"AuthorizationHeaderMalformed", "InvalidClientTokenId", "XAdminUserNotFound":
			status = http.StatusForbidden
		}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return fmt.Errorf("%w %s refused the credentials (%s: %s): check --s3-upstream-key, --s3-upstream-secret and --s3-upstream-region",
				ErrUpstream, endpoint, ae.ErrorCode(), ae.ErrorMessage())
		}
		return fmt.Errorf("%w %s answered %s: %s", ErrUpstream, endpoint, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("%w %s is unreachable: %w", ErrUpstream, endpoint, err)
}

// URL is the upstream's endpoint.
func (u *Upstream) URL() string { return u.url }

// HeadBucket answers NoSuchBucket for a missing bucket, as the posix store
// does (a HEAD's 404 has no body, so the SDK says only "NotFound").
func (u *Upstream) HeadBucket(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	out, err := u.S3Proxy.HeadBucket(ctx, in)
	if err != nil && codeOf(err) == "NotFound" {
		return nil, s3err.GetBucketErr(s3err.ErrNoSuchBucket, str(in.Bucket))
	}
	return out, err
}

// CreateBucket creates the bucket in the upstream's own region (clients
// sign for Trellis's region, which the upstream may not know). A bucket the
// upstream account holds already is taken over only while it is empty: its
// objects would be bytes the accounting never saw.
func (u *Upstream) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, acl []byte) error {
	cp := *in
	cp.CreateBucketConfiguration = nil
	if u.region != DefaultRegion {
		cp.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(u.region)}
	}
	if err := u.S3Proxy.CreateBucket(ctx, &cp, acl); err != nil && codeOf(err) != "BucketAlreadyOwnedByYou" {
		return err
	}
	// Created now, or there already (AWS's us-east-1 answers 200 to its
	// owner): refuse a bucket that holds anything.
	one, empty := int32(1), ""
	name := str(in.Bucket)
	objs, lerr := u.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &name, MaxKeys: &one, StartAfter: &empty})
	if lerr != nil {
		return fmt.Errorf("checking the new upstream bucket %s: %w", name, lerr)
	}
	ups, lerr := u.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &name, MaxUploads: &one})
	if lerr != nil {
		return fmt.Errorf("checking the new upstream bucket %s: %w", name, lerr)
	}
	if len(objs.Contents) > 0 || len(ups.Uploads) > 0 {
		return s3err.GetBucketErr(s3err.ErrBucketAlreadyExists, name)
	}
	return nil
}

// CopyObject copies within the upstream. The expected owners the front end
// fills in name Trellis's principals, which the upstream does not know (its
// buckets are all the upstream account's); Trellis checked them already.
func (u *Upstream) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	in.ExpectedBucketOwner, in.ExpectedSourceBucketOwner = nil, nil
	return u.S3Proxy.CopyObject(ctx, in)
}

// UploadPartCopy copies into a part within the upstream (expected owners
// dropped, as for CopyObject).
func (u *Upstream) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput) (s3response.CopyPartResult, error) {
	cp := *in
	cp.ExpectedBucketOwner, cp.ExpectedSourceBucketOwner = nil, nil
	return u.S3Proxy.UploadPartCopy(ctx, &cp)
}

// detached sends each upstream request with a context of its own. versitygw
// hands the backend fasthttp's RequestCtx, which fasthttp reuses for the
// next request once the handler returns (and writes at shutdown), while
// net/http's connection goroutines may still read the request's context: a
// data race. The RequestCtx is never cancelled per request, so nothing is
// lost; the transport's own timeouts bound each call.
type detached struct{ http.RoundTripper }

func (d detached) RoundTrip(r *http.Request) (*http.Response, error) {
	return d.RoundTripper.RoundTrip(r.WithContext(context.Background()))
}
