package buckets

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// S3URL is the S3 endpoint clients use ("" without a data plane).
func (s *Service) S3URL() string {
	if p, ok := s.plane.Provider(); ok {
		return p.URL()
	}
	return ""
}

func (s *Service) dataPlane() (Provider, error) {
	p, ok := s.plane.Provider()
	if !ok {
		return nil, errs.New(errs.KindUnavailable, "object storage is not enabled on this server (start it with --s3)")
	}
	return p, nil
}

// CreateBucket creates a bucket for an idcloudhost user, billed to
// billingAccountID (0: the token's account; required with a global token):
// Invalid "name" for a name S3 refuses, Conflict "name" when taken.
func (s *Service) CreateBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (Bucket, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Bucket{}, err
	}
	if name == "" {
		return Bucket{}, errs.Invalid("name", "is required")
	}
	if err := ValidateName(name); err != nil {
		return Bucket{}, err
	}
	prov, err := s.dataPlane()
	if err != nil {
		return Bucket{}, err
	}
	p, _, err := s.principals.UserPrincipal(ctx, a, u)
	if err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err = s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.billing.AdmitTx(ctx, tx, a, billingAccountID, true)
		if err != nil {
			return err
		}
		if _, err := tx.GetLiveBucket(ctx, name); err == nil {
			return &errs.Error{Kind: errs.KindConflict, Field: "name", Msg: "bucket names must be globally unique: " + name + " is taken"}
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		now := s.now()
		b = Bucket{ID: ids.New(), Name: name, PrincipalID: p.ID, OrgPath: p.OrgPath, BillingAccountID: acct.ID,
			CreatedAt: now, ModifiedAt: now}
		if err := tx.InsertBucket(ctx, b); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "bucket.create", "bucket", b.ID, p.OrgPath,
			fmt.Sprintf("name=%s billing_account_id=%d", name, acct.ID)))
	})
	if err != nil {
		return Bucket{}, err
	}
	// The row holds the name; the data plane creates the bucket itself. If
	// it cannot, the row goes, so both paths stay one object.
	if err := prov.CreateBucket(ctx, name, p.ID); err != nil {
		if uerr := s.UnregisterBucket(ctx, name); uerr != nil {
			s.log.ErrorContext(ctx, "bucket registration left behind", "bucket", name, "err", uerr)
		}
		return Bucket{}, err
	}
	return b, nil
}

// userBucket returns one of the user's live buckets the actor may see.
func (s *Service) userBucket(ctx context.Context, q Queries, a actor.Actor, u objstore.UserRef, name string) (Bucket, objstore.Principal, error) {
	if name == "" {
		return Bucket{}, objstore.Principal{}, errs.Invalid("name", "is required")
	}
	b, err := q.GetLiveBucket(ctx, name)
	if err != nil {
		return Bucket{}, objstore.Principal{}, err
	}
	p, err := q.GetPrincipal(ctx, b.PrincipalID)
	if err != nil {
		return Bucket{}, objstore.Principal{}, err
	}
	if p.Kind != objstore.KindUser || p.UserID != u.ID || !strings.HasPrefix(b.OrgPath, a.Scope()) ||
		(a.BillingAccount != 0 && b.BillingAccountID != a.BillingAccount) {
		return Bucket{}, objstore.Principal{}, errs.NotFound("bucket")
	}
	return b, p, nil
}

// GetBucket returns one of the user's buckets (NotFound otherwise).
func (s *Service) GetBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) (Bucket, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Bucket{}, err
	}
	b, _, err := s.userBucket(ctx, s.store, a, u, name)
	return b, err
}

// ListBuckets lists the user's buckets, optionally of one billing account.
func (s *Service) ListBuckets(ctx context.Context, a actor.Actor, u objstore.UserRef, billingAccountID int64) ([]Bucket, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if billingAccountID < 0 {
		return nil, errs.Invalid("billing_account_id", "must be a positive integer")
	}
	if a.BillingAccount != 0 {
		if billingAccountID != 0 && billingAccountID != a.BillingAccount {
			return []Bucket{}, nil
		}
		billingAccountID = a.BillingAccount
	}
	p, err := s.store.GetPrincipalByUser(ctx, u.ID)
	if errs.Is(err, errs.KindNotFound) {
		return []Bucket{}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.store.ListPrincipalBuckets(ctx, p.ID, billingAccountID)
}

// SetBucketBillingAccount moves a bucket to another of the user's billing
// accounts.
func (s *Service) SetBucketBillingAccount(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (Bucket, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Bucket{}, err
	}
	if billingAccountID <= 0 {
		return Bucket{}, errs.Invalid("billing_account_id", "is required (a positive integer)")
	}
	var b Bucket
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if b, _, err = s.userBucket(ctx, tx, a, u, name); err != nil {
			return err
		}
		acct, err := s.billing.AdmitTx(ctx, tx, a, billingAccountID, true)
		if err != nil {
			return err
		}
		if acct.ID == b.BillingAccountID {
			return nil
		}
		now := s.now()
		if err := tx.SetBucketBillingAccount(ctx, b.ID, acct.ID, now); err != nil {
			return err
		}
		b.BillingAccountID, b.ModifiedAt = acct.ID, now
		return tx.AppendAudit(ctx, audit.New(a, now, "bucket.billing_account", "bucket", b.ID, b.OrgPath,
			fmt.Sprintf("billing_account_id=%d", acct.ID)))
	})
	return b, err
}

// DeleteBucket deletes an empty bucket (Precondition "name" otherwise).
func (s *Service) DeleteBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	b, _, err := s.userBucket(ctx, s.store, a, u, name)
	if err != nil {
		return err
	}
	if b.NumObjects != 0 || b.Stored() != 0 {
		return notEmpty(b)
	}
	prov, err := s.dataPlane()
	if err != nil {
		return err
	}
	if err := prov.DeleteBucket(ctx, name); err != nil {
		return err
	}
	if err := s.DropBucket(ctx, name); err != nil {
		return err
	}
	return s.store.AppendAudit(ctx, audit.New(a, s.now(), "bucket.delete", "bucket", b.ID, b.OrgPath, "name="+name))
}

func notEmpty(b Bucket) error {
	return &errs.Error{Kind: errs.KindPrecondition, Field: "name",
		Msg: fmt.Sprintf("only empty buckets can be deleted: %s holds %d objects (%d bytes)", b.Name, b.NumObjects, b.Stored())}
}

// ---- operators ----

// SetSuspended suspends or resumes a bucket (provider staff, native API).
func (s *Service) SetSuspended(ctx context.Context, a actor.Actor, name string, suspended bool) (Bucket, error) {
	if err := a.RequireKind(actor.Provider); err != nil {
		return Bucket{}, err
	}
	if err := a.Require(actor.Admin); err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if b, err = tx.GetLiveBucket(ctx, name); err != nil {
			return err
		}
		if b.IsSuspended == suspended {
			return nil
		}
		now := s.now()
		if err := tx.SetBucketSuspended(ctx, b.ID, suspended, now); err != nil {
			return err
		}
		b.IsSuspended, b.ModifiedAt = suspended, now
		return tx.AppendAudit(ctx, audit.New(a, now, "bucket.suspend", "bucket", b.ID, b.OrgPath,
			fmt.Sprintf("is_suspended=%t", suspended)))
	})
	return b, err
}

// AccountBuckets lists a storage account's buckets (partnerID "": the
// actor's partner), for the native API.
func (s *Service) AccountBuckets(ctx context.Context, a actor.Actor, partnerID, accountID string) ([]Bucket, error) {
	sa, err := s.principals.GetStorageAccount(ctx, a, partnerID, accountID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetPrincipalByStorageAccount(ctx, sa.ID)
	if errs.Is(err, errs.KindNotFound) {
		return []Bucket{}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.store.ListPrincipalBuckets(ctx, p.ID, 0)
}

// PurgeStorageAccount empties and deletes every bucket of a storage account
// (objstore calls it when a scheduled deletion comes).
func (s *Service) PurgeStorageAccount(ctx context.Context, storageAccountID string) error {
	p, err := s.store.GetPrincipalByStorageAccount(ctx, storageAccountID)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	bs, err := s.store.ListPrincipalBuckets(ctx, p.ID, 0)
	if err != nil || len(bs) == 0 {
		return err
	}
	prov, err := s.dataPlane()
	if err != nil {
		return err
	}
	for _, b := range bs {
		if err := prov.EmptyBucket(ctx, b.Name); err != nil {
			return fmt.Errorf("empty bucket %s: %w", b.Name, err)
		}
		if err := prov.DeleteBucket(ctx, b.Name); err != nil {
			return fmt.Errorf("delete bucket %s: %w", b.Name, err)
		}
		if err := s.DropBucket(ctx, b.Name); err != nil {
			return err
		}
	}
	return nil
}

// ActiveResources counts the live buckets billed to an account (billing
// refuses to delete an account that has any).
func (s *Service) ActiveResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.store.CountAccountBuckets(ctx, billingAccountID)
}

// ResourceCounter counts an account's live buckets resources through
// billing's transaction (billing.ResourceCounter, the guard of an account's
// deletion). It reads only that transaction, so billing is built with it
// before this service, which needs billing.
type ResourceCounter struct{}

// ActiveResourcesTx is ActiveResources read through billing's transaction
// tx (billing.ResourceCounter: the guard of an account's deletion).
func (ResourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, billingAccountID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "buckets: the billing transaction (%T) has no buckets queries", tx)
	}
	return q.CountAccountBuckets(ctx, billingAccountID)
}
