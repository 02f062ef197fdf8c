package objstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/password/passwordtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// setStored makes the account's S3 principal hold used bytes with
// reserved more in flight, as the S3 server's accounting would.
func (w txWorld) setStored(t *testing.T, saID string, used, reserved int64) {
	t.Helper()
	ctx := t.Context()
	p, err := w.st.GetPrincipalByStorageAccount(ctx, saID)
	if err != nil {
		t.Fatal(err)
	}
	nowUsed, nowReserved, _, err := w.st.Quota(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.AddPrincipalBytes(ctx, p.ID, used-nowUsed, reserved-nowReserved); err != nil {
		t.Fatal(err)
	}
}

type txWorld struct {
	ctx context.Context // the test's
	clk *clock.Fake
	st  *sqlstore.Store
	ten *tenancy.Service
	obj *objstore.Service
	c   tenancy.Contract
	p   tenancy.Org
}

// newTxWorld: a contract of 100 bytes and a pay-per-use partner under it.
func newTxWorld(t *testing.T, d *db.DB) txWorld {
	t.Helper()
	ctx := t.Context()
	clk := clock.NewFake(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	st := sqlstore.New(d)
	ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
	obj := wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{}))
	sys := actor.System("")
	root, _ := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
	dist, _ := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
	c, err := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: 100, Currency: "EUR", Details: "C"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ten.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	return txWorld{ctx: t.Context(), clk: clk, st: st, ten: ten, obj: obj, c: c, p: p}
}

// tx runs fn with both services' stores bound to one transaction, as a
// caller composing them (the BSS) does.
func (w txWorld) tx(fn func(ten tenancy.Store, obj objstore.Store) error) error {
	return sqlstore.Objstore{Store: w.st}.Tx(w.ctx, func(tx objstore.Store) error {
		s := tx.(sqlstore.Objstore).Store
		return fn(sqlstore.Tenancy{Store: s}, tx)
	})
}

func (w txWorld) partner(t *testing.T) tenancy.Org {
	t.Helper()
	p, err := w.ten.GetPartner(t.Context(), actor.System(""), w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w txWorld) account(t *testing.T, id string) objstore.StorageAccount {
	t.Helper()
	sa, err := w.obj.GetStorageAccount(t.Context(), actor.System(""), w.p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

func (w txWorld) audits(t *testing.T, action string) int {
	t.Helper()
	es, err := w.st.ListAudit(t.Context(), "/", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

func saInput(email string, capacity int64) objstore.CreateStorageAccountInput {
	return objstore.CreateStorageAccountInput{Name: "SA", AllocatedCapacity: capacity, ContactEmail: email, Password: "Str0ng!pass"}
}

// A subscription's provisioning in one transaction: the partner grows from
// the contract, then a strict account takes that capacity and gets its S3
// principal and key. A failure later in the transaction leaves nothing.
func TestCreateStorageAccountTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newTxWorld(t, d)
		ctx := t.Context()
		sys := actor.System("")
		var sa objstore.StorageAccount
		err := w.tx(func(ten tenancy.Store, obj objstore.Store) error {
			if _, err := w.ten.ResizePartnerTx(ctx, ten, sys, w.p.ID, 40); err != nil {
				return err
			}
			var err error
			sa, err = w.obj.CreateStorageAccountTx(ctx, obj, sys, w.p.ID, saInput("a@example.com", 40))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if p := w.partner(t); p.AllocatedCapacity != 40 || p.AccountsAllocated != 40 {
			t.Fatalf("partner %d allocated, %d to accounts; want 40 and 40", p.AllocatedCapacity, p.AccountsAllocated)
		}
		if got := w.account(t, sa.ID); got.AllocatedCapacity != 40 || got.SuspendedAt != nil || got.PasswordHash == "" {
			t.Fatalf("account: %+v", got)
		}
		if _, keys, err := w.obj.AccountKeys(ctx, sys, w.p.ID, sa.ID); err != nil || len(keys) != 1 {
			t.Fatalf("S3 keys: %d %v", len(keys), err)
		}

		// The partner has no room left: refused with the partner's numbers.
		err = w.tx(func(_ tenancy.Store, obj objstore.Store) error {
			_, err := w.obj.CreateStorageAccountTx(ctx, obj, sys, w.p.ID, saInput("b@example.com", 1))
			return err
		})
		if !errs.Is(err, errs.KindCapacityExceeded) || !strings.Contains(err.Error(), "0 bytes free of 40 allocated") {
			t.Fatalf("beyond the partner: %v", err)
		}
		// Invalid input is checked in the Tx form too.
		err = w.tx(func(_ tenancy.Store, obj objstore.Store) error {
			_, err := w.obj.CreateStorageAccountTx(ctx, obj, sys, w.p.ID, saInput("not-an-email", 0))
			return err
		})
		if !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("bad e-mail: %v", err)
		}

		// Prepared outside the transaction (validated, hashed): the Tx form
		// uses the hash; a bad input fails Prepare already.
		bad := saInput("x@example.com", 0)
		bad.Password = "short"
		if err := bad.Prepare(); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("Prepare of a weak password: %v", err)
		}
		in := saInput("prepared@example.com", 0)
		if err := in.Prepare(); err != nil {
			t.Fatal(err)
		}
		var prepared objstore.StorageAccount
		err = w.tx(func(_ tenancy.Store, obj objstore.Store) error {
			var err error
			prepared, err = w.obj.CreateStorageAccountTx(ctx, obj, sys, w.p.ID, in)
			return err
		})
		if err != nil || !passwordtest.Matches("Str0ng!pass", w.account(t, prepared.ID).PasswordHash) {
			t.Fatalf("prepared create: %+v %v", prepared, err)
		}

		// Rolled back with the caller's transaction: no account, no
		// capacity moved.
		boom := errors.New("boom")
		err = w.tx(func(ten tenancy.Store, obj objstore.Store) error {
			if _, err := w.ten.ResizePartnerTx(ctx, ten, sys, w.p.ID, 10); err != nil {
				return err
			}
			if _, err := w.obj.CreateStorageAccountTx(ctx, obj, sys, w.p.ID, saInput("c@example.com", 10)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		list, _ := w.obj.ListStorageAccounts(ctx, sys, w.p.ID)
		if p := w.partner(t); len(list) != 2 || p.AllocatedCapacity != 40 || p.AccountsAllocated != 40 {
			t.Fatalf("after rollback: %d accounts, partner %d/%d", len(list), p.AllocatedCapacity, p.AccountsAllocated)
		}
		if c, _ := w.ten.GetContract(ctx, sys, w.c.ID); c.AllocatedCapacity != 40 {
			t.Fatalf("contract allocated %d after rollback", c.AllocatedCapacity)
		}
	})
}

// Resizing an account moves the partner's sum of strict accounts with it,
// within the partner, never below what the account stores (unless it is
// scheduled for deletion); an overdraft account moves nothing.
func TestResizeStorageAccountTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newTxWorld(t, d)
		ctx := t.Context()
		sys := actor.System("")
		if _, err := w.ten.UpdatePartner(ctx, sys, w.p.ID, tenancy.UpdatePartnerInput{AllocatedCapacity: ptr(int64(50))}); err != nil {
			t.Fatal(err)
		}
		sa, err := w.obj.CreateStorageAccount(ctx, sys, w.p.ID, saInput("a@example.com", 20))
		if err != nil {
			t.Fatal(err)
		}
		resize := func(id string, capacity int64) (objstore.StorageAccount, error) {
			var got objstore.StorageAccount
			err := w.tx(func(_ tenancy.Store, obj objstore.Store) error {
				var err error
				got, err = w.obj.ResizeStorageAccountTx(ctx, obj, sys, w.p.ID, id, capacity)
				return err
			})
			return got, err
		}
		if got, err := resize(sa.ID, 50); err != nil || got.AllocatedCapacity != 50 {
			t.Fatalf("grow to the partner's allocation: %+v %v", got, err)
		}
		if p := w.partner(t); p.AccountsAllocated != 50 {
			t.Fatalf("partner's accounts hold %d, want 50", p.AccountsAllocated)
		}
		_, err = resize(sa.ID, 51)
		if !errs.Is(err, errs.KindCapacityExceeded) || errs.FieldOf(err) != "allocatedCapacity" ||
			!strings.Contains(err.Error(), "0 bytes free of 50 allocated, 1 more requested") {
			t.Fatalf("beyond the partner: %v", err)
		}
		// Same capacity: nothing written.
		before := w.audits(t, "storage_account.resize")
		if got, err := resize(sa.ID, 50); err != nil || got.AllocatedCapacity != 50 || w.audits(t, "storage_account.resize") != before {
			t.Fatalf("no-op resize: %+v %v", got, err)
		}
		// Below what it stores: refused; down to it: fine.
		w.setStored(t, sa.ID, 20, 10) // 20 stored, 10 being written
		_, err = resize(sa.ID, 29)
		if !errs.Is(err, errs.KindConflict) || errs.FieldOf(err) != "allocatedCapacity" || !strings.Contains(err.Error(), "30 bytes") {
			t.Fatalf("below the stored bytes: %v", err)
		}
		if got, err := resize(sa.ID, 30); err != nil || got.AllocatedCapacity != 30 {
			t.Fatalf("down to the stored bytes: %+v %v", got, err)
		}
		if p := w.partner(t); p.AccountsAllocated != 30 {
			t.Fatalf("partner's accounts hold %d, want 30", p.AccountsAllocated)
		}
		if _, err := resize(sa.ID, -1); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("negative: %v", err)
		}
		// Scheduled for deletion (a cancellation): the capacity goes back
		// whatever the account still stores.
		if err := w.obj.ScheduleDeletion(ctx, sys, w.p.ID, sa.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := resize(sa.ID, 0); err != nil || got.AllocatedCapacity != 0 {
			t.Fatalf("release a scheduled account: %+v %v", got, err)
		}
		if p := w.partner(t); p.AccountsAllocated != 0 {
			t.Fatalf("partner's accounts hold %d, want 0", p.AccountsAllocated)
		}
		if got := w.account(t, sa.ID); got.AllocatedCapacity != 0 || !got.UpdatedAt.Equal(w.clk.Now()) {
			t.Fatalf("stored account: %+v", got)
		}
		if n := w.audits(t, "storage_account.resize"); n != 3 {
			t.Fatalf("%d resize audit rows, want 3", n)
		}

		// An overdraft account is not part of the partner's sum.
		od, err := w.obj.CreateStorageAccount(ctx, sys, w.p.ID, objstore.CreateStorageAccountInput{Name: "OD",
			AllocatedCapacity: 10, AllowOverdraft: true, ContactEmail: "od@example.com", Password: "Str0ng!pass"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := resize(od.ID, 500); err != nil || got.AllocatedCapacity != 500 {
			t.Fatalf("overdraft grow: %+v %v", got, err)
		}
		if p := w.partner(t); p.AccountsAllocated != 0 {
			t.Fatalf("overdraft account moved the partner's sum to %d", p.AccountsAllocated)
		}
		// Unknown account; a partner key of another partner.
		if _, err := resize("nope", 1); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
		viewer := actor.Actor{Type: actor.TypeAPIKey, OrgID: w.p.ID, OrgPath: w.p.Path, OrgKind: actor.Partner, Role: actor.Viewer}
		err = w.tx(func(_ tenancy.Store, obj objstore.Store) error {
			_, err := w.obj.ResizeStorageAccountTx(ctx, obj, viewer, "", od.ID, 1)
			return err
		})
		if !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer: %v", err)
		}
	})
}

// Suspension is set and lifted, idempotently (one audit row per change).
func TestSetSuspendedTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newTxWorld(t, d)
		ctx := t.Context()
		sys := actor.System("")
		sa, err := w.obj.CreateStorageAccount(ctx, sys, w.p.ID, saInput("a@example.com", 0))
		if err != nil {
			t.Fatal(err)
		}
		set := func(a actor.Actor, partnerID string, on bool) (objstore.StorageAccount, error) {
			var got objstore.StorageAccount
			err := w.tx(func(_ tenancy.Store, obj objstore.Store) error {
				var err error
				got, err = w.obj.SetSuspendedTx(ctx, obj, a, partnerID, sa.ID, on)
				return err
			})
			return got, err
		}
		first := w.clk.Now()
		for range 2 {
			got, err := set(sys, w.p.ID, true)
			if err != nil || got.SuspendedAt == nil || !got.SuspendedAt.Equal(first) {
				t.Fatalf("suspend: %+v %v (a second suspend keeps the first time)", got, err)
			}
			w.clk.Advance(time.Minute)
		}
		if got := w.account(t, sa.ID); got.SuspendedAt == nil || !got.SuspendedAt.Equal(first) {
			t.Fatalf("stored suspension: %v (a second suspend must keep the first time)", got.SuspendedAt)
		}
		// The partner's own staff key may lift it (partner route).
		staff := actor.Actor{Type: actor.TypeAPIKey, OrgID: w.p.ID, OrgPath: w.p.Path, OrgKind: actor.Partner, Role: actor.Staff}
		for range 2 {
			if got, err := set(staff, "", false); err != nil || got.SuspendedAt != nil {
				t.Fatalf("resume: %+v %v", got, err)
			}
		}
		if got := w.account(t, sa.ID); got.SuspendedAt != nil {
			t.Fatalf("still suspended: %v", got.SuspendedAt)
		}
		if s, r := w.audits(t, "storage_account.suspend"), w.audits(t, "storage_account.resume"); s != 1 || r != 1 {
			t.Fatalf("%d suspend and %d resume audit rows, want 1 and 1", s, r)
		}
		if _, err := set(sys, w.p.ID+"x", true); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown partner: %v", err)
		}
	})
}

// ScheduleDeletionTx returns the account with its date; a second call keeps
// the first date.
func TestScheduleDeletionTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newTxWorld(t, d)
		ctx := t.Context()
		sys := actor.System("")
		sa, err := w.obj.CreateStorageAccount(ctx, sys, w.p.ID, saInput("a@example.com", 0))
		if err != nil {
			t.Fatal(err)
		}
		want := w.clk.Now().Add(objstore.DeletionGrace)
		for range 2 {
			var got objstore.StorageAccount
			err := w.tx(func(_ tenancy.Store, obj objstore.Store) error {
				var err error
				got, err = w.obj.ScheduleDeletionTx(ctx, obj, sys, w.p.ID, sa.ID)
				return err
			})
			if err != nil || got.PendingDeletedAt == nil || !got.PendingDeletedAt.Equal(want) {
				t.Fatalf("schedule: %v %v, want %v", got.PendingDeletedAt, err, want)
			}
			w.clk.Advance(time.Hour)
		}
		if got := w.account(t, sa.ID); got.PendingDeletedAt == nil || !got.PendingDeletedAt.Equal(want) {
			t.Fatalf("stored: %v", got.PendingDeletedAt)
		}
		if n := w.audits(t, "storage_account.schedule_deletion"); n != 1 {
			t.Fatalf("%d audit rows, want 1", n)
		}
		err = w.tx(func(_ tenancy.Store, obj objstore.Store) error {
			_, err := w.obj.ScheduleDeletionTx(ctx, obj, sys, w.p.ID, "nope")
			return err
		})
		if !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
