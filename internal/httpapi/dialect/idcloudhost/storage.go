package idcloudhost

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// Buckets is what the dialect needs of the bucket service (implemented by
// buckets.Service). The paths are global (ID-amb-1): buckets have no
// location.
type Buckets interface {
	S3URL() string
	CreateBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (buckets.Bucket, error)
	GetBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) (buckets.Bucket, error)
	ListBuckets(ctx context.Context, a actor.Actor, u objstore.UserRef, billingAccountID int64) ([]buckets.Bucket, error)
	SetBucketBillingAccount(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (buckets.Bucket, error)
	DeleteBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) error
}

// ObjectStorage is what the dialect needs of the S3 users and keys
// (implemented by objstore.Service).
type ObjectStorage interface {
	UserCredentials(ctx context.Context, a actor.Actor, u objstore.UserRef) (objstore.Principal, []objstore.Key, error)
	UserKeys(ctx context.Context, a actor.Actor, u objstore.UserRef) ([]objstore.Key, error)
	CreateUserKey(ctx context.Context, a actor.Actor, u objstore.UserRef) ([]objstore.Key, error)
	DeleteUserKey(ctx context.Context, a actor.Actor, u objstore.UserRef, accessKey string) ([]objstore.Key, error)
}

var (
	_ Buckets       = (*buckets.Service)(nil)
	_ ObjectStorage = (*objstore.Service)(nil)
)

// maxBuckets is the S3 user's maxBuckets (the seed's value).
const maxBuckets = 1000

func (s *server) storageOps() []op {
	const (
		bucket = "/storage/bucket"
		keys   = "/storage/user/keys"
	)
	ops := []op{
		{method: http.MethodGet, path: "/storage/api/s3", h: s.getS3Info},
		{method: http.MethodPut, path: bucket, h: s.createBucket},
		// POST creates too (the alias of the seed's PUT).
		{method: http.MethodPost, path: bucket, h: s.createBucket},
		{method: http.MethodPatch, path: bucket, h: s.modifyBucket},
		{method: http.MethodDelete, path: bucket, h: s.deleteBucket},
		{method: http.MethodGet, path: bucket, h: s.getBucket},
		{method: http.MethodGet, path: bucket + "/list", h: s.listBuckets},
		{method: http.MethodGet, path: "/storage/user", h: s.getS3User},
		{method: http.MethodDelete, path: keys, h: s.deleteS3Key},
		{method: http.MethodGet, path: keys, h: s.listS3Keys},
		{method: http.MethodPost, path: keys, h: s.createS3Key},
	}
	for i := range ops {
		ops[i].h = s.withObjectStorage(ops[i].h)
	}
	return ops
}

// errNoObjectStorage answers the section on a server assembled without it.
var errNoObjectStorage = errs.New(errs.KindUnavailable, "object storage is not enabled on this server")

// withObjectStorage refuses the section's routes on a server assembled
// without its services, instead of failing on a nil dependency.
func (s *server) withObjectStorage(h func(context.Context, *call) (any, error)) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		if s.d.Buckets == nil || s.d.ObjectStorage == nil {
			return nil, errNoObjectStorage
		}
		return h(ctx, c)
	}
}

// ---- wire types ----

// bucketTime is the object-storage timestamp: milliseconds and a numeric
// zone, UTC ("2021-01-22T12:57:13.808+0000").
func bucketTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

type bucketJSON struct {
	Name             string `json:"name"`
	SizeBytes        int64  `json:"size_bytes"`
	BillingAccountID int64  `json:"billing_account_id"`
	NumObjects       int64  `json:"num_objects"`
	CreatedAt        string `json:"created_at"`
	ModifiedAt       string `json:"modified_at"`
	IsSuspended      bool   `json:"is_suspended"`
}

// bucketOut shapes a bucket; size_bytes and num_objects are its completed
// objects (unfinished multipart uploads are not objects yet).
func bucketOut(b buckets.Bucket) bucketJSON {
	return bucketJSON{Name: b.Name, SizeBytes: b.SizeBytes, BillingAccountID: b.BillingAccountID, NumObjects: b.NumObjects,
		CreatedAt: bucketTime(b.CreatedAt), ModifiedAt: bucketTime(b.ModifiedAt), IsSuspended: b.IsSuspended}
}

type s3KeyJSON struct {
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
	UserID    string `json:"userId"`
}

func s3KeyOut(k objstore.Key) s3KeyJSON {
	return s3KeyJSON{AccessKey: k.AccessKey, SecretKey: k.Secret, UserID: k.PrincipalID}
}

// s3UserJSON is the vendor's S3 user (a Ceph RGW user): Trellis has no
// capabilities, subusers or Swift keys, so those are always empty.
type s3UserJSON struct {
	Caps             []struct{}  `json:"caps"`
	DisplayName      string      `json:"displayName"`
	Email            string      `json:"email"`
	MaxBuckets       int         `json:"maxBuckets"`
	S3Credentials    []s3KeyJSON `json:"s3Credentials"`
	Subusers         []struct{}  `json:"subusers"`
	Suspended        int         `json:"suspended"`
	SwiftCredentials []struct{}  `json:"swiftCredentials"`
	UserID           string      `json:"userId"`
}

func s3UserOut(p objstore.Principal, keys []objstore.Key) s3UserJSON {
	return s3UserJSON{Caps: []struct{}{}, DisplayName: p.DisplayName, Email: p.Email, MaxBuckets: maxBuckets,
		S3Credentials: s3KeysOut(keys), Subusers: []struct{}{}, SwiftCredentials: []struct{}{}, UserID: p.ID}
}

func s3KeysOut(keys []objstore.Key) []s3KeyJSON {
	return mapSlice(keys, s3KeyOut)
}

// ---- handlers (ID-37 to ID-46) ----

// userRef is the idcloudhost user behind the request's token, as the object
// storage names it.
func (s *server) userRef(ctx context.Context, c *call) (objstore.UserRef, error) {
	u, err := s.d.Identity.Me(ctx, c.a)
	if err != nil {
		return objstore.UserRef{}, err
	}
	name := strings.TrimSpace(u.Profile.FirstName + " " + u.Profile.LastName)
	if name == "" {
		name = u.Email
	}
	return objstore.UserRef{ID: u.ID, OrgID: c.a.OrgID, OrgPath: c.a.OrgPath, Email: u.Email, Name: name}, nil
}

// bucketParam is the bucket's name.
type bucketParam struct {
	Name string `wire:"name,nonempty"`
}

// bucketName reads the required "name" parameter.
func (c *call) bucketName() (string, error) {
	var p bucketParam
	err := c.decode(&p)
	return p.Name, err
}

type s3InfoJSON struct {
	URL string `json:"url"`
}

// ID-37: the URL of this server's S3 endpoint.
func (s *server) getS3Info(_ context.Context, _ *call) (any, error) {
	url := s.d.Buckets.S3URL()
	if url == "" {
		// No S3 data plane runs (buckets.Service answers bucket creation
		// and deletion the same way).
		return nil, errNoObjectStorage
	}
	// The seed's URL ends with a slash; clients join paths to it.
	if !strings.HasSuffix(url, "/") {
		url += "/"
	}
	return s3InfoJSON{URL: url}, nil
}

// ID-38: billing_account_id is required unless the token is restricted
// (its account then; ID-amb-24) — the service decides.
func (s *server) createBucket(ctx context.Context, c *call) (any, error) {
	name, err := c.bucketName()
	if err != nil {
		return nil, err
	}
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	b, err := s.d.Buckets.CreateBucket(ctx, c.a, u, name, id)
	if err != nil {
		return nil, err
	}
	return bucketOut(b), nil
}

// ID-39: moves the bucket to another billing account (the only change).
func (s *server) modifyBucket(ctx context.Context, c *call) (any, error) {
	var req struct {
		bucketParam
		BillingAccountID int64 `wire:"billing_account_id,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	name, id := req.Name, req.BillingAccountID
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	b, err := s.d.Buckets.SetBucketBillingAccount(ctx, c.a, u, name, id)
	if err != nil {
		return nil, err
	}
	return bucketOut(b), nil
}

// ID-40: 204 (ID-amb-21); a bucket that holds anything is refused (409).
func (s *server) deleteBucket(ctx context.Context, c *call) (any, error) {
	name, err := c.bucketName()
	if err != nil {
		return nil, err
	}
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.d.Buckets.DeleteBucket(ctx, c.a, u, name); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// ID-41.
func (s *server) getBucket(ctx context.Context, c *call) (any, error) {
	name, err := c.bucketName()
	if err != nil {
		return nil, err
	}
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	b, err := s.d.Buckets.GetBucket(ctx, c.a, u, name)
	if err != nil {
		return nil, err
	}
	return bucketOut(b), nil
}

// ID-42: billing_account_id, when given, filters.
func (s *server) listBuckets(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Buckets.ListBuckets(ctx, c.a, u, id)
	if err != nil {
		return nil, err
	}
	return mapSlice(list, bucketOut), nil
}

// ID-43: the S3 user and its first key are created by the first call.
func (s *server) getS3User(ctx context.Context, c *call) (any, error) {
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	p, keys, err := s.d.ObjectStorage.UserCredentials(ctx, c.a, u)
	if err != nil {
		return nil, err
	}
	return s3UserOut(p, keys), nil
}

// ID-44: answers the remaining keys (ID-amb-30).
func (s *server) deleteS3Key(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccessKey string `wire:"access_key,nonempty"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	key := req.AccessKey
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	keys, err := s.d.ObjectStorage.DeleteUserKey(ctx, c.a, u, key)
	if err != nil {
		return nil, err
	}
	return s3KeysOut(keys), nil
}

// ID-45: oldest first.
func (s *server) listS3Keys(ctx context.Context, c *call) (any, error) {
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	keys, err := s.d.ObjectStorage.UserKeys(ctx, c.a, u)
	if err != nil {
		return nil, err
	}
	return s3KeysOut(keys), nil
}

// ID-46: all the keys, the new one last (the order; the seed's
// sample happens to list it first).
func (s *server) createS3Key(ctx context.Context, c *call) (any, error) {
	u, err := s.userRef(ctx, c)
	if err != nil {
		return nil, err
	}
	keys, err := s.d.ObjectStorage.CreateUserKey(ctx, c.a, u)
	if err != nil {
		return nil, err
	}
	return s3KeysOut(keys), nil
}
