package objstore

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// The storage-account use cases a caller composes inside its own
// transaction (the BSS service manager provisions a subscription as one
// unit: partner capacity, storage account, its own rows). Each takes the
// transaction's Store and never opens one; the non-Tx methods run them in a
// transaction of their own.

// CreateStorageAccountTx is CreateStorageAccount inside the caller's
// transaction tx: the partner's row is locked, a strict account's
// allocation is taken from the partner's, and the account's S3 principal
// and first key are created with it. Call in.Prepare before the
// transaction to keep the password hashing out of it.
func (s *Service) CreateStorageAccountTx(ctx context.Context, tx Store, a actor.Actor, partnerID string, in CreateStorageAccountInput) (StorageAccount, error) {
	if err := mayUse(a, partnerID, actor.Staff); err != nil {
		return StorageAccount{}, err
	}
	if in.passwordHash == "" {
		if err := in.Prepare(); err != nil {
			return StorageAccount{}, err
		}
	}
	hash := in.passwordHash
	p, err := s.partnerOf(ctx, tx, a, partnerID, actor.Staff, true)
	if err != nil {
		return StorageAccount{}, err
	}
	now := s.now()
	if !in.AllowOverdraft && in.AllocatedCapacity > 0 {
		ok, err := tx.AddPartnerAccountsAllocation(ctx, p.ID, in.AllocatedCapacity, now)
		if err != nil {
			return StorageAccount{}, err
		}
		if !ok {
			return StorageAccount{}, &errs.Error{Kind: errs.KindCapacityExceeded, Field: "allocatedCapacity",
				Msg: fmt.Sprintf("insufficient capacity: the partner has %d bytes free of %d allocated, %d requested",
					p.AllocatedCapacity-p.AccountsAllocated, p.AllocatedCapacity, in.AllocatedCapacity)}
		}
	}
	sa := StorageAccount{ID: ids.New(), PartnerID: p.ID, OrgPath: p.Path, Name: in.Name,
		ContactEmail: in.ContactEmail, PasswordHash: hash, AllocatedCapacity: in.AllocatedCapacity,
		AllowOverdraft: in.AllowOverdraft, CreatedAt: now, UpdatedAt: now}
	if err := tx.InsertStorageAccount(ctx, sa); err != nil {
		return StorageAccount{}, err
	}
	if err := tx.AppendAudit(ctx, audit.New(a, now, "storage_account.create", "storage_account", sa.ID, p.Path,
		fmt.Sprintf("name=%q allocatedCapacity=%d allowOverdraft=%t", sa.Name, sa.AllocatedCapacity, sa.AllowOverdraft))); err != nil {
		return StorageAccount{}, err
	}
	if _, _, err := s.principalOfAccountTx(ctx, tx, a, sa, now); err != nil {
		return StorageAccount{}, err
	}
	return sa, nil
}

// ResizeStorageAccountTx sets a storage account's allocated capacity inside
// tx. A strict account (no overdraft) moves the partner's sum of strict
// accounts by the difference, refused (CapacityExceeded) when a partner with
// an allocation has no room for it; it cannot shrink below the bytes its
// buckets hold (Conflict), unless it is scheduled for deletion: such an
// account takes no writes, and a cancellation releases its capacity while
// the data waits for the purge. The same capacity is a no-op.
func (s *Service) ResizeStorageAccountTx(ctx context.Context, tx Store, a actor.Actor, partnerID, id string, capacity int64) (StorageAccount, error) {
	if err := mayUse(a, partnerID, actor.Staff); err != nil {
		return StorageAccount{}, err
	}
	if err := validate.Capacity("allocatedCapacity", capacity); err != nil {
		return StorageAccount{}, err
	}
	// The partner's row first: every writer of its sums locks it, so the
	// account's capacity and the partner's sum change together.
	p, sa, err := s.accountOf(ctx, tx, a, partnerID, id, true)
	if err != nil {
		return StorageAccount{}, err
	}
	delta := capacity - sa.AllocatedCapacity
	if delta == 0 {
		return sa, nil
	}
	if !sa.AllowOverdraft {
		if delta < 0 && sa.PendingDeletedAt == nil {
			// Read in tx, on its connection, with the S3 principal's
			// row locked: a write reserving bytes waits for this
			// transaction, and no second pool connection is needed.
			used, err := tx.StoredBytes(ctx, sa.ID)
			if err != nil {
				return StorageAccount{}, err
			}
			if used > capacity {
				return StorageAccount{}, &errs.Error{Kind: errs.KindConflict, Field: "allocatedCapacity",
					Msg: fmt.Sprintf("cannot be less than the %d bytes the storage account stores or is writing; delete data first", used)}
			}
		}
		now := s.now()
		ok, err := tx.AddPartnerAccountsAllocation(ctx, p.ID, delta, now)
		if err != nil {
			return StorageAccount{}, err
		}
		if !ok {
			if delta < 0 {
				return StorageAccount{}, fmt.Errorf("objstore: releasing %d bytes of partner %s failed", -delta, p.ID)
			}
			return StorageAccount{}, &errs.Error{Kind: errs.KindCapacityExceeded, Field: "allocatedCapacity",
				Msg: fmt.Sprintf("insufficient capacity: the partner has %d bytes free of %d allocated, %d more requested",
					p.AllocatedCapacity-p.AccountsAllocated, p.AllocatedCapacity, delta)}
		}
	}
	now := s.now()
	if err := tx.SetStorageAccountCapacity(ctx, sa.ID, capacity, now); err != nil {
		return StorageAccount{}, err
	}
	prev := sa.AllocatedCapacity
	sa.AllocatedCapacity, sa.UpdatedAt = capacity, now
	return sa, tx.AppendAudit(ctx, audit.New(a, now, "storage_account.resize", "storage_account", sa.ID, sa.OrgPath,
		fmt.Sprintf("allocatedCapacity=%d (was %d)", capacity, prev)))
}

// SetSuspendedTx suspends (S3 reads and writes on the account's buckets
// refused) or resumes a storage account inside tx. Asking for the state the
// account is in changes nothing and writes no audit row, so a retried call
// converges.
func (s *Service) SetSuspendedTx(ctx context.Context, tx Store, a actor.Actor, partnerID, id string, suspended bool) (StorageAccount, error) {
	// Locked so two concurrent calls cannot both see the old state.
	_, sa, err := s.accountOf(ctx, tx, a, partnerID, id, true)
	if err != nil {
		return StorageAccount{}, err
	}
	if (sa.SuspendedAt != nil) == suspended {
		return sa, nil
	}
	now := s.now()
	var at *time.Time
	action := "storage_account.resume"
	if suspended {
		at, action = &now, "storage_account.suspend"
	}
	if err := tx.SetStorageAccountSuspended(ctx, sa.ID, at, now); err != nil {
		return StorageAccount{}, err
	}
	sa.SuspendedAt, sa.UpdatedAt = at, now
	return sa, tx.AppendAudit(ctx, audit.New(a, now, action, "storage_account", sa.ID, sa.OrgPath, sa.Name))
}

// ScheduleDeletionTx is ScheduleDeletion inside tx; it returns the account
// with its deletion date (the earlier one when it was already scheduled).
func (s *Service) ScheduleDeletionTx(ctx context.Context, tx Store, a actor.Actor, partnerID, id string) (StorageAccount, error) {
	_, sa, err := s.accountOf(ctx, tx, a, partnerID, id, false)
	if err != nil {
		return StorageAccount{}, err
	}
	if sa.PendingDeletedAt != nil {
		return sa, nil
	}
	now := s.now()
	at := now.Add(DeletionGrace)
	if err := tx.SetStorageAccountPendingDeletion(ctx, sa.ID, &at, now); err != nil {
		return StorageAccount{}, err
	}
	sa.PendingDeletedAt, sa.UpdatedAt = &at, now
	return sa, tx.AppendAudit(ctx, audit.New(a, now, "storage_account.schedule_deletion", "storage_account", sa.ID, sa.OrgPath, at.Format(time.RFC3339)))
}

// accountOf returns a storage account of a partner the actor may change
// (staff), with the partner; lock takes the partner's row first, as every
// writer of the partner's sums does.
func (s *Service) accountOf(ctx context.Context, tx Store, a actor.Actor, partnerID, id string, lock bool) (tenancy.Org, StorageAccount, error) {
	p, err := s.partnerOf(ctx, tx, a, partnerID, actor.Staff, lock)
	if err != nil {
		return tenancy.Org{}, StorageAccount{}, err
	}
	sa, err := tx.GetStorageAccount(ctx, a.Scope(), p.ID, id)
	return p, sa, err
}
