package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// identity exercises the idcloudhost user and token methods and the
// location catalog.
func (s *suite) identity(t *testing.T) {
	s.cover("InsertIDCHUser", "GetIDCHUser", "GetIDCHUserByOrg", "ListIDCHUsers", "UpdateIDCHProfile", "TouchIDCHUser",
		"BillingAccountLive", "InsertIDCHToken", "GetIDCHToken", "GetIDCHTokenByHash", "ListIDCHTokens",
		"UpdateIDCHToken", "DeleteIDCHToken")
	cust := s.customer(t)
	partner := tenancy.Org{ID: cust.ParentID, Path: cust.Path[:len(cust.Path)-len(cust.ID)-1]}
	st := sqlstore.Identity{Store: s.st}
	now := db.Micro(t0)

	// Numbers come from the shared counters, inside the transaction.
	var uid, pid int64
	must(t, st.Tx(s.ctx, func(tx access.IdentityStore) error {
		var err error
		if uid, err = tx.NextNumber(s.ctx, "user"); err != nil {
			return err
		}
		pid, err = tx.NextNumber(s.ctx, "profile")
		return err
	}))
	u := access.IDCHUser{ID: uid, OrgID: cust.ID, OrgPath: cust.Path, Email: ids.New() + "@example.com", CookieID: "c0ffee",
		ConsumerID: ids.New(), LastActivity: now, CreatedAt: now,
		Profile: access.IDCHProfile{ID: pid, FirstName: "Cloudia", LastName: "Iaas", PhoneNumber: "+1", PersonalIDNumber: "1",
			Avatar: access.Gravatar("a@b.c"), CreatedAt: now, UpdatedAt: now}}
	must(t, s.st.InsertIDCHUser(s.ctx, u))
	got, err := s.st.GetIDCHUser(s.ctx, partner.Path, u.ID)
	must(t, err)
	if d := cmp.Diff(u, got); d != "" {
		t.Fatalf("user round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetIDCHUser(s.ctx, "/elsewhere/", u.ID)
	wantKind(t, err, errs.KindNotFound)
	got, err = s.st.GetIDCHUserByOrg(s.ctx, cust.ID)
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("GetIDCHUserByOrg = %d", got.ID)
	}
	// One user per org, one user per e-mail.
	dup := u
	dup.ID, dup.ConsumerID, dup.Profile.ID = u.ID+1000, ids.New(), u.Profile.ID+1000
	wantKind(t, s.st.InsertIDCHUser(s.ctx, dup), errs.KindConflict)
	list, err := s.st.ListIDCHUsers(s.ctx, partner.Path, 0, 10)
	must(t, err)
	if len(list) != 1 || list[0].ID != u.ID {
		t.Fatalf("ListIDCHUsers = %+v", list)
	}
	if list, err = s.st.ListIDCHUsers(s.ctx, partner.Path, u.ID, 10); err != nil || len(list) != 0 {
		t.Fatalf("ListIDCHUsers after the last: %v %v", list, err)
	}

	p := u.Profile
	p.FirstName, p.PhoneNumber, p.UpdatedAt = "Ann", "+2", now.Add(time.Hour)
	must(t, s.st.UpdateIDCHProfile(s.ctx, u.ID, p))
	wantKind(t, s.st.UpdateIDCHProfile(s.ctx, u.ID+1000, p), errs.KindNotFound)
	// last_activity moves forward only.
	must(t, s.st.TouchIDCHUser(s.ctx, u.ID, now.Add(2*time.Minute)))
	must(t, s.st.TouchIDCHUser(s.ctx, u.ID, now.Add(time.Minute)))
	got, err = s.st.GetIDCHUser(s.ctx, "/", u.ID)
	must(t, err)
	if got.Profile != p || !got.LastActivity.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("after profile update and touch: %+v", got)
	}

	// Billing accounts are helper A's; insert one row directly.
	var acct int64
	must(t, st.Tx(s.ctx, func(tx access.IdentityStore) error {
		var err error
		acct, err = tx.NextNumber(s.ctx, "billing_account")
		return err
	}))
	_, err = s.st.DB().Write().ExecContext(s.ctx, `INSERT INTO billing_accounts (id, org_id, org_path, user_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, acct, cust.ID, cust.Path, u.ID, now, now)
	must(t, err)
	for _, c := range []struct {
		org  string
		id   int64
		want bool
	}{{cust.ID, acct, true}, {partner.ID, acct, false}, {cust.ID, acct + 1000, false}} {
		ok, err := s.st.BillingAccountLive(s.ctx, c.org, c.id)
		must(t, err)
		if ok != c.want {
			t.Fatalf("BillingAccountLive(%s, %d) = %v", c.org, c.id, ok)
		}
	}
	_, err = s.st.DB().Write().ExecContext(s.ctx, `UPDATE billing_accounts SET deleted_at = $2 WHERE id = $1`, acct, now)
	must(t, err)
	if ok, err := s.st.BillingAccountLive(s.ctx, cust.ID, acct); err != nil || ok {
		t.Fatalf("deleted account is live: %v %v", ok, err)
	}

	// Tokens.
	tok := access.IDCHToken{ID: 1_000_000 + u.ID, UserID: u.ID, OrgID: cust.ID, OrgPath: cust.Path, ConsumerID: u.ConsumerID,
		Hash: access.HashKey(ids.New()), Prefix: "abcd", Description: "d", Restricted: true, BillingAccountID: acct,
		KongID: ids.New(), CreatedAt: now}
	must(t, s.st.InsertIDCHToken(s.ctx, tok))
	bad := tok
	bad.ID, bad.KongID, bad.Hash, bad.BillingAccountID = tok.ID+1, ids.New(), access.HashKey(ids.New()), 0
	if err := s.st.InsertIDCHToken(s.ctx, bad); err == nil {
		t.Fatal("a restricted token without a billing account was stored")
	}
	gt, err := s.st.GetIDCHToken(s.ctx, u.ID, tok.ID)
	must(t, err)
	if d := cmp.Diff(tok, gt); d != "" {
		t.Fatalf("token round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetIDCHToken(s.ctx, u.ID+1000, tok.ID)
	wantKind(t, err, errs.KindNotFound)
	gt, gu, err := s.st.GetIDCHTokenByHash(s.ctx, tok.Hash)
	must(t, err)
	if d := cmp.Diff(tok, gt); d != "" || gu.ID != u.ID || gu.Email != u.Email {
		t.Fatalf("token by hash (-want +got):\n%s\nuser %+v", d, gu)
	}
	_, _, err = s.st.GetIDCHTokenByHash(s.ctx, "nope")
	wantKind(t, err, errs.KindNotFound)
	upd := now.Add(time.Hour)
	tok.Description, tok.Restricted, tok.BillingAccountID, tok.UpdatedAt = "e", false, 0, &upd
	must(t, s.st.UpdateIDCHToken(s.ctx, tok))
	toks, err := s.st.ListIDCHTokens(s.ctx, u.ID)
	must(t, err)
	if len(toks) != 1 || cmp.Diff(tok, toks[0]) != "" {
		t.Fatalf("ListIDCHTokens = %+v", toks)
	}
	must(t, s.st.DeleteIDCHToken(s.ctx, u.ID, tok.ID))
	wantKind(t, s.st.DeleteIDCHToken(s.ctx, u.ID, tok.ID), errs.KindNotFound)
	wantKind(t, s.st.UpdateIDCHToken(s.ctx, tok), errs.KindNotFound)
}

// locations exercises the catalog's store methods, including the one
// default under concurrent changes.
func (s *suite) locations(t *testing.T) {
	s.cover("ListLocations", "GetLocation", "DefaultLocation", "UpsertLocation", "SetDefaultLocation", "DeleteLocation")
	now := db.Micro(t0)
	_, err := s.st.DefaultLocation(s.ctx)
	wantKind(t, err, errs.KindNotFound)
	a := catalog.Location{Slug: "cyc01", DisplayName: "Cycletown", Description: "The original location", CountryCode: "est",
		OrderNr: 2, CreatedAt: now, UpdatedAt: now}
	b := catalog.Location{Slug: "bus02", DisplayName: "Busburg", CountryCode: "est", OrderNr: 1, IsPreferred: true,
		CreatedAt: now, UpdatedAt: now}
	for _, l := range []catalog.Location{a, b} {
		created, err := s.st.UpsertLocation(s.ctx, l)
		must(t, err)
		if !created {
			t.Fatalf("UpsertLocation %s: not created", l.Slug)
		}
	}
	later := now.Add(time.Hour)
	a2 := a
	a2.DisplayName, a2.UpdatedAt, a2.CreatedAt = "Cycle Town", later, later
	created, err := s.st.UpsertLocation(s.ctx, a2)
	must(t, err)
	if created {
		t.Fatal("UpsertLocation of an existing slug reported a creation")
	}
	got, err := s.st.GetLocation(s.ctx, "cyc01")
	must(t, err)
	a2.CreatedAt = now // kept from the insert
	if d := cmp.Diff(a2, got); d != "" {
		t.Fatalf("location round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetLocation(s.ctx, "nope")
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListLocations(s.ctx)
	must(t, err)
	if len(list) != 2 || list[0].Slug != "bus02" || list[1].Slug != "cyc01" {
		t.Fatalf("ListLocations order: %+v", list)
	}
	wantKind(t, s.st.SetDefaultLocation(s.ctx, "nope", later), errs.KindNotFound)

	// Many writers moving the default: exactly one default at the end.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slug := []string{"cyc01", "bus02"}[i%2]
			err := sqlstore.Catalog{Store: s.st}.Tx(s.ctx, func(tx catalog.Store) error {
				return tx.SetDefaultLocation(s.ctx, slug, later)
			})
			if err != nil && !errs.Is(err, errs.KindConflict) {
				t.Errorf("SetDefaultLocation: %v", err)
			}
		}()
	}
	wg.Wait()
	list, err = s.st.ListLocations(s.ctx)
	must(t, err)
	defaults := 0
	for _, l := range list {
		if l.IsDefault {
			defaults++
		}
	}
	if defaults != 1 {
		t.Fatalf("%d default locations", defaults)
	}
	d, err := s.st.DefaultLocation(s.ctx)
	must(t, err)
	must(t, s.st.DeleteLocation(s.ctx, d.Slug))
	wantKind(t, s.st.DeleteLocation(s.ctx, d.Slug), errs.KindNotFound)
	must(t, s.st.DeleteLocation(s.ctx, map[string]string{"cyc01": "bus02", "bus02": "cyc01"}[d.Slug]))
}
