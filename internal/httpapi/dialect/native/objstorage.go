package native

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// The object-storage routes name their fields as S3 and the idcloudhost
// bucket API do (snake_case), so a bucket reads the same in both APIs.

// s3Key is an S3 access key of a storage account.
type s3Key struct {
	AccessKey string    `json:"access_key" example:"TRABCDEFGHIJKLMNOPQR"`
	SecretKey string    `json:"secret_key,omitempty" doc:"The secret, for callers with the admin role (who may create keys anyway); absent for staff and viewers."`
	CreatedAt time.Time `json:"created_at"`
}

func s3KeyFrom(k objstore.Key) s3Key {
	return s3Key{AccessKey: k.AccessKey, SecretKey: k.Secret, CreatedAt: k.CreatedAt.UTC()}
}

type s3KeyList struct {
	Items []s3Key `json:"items" doc:"Oldest first."`
}

// createdS3Key is a new key: its secret is always there.
type createdS3Key struct {
	AccessKey string    `json:"access_key" example:"TRABCDEFGHIJKLMNOPQR"`
	SecretKey string    `json:"secret_key"`
	CreatedAt time.Time `json:"created_at"`
}

type s3KeyParam struct {
	ID        string `path:"id" format:"uuid" doc:"The storage account."`
	AccessKey string `path:"access_key" minLength:"1" maxLength:"128" doc:"The access key id."`
}

// bucket is a bucket and what it holds.
type bucket struct {
	Name             string    `json:"name" example:"my-bucket"`
	Owner            string    `json:"owner" doc:"The S3 principal owning the bucket: a storage account's id, or an idcloudhost user's e-mail."`
	BillingAccountID *int64    `json:"billing_account_id,omitempty" doc:"The idcloudhost billing account billed for the bucket; absent for a storage account's bucket."`
	SizeBytes        int64     `json:"size_bytes" doc:"Bytes of the completed objects."`
	NumObjects       int64     `json:"num_objects"`
	PartsBytes       int64     `json:"parts_bytes" doc:"Bytes of the parts of unfinished multipart uploads."`
	IsSuspended      bool      `json:"is_suspended" doc:"A suspended bucket refuses reads and writes."`
	CreatedAt        time.Time `json:"created_at"`
	ModifiedAt       time.Time `json:"modified_at"`
}

func bucketFrom(b buckets.Bucket) bucket {
	out := bucket{Name: b.Name, Owner: b.PrincipalID, SizeBytes: b.SizeBytes, NumObjects: b.NumObjects,
		PartsBytes: b.PartsBytes, IsSuspended: b.IsSuspended, CreatedAt: b.CreatedAt.UTC(), ModifiedAt: b.ModifiedAt.UTC()}
	if b.BillingAccountID != 0 {
		id := b.BillingAccountID
		out.BillingAccountID = &id
	}
	return out
}

type bucketList struct {
	Items []bucket `json:"items"`
}

type bucketPatchInput struct {
	Name string `path:"name" minLength:"1" maxLength:"63" doc:"The bucket's name."`
	Body struct {
		IsSuspended bool `json:"is_suspended" required:"true" doc:"true suspends the bucket (reads and writes refused), false resumes it."`
	}
}

// excessDay is one day of a contract's storage beyond what it paid for.
type excessDay struct {
	Date          string `json:"date" format:"date" example:"2024-05-31"`
	UsageBytes    int64  `json:"usage_bytes" doc:"Bytes stored by all the contract's storage accounts."`
	ReservedBytes int64  `json:"reserved_bytes" doc:"The contract's reserved capacity."`
	OverageBytes  int64  `json:"overage_bytes" doc:"Σ over the storage accounts of max(0, usage − the account's allocation)."`
	ExcessBytes   int64  `json:"excess_bytes" doc:"max(overage_bytes, usage_bytes − reserved_bytes)."`
}

// contractExcess is a contract's priced excess storage over a month.
type contractExcess struct {
	ContractID         string      `json:"contract_id" format:"uuid"`
	Month              string      `json:"month" example:"2024-05"`
	Currency           string      `json:"currency" example:"EUR"`
	CostStorageGBCents int64       `json:"cost_storage_gb_cents" doc:"The contract's price per GB-month (10^9 bytes) beyond what it paid for, in cents."`
	DaysInMonth        int         `json:"days_in_month" example:"31"`
	ExcessByteDays     string      `json:"excess_byte_days" doc:"Σ excess_bytes over the days, an integer as a decimal string: the exact numerator of excess_gb_month." example:"1500000000"`
	ExcessGBMonth      string      `json:"excess_gb_month" doc:"excess_byte_days / (10^9 × days_in_month), a decimal string rounded half-up to 15 decimals (exact when the quotient has no more)." example:"0.048387096774194"`
	CostCents          int64       `json:"cost_cents" doc:"excess_byte_days × cost_storage_gb_cents / (10^9 × days_in_month), computed exactly and rounded half-up once to whole cents."`
	Days               []excessDay `json:"days" doc:"The ended days of the month with recorded usage, oldest first."`
}

func excessFrom(e buckets.ContractExcess) contractExcess {
	out := contractExcess{ContractID: e.ContractID, Month: e.Month, Currency: e.Currency,
		CostStorageGBCents: e.CostStorageGBCents, DaysInMonth: e.DaysInMonth, ExcessByteDays: e.ExcessByteDays.String(),
		ExcessGBMonth: e.ExcessGBMonth.String(), CostCents: e.CostCents, Days: make([]excessDay, len(e.Days))}
	for i, d := range e.Days {
		out.Days[i] = excessDay{Date: d.Date, UsageBytes: d.UsageBytes, ReservedBytes: d.ReservedBytes,
			OverageBytes: d.OverageBytes, ExcessBytes: d.ExcessBytes}
	}
	return out
}

type excessInput struct {
	ID string `path:"id" format:"uuid" doc:"The contract."`
	// Checked by the service, so a bad month is a 400 naming "month".
	Month string `query:"month" doc:"Required: the month, yyyy-mm (UTC)." example:"2024-05"`
}

func (s *server) registerObjectStorage(api huma.API) {
	keys := []string{"storage-accounts"}
	register(api, huma.Operation{OperationID: "listS3Keys", Method: http.MethodGet, Path: "/storage-accounts/{id}/s3-keys",
		Tags: keys, Summary: "List a storage account's S3 keys",
		Description: "Secrets are shown to admins only. The account's first key is created with the account."}, s.listS3Keys)
	register(api, huma.Operation{OperationID: "createS3Key", Method: http.MethodPost, Path: "/storage-accounts/{id}/s3-keys",
		Tags: keys, Summary: "Create an S3 key for a storage account (admins)", DefaultStatus: http.StatusCreated,
		Description: fmt.Sprintf("At most %d keys per account.", objstore.MaxKeys)}, s.createS3Key)
	register(api, huma.Operation{OperationID: "deleteS3Key", Method: http.MethodDelete, Path: "/storage-accounts/{id}/s3-keys/{access_key}",
		Tags: keys, Summary: "Delete an S3 key of a storage account (admins)"}, s.deleteS3Key)
	register(api, huma.Operation{OperationID: "listStorageAccountBuckets", Method: http.MethodGet, Path: "/storage-accounts/{id}/buckets",
		Tags: keys, Summary: "List a storage account's buckets"}, s.listAccountBuckets)
	register(api, huma.Operation{OperationID: "updateBucket", Method: http.MethodPatch, Path: "/buckets/{name}",
		Summary: "Suspend or resume a bucket (provider admins)"}, s.patchBucket)
	register(api, huma.Operation{OperationID: "getContractExcess", Method: http.MethodGet, Path: "/contracts/{id}/excess",
		Summary: "A contract's excess storage over a month, priced",
		Description: "Per ended day with recorded usage: excess = max(Σ per storage account max(0, usage − allocation), " +
			"Σ usage − the contract's reserved capacity). GB-month = Σ excess / (10^9 × days in the month); " +
			"cost = GB-month × costStorageGBCents, rounded half-up once to cents. The reservation and price are the contract's current ones."},
		s.contractExcess)
}

func (s *server) listS3Keys(ctx context.Context, in *idParam) (*output[s3KeyList], error) {
	return call(ctx, s, func(a actor.Actor) ([]objstore.Key, error) {
		pid, err := s.d.Objstore.LocateAccount(ctx, a, in.ID)
		if err != nil {
			return nil, err
		}
		_, ks, err := s.d.Objstore.AccountKeys(ctx, a, pid, in.ID)
		return ks, err
	}, func(ks []objstore.Key) s3KeyList { return s3KeyList{Items: wire.Map(ks, s3KeyFrom)} })
}

func (s *server) createS3Key(ctx context.Context, in *idParam) (*output[createdS3Key], error) {
	return call(ctx, s, func(a actor.Actor) (objstore.Key, error) {
		pid, err := s.d.Objstore.LocateAccount(ctx, a, in.ID)
		if err != nil {
			return objstore.Key{}, err
		}
		return s.d.Objstore.CreateAccountKey(ctx, a, pid, in.ID)
	}, func(k objstore.Key) createdS3Key {
		return createdS3Key{AccessKey: k.AccessKey, SecretKey: k.Secret, CreatedAt: k.CreatedAt.UTC()}
	})
}

func (s *server) deleteS3Key(ctx context.Context, in *s3KeyParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error {
		pid, err := s.d.Objstore.LocateAccount(ctx, a, in.ID)
		if err != nil {
			return err
		}
		return s.d.Objstore.DeleteAccountKey(ctx, a, pid, in.ID, in.AccessKey)
	})
}

func (s *server) listAccountBuckets(ctx context.Context, in *idParam) (*output[bucketList], error) {
	return call(ctx, s, func(a actor.Actor) ([]buckets.Bucket, error) {
		pid, err := s.d.Objstore.LocateAccount(ctx, a, in.ID)
		if err != nil {
			return nil, err
		}
		return s.d.Buckets.AccountBuckets(ctx, a, pid, in.ID)
	}, func(bs []buckets.Bucket) bucketList { return bucketList{Items: wire.Map(bs, bucketFrom)} })
}

func (s *server) patchBucket(ctx context.Context, in *bucketPatchInput) (*output[bucket], error) {
	return call(ctx, s, func(a actor.Actor) (buckets.Bucket, error) {
		return s.d.Buckets.SetSuspended(ctx, a, in.Name, in.Body.IsSuspended)
	}, bucketFrom)
}

func (s *server) contractExcess(ctx context.Context, in *excessInput) (*output[contractExcess], error) {
	return call(ctx, s, func(a actor.Actor) (buckets.ContractExcess, error) {
		return s.d.Excess.Contract(ctx, a, in.ID, in.Month)
	}, excessFrom)
}
