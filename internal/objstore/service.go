package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/password"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/validate"
	"github.com/trellis-cloud/trellis/internal/wiring"
)

// Service runs the storage-account use cases.
type Service struct {
	store  Store
	clock  clock.Clock
	sealer Sealer
	plane  DataPlane
}

// Purger empties a storage account's object storage before the account is
// deleted (buckets.Service implements it). It is passed to PurgeDue per
// call: buckets is built on objstore, so it cannot be objstore's
// constructor argument.
type Purger interface {
	PurgeStorageAccount(ctx context.Context, storageAccountID string) error
}

// DataPlane is this node's S3 server as objstore sees it. The server starts
// after the app is assembled, and may not run at all, so objstore asks it
// at each call.
type DataPlane interface {
	// S3URL is where clients reach this node's S3 server; "" while none
	// runs. While it returns a URL, every region reports it as its S3 URL:
	// the embedded server serves all regions, so a stored URL could only
	// be stale.
	S3URL() string
	// KeyRevoked tells the running S3 server (if any) that a key was
	// deleted, so it drops it from its cache at once rather than when the
	// cache expires.
	KeyRevoked(accessKey string)
}

// NoDataPlane is the DataPlane of a node that runs no S3 server.
type NoDataPlane struct{}

// S3URL is "": no S3 server runs.
func (NoDataPlane) S3URL() string { return "" }

// KeyRevoked does nothing: there is no cache to drop the key from.
func (NoDataPlane) KeyRevoked(string) {}

// NewService returns an objstore service, or an error naming a missing
// dependency. S3 secrets are sealed with sealer (nil: stored in the clear,
// for tests only).
func NewService(s Store, c clock.Clock, sealer Sealer, plane DataPlane) (*Service, error) {
	if err := wiring.Require("objstore", wiring.D("Store", s), wiring.D("Clock", c),
		wiring.D("DataPlane", plane)); err != nil {
		return nil, err
	}
	if sealer == nil {
		sealer = sealed.Box{}
	}
	return &Service{store: s, clock: c, sealer: sealer, plane: plane}, nil
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// CreateStorageAccountInput creates a storage account.
type CreateStorageAccountInput struct {
	Name              string
	AllocatedCapacity int64
	AllowOverdraft    bool
	ContactEmail      string
	Password          string

	// passwordHash is Password hashed by Prepare; CreateStorageAccountTx
	// validates and hashes when it is "".
	passwordHash string
}

// Prepare validates the input and hashes the password now, so that a
// CreateStorageAccountTx given the prepared input does no slow work (argon2)
// while its transaction holds locks. Changing the input after Prepare is
// not allowed.
func (in *CreateStorageAccountInput) Prepare() error {
	if err := in.Validate(); err != nil {
		return err
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return err
	}
	in.passwordHash = hash
	return nil
}

// Validate checks the input.
func (in *CreateStorageAccountInput) Validate() error {
	var err error
	if in.Name, err = validate.Name("name", in.Name); err != nil {
		return err
	}
	if err := validate.Capacity("allocatedCapacity", in.AllocatedCapacity); err != nil {
		return err
	}
	if in.ContactEmail, err = validate.Email("clientAccount.contactEmail", in.ContactEmail); err != nil {
		return err
	}
	return validate.Password("clientAccount.password", in.Password)
}

// partnerOf resolves the partner a call is about: the actor's own org on the
// partner routes (partnerID == ""), or a partner in a distributor's subtree.
func (s *Service) partnerOf(ctx context.Context, st Store, a actor.Actor, partnerID string, min actor.Role, lock bool) (tenancy.Org, error) {
	if err := mayUse(a, partnerID, min); err != nil {
		return tenancy.Org{}, err
	}
	if partnerID == "" {
		partnerID = a.OrgID
	}
	if lock {
		if err := st.LockOrg(ctx, partnerID); err != nil {
			return tenancy.Org{}, err
		}
	}
	return tenancy.ScopedPartner(ctx, st, a, partnerID)
}

// mayUse checks the kind and role an actor needs, before anything is read:
// partner routes (partnerID "") are for partner keys, the others for their
// distributor (or the provider).
func mayUse(a actor.Actor, partnerID string, min actor.Role) error {
	if partnerID == "" {
		if err := a.RequireKind(actor.Partner); err != nil {
			return err
		}
	} else if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return err
	}
	return a.Require(min)
}

// CreateStorageAccount creates a storage account under a partner. A strict
// account (no overdraft) takes its allocation from the partner's, and fails
// if the partner has not enough left; a pay-per-use partner is not capped.
// The account's S3 principal and first key are created in the same
// transaction, so an account never exists without S3 credentials (the
// vendor's response carries none: they are read with AccountKeys).
func (s *Service) CreateStorageAccount(ctx context.Context, a actor.Actor, partnerID string, in CreateStorageAccountInput) (StorageAccount, error) {
	// Authorise before validating and hashing: a caller without the right
	// gets 403 whatever the body, and never costs an argon2 hash.
	if err := mayUse(a, partnerID, actor.Staff); err != nil {
		return StorageAccount{}, err
	}
	if err := in.Prepare(); err != nil {
		return StorageAccount{}, err
	}
	var sa StorageAccount
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		sa, err = s.CreateStorageAccountTx(ctx, tx, a, partnerID, in)
		return err
	})
	return sa, err
}

// GetStorageAccount returns one storage account.
func (s *Service) GetStorageAccount(ctx context.Context, a actor.Actor, partnerID, id string) (StorageAccount, error) {
	p, err := s.partnerOf(ctx, s.store, a, partnerID, actor.Viewer, false)
	if err != nil {
		return StorageAccount{}, err
	}
	return s.store.GetStorageAccount(ctx, a.Scope(), p.ID, id)
}

// ListStorageAccounts lists a partner's storage accounts.
func (s *Service) ListStorageAccounts(ctx context.Context, a actor.Actor, partnerID string) ([]StorageAccount, error) {
	p, err := s.partnerOf(ctx, s.store, a, partnerID, actor.Viewer, false)
	if err != nil {
		return nil, err
	}
	return s.store.ListStorageAccounts(ctx, a.Scope(), p.ID)
}

// ScheduleDeletion marks a storage account for deletion DeletionGrace from
// now. Scheduling an already scheduled account keeps the earlier date.
func (s *Service) ScheduleDeletion(ctx context.Context, a actor.Actor, partnerID, id string) error {
	return s.store.Tx(ctx, func(tx Store) error {
		_, err := s.ScheduleDeletionTx(ctx, tx, a, partnerID, id)
		return err
	})
}

// SetPendingDeletion sets (a future time) or cancels (nil) a storage
// account's scheduled deletion.
func (s *Service) SetPendingDeletion(ctx context.Context, a actor.Actor, partnerID, id string, at *time.Time) (StorageAccount, error) {
	var sa StorageAccount
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, partnerID, actor.Staff, false)
		if err != nil {
			return err
		}
		if sa, err = tx.GetStorageAccount(ctx, a.Scope(), p.ID, id); err != nil {
			return err
		}
		now := s.now()
		if at != nil {
			t := clock.Micro(*at)
			if !t.After(now) {
				return errs.Invalid("pendingDeletedAt", "must be in the future, or null to cancel the deletion")
			}
			at = &t
		}
		if err := tx.SetStorageAccountPendingDeletion(ctx, sa.ID, at, now); err != nil {
			return err
		}
		sa.PendingDeletedAt, sa.UpdatedAt = at, now
		detail := "cancelled"
		if at != nil {
			detail = at.Format(time.RFC3339)
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "storage_account.set_pending_deletion", "storage_account", sa.ID, sa.OrgPath, detail))
	})
	return sa, err
}

// PurgeDue removes the storage accounts whose scheduled deletion has come,
// returning their capacity to the partner; purger first empties each one's
// object storage. It is safe to run on several nodes at once: each account
// is deleted by exactly one of them.
func (s *Service) PurgeDue(ctx context.Context, purger Purger) (int, error) {
	if purger == nil {
		return 0, errors.New("objstore: PurgeDue needs a purger")
	}
	now := s.now()
	due, err := s.store.ListDueStorageAccounts(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	var purgeErr error
	for _, sa := range due {
		// An account whose objects cannot be removed now (no S3 server on
		// this node) stays for a later run; the others go on.
		if err := purger.PurgeStorageAccount(ctx, sa.ID); err != nil {
			purgeErr = errors.Join(purgeErr, fmt.Errorf("purge storage account %s: %w", sa.ID, err))
			continue
		}
		keys, err := s.store.ListKeys(ctx, sa.ID) // a storage account's principal id is its id
		if err != nil {
			return n, err
		}
		deleted := false // set inside the transaction, which may be retried
		err = s.store.Tx(ctx, func(tx Store) error {
			deleted = false
			if err := tx.LockOrg(ctx, sa.PartnerID); err != nil {
				return err
			}
			ok, err := tx.DeleteDueStorageAccount(ctx, sa.ID, now)
			if err != nil || !ok {
				return err
			}
			if !sa.AllowOverdraft && sa.AllocatedCapacity > 0 {
				ok, err := tx.AddPartnerAccountsAllocation(ctx, sa.PartnerID, -sa.AllocatedCapacity, now)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("objstore: releasing %d bytes of partner %s failed", sa.AllocatedCapacity, sa.PartnerID)
				}
			}
			deleted = true
			return tx.AppendAudit(ctx, audit.New(actor.System(""), now, "storage_account.delete", "storage_account", sa.ID, sa.OrgPath, sa.Name))
		})
		if err != nil {
			return n, err
		}
		if deleted {
			n++
			// The account's keys went with it (ON DELETE CASCADE).
			for _, k := range keys {
				s.keyRevoked(k.AccessKey)
			}
		}
	}
	return n, purgeErr
}

// Regions lists the regions, with this server's S3 URL when it has one
// (DataPlane.S3URL) as their S3, IAM and STS URL alike: the node serves all three
// on that one endpoint, so URLs defined for another host would send
// clients elsewhere.
func (s *Service) Regions(ctx context.Context) ([]Region, error) {
	rs, err := s.store.ListRegions(ctx)
	if err != nil {
		return rs, err
	}
	if u := s.plane.S3URL(); u != "" {
		for i := range rs {
			rs[i].S3URL, rs[i].IAMURL, rs[i].STSURL = u, u, u
		}
	}
	return rs, nil
}

// MaxRegionName bounds a region name (a DNS label's length).
const MaxRegionName = 63

// PutRegionInput defines a region.
type PutRegionInput struct {
	Name, S3URL, IAMURL, STSURL string
}

// PutRegion creates or replaces a region (provider admins only).
func (s *Service) PutRegion(ctx context.Context, a actor.Actor, in PutRegionInput) (Region, error) {
	if err := a.RequireKind(actor.Provider); err != nil {
		return Region{}, err
	}
	if err := a.Require(actor.Admin); err != nil {
		return Region{}, err
	}
	// A region name is an identifier (clients put it in endpoints and
	// signing scopes), not a display name.
	if err := validate.Slug("name", in.Name, MaxRegionName); err != nil {
		return Region{}, err
	}
	name := in.Name
	for _, f := range []struct{ field, v string }{{"s3_url", in.S3URL}, {"iam_url", in.IAMURL}, {"sts_url", in.STSURL}} {
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Region{}, errs.Invalid(f.field, "must be an absolute http(s) URL")
		}
	}
	r := Region{Name: name, S3URL: in.S3URL, IAMURL: in.IAMURL, STSURL: in.STSURL, CreatedAt: s.now()}
	err := s.store.Tx(ctx, func(tx Store) error {
		if err := tx.UpsertRegion(ctx, r); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, r.CreatedAt, "region.put", "region", r.Name, a.OrgPath, r.S3URL))
	})
	return r, err
}

// DeleteRegion removes a region.
func (s *Service) DeleteRegion(ctx context.Context, a actor.Actor, name string) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		ok, err := tx.DeleteRegion(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			return errs.NotFound("region")
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "region.delete", "region", name, a.OrgPath, ""))
	})
}
