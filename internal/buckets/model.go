// Package buckets owns the buckets of the object storage and the exact
// accounting of what they hold: every write the S3 server accepts reserves
// its bytes here first (the quota of a storage account is checked by a
// conditional update), and settles them when the write is done; usage per
// bucket and hour feeds the idcloudhost billing (GB-hours) and the Impossible
// Cloud daily usage.
package buckets

import (
	"context"
	"time"
)

// Ops of a reservation (what the S3 server was doing).
const (
	OpPut      = "put"      // PutObject
	OpCopy     = "copy"     // CopyObject
	OpPart     = "part"     // UploadPart, UploadPartCopy
	OpComplete = "complete" // CompleteMultipartUpload
	// OpDelete is DeleteObject's intent: it reserves nothing and is never
	// refused; the row lets recovery apply a delete whose process died
	// between removing the object and recording it.
	OpDelete = "delete"
)

// Bucket is a bucket and its live counters.
type Bucket struct {
	ID               string
	Name             string
	PrincipalID      string
	OrgPath          string
	BillingAccountID int64 // 0: none (a storage account's bucket)
	SizeBytes        int64 // completed objects
	NumObjects       int64
	PartsBytes       int64 // parts of unfinished multipart uploads
	IsSuspended      bool
	CreatedAt        time.Time
	ModifiedAt       time.Time
	DeletedAt        *time.Time
}

// Stored is what the bucket holds on disk: objects and parts.
func (b Bucket) Stored() int64 { return b.SizeBytes + b.PartsBytes }

// Write is a write the S3 server is about to make.
type Write struct {
	Node     string // the S3 node making it (its next start settles what it left)
	Bucket   string // bucket name
	Op       string
	Key      string // object key
	UploadID string // OpPart, OpComplete
	Part     int32  // OpPart
	Bytes    int64  // bytes to reserve (the body; the source object of a copy; 0 for OpComplete)
	OldSize  int64  // size of the object (or part) the write replaces; -1: none
	OldETag  string // its ETag ("" when none), to tell on recovery whether the write happened
	// PartsBytes is, for OpComplete, the bytes of all the upload's parts
	// (the ones the list leaves out are dropped too), so a node that stops
	// after completing settles exactly.
	PartsBytes int64
}

// Reservation is a Write whose bytes are reserved.
type Reservation struct {
	ID          string
	PrincipalID string
	BucketID    string
	Write
	CreatedAt time.Time
}

// Change is what a write or delete did to a bucket: deltas of its counters.
type Change struct {
	Objects     int64 // +1 a new object, -1 one deleted, 0 an overwrite
	ObjectBytes int64 // change of the completed objects' bytes
	PartBytes   int64 // change of the multipart parts' bytes
}

// Access is what the S3 server needs to know about a bucket before serving a
// request on it, cached by the server for a short time.
type Access struct {
	BucketID    string
	PrincipalID string
	// WriteDenied / ReadDenied, when not "", say why writes / reads are
	// refused (403 AccessDenied with that message).
	WriteDenied string
	ReadDenied  string
}

// Provider is the S3 data plane the bucket API drives (s3gw implements it;
// an external S3 could).
type Provider interface {
	// CreateBucket creates an empty bucket owned by principalID, as if the
	// principal had created it through S3.
	CreateBucket(ctx context.Context, name, principalID string) error
	// DeleteBucket deletes an empty bucket.
	DeleteBucket(ctx context.Context, name string) error
	// EmptyBucket deletes every object and unfinished multipart upload of a
	// bucket, settling each through the accounting.
	EmptyBucket(ctx context.Context, name string) error
	// URL is the S3 endpoint clients use.
	URL() string
}
