package s3gw

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Over a store that keeps no ACLs of its own (the upstream S3), a bucket's
// owner is what the accounting recorded: the S3 front end asks the backend
// for the bucket's ACL on every request and for the caller's buckets on
// ListBuckets, and both are answered from Trellis's records. Buckets of the
// upstream that Trellis did not create do not exist for clients.

// GetBucketAcl is the posix store's ACL, or, over an upstream, an ACL naming
// the recorded owner (versitygw's ACLs are disabled: the owner is all that
// counts).
func (s *store) GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput) ([]byte, error) {
	if !s.ownersRecorded {
		return s.Backend.GetBucketAcl(ctx, in)
	}
	bucket := str(in.Bucket)
	a, err := s.access.get(ctx, bucket)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
		}
		return nil, s3Error(s.log, "acl", bucket, err)
	}
	return json.Marshal(auth.ACL{Owner: a.PrincipalID})
}

// ListBuckets lists the caller's buckets: the posix store's answer, or,
// over an upstream, the live buckets the accounting records for the owner.
func (s *store) ListBuckets(ctx context.Context, in s3response.ListBucketsInput) (s3response.ListAllMyBucketsResult, error) {
	if !s.ownersRecorded {
		return s.Backend.ListBuckets(ctx, in)
	}
	all, err := s.acct.LiveBuckets(ctx)
	if err != nil {
		return s3response.ListAllMyBucketsResult{}, s3Error(s.log, "list_buckets", "", err)
	}
	slices.SortFunc(all, func(a, b buckets.Bucket) int { return strings.Compare(a.Name, b.Name) })
	res := s3response.ListAllMyBucketsResult{Owner: s3response.CanonicalUser{ID: in.Owner}, Prefix: in.Prefix}
	for _, b := range all {
		if !in.IsAdmin && b.PrincipalID != in.Owner || !strings.HasPrefix(b.Name, in.Prefix) ||
			b.Name <= in.ContinuationToken {
			continue
		}
		if in.MaxBuckets > 0 && len(res.Buckets.Bucket) == int(in.MaxBuckets) {
			res.ContinuationToken = res.Buckets.Bucket[len(res.Buckets.Bucket)-1].Name
			break
		}
		res.Buckets.Bucket = append(res.Buckets.Bucket, s3response.ListAllMyBucketsEntry{Name: b.Name, CreationDate: b.CreatedAt})
	}
	return res, nil
}
