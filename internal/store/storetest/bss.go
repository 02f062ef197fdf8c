package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// bssMappings exercises the BSS service manager's tables (the service's
// rules are tested in internal/bss).
func (s *suite) bssMappings(t *testing.T) {
	s.cover("InsertBSSInstallation", "GetBSSInstallation", "ListBSSInstallations", "RevokeBSSInstallation",
		"InsertBSSAccount", "GetBSSAccount", "GetBSSAccountByExternalID", "FindBSSAccountByEmail", "UpdateBSSAccount",
		"LockBSSAccount", "InsertBSSSubscription", "GetBSSSubscription", "GetBSSSubscriptionByKey", "LockBSSSubscription",
		"UpdateBSSSubscription", "CountLiveBSSSubscriptions", "InsertBSSAddon", "GetBSSAddon", "ListBSSAddons", "UpdateBSSAddon")
	now := db.Micro(t0)
	_, dist, partner, c := s.tree(t)
	_, otherDist, _, otherC := s.tree(t)

	in := bss.Installation{AppID: ids.New(), DistributorID: dist.ID, DistributorPath: dist.Path, ContractID: c.ID,
		Name: "BSS", KeyHash: "h1", CreatedAt: now}
	other := bss.Installation{AppID: ids.New(), DistributorID: otherDist.ID, DistributorPath: otherDist.Path,
		ContractID: otherC.ID, Name: "Other", KeyHash: "h2", CreatedAt: now.Add(time.Second)}
	must(t, s.st.InsertBSSInstallation(s.ctx, in))
	must(t, s.st.InsertBSSInstallation(s.ctx, other))
	wantKind(t, s.st.InsertBSSInstallation(s.ctx, in), errs.KindConflict)
	got, err := s.st.GetBSSInstallation(s.ctx, in.AppID)
	must(t, err)
	if d := cmp.Diff(in, got); d != "" {
		t.Fatalf("installation round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetBSSInstallation(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListBSSInstallations(s.ctx, dist.Path)
	must(t, err)
	if len(list) != 1 || list[0].AppID != in.AppID {
		t.Fatalf("ListBSSInstallations in scope: %+v", list)
	}
	if list, _ := s.st.ListBSSInstallations(s.ctx, "/"); len(list) < 2 {
		t.Fatalf("ListBSSInstallations at the root: %d", len(list))
	}
	ok, err := s.st.RevokeBSSInstallation(s.ctx, other.AppID, now)
	must(t, err)
	if again, _ := s.st.RevokeBSSInstallation(s.ctx, other.AppID, now.Add(time.Hour)); !ok || again {
		t.Fatalf("RevokeBSSInstallation: %t then %t", ok, again)
	}
	got, err = s.st.GetBSSInstallation(s.ctx, other.AppID)
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(now) {
		t.Fatalf("revoked_at: %v", got.RevokedAt)
	}

	// Accounts: a reseller (partner) and its customer.
	res := bss.Account{AppID: in.AppID, BSSID: "1021", ExternalID: "a-1", Kind: bss.KindPartner, PartnerID: partner.ID,
		PartnerPath: partner.Path, Name: "Reseller", Email: "ops@r.example", CreatedAt: now, UpdatedAt: now}
	cust := bss.Account{AppID: in.AppID, BSSID: "1187", ExternalID: "a-2", Kind: bss.KindCustomer, PartnerID: partner.ID,
		PartnerPath: partner.Path, ResellerID: "a-1", Name: "Acme", Email: "ops@r.example", CreatedAt: now.Add(time.Second), UpdatedAt: now}
	for _, a := range []bss.Account{res, cust} {
		ins, err := s.st.InsertBSSAccount(s.ctx, a)
		must(t, err)
		if !ins {
			t.Fatalf("InsertBSSAccount %s: not inserted", a.BSSID)
		}
	}
	dup := res
	dup.ExternalID = "a-3"
	if ins, err := s.st.InsertBSSAccount(s.ctx, dup); err != nil || ins {
		t.Fatalf("InsertBSSAccount of an existing key: %t %v", ins, err)
	}
	clash := res
	clash.BSSID = "9999"
	_, err = s.st.InsertBSSAccount(s.ctx, clash)
	wantKind(t, err, errs.KindConflict) // same external id
	ga, err := s.st.GetBSSAccount(s.ctx, in.AppID, "1187")
	must(t, err)
	if d := cmp.Diff(cust, ga); d != "" {
		t.Fatalf("account round trip (-want +got):\n%s", d)
	}
	ga, err = s.st.GetBSSAccountByExternalID(s.ctx, in.AppID, "a-1")
	must(t, err)
	if d := cmp.Diff(res, ga); d != "" {
		t.Fatalf("account by external id (-want +got):\n%s", d)
	}
	_, err = s.st.GetBSSAccount(s.ctx, other.AppID, "1187")
	wantKind(t, err, errs.KindNotFound)
	ga, err = s.st.FindBSSAccountByEmail(s.ctx, in.AppID, "ops@r.example")
	must(t, err)
	if ga.ExternalID != "a-1" {
		t.Fatalf("FindBSSAccountByEmail: the oldest is a-1, got %s", ga.ExternalID)
	}
	must(t, s.st.LockBSSAccount(s.ctx, in.AppID, "a-1"))
	wantKind(t, s.st.LockBSSAccount(s.ctx, in.AppID, "a-nope"), errs.KindNotFound)
	del := now.Add(time.Hour)
	res.Name, res.Email, res.DeletedAt, res.UpdatedAt = "Renamed", "new@r.example", &del, del
	must(t, s.st.UpdateBSSAccount(s.ctx, res))
	ga, err = s.st.GetBSSAccount(s.ctx, in.AppID, "1021")
	must(t, err)
	if d := cmp.Diff(res, ga); d != "" {
		t.Fatalf("UpdateBSSAccount (-want +got):\n%s", d)
	}
	ga, err = s.st.FindBSSAccountByEmail(s.ctx, in.AppID, "new@r.example")
	wantKind(t, err, errs.KindNotFound) // deleted accounts are not found by e-mail
	wantKind(t, s.st.UpdateBSSAccount(s.ctx, bss.Account{AppID: in.AppID, ExternalID: "a-nope", UpdatedAt: now}), errs.KindNotFound)

	// Subscriptions.
	sub := bss.Subscription{AppID: in.AppID, ExternalID: "s-1", DedupeKey: "sid:8812", BSSSubscriptionID: "8812",
		AccountID: "a-2", PartnerID: partner.ID, PartnerPath: partner.Path, Product: bss.ProductStorage, Name: "Acme storage",
		Quantity: 5, State: bss.StateActive, CreatedAt: now, UpdatedAt: now}
	ins, err := s.st.InsertBSSSubscription(s.ctx, sub)
	must(t, err)
	dupSub := sub
	dupSub.ExternalID = "s-2"
	if again, err := s.st.InsertBSSSubscription(s.ctx, dupSub); !ins || again || err != nil {
		t.Fatalf("InsertBSSSubscription: %t, then %t %v", ins, again, err)
	}
	gs, err := s.st.GetBSSSubscriptionByKey(s.ctx, in.AppID, "sid:8812")
	must(t, err)
	if d := cmp.Diff(sub, gs); d != "" {
		t.Fatalf("subscription round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetBSSSubscription(s.ctx, in.AppID, "s-2")
	wantKind(t, err, errs.KindNotFound)
	must(t, s.st.LockBSSSubscription(s.ctx, in.AppID, "s-1"))
	wantKind(t, s.st.LockBSSSubscription(s.ctx, in.AppID, "s-2"), errs.KindNotFound)
	count := func(account, partnerID string) int {
		n, err := s.st.CountLiveBSSSubscriptions(s.ctx, in.AppID, account, partnerID)
		must(t, err)
		return n
	}
	if count("a-2", "") != 1 || count("a-1", "") != 0 || count("a-1", partner.ID) != 1 {
		t.Fatal("CountLiveBSSSubscriptions before the cancel")
	}
	sub.StorageAccountID, sub.Quantity, sub.State, sub.Name, sub.UpdatedAt = "sa-1", 8, bss.StateCancelled, "n", now.Add(time.Minute)
	must(t, s.st.UpdateBSSSubscription(s.ctx, sub))
	gs, err = s.st.GetBSSSubscription(s.ctx, in.AppID, "s-1")
	must(t, err)
	if d := cmp.Diff(sub, gs); d != "" {
		t.Fatalf("UpdateBSSSubscription (-want +got):\n%s", d)
	}
	if count("a-2", partner.ID) != 0 {
		t.Fatal("a cancelled subscription counts as live")
	}
	wantKind(t, s.st.UpdateBSSSubscription(s.ctx, bss.Subscription{AppID: in.AppID, ExternalID: "s-2", Quantity: 1,
		State: bss.StateActive, UpdatedAt: now}), errs.KindNotFound)

	// Add-ons: one live add-on per product.
	a1 := bss.SubscriptionAddon{AppID: in.AppID, ExternalID: "ad-1", SubscriptionID: "s-1", Product: bss.AddonExtraTB,
		Quantity: 2, State: bss.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertBSSAddon(s.ctx, a1))
	a2 := a1
	a2.ExternalID, a2.CreatedAt = "ad-2", now.Add(time.Second)
	wantKind(t, s.st.InsertBSSAddon(s.ctx, a2), errs.KindConflict)
	a1.Quantity, a1.State, a1.UpdatedAt = 3, bss.StateCancelled, now.Add(time.Minute)
	must(t, s.st.UpdateBSSAddon(s.ctx, a1))
	must(t, s.st.InsertBSSAddon(s.ctx, a2)) // the first is cancelled now
	gad, err := s.st.GetBSSAddon(s.ctx, in.AppID, "ad-1")
	must(t, err)
	if d := cmp.Diff(a1, gad); d != "" {
		t.Fatalf("UpdateBSSAddon (-want +got):\n%s", d)
	}
	all, err := s.st.ListBSSAddons(s.ctx, in.AppID, "s-1")
	must(t, err)
	if d := cmp.Diff([]bss.SubscriptionAddon{a1, a2}, all); d != "" {
		t.Fatalf("ListBSSAddons (-want +got):\n%s", d)
	}
	wantKind(t, s.st.UpdateBSSAddon(s.ctx, bss.SubscriptionAddon{AppID: in.AppID, ExternalID: "ad-9", Quantity: 1,
		State: bss.StateActive, UpdatedAt: now}), errs.KindNotFound)

	// Concurrent claims of one key: exactly one insert wins, none fails.
	s.bssClaimRace(t, in, partner.ID, partner.Path)

	// The transaction view's tenancy and objstore stores share its
	// transaction: a rolled-back call leaves nothing.
	v := sqlstore.BSS{Store: s.st}
	boom := errs.New(errs.KindConflict, "rollback")
	err = v.Tx(s.ctx, func(tx bss.Store) error {
		if _, err := tx.InsertBSSAccount(s.ctx, bss.Account{AppID: in.AppID, BSSID: "tx", ExternalID: "a-tx", Kind: bss.KindPartner,
			PartnerID: partner.ID, PartnerPath: partner.Path, Name: "T", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if _, err := tx.Tenancy().AddContractAllocation(s.ctx, c.ID, 1, now); err != nil {
			return err
		}
		if _, err := tx.Objstore().AddPartnerAccountsAllocation(s.ctx, partner.ID, 1, now); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Tx: %v", err)
	}
	_, err = s.st.GetBSSAccount(s.ctx, in.AppID, "tx")
	wantKind(t, err, errs.KindNotFound)
	if ct, _ := s.st.GetContract(s.ctx, "/", c.ID); ct.AllocatedCapacity != c.AllocatedCapacity {
		t.Fatalf("the contract kept a rolled-back write: %d", ct.AllocatedCapacity)
	}
	if p, _ := s.st.GetOrg(s.ctx, "/", partner.ID); p.AccountsAllocated != partner.AccountsAllocated {
		t.Fatalf("the partner kept a rolled-back write: %d", p.AccountsAllocated)
	}
}

func (s *suite) bssClaimRace(t *testing.T, in bss.Installation, partnerID, partnerPath string) {
	now := db.Micro(t0)
	v := sqlstore.BSS{Store: s.st}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := v.Tx(t.Context(), func(tx bss.Store) error {
				ok, err := tx.InsertBSSSubscription(s.ctx, bss.Subscription{AppID: in.AppID, ExternalID: "s-race-" + string(rune('a'+i)),
					DedupeKey: "sid:race", AccountID: "a-2", PartnerID: partnerID, PartnerPath: partnerPath, Product: bss.ProductStorage,
					Quantity: 1, State: bss.StateActive, CreatedAt: now, UpdatedAt: now})
				if err == nil && ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}
}
