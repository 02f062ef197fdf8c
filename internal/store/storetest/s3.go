package storetest

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// s3UserSeq hands out idcloudhost user ids for S3 user principals (user_id
// is unique).
var s3UserSeq atomic.Int64

func newS3UserID() int64 { return 7_000_000 + s3UserSeq.Add(1) }

// unique returns a short random upper-case suffix (the random end of a UUID;
// its start is a timestamp and repeats between quick calls).
func unique() string { return strings.ToUpper(strings.ReplaceAll(ids.New()[19:], "-", "")) }

// s3Account inserts a storage account of partner p.
func (s *suite) s3Account(t *testing.T, p tenancy.Org, capacity int64, overdraft bool, created time.Time) objstore.StorageAccount {
	t.Helper()
	sa := objstore.StorageAccount{ID: ids.New(), PartnerID: p.ID, OrgPath: p.Path, Name: "S3", ContactEmail: ids.New() + "@example.com",
		PasswordHash: "h", AllocatedCapacity: capacity, AllowOverdraft: overdraft, CreatedAt: created, UpdatedAt: created}
	must(t, s.st.InsertStorageAccount(s.ctx, sa))
	return sa
}

// saPrincipal inserts the S3 principal of a storage account.
func (s *suite) saPrincipal(t *testing.T, sa objstore.StorageAccount) objstore.Principal {
	t.Helper()
	p := objstore.Principal{ID: sa.ID, Kind: objstore.KindStorageAccount, StorageAccountID: sa.ID, OrgID: sa.PartnerID,
		OrgPath: sa.OrgPath, DisplayName: sa.Name, Email: sa.ContactEmail, CreatedAt: db.Micro(t0)}
	must(t, s.st.InsertPrincipal(s.ctx, p))
	return p
}

// userPrincipal inserts the S3 principal of an idcloudhost user of org.
func (s *suite) userPrincipal(t *testing.T, org tenancy.Org, user int64) objstore.Principal {
	t.Helper()
	email := strings.ToLower(unique()) + "@example.com"
	p := objstore.Principal{ID: email, Kind: objstore.KindUser, UserID: user, OrgID: org.ID, OrgPath: org.Path,
		DisplayName: "Ann", Email: email, CreatedAt: db.Micro(t0)}
	must(t, s.st.InsertPrincipal(s.ctx, p))
	return p
}

// s3Bucket inserts an empty live bucket of p.
func (s *suite) s3Bucket(t *testing.T, prefix string, p objstore.Principal, account int64, created time.Time) buckets.Bucket {
	t.Helper()
	b := buckets.Bucket{ID: ids.New(), Name: prefix + "-" + strings.ToLower(unique()), PrincipalID: p.ID, OrgPath: p.OrgPath,
		BillingAccountID: account, CreatedAt: created, ModifiedAt: created}
	must(t, s.st.InsertBucket(s.ctx, b))
	return b
}

// s3Principals: principals (unique by id, storage account and user) and
// their keys (seq in creation order, listed oldest first).
func (s *suite) s3Principals(t *testing.T) {
	s.cover("InsertPrincipal", "GetPrincipal", "GetPrincipalByStorageAccount", "GetPrincipalByUser",
		"InsertKey", "GetKey", "ListKeys", "DeleteKey", "CountKeys")
	_, _, partner, _ := s.tree(t)
	now := db.Micro(t0)
	sa := s.s3Account(t, partner, 10, false, now)
	sp := objstore.Principal{ID: sa.ID, Kind: objstore.KindStorageAccount, StorageAccountID: sa.ID, OrgID: partner.ID,
		OrgPath: partner.Path, DisplayName: "Storage account", Email: sa.ContactEmail, CreatedAt: now}
	must(t, s.st.InsertPrincipal(s.ctx, sp))
	up := objstore.Principal{ID: "ann-" + strings.ToLower(unique()) + "@example.com", Kind: objstore.KindUser, UserID: newS3UserID(),
		OrgID: partner.ID, OrgPath: partner.Path, DisplayName: "Ann", Email: "ann@example.com", CreatedAt: now}
	must(t, s.st.InsertPrincipal(s.ctx, up))

	for _, c := range []struct {
		name string
		get  func() (objstore.Principal, error)
		want objstore.Principal
	}{
		{"GetPrincipal of a storage account", func() (objstore.Principal, error) { return s.st.GetPrincipal(s.ctx, sp.ID) }, sp},
		{"GetPrincipalByStorageAccount", func() (objstore.Principal, error) { return s.st.GetPrincipalByStorageAccount(s.ctx, sa.ID) }, sp},
		{"GetPrincipal of a user", func() (objstore.Principal, error) { return s.st.GetPrincipal(s.ctx, up.ID) }, up},
		{"GetPrincipalByUser", func() (objstore.Principal, error) { return s.st.GetPrincipalByUser(s.ctx, up.UserID) }, up},
	} {
		got, err := c.get()
		must(t, err)
		if d := cmp.Diff(c.want, got); d != "" {
			t.Fatalf("%s (-want +got):\n%s", c.name, d)
		}
	}
	_, err := s.st.GetPrincipal(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetPrincipalByStorageAccount(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetPrincipalByUser(s.ctx, newS3UserID())
	wantKind(t, err, errs.KindNotFound)

	// The same id, storage account or user again is a conflict, and leaves
	// the first as it was.
	wantKind(t, s.st.InsertPrincipal(s.ctx, sp), errs.KindConflict)
	sameSA := sp
	sameSA.ID = ids.New()
	wantKind(t, s.st.InsertPrincipal(s.ctx, sameSA), errs.KindConflict)
	sameUser := up
	sameUser.ID, sameUser.Email = "bob-"+strings.ToLower(unique())+"@example.com", "bob@example.com"
	wantKind(t, s.st.InsertPrincipal(s.ctx, sameUser), errs.KindConflict)
	sameID := up
	sameID.UserID = newS3UserID()
	wantKind(t, s.st.InsertPrincipal(s.ctx, sameID), errs.KindConflict)
	got, err := s.st.GetPrincipalByUser(s.ctx, up.UserID)
	must(t, err)
	if d := cmp.Diff(up, got); d != "" {
		t.Fatalf("user principal after conflicts (-want +got):\n%s", d)
	}
	if _, err := s.st.GetPrincipal(s.ctx, sameSA.ID); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("a conflicting principal was stored: %v", err)
	}

	// Keys: seq counts per principal in creation order, whatever the input
	// said; access keys that sort the other way round show the list is by seq.
	sfx := unique()
	keys := []objstore.StoredKey{
		{AccessKey: "TRZ" + sfx, SealedSecret: "sealed-1", PrincipalID: up.ID, Seq: 99, CreatedAt: db.Micro(t0)},
		{AccessKey: "TRM" + sfx, SealedSecret: "sealed-2", PrincipalID: up.ID, CreatedAt: db.Micro(t0.Add(time.Second))},
		{AccessKey: "TRA" + sfx, SealedSecret: "sealed-3", PrincipalID: up.ID, CreatedAt: db.Micro(t0.Add(2 * time.Second))},
	}
	for i := range keys {
		must(t, s.st.InsertKey(s.ctx, keys[i]))
		keys[i].Seq = int64(i + 1)
	}
	k, err := s.st.GetKey(s.ctx, keys[0].AccessKey)
	must(t, err)
	if d := cmp.Diff(keys[0], k); d != "" {
		t.Fatalf("key round trip (-want +got):\n%s", d)
	}
	list, err := s.st.ListKeys(s.ctx, up.ID)
	must(t, err)
	if d := cmp.Diff(keys, list); d != "" {
		t.Fatalf("ListKeys (-want +got):\n%s", d)
	}
	_, err = s.st.GetKey(s.ctx, "TRNOPE"+unique())
	wantKind(t, err, errs.KindNotFound)
	// An access key is unique across principals.
	dup := keys[1]
	dup.PrincipalID = sp.ID
	wantKind(t, s.st.InsertKey(s.ctx, dup), errs.KindConflict)
	// Another principal's keys count from 1.
	spKey := objstore.StoredKey{AccessKey: "TRS" + unique(), SealedSecret: "sealed-s", PrincipalID: sp.ID, CreatedAt: now}
	must(t, s.st.InsertKey(s.ctx, spKey))
	spKey.Seq = 1
	if list, _ := s.st.ListKeys(s.ctx, sp.ID); cmp.Diff([]objstore.StoredKey{spKey}, list) != "" {
		t.Fatalf("keys of the storage account principal: %+v", list)
	}
	for _, c := range []struct {
		principal string
		want      int
	}{{up.ID, 3}, {sp.ID, 1}, {ids.New(), 0}} {
		n, err := s.st.CountKeys(s.ctx, c.principal)
		must(t, err)
		if n != c.want {
			t.Fatalf("CountKeys(%s) = %d, want %d", c.principal, n, c.want)
		}
	}

	// Deleting another principal's key is not found and deletes nothing.
	wantKind(t, s.st.DeleteKey(s.ctx, sp.ID, keys[1].AccessKey), errs.KindNotFound)
	if _, err := s.st.GetKey(s.ctx, keys[1].AccessKey); err != nil {
		t.Fatalf("key gone after another principal deleted it: %v", err)
	}
	must(t, s.st.DeleteKey(s.ctx, up.ID, keys[1].AccessKey))
	wantKind(t, s.st.DeleteKey(s.ctx, up.ID, keys[1].AccessKey), errs.KindNotFound)
	_, err = s.st.GetKey(s.ctx, keys[1].AccessKey)
	wantKind(t, err, errs.KindNotFound)
	// The next key comes after the last, not in the gap.
	k4 := objstore.StoredKey{AccessKey: "TRB" + sfx, SealedSecret: "sealed-4", PrincipalID: up.ID, CreatedAt: db.Micro(t0.Add(3 * time.Second))}
	must(t, s.st.InsertKey(s.ctx, k4))
	k4.Seq = 4
	list, err = s.st.ListKeys(s.ctx, up.ID)
	must(t, err)
	if d := cmp.Diff([]objstore.StoredKey{keys[0], keys[2], k4}, list); d != "" {
		t.Fatalf("ListKeys after a delete (-want +got):\n%s", d)
	}
	if n, _ := s.st.CountKeys(s.ctx, up.ID); n != 3 {
		t.Fatalf("CountKeys after a delete and an insert = %d", n)
	}
	if list, err := s.st.ListKeys(s.ctx, ids.New()); err != nil || len(list) != 0 {
		t.Fatalf("ListKeys of an unknown principal: %v %v", list, err)
	}

	// Keys created at the same time: each succeeds or is a conflict, and
	// the seqs of those that succeeded are 1..n.
	racer := s.userPrincipal(t, partner, newS3UserID())
	var wg sync.WaitGroup
	var wins atomic.Int64
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.st.InsertKey(s.ctx, objstore.StoredKey{AccessKey: "TRR" + unique(), SealedSecret: "s", PrincipalID: racer.ID,
				CreatedAt: db.Micro(t0.Add(time.Duration(i) * time.Microsecond))})
			switch {
			case err == nil:
				wins.Add(1)
			case errs.KindOf(err) != errs.KindConflict:
				t.Errorf("racing InsertKey: %v", err)
			}
		}()
	}
	wg.Wait()
	list, err = s.st.ListKeys(s.ctx, racer.ID)
	must(t, err)
	if wins.Load() == 0 || int64(len(list)) != wins.Load() {
		t.Fatalf("racing keys: %d succeeded, %d stored", wins.Load(), len(list))
	}
	for i, k := range list {
		if k.Seq != int64(i+1) {
			t.Fatalf("racing keys: seq %d at position %d", k.Seq, i)
		}
	}
}

// s3Quota: the reservation of bytes against a storage account's allocation
// (exact, and under races), and the principal's counters.
func (s *suite) s3Quota(t *testing.T) {
	s.cover("ReserveBytes", "AddPrincipalBytes", "Quota", "StoredBytes")
	_, _, partner, _ := s.tree(t) // a partner with an allocation: not pay-per-use
	now := db.Micro(t0)
	cappedSA := s.s3Account(t, partner, 10, false, now)
	capped := s.saPrincipal(t, cappedSA)
	overdraft := s.saPrincipal(t, s.s3Account(t, partner, 10, true, now))
	user := s.userPrincipal(t, partner, newS3UserID())

	quota := func(step string, p objstore.Principal, used, reserved, limit int64) {
		t.Helper()
		u, r, l, err := s.st.Quota(s.ctx, p.ID)
		must(t, err)
		if u != used || r != reserved || l != limit {
			t.Fatalf("%s: quota %d/%d/%d, want used %d reserved %d limit %d", step, u, r, l, used, reserved, limit)
		}
	}
	reserve := func(step string, p objstore.Principal, n int64, want bool) {
		t.Helper()
		ok, err := s.st.ReserveBytes(s.ctx, p.ID, n)
		must(t, err)
		if ok != want {
			t.Fatalf("%s: ReserveBytes(%d) = %v, want %v", step, n, ok, want)
		}
	}
	add := func(p objstore.Principal, used, reserved int64) {
		t.Helper()
		must(t, s.st.AddPrincipalBytes(s.ctx, p.ID, used, reserved))
	}

	quota("new", capped, 0, 0, 10)
	reserve("beyond the allocation", capped, 11, false)
	quota("after a refused reservation", capped, 0, 0, 10)
	reserve("within", capped, 6, true)
	quota("reserved", capped, 0, 6, 10)
	add(capped, 3, -3) // a write of 3 settled
	quota("settled", capped, 3, 3, 10)
	reserve("exactly up to the allocation", capped, 4, true)
	quota("full", capped, 3, 7, 10)
	// A shrink's guard: stored plus in flight, read (and the row locked)
	// in the caller's transaction; an account without a principal holds 0.
	if n, err := s.st.StoredBytes(s.ctx, cappedSA.ID); err != nil || n != 10 {
		t.Fatalf("StoredBytes = %d %v, want 3 stored + 7 in flight", n, err)
	}
	if n, err := s.st.StoredBytes(s.ctx, ids.New()); err != nil || n != 0 {
		t.Fatalf("StoredBytes of an account without a principal = %d %v, want 0", n, err)
	}
	reserve("one byte more", capped, 1, false)
	reserve("nothing", capped, 0, true)
	add(capped, 0, -7)
	quota("released", capped, 3, 0, 10)
	add(capped, -5, -1) // never below 0
	quota("floored at 0", capped, 0, 0, 10)
	add(capped, 0, 0)
	reserve("the whole allocation", capped, 10, true)
	add(capped, 0, -10)

	reserve("overdraft", overdraft, 1<<40, true)
	quota("overdraft", overdraft, 0, 1<<40, -1)
	reserve("user", user, 1<<40, true)
	add(user, 1<<30, 0)
	quota("user", user, 1<<30, 1<<40, -1)

	// A pay-per-use partner (allocation 0) caps none of its accounts; the
	// cap is read when reserving, so it applies again once the partner has
	// an allocation.
	_, _, ppu, _ := s.tree(t)
	ok, err := s.st.SetPartnerAllocation(s.ctx, ppu.ID, 0, now)
	must(t, err)
	if !ok {
		t.Fatal("partner not made pay-per-use")
	}
	payg := s.saPrincipal(t, s.s3Account(t, ppu, 10, false, now))
	reserve("pay-per-use", payg, 1<<40, true)
	quota("pay-per-use", payg, 0, 1<<40, -1)
	if ok, err = s.st.SetPartnerAllocation(s.ctx, ppu.ID, 10, now); err != nil || !ok {
		t.Fatalf("SetPartnerAllocation: %v %v", ok, err)
	}
	reserve("capped again", payg, 1, false)
	quota("capped again", payg, 0, 1<<40, 10)

	// Unknown principals.
	reserve("unknown principal", objstore.Principal{ID: ids.New()}, 1, false)
	wantKind(t, s.st.AddPrincipalBytes(s.ctx, ids.New(), 1, 0), errs.KindNotFound)
	_, _, _, err = s.st.Quota(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)

	// Races: 40 reservations of 1 byte against 10 bytes, alone and inside
	// transactions (as the accounting runs them): exactly 10 win.
	racy := s.saPrincipal(t, s.s3Account(t, partner, 10, false, now))
	bst := sqlstore.Buckets{Store: s.st}
	for _, mode := range []string{"statement", "transaction"} {
		var wg sync.WaitGroup
		var wins atomic.Int64
		start := make(chan struct{})
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var ok bool
				var err error
				if mode == "statement" {
					ok, err = s.st.ReserveBytes(s.ctx, racy.ID, 1)
				} else {
					err = bst.Tx(s.ctx, func(tx buckets.Store) error {
						ok, err = tx.ReserveBytes(s.ctx, racy.ID, 1)
						return err
					})
				}
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 10 {
			t.Fatalf("racing reservations (%s): %d won, want 10", mode, wins.Load())
		}
		quota("after the race ("+mode+")", racy, 0, 10, 10)
		add(racy, 0, -10)
	}
}

// s3Buckets: live buckets unique by name, their counters, and what a
// deleted bucket refuses.
func (s *suite) s3Buckets(t *testing.T) {
	s.cover("InsertBucket", "GetLiveBucket", "ListPrincipalBuckets", "ListLiveBuckets", "CountAccountBuckets",
		"DeleteBucketRow", "MarkBucketDeleted", "SetBucketBillingAccount", "SetBucketSuspended", "ApplyBucketChange")
	org := s.customer(t)
	uid := newS3UserID()
	acct1, acct2 := s.billingAccount(t, org, uid), s.billingAccount(t, org, uid)
	p := s.userPrincipal(t, org, uid)
	other := s.userPrincipal(t, org, newS3UserID())
	sfx := strings.ToLower(unique())
	at := func(d time.Duration) time.Time { return db.Micro(t0.Add(d)) }
	mk := func(name string, account int64, created time.Time, suspended bool) buckets.Bucket {
		return buckets.Bucket{ID: ids.New(), Name: name + "-" + sfx, PrincipalID: p.ID, OrgPath: p.OrgPath, BillingAccountID: account,
			IsSuspended: suspended, CreatedAt: created, ModifiedAt: created}
	}
	// Listed by creation time, then name.
	b1 := mk("alpha", acct1.ID, at(2*time.Second), true)
	b2 := mk("charlie", acct2.ID, at(time.Second), false)
	b3 := mk("bravo", acct1.ID, at(time.Second), false)
	for _, b := range []buckets.Bucket{b1, b2, b3} {
		must(t, s.st.InsertBucket(s.ctx, b))
	}
	got, err := s.st.GetLiveBucket(s.ctx, b1.Name)
	must(t, err)
	if d := cmp.Diff(b1, got); d != "" {
		t.Fatalf("bucket round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetLiveBucket(s.ctx, "nope-"+sfx)
	wantKind(t, err, errs.KindNotFound)
	dup := b1
	dup.ID, dup.PrincipalID = ids.New(), other.ID
	err = s.st.InsertBucket(s.ctx, dup)
	wantKind(t, err, errs.KindConflict)
	if errs.FieldOf(err) != "name" {
		t.Fatalf("duplicate bucket name names field %q", errs.FieldOf(err))
	}

	listed := func(step string, principal string, account int64, want ...buckets.Bucket) {
		t.Helper()
		got, err := s.st.ListPrincipalBuckets(s.ctx, principal, account)
		must(t, err)
		if d := cmp.Diff(want, got); len(want)+len(got) > 0 && d != "" {
			t.Fatalf("%s: ListPrincipalBuckets(%d) (-want +got):\n%s", step, account, d)
		}
	}
	counted := func(step string, account int64, want int) {
		t.Helper()
		n, err := s.st.CountAccountBuckets(s.ctx, account)
		must(t, err)
		if n != want {
			t.Fatalf("%s: CountAccountBuckets(%d) = %d, want %d", step, account, n, want)
		}
	}
	live := func(step string, want ...buckets.Bucket) {
		t.Helper()
		all, err := s.st.ListLiveBuckets(s.ctx)
		must(t, err)
		var mine []buckets.Bucket
		for _, b := range all {
			if strings.HasSuffix(b.Name, "-"+sfx) {
				mine = append(mine, b)
			}
		}
		if d := cmp.Diff(want, mine); len(want)+len(mine) > 0 && d != "" {
			t.Fatalf("%s: ListLiveBuckets (-want +got):\n%s", step, d)
		}
	}
	listed("all", p.ID, 0, b3, b2, b1)
	listed("account 1", p.ID, acct1.ID, b3, b1)
	listed("account 2", p.ID, acct2.ID, b2)
	listed("another principal", other.ID, 0)
	listed("an account id beyond int32", p.ID, 1<<40)
	counted("new", acct1.ID, 2)
	counted("new", acct2.ID, 1)
	live("new", b1, b3, b2) // by name

	// Counters move by the change, never below 0; the result is objects +
	// parts after.
	stored, err := s.st.ApplyBucketChange(s.ctx, b1.ID, buckets.Change{Objects: 2, ObjectBytes: 100, PartBytes: 30}, at(time.Minute))
	must(t, err)
	b1.SizeBytes, b1.NumObjects, b1.PartsBytes, b1.ModifiedAt = 100, 2, 30, at(time.Minute)
	if stored != 130 {
		t.Fatalf("ApplyBucketChange returned %d, want 130", stored)
	}
	stored, err = s.st.ApplyBucketChange(s.ctx, b1.ID, buckets.Change{Objects: -5, ObjectBytes: -150, PartBytes: -10}, at(2*time.Minute))
	must(t, err)
	b1.SizeBytes, b1.NumObjects, b1.PartsBytes, b1.ModifiedAt = 0, 0, 20, at(2*time.Minute)
	if stored != 20 {
		t.Fatalf("ApplyBucketChange below 0 returned %d, want 20", stored)
	}
	stored, err = s.st.ApplyBucketChange(s.ctx, b1.ID, buckets.Change{Objects: 1, ObjectBytes: 7, PartBytes: -20}, at(3*time.Minute))
	must(t, err)
	b1.SizeBytes, b1.NumObjects, b1.PartsBytes, b1.ModifiedAt = 7, 1, 0, at(3*time.Minute)
	if stored != 7 {
		t.Fatalf("ApplyBucketChange returned %d, want 7", stored)
	}
	if got, _ = s.st.GetLiveBucket(s.ctx, b1.Name); cmp.Diff(b1, got) != "" {
		t.Fatalf("counters (-want +got):\n%s", cmp.Diff(b1, got))
	}
	_, err = s.st.ApplyBucketChange(s.ctx, ids.New(), buckets.Change{Objects: 1}, at(0))
	wantKind(t, err, errs.KindNotFound)

	must(t, s.st.SetBucketSuspended(s.ctx, b1.ID, false, at(4*time.Minute)))
	b1.IsSuspended, b1.ModifiedAt = false, at(4*time.Minute)
	must(t, s.st.SetBucketBillingAccount(s.ctx, b1.ID, acct2.ID, at(5*time.Minute)))
	b1.BillingAccountID, b1.ModifiedAt = acct2.ID, at(5*time.Minute)
	must(t, s.st.SetBucketSuspended(s.ctx, b2.ID, true, at(6*time.Minute)))
	b2.IsSuspended, b2.ModifiedAt = true, at(6*time.Minute)
	if got, _ = s.st.GetLiveBucket(s.ctx, b1.Name); cmp.Diff(b1, got) != "" {
		t.Fatalf("after SetBucketSuspended and SetBucketBillingAccount (-want +got):\n%s", cmp.Diff(b1, got))
	}
	listed("moved", p.ID, acct2.ID, b2, b1)
	listed("moved", p.ID, acct1.ID, b3)
	counted("moved", acct1.ID, 1)
	counted("moved", acct2.ID, 2)
	wantKind(t, s.st.SetBucketSuspended(s.ctx, ids.New(), true, at(0)), errs.KindNotFound)
	wantKind(t, s.st.SetBucketBillingAccount(s.ctx, ids.New(), acct1.ID, at(0)), errs.KindNotFound)

	// A deleted bucket is gone from every live view and refuses changes;
	// its name can be taken again.
	must(t, s.st.MarkBucketDeleted(s.ctx, b1.ID, at(time.Hour)))
	_, err = s.st.GetLiveBucket(s.ctx, b1.Name)
	wantKind(t, err, errs.KindNotFound)
	listed("deleted", p.ID, 0, b3, b2)
	counted("deleted", acct2.ID, 1)
	live("deleted", b3, b2)
	wantKind(t, s.st.MarkBucketDeleted(s.ctx, b1.ID, at(2*time.Hour)), errs.KindNotFound)
	wantKind(t, s.st.SetBucketSuspended(s.ctx, b1.ID, true, at(2*time.Hour)), errs.KindNotFound)
	wantKind(t, s.st.SetBucketBillingAccount(s.ctx, b1.ID, acct1.ID, at(2*time.Hour)), errs.KindNotFound)
	wantKind(t, s.st.MarkBucketDeleted(s.ctx, ids.New(), at(2*time.Hour)), errs.KindNotFound)
	again := b1
	again.ID, again.PrincipalID, again.BillingAccountID, again.IsSuspended = ids.New(), other.ID, 0, false
	again.SizeBytes, again.NumObjects, again.PartsBytes = 0, 0, 0
	again.CreatedAt, again.ModifiedAt = at(3*time.Hour), at(3*time.Hour)
	must(t, s.st.InsertBucket(s.ctx, again))
	if got, err = s.st.GetLiveBucket(s.ctx, b1.Name); err != nil || cmp.Diff(again, got) != "" {
		t.Fatalf("the name of a deleted bucket taken again: %v (-want +got):\n%s", err, cmp.Diff(again, got))
	}
	listed("taken again", other.ID, 0, again)
	live("taken again", again, b3, b2)
	counted("an unbilled bucket", 0, 0)

	// A registration that failed: the row goes, whether live or deleted.
	must(t, s.st.DeleteBucketRow(s.ctx, again.ID))
	_, err = s.st.GetLiveBucket(s.ctx, again.Name)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.DeleteBucketRow(s.ctx, again.ID), errs.KindNotFound)
	must(t, s.st.DeleteBucketRow(s.ctx, b1.ID))
	listed("rows deleted", other.ID, 0)
	live("rows deleted", b3, b2)
}

// s3Targets: a live bucket with what decides whether it may be written.
func (s *suite) s3Targets(t *testing.T) {
	s.cover("GetTarget")
	_, _, partner, _ := s.tree(t)
	now := db.Micro(t0)
	sa := s.s3Account(t, partner, 10, false, now)
	sp := s.saPrincipal(t, sa)
	sb := s.s3Bucket(t, "sa", sp, 0, now)
	target := func(step, name string, want buckets.Target) {
		t.Helper()
		got, err := s.st.GetTarget(s.ctx, name)
		must(t, err)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s: GetTarget (-want +got):\n%s", step, d)
		}
	}
	saWant := buckets.Target{Bucket: sb, PrincipalKind: objstore.KindStorageAccount, StorageAccountID: sa.ID}
	target("storage account", sb.Name, saWant)
	due := db.Micro(t0.Add(time.Hour))
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, &due, now))
	saWant.AccountPending = true
	target("storage account pending deletion", sb.Name, saWant)
	must(t, s.st.SetStorageAccountPendingDeletion(s.ctx, sa.ID, nil, now))
	saWant.AccountPending = false
	target("deletion cancelled", sb.Name, saWant)
	must(t, s.st.SetStorageAccountSuspended(s.ctx, sa.ID, &now, now))
	saWant.AccountSuspended = true
	target("storage account suspended", sb.Name, saWant)
	must(t, s.st.SetStorageAccountSuspended(s.ctx, sa.ID, nil, now))
	saWant.AccountSuspended = false
	target("storage account resumed", sb.Name, saWant)

	org := s.customer(t)
	uid := newS3UserID()
	acct := s.billingAccount(t, org, uid)
	up := s.userPrincipal(t, org, uid)
	ub := s.s3Bucket(t, "user", up, acct.ID, now)
	unbilled := s.s3Bucket(t, "unbilled", up, 0, now)
	target("user bucket without a billing account", unbilled.Name, buckets.Target{Bucket: unbilled, PrincipalKind: objstore.KindUser})
	uWant := buckets.Target{Bucket: ub, PrincipalKind: objstore.KindUser}
	target("billing account in order", ub.Name, uWant)

	ok, err := s.st.SetBillingAccountRestriction(s.ctx, acct.ID, billing.RestrictionNone, billing.RestrictionFrozen, "invoice 001 is past due", now)
	must(t, err)
	if !ok {
		t.Fatal("restriction not set")
	}
	uWant.BillingRestricted = "billing account " + itoa(acct.ID) + " is restricted (FROZEN): invoice 001 is past due"
	target("frozen", ub.Name, uWant)
	if ok, _ = s.st.SetBillingAccountRestriction(s.ctx, acct.ID, billing.RestrictionFrozen, billing.RestrictionFrozen, "", now); !ok {
		t.Fatal("reason not cleared")
	}
	uWant.BillingRestricted = "billing account " + itoa(acct.ID) + " is restricted (FROZEN)"
	target("frozen without a reason", ub.Name, uWant)

	inactive := acct
	inactive.IsActive, inactive.RestrictionLevel, inactive.SuspendReason = false, billing.RestrictionNone, ""
	must(t, s.st.UpdateBillingAccount(s.ctx, inactive))
	uWant.BillingRestricted = "billing account " + itoa(acct.ID) + " is not active"
	target("inactive", ub.Name, uWant)
	if ok, err = s.st.SoftDeleteBillingAccount(s.ctx, acct.ID, now); err != nil || !ok {
		t.Fatalf("SoftDeleteBillingAccount: %v %v", ok, err)
	}
	uWant.BillingRestricted = "billing account " + itoa(acct.ID) + " is deleted"
	target("deleted", ub.Name, uWant)

	must(t, s.st.MarkBucketDeleted(s.ctx, ub.ID, now))
	_, err = s.st.GetTarget(s.ctx, ub.Name)
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetTarget(s.ctx, "nope-"+strings.ToLower(unique()))
	wantKind(t, err, errs.KindNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// s3Reservations: writes in flight, by node.
func (s *suite) s3Reservations(t *testing.T) {
	s.cover("InsertReservation", "ListReservations", "DeleteReservation")
	_, _, partner, _ := s.tree(t)
	p := s.userPrincipal(t, partner, newS3UserID())
	b := s.s3Bucket(t, "res", p, 0, db.Micro(t0))
	node, otherNode := "node-"+unique(), "node-"+unique()
	// The bucket name is not stored: it is read from the bucket.
	r1 := buckets.Reservation{ID: ids.New(), PrincipalID: p.ID, BucketID: b.ID,
		Write:     buckets.Write{Node: node, Op: buckets.OpPut, Key: "a/b.txt", Bytes: 100, OldSize: -1},
		CreatedAt: db.Micro(t0.Add(2 * time.Second))}
	r2 := buckets.Reservation{ID: ids.New(), PrincipalID: p.ID, BucketID: b.ID,
		Write: buckets.Write{Node: node, Op: buckets.OpPart, Key: "big.iso", UploadID: "upload-1", Part: 3, Bytes: 5 << 30,
			OldSize: 4 << 20, OldETag: `"0123abcd"`},
		CreatedAt: db.Micro(t0.Add(time.Second))}
	r3 := buckets.Reservation{ID: ids.New(), PrincipalID: p.ID, BucketID: b.ID,
		Write: buckets.Write{Node: otherNode, Op: buckets.OpComplete, Key: "big.iso", UploadID: "upload-1", OldSize: -1,
			PartsBytes: 15 << 30},
		CreatedAt: db.Micro(t0)}
	for _, r := range []buckets.Reservation{r1, r2, r3} {
		must(t, s.st.InsertReservation(s.ctx, r))
	}
	wantKind(t, s.st.InsertReservation(s.ctx, r1), errs.KindConflict)
	r1.Bucket, r2.Bucket, r3.Bucket = b.Name, b.Name, b.Name
	listed := func(step, node string, want ...buckets.Reservation) {
		t.Helper()
		all, err := s.st.ListReservations(s.ctx)
		must(t, err)
		var got []buckets.Reservation // every node's: keep this node's
		for _, r := range all {
			if r.Node == node {
				got = append(got, r)
			}
		}
		if d := cmp.Diff(want, got); len(want)+len(got) > 0 && d != "" {
			t.Fatalf("%s: ListReservations (-want +got):\n%s", step, d)
		}
	}
	listed("oldest first", node, r2, r1)
	listed("another node", otherNode, r3)
	listed("unknown node", "node-"+unique())
	deleted := func(id string, want bool) {
		t.Helper()
		ok, err := s.st.DeleteReservation(s.ctx, id)
		must(t, err)
		if ok != want {
			t.Fatalf("DeleteReservation = %v, want %v", ok, want)
		}
	}
	deleted(r2.ID, true)
	deleted(r2.ID, false) // settled twice: the second does nothing
	deleted(ids.New(), false)
	listed("after a delete", node, r1)
	// A bucket row removed takes its reservations with it.
	must(t, s.st.DeleteBucketRow(s.ctx, b.ID))
	listed("bucket row deleted", node)
	listed("bucket row deleted", otherNode)
}

// s3BucketHours: the per-hour record of a bucket's stored bytes, and what
// the billing sweeps read from it.
func (s *suite) s3BucketHours(t *testing.T) {
	s.cover("TouchBucketHour", "BucketBytesInHour", "FirstBucketHour", "StorageAccountBytesAt")
	// No other case touches bucket hours: none yet.
	_, ok, err := s.st.FirstBucketHour(s.ctx)
	must(t, err)
	if ok {
		t.Fatal("FirstBucketHour: ok before any bucket changed")
	}

	h0 := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	hr := func(i int) time.Time { return h0.Add(time.Duration(i) * time.Hour) }
	touch := func(b buckets.Bucket, h time.Time, prev, now int64) {
		t.Helper()
		must(t, s.st.TouchBucketHour(s.ctx, b.ID, h, prev, now))
	}

	org := s.customer(t)
	uid := newS3UserID()
	acct := s.billingAccount(t, org, uid)
	up := s.userPrincipal(t, org, uid)
	billed := s.s3Bucket(t, "billed", up, acct.ID, hr(0).Add(30*time.Minute))
	late := s.s3Bucket(t, "late", up, acct.ID, hr(1)) // created as hour 0 ends
	gone := s.s3Bucket(t, "gone", up, acct.ID, hr(0))
	unbilled := s.s3Bucket(t, "unbilled", up, 0, hr(0))
	empty := s.s3Bucket(t, "empty", up, acct.ID, hr(0))

	// Hour 0: 0 → 5 → 9 → 4 → 2: peak 9 (kept through two later
	// changes), end 2.
	touch(billed, hr(0), 0, 5)
	touch(billed, hr(0), 5, 9)
	touch(billed, hr(0), 9, 4)
	touch(billed, hr(0), 4, 2)
	// Hour 3: the first change shrinks (the peak is what it held before),
	// a later one grows beyond it, the last shrinks: peak 4, end 1.
	touch(billed, hr(3), 2, 1)
	touch(billed, hr(3), 1, 4)
	touch(billed, hr(3), 4, 1)
	// Hour 5: emptied: peak 1, end 0.
	touch(billed, hr(5), 1, 0)
	touch(late, hr(0), 0, 7)
	touch(gone, hr(0), 0, 3)
	must(t, s.st.MarkBucketDeleted(s.ctx, gone.ID, hr(1).Add(10*time.Minute)))
	touch(unbilled, hr(0), 0, 50)
	touch(empty, hr(0), 0, 0)

	first, ok, err := s.st.FirstBucketHour(s.ctx)
	must(t, err)
	if !ok || !first.Equal(hr(0)) {
		t.Fatalf("FirstBucketHour = %v %v, want %v", first, ok, hr(0))
	}

	mine := map[string]bool{billed.ID: true, late.ID: true, gone.ID: true, unbilled.ID: true, empty.ID: true}
	inHour := func(h time.Time) []buckets.HourBytes {
		t.Helper()
		all, err := s.st.BucketBytesInHour(s.ctx, h)
		must(t, err)
		var out []buckets.HourBytes
		for _, hb := range all {
			if mine[hb.Bucket.ID] {
				out = append(out, hb)
			}
		}
		return out
	}
	for _, c := range []struct {
		hour int
		want map[string]int64
	}{
		{-1, nil},
		{0, map[string]int64{billed.Name: 9, gone.Name: 3}},               // the peak; late not yet created, unbilled and empty not billed
		{1, map[string]int64{billed.Name: 2, late.Name: 7, gone.Name: 3}}, // no row: the end of the last; gone deleted within the hour
		{2, map[string]int64{billed.Name: 2, late.Name: 7}},               // gone deleted before the hour
		{3, map[string]int64{billed.Name: 4, late.Name: 7}},
		{4, map[string]int64{billed.Name: 1, late.Name: 7}},
		{5, map[string]int64{billed.Name: 1, late.Name: 7}},
		{6, map[string]int64{late.Name: 7}}, // billed empty: 0 bytes are not listed
	} {
		got := map[string]int64{}
		for _, hb := range inHour(hr(c.hour)) {
			got[hb.Bucket.Name] = hb.StoredBytes
		}
		if len(c.want)+len(got) > 0 && cmp.Diff(c.want, got) != "" {
			t.Fatalf("BucketBytesInHour(hour %d) (-want +got):\n%s", c.hour, cmp.Diff(c.want, got))
		}
	}
	// Whole rows: the bucket as it is now, and the user of its principal.
	goneNow := gone
	deletedAt := hr(1).Add(10 * time.Minute)
	goneNow.DeletedAt, goneNow.ModifiedAt = &deletedAt, deletedAt
	want := []buckets.HourBytes{
		{Bucket: billed, UserID: uid, StoredBytes: 2},
		{Bucket: late, UserID: uid, StoredBytes: 7},
		{Bucket: goneNow, UserID: uid, StoredBytes: 3},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Bucket.ID < want[j].Bucket.ID })
	if d := cmp.Diff(want, inHour(hr(1))); d != "" {
		t.Fatalf("BucketBytesInHour rows (-want +got):\n%s", d)
	}

	// Storage accounts: the bytes their buckets held at end (each bucket's
	// end bytes of its last hour before end).
	_, _, partner, _ := s.tree(t)
	now := db.Micro(t0)
	saA := s.s3Account(t, partner, 100, false, now)
	saB := s.s3Account(t, partner, 20, true, now)    // no buckets
	saC := s.s3Account(t, partner, 30, false, hr(3)) // created at hour 3
	pA := s.saPrincipal(t, saA)
	s.saPrincipal(t, saC)
	a1 := s.s3Bucket(t, "a1", pA, 0, now)
	a2 := s.s3Bucket(t, "a2", pA, 0, now)
	a3 := s.s3Bucket(t, "a3", pA, 0, hr(3))
	touch(a1, hr(0), 0, 10)
	touch(a1, hr(2), 10, 4)
	touch(a2, hr(1), 0, 6)
	touch(a2, hr(1), 6, 8)
	touch(a3, hr(1), 0, 100) // counted only from the bucket's creation
	accounts := map[string]bool{saA.ID: true, saB.ID: true, saC.ID: true}
	for _, c := range []struct {
		end  int
		want []buckets.AccountBytes
	}{
		{0, []buckets.AccountBytes{{StorageAccountID: saA.ID, AllocatedCapacity: 100, Bytes: 0}, {StorageAccountID: saB.ID, AllocatedCapacity: 20, Bytes: 0}}},
		{1, []buckets.AccountBytes{{StorageAccountID: saA.ID, AllocatedCapacity: 100, Bytes: 10}, {StorageAccountID: saB.ID, AllocatedCapacity: 20, Bytes: 0}}},
		{2, []buckets.AccountBytes{{StorageAccountID: saA.ID, AllocatedCapacity: 100, Bytes: 18}, {StorageAccountID: saB.ID, AllocatedCapacity: 20, Bytes: 0}}},
		{3, []buckets.AccountBytes{{StorageAccountID: saA.ID, AllocatedCapacity: 100, Bytes: 12}, {StorageAccountID: saB.ID, AllocatedCapacity: 20, Bytes: 0}}},
		{4, []buckets.AccountBytes{{StorageAccountID: saA.ID, AllocatedCapacity: 100, Bytes: 112}, {StorageAccountID: saB.ID, AllocatedCapacity: 20, Bytes: 0}, {StorageAccountID: saC.ID, AllocatedCapacity: 30, Bytes: 0}}},
	} {
		all, err := s.st.StorageAccountBytesAt(s.ctx, hr(c.end))
		must(t, err)
		var got []buckets.AccountBytes
		for _, a := range all {
			if accounts[a.StorageAccountID] {
				got = append(got, a)
			}
		}
		sort.Slice(c.want, func(i, j int) bool { return c.want[i].StorageAccountID < c.want[j].StorageAccountID })
		if d := cmp.Diff(c.want, got); d != "" {
			t.Fatalf("StorageAccountBytesAt(hour %d) (-want +got):\n%s", c.end, d)
		}
	}
	first, ok, err = s.st.FirstBucketHour(s.ctx)
	must(t, err)
	if !ok || !first.Equal(hr(0)) {
		t.Fatalf("FirstBucketHour = %v %v, want %v", first, ok, hr(0))
	}
}
